#include "byte_level_bpe.h"

#include <cwctype>
#include <limits>

#include "accel/core/error.h"

namespace accel::model::detail {

locale_t utf8_locale() {
    static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    return loc;  // null when absent: ASCII rules below
}

bool is_space(char32_t c) {
    if (c < 0x80) return c == ' ' || (c >= '\t' && c <= '\r');
    const locale_t loc = utf8_locale();
    return loc != nullptr && iswspace_l(static_cast<wint_t>(c), loc) != 0;
}
bool is_letter(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const locale_t loc = utf8_locale();
    return loc == nullptr || iswalpha_l(static_cast<wint_t>(c), loc) != 0;
}
bool is_number(char32_t c) { return c >= '0' && c <= '9'; }
std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        const auto b = static_cast<unsigned char>(s[i]);
        const int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) throw Error(ErrorKind::invalid_input, "the text is not valid UTF-8");
        char32_t c = n == 1 ? b : b & (0x7F >> n);
        for (int k = 1; k < n; ++k) {
            const auto cb = static_cast<unsigned char>(s[i + k]);
            if ((cb >> 6) != 2) throw Error(ErrorKind::invalid_input, "the text is not valid UTF-8");
            c = (c << 6) | (cb & 0x3F);
        }
        out.push_back(c);
        i += n;
    }
    return out;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

const std::array<std::string, 256>& byte_chars() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> t;
        char32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            append_utf8(t[static_cast<size_t>(b)], printable ? static_cast<char32_t>(b) : next++);
        }
        return t;
    }();
    return table;
}

std::vector<std::string> bpe_merge(std::vector<std::string> parts, const std::unordered_map<std::string, int32_t>& ranks) {
    while (parts.size() > 1) {
        int32_t best = std::numeric_limits<int32_t>::max();
        size_t at = 0;
        for (size_t i = 0; i + 1 < parts.size(); ++i) {
            const auto it = ranks.find(parts[i] + ' ' + parts[i + 1]);
            if (it != ranks.end() && it->second < best) { best = it->second; at = i; }
        }
        if (best == std::numeric_limits<int32_t>::max()) break;
        const std::string a = parts[at], b = parts[at + 1];
        std::vector<std::string> merged;  // every occurrence of the pair, left to right
        for (size_t i = 0; i < parts.size();) {
            if (i + 1 < parts.size() && parts[i] == a && parts[i + 1] == b) {
                merged.push_back(a + b);
                i += 2;
            } else {
                merged.push_back(parts[i++]);
            }
        }
        parts = std::move(merged);
    }
    return parts;
}

}  // namespace accel::model::detail
