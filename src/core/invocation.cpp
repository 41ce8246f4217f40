#include "accel/core/invocation.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <string_view>

extern char** environ;

namespace accel {
namespace {

std::string shell_word(const std::string& w) {
    const bool plain = !w.empty() && std::all_of(w.begin(), w.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || std::string_view("@%+=:,./_-").find(static_cast<char>(c)) != std::string_view::npos;
    });
    if (plain) return w;
    std::string out = "'";
    for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

Invocation current_invocation() {
    Invocation inv;
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    const std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t start = 0;
    while (start < raw.size()) {
        const size_t end = raw.find('\0', start);
        inv.argv.push_back(raw.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view kv(*e);
        const size_t eq = kv.find('=');
        if (eq == std::string_view::npos || !kv.starts_with("ACCEL_")) continue;
        inv.environment.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    std::sort(inv.environment.begin(), inv.environment.end());
    return inv;
}

std::string shell_command(const Invocation& invocation) {
    if (invocation.argv.empty()) return {};
    std::string out;
    for (const auto& [k, v] : invocation.environment) out += k + "=" + shell_word(v) + " ";
    for (size_t i = 0; i < invocation.argv.size(); ++i) out += (i > 0 ? " " : "") + shell_word(invocation.argv[i]);
    return out;
}

}  // namespace accel
