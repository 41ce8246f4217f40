#include "accel/bench/remote_workload.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

using nlohmann::json;

int32_t item_int(const std::string& text, const std::string& item, const std::string& value, int32_t lo, int32_t hi) {
    int32_t v = 0;
    try {
        size_t used = 0;
        v = std::stoi(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
        throw Error(ErrorKind::invalid_input, fmt::format("--workload {}: {} needs a number", text, item));
    }
    if (v < lo || v > hi) {
        throw Error(ErrorKind::invalid_input, fmt::format("--workload {}: {} must be {} to {}", text, item, lo, hi));
    }
    return v;
}

std::vector<std::string> read_prompts(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw Error(ErrorKind::io, fmt::format("--workload prompts:{}: cannot read the file", file.string()));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
    }
    if (out.empty()) {
        throw Error(ErrorKind::invalid_input, fmt::format("--workload prompts:{}: no prompts", file.string()));
    }
    return out;
}

// n consecutive corpus words from a random place (wrapping around).
std::string passage(const std::vector<std::string>& words, int32_t n, std::mt19937_64& rng) {
    std::string out;
    size_t at = std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng);
    for (int32_t i = 0; i < n; ++i, at = (at + 1) % words.size()) {
        if (i > 0) out += ' ';
        out += words[at];
    }
    return out;
}

}  // namespace

Workload parse_workload(const std::string& text) {
    Workload w;
    w.text = text.empty() ? "plain" : text;
    std::stringstream ss(w.text);
    for (std::string item; std::getline(ss, item, '+');) {
        const auto colon = item.find(':');
        const std::string name = item.substr(0, colon);
        const std::string value = colon == std::string::npos ? "" : item.substr(colon + 1);
        if (name == "plain" && colon == std::string::npos) continue;
        if (name == "shared-prefix") {
            w.prefix_words = item_int(w.text, name, value, 1, 100000);
        } else if (name == "multi-turn") {
            w.turns = item_int(w.text, name, value, 1, 64);
        } else if (name == "prompts" && !value.empty()) {
            w.prompts_file = std::filesystem::absolute(value);
        } else {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("--workload {}: unknown item '{}' (use plain, shared-prefix:N, multi-turn:T, "
                                    "prompts:FILE, joined by '+')", w.text, item));
        }
    }
    if (!w.prompts_file.empty()) (void)read_prompts(w.prompts_file);
    return w;
}

std::vector<std::string> corpus_words(const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.is_regular_file() && !e.is_symlink()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> words;
    for (const auto& f : files) {
        std::ifstream in(f);
        for (std::string w; in >> w;) words.push_back(w);
    }
    if (words.empty()) {
        throw Error(ErrorKind::io, fmt::format("no corpus text in {} (Debian's base-files ships it)", dir.string()));
    }
    return words;
}

std::vector<RemoteRequest> make_remote_requests(const Workload& workload, const RequestLengths& lengths, size_t n,
                                                uint64_t seed, const std::string& model,
                                                const std::vector<std::string>& words) {
    const auto lens = lengths.draw(n, seed);
    std::vector<std::string> prompts;
    if (!workload.prompts_file.empty()) prompts = read_prompts(workload.prompts_file);
    std::mt19937_64 rng(seed ^ 0x70726f6d707473ULL);
    const std::string system = workload.prefix_words > 0 ? passage(words, workload.prefix_words, rng) : "";
    const auto user_text = [&](size_t i) {
        return prompts.empty() ? passage(words, lens[i].first, rng) : prompts[i % prompts.size()];
    };
    std::vector<RemoteRequest> out(n);
    json history = json::array();
    for (size_t i = 0; i < n; ++i) {
        const int32_t turn = static_cast<int32_t>(i % static_cast<size_t>(workload.turns));
        RemoteRequest& r = out[i];
        r.max_tokens = lens[i].second;
        json body = {{"model", model},
                     {"max_tokens", r.max_tokens},
                     {"temperature", 0},
                     {"seed", seed},
                     {"stream", true},
                     {"stream_options", {{"include_usage", true}}},
                     {"ignore_eos", true}};
        if (!workload.chat()) {
            r.path = "/v1/completions";
            body["prompt"] = user_text(i);
        } else {
            r.path = "/v1/chat/completions";
            if (turn == 0) {
                history = json::array();
                if (!system.empty()) history.push_back({{"role", "system"}, {"content", system}});
            }
            history.push_back({{"role", "user"}, {"content", user_text(i)}});
            body["messages"] = history;
            // The next turn resends this one with an assistant answer of this turn's output length.
            history.push_back({{"role", "assistant"}, {"content", passage(words, r.max_tokens, rng)}});
        }
        r.body = body.dump();
    }
    return out;
}

}  // namespace accel::bench
