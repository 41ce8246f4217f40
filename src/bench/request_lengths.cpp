#include "accel/bench/request_lengths.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <random>
#include <sstream>
#include <tuple>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

constexpr const char* syntax = "expected fixed:P,G, uniform:PMIN-PMAX,GMIN-GMAX or file:PATH";
constexpr int32_t max_length = 1 << 20;

[[noreturn]] void fail(const std::string& text, const std::string& why) {
    throw Error(ErrorKind::invalid_input, fmt::format("--lengths {}: {}", text, why));
}

int32_t parse_count(const std::string& text, const std::string& part) {
    if (part.empty() || part.size() > 8 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
        fail(text, fmt::format("'{}' is not a whole number", part));
    }
    const int32_t v = std::stoi(part);
    if (v > max_length) fail(text, fmt::format("{} is more than {} tokens", v, max_length));
    return v;
}

std::pair<int32_t, int32_t> parse_range(const std::string& text, const std::string& part, const char* what) {
    const auto dash = part.find('-');
    if (dash == std::string::npos) fail(text, fmt::format("{} range '{}' is not MIN-MAX", what, part));
    const int32_t lo = parse_count(text, part.substr(0, dash));
    const int32_t hi = parse_count(text, part.substr(dash + 1));
    if (lo > hi) fail(text, fmt::format("{} range {} is empty", what, part));
    return {lo, hi};
}

void check_min(const std::string& text, int32_t prompt, int32_t gen) {
    if (prompt < 1) fail(text, "prompt lengths must be at least 1");
    if (gen < 1) fail(text, "output lengths must be at least 1");
}

}  // namespace

RequestLengths fixed_lengths(int32_t n_prompt, int32_t n_gen) {
    RequestLengths r;
    r.kind = RequestLengths::Kind::fixed;
    r.prompt_min = r.prompt_max = n_prompt;
    r.gen_min = r.gen_max = n_gen;
    r.text = fmt::format("fixed:{},{}", n_prompt, n_gen);
    return r;
}

RequestLengths parse_request_lengths(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos) fail(text, syntax);
    const std::string kind = text.substr(0, colon);
    const std::string rest = text.substr(colon + 1);
    RequestLengths r;
    r.text = text;
    if (kind == "fixed" || kind == "uniform") {
        const auto comma = rest.find(',');
        if (comma == std::string::npos || rest.find(',', comma + 1) != std::string::npos) fail(text, syntax);
        const std::string p = rest.substr(0, comma);
        const std::string g = rest.substr(comma + 1);
        if (kind == "fixed") {
            r.kind = RequestLengths::Kind::fixed;
            r.prompt_min = r.prompt_max = parse_count(text, p);
            r.gen_min = r.gen_max = parse_count(text, g);
        } else {
            r.kind = RequestLengths::Kind::uniform;
            std::tie(r.prompt_min, r.prompt_max) = parse_range(text, p, "prompt");
            std::tie(r.gen_min, r.gen_max) = parse_range(text, g, "output");
        }
        check_min(text, r.prompt_min, r.gen_min);
        return r;
    }
    if (kind != "file") fail(text, syntax);
    if (rest.empty()) fail(text, "no file named");
    std::ifstream in(rest);
    if (!in) fail(text, fmt::format("cannot read {}", rest));
    r.kind = RequestLengths::Kind::file;
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        std::istringstream words(line);
        std::string a, b, extra;
        if (!(words >> a)) continue;  // blank or comment
        if (!(words >> b) || (words >> extra)) {
            fail(text, fmt::format("line {}: expected two whole numbers 'prompt gen', got '{}'", line_no, line));
        }
        const int32_t p = parse_count(text, a);
        const int32_t g = parse_count(text, b);
        if (p < 1 || g < 1) fail(text, fmt::format("line {}: prompt and output lengths must be at least 1", line_no));
        r.pairs.emplace_back(p, g);
    }
    if (r.pairs.empty()) fail(text, "the file has no 'prompt gen' lines");
    r.prompt_min = r.prompt_max = r.pairs.front().first;
    r.gen_min = r.gen_max = r.pairs.front().second;
    for (const auto& [p, g] : r.pairs) {
        r.prompt_min = std::min(r.prompt_min, p);
        r.prompt_max = std::max(r.prompt_max, p);
        r.gen_min = std::min(r.gen_min, g);
        r.gen_max = std::max(r.gen_max, g);
    }
    return r;
}

std::vector<std::pair<int32_t, int32_t>> RequestLengths::draw(size_t n, uint64_t seed) const {
    std::vector<std::pair<int32_t, int32_t>> out;
    out.reserve(n);
    std::mt19937_64 rng(seed ^ 0x1e9971ULL);
    for (size_t i = 0; i < n; ++i) {
        switch (kind) {
            case Kind::fixed: out.emplace_back(prompt_min, gen_min); break;
            case Kind::uniform:
                out.emplace_back(std::uniform_int_distribution<int32_t>(prompt_min, prompt_max)(rng),
                                 std::uniform_int_distribution<int32_t>(gen_min, gen_max)(rng));
                break;
            case Kind::file: out.push_back(pairs[i % pairs.size()]); break;
        }
    }
    return out;
}

}  // namespace accel::bench
