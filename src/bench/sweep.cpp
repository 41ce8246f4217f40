#include "accel/bench/sweep.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::bench {
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = text.find(sep, start);
        out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

bool is_load(Scenario s) { return s == Scenario::server || s == Scenario::offline; }

int32_t to_int(const std::string& flag, const std::string& whole, const std::string& part) {
    char* end = nullptr;
    const long v = std::strtol(part.c_str(), &end, 10);
    if (part.empty() || end == part.c_str() || *end != '\0' || v < 0 || v > (1L << 30)) {
        throw Error(ErrorKind::invalid_input, fmt::format("{} {}: '{}' is not a non-negative integer", flag, whole, part));
    }
    return static_cast<int32_t>(v);
}

}  // namespace

const char* to_string(Scenario s) {
    switch (s) {
        case Scenario::llm: return "llm";
        case Scenario::embed: return "embed";
        case Scenario::latency: return "latency";
        case Scenario::server: return "server";
        case Scenario::offline: return "offline";
        case Scenario::audio: return "audio";
        case Scenario::vision: return "vision";
    }
    return "llm";
}

Scenario parse_scenario(const std::string& text) {
    if (text == "llm") return Scenario::llm;
    if (text == "embed") return Scenario::embed;
    if (text == "latency") return Scenario::latency;
    if (text == "server") return Scenario::server;
    if (text == "offline") return Scenario::offline;
    if (text == "audio") return Scenario::audio;
    if (text == "vision") return Scenario::vision;
    throw Error(ErrorKind::invalid_input,
                "unknown scenario '" + text + "': use llm, embed, latency, server, offline, audio or vision");
}

std::string PointSpec::test_name() const {
    // A remote point names its workload after the lengths ("server p128 n64 x4 @ 2 qps multi-turn:3").
    if (!target.empty() && !workload.empty() && workload != "plain") {
        PointSpec plain = *this;
        plain.workload.clear();
        return plain.test_name() + " " + workload;
    }
    switch (scenario) {
        case Scenario::embed: return fmt::format("embed b{} s{}", embed_batch, n_prompt);
        case Scenario::vision: return fmt::format("vision b{} {}px", embed_batch, n_prompt);
        case Scenario::latency: return fmt::format("latency p{} n{}", n_prompt, n_gen);
        case Scenario::audio: return fmt::format("audio {}s", n_prompt);
        case Scenario::offline:
        case Scenario::server: {
            const std::string len = lengths.empty() ? fmt::format("p{} n{}", n_prompt, n_gen) : lengths;
            if (scenario == Scenario::offline) return fmt::format("offline {} x{}", len, n_parallel);
            return fmt::format("server {} x{} @ {:g} qps", len, n_parallel, target_qps);
        }
        case Scenario::llm: break;
    }
    std::string name;
    if (n_prompt > 0) name = fmt::format("pp{}", n_prompt);
    if (n_gen > 0) name += fmt::format("{}tg{}", name.empty() ? "" : "+", n_gen);
    if (n_depth > 0) name += fmt::format(" @ d{}", n_depth);
    return name;
}

std::vector<int32_t> parse_int_list(const std::string& flag, const std::string& text) {
    std::vector<int32_t> out;
    for (const std::string& item : split(text, ',')) {
        const auto dash = item.find('-', 1);
        if (dash == std::string::npos) {
            out.push_back(to_int(flag, text, item));
            continue;
        }
        const int32_t first = to_int(flag, text, item.substr(0, dash));
        std::string rest = item.substr(dash + 1);
        char op = '+';
        int32_t step = 1;
        if (const auto p = rest.find_first_of("+*"); p != std::string::npos) {
            op = rest[p];
            step = to_int(flag, text, rest.substr(p + 1));
            rest = rest.substr(0, p);
        }
        const int32_t last = to_int(flag, text, rest);
        if (last < first || step < 1 || (op == '*' && step < 2)) {
            throw Error(ErrorKind::invalid_input, fmt::format("{} {}: bad range '{}'", flag, text, item));
        }
        for (int64_t v = first; v <= last; v = op == '+' ? v + step : v * step) {
            out.push_back(static_cast<int32_t>(v));
            if (v == 0 && op == '*') break;
            if (out.size() > 10000) throw Error(ErrorKind::invalid_input, flag + " " + text + ": range too long");
        }
    }
    return out;
}

std::vector<std::string> parse_str_list(const std::string& flag, const std::string& text,
                                        const std::vector<std::string>& allowed) {
    std::vector<std::string> out = split(text, ',');
    for (const auto& v : out) {
        if (v.empty()) throw Error(ErrorKind::invalid_input, flag + " " + text + ": empty item");
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            throw Error(ErrorKind::invalid_input, fmt::format("{} {}: '{}' is not one of {}", flag, text, v, list));
        }
    }
    return out;
}

std::pair<int32_t, int32_t> parse_pg(const std::string& text) {
    const auto v = parse_int_list("--pg", text);
    if (v.size() != 2) throw Error(ErrorKind::invalid_input, "--pg " + text + ": expected N,M (prompt,generation)");
    return {v[0], v[1]};
}

std::vector<double> parse_positive_list(const std::string& flag, const std::string& text) {
    std::vector<double> out;
    for (const std::string& item : split(text, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end != item.c_str() + item.size() || !(v > 0) || !std::isfinite(v)) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{} {}: '{}' is not a positive number", flag, text, item));
        }
        out.push_back(v);
    }
    return out;
}

std::vector<PointSpec> expand(const SweepSpec& s) {
    struct Test {
        Scenario scenario;
        int32_t n_prompt, n_gen, embed_batch;
        int32_t n_parallel = 1;
        double target_qps = 0;
    };
    std::vector<PointSpec> out;
    // A remote target has no model file: its points run once, with model "".
    const std::vector<std::string> models = s.target.empty() ? s.models : std::vector<std::string>{""};
    for (const auto& model : models) {
        for (Scenario sc : s.scenarios) {
            std::vector<Test> tests;
            if (sc == Scenario::llm) {
                for (int32_t p : s.n_prompt) {
                    if (p > 0) tests.push_back({sc, p, 0, 1});
                }
                for (int32_t n : s.n_gen) {
                    if (n > 0) tests.push_back({sc, 0, n, 1});
                }
                for (const auto& [p, n] : s.pg) tests.push_back({sc, p, n, 1});
            } else if (sc == Scenario::embed || sc == Scenario::vision) {
                for (int32_t p : s.n_prompt) {
                    for (int32_t b : s.embed_batch) tests.push_back({sc, std::max(p, 1), 0, b});
                }
            } else if (sc == Scenario::audio) {  // each -p value: a clip of that many seconds
                for (int32_t p : s.n_prompt) tests.push_back({sc, std::max(p, 1), 0, 1});
            } else if (sc == Scenario::latency) {
                for (int32_t p : s.n_prompt) {
                    for (int32_t n : s.n_gen) tests.push_back({sc, std::max(p, 1), std::max(n, 1), 1});
                }
            } else {
                // With --lengths the pairs come from it (one test); otherwise each -p x -n pair is a fixed length.
                std::vector<std::pair<int32_t, int32_t>> pn;
                if (!s.lengths.empty()) {
                    pn.emplace_back(0, 0);
                } else {
                    for (int32_t p : s.n_prompt) {
                        for (int32_t n : s.n_gen) pn.emplace_back(std::max(p, 1), std::max(n, 1));
                    }
                }
                const std::vector<double> qps = sc == Scenario::server ? s.target_qps : std::vector<double>{0};
                for (const auto& [p, n] : pn) {
                    for (int32_t par : s.n_parallel) {
                        for (double q : qps) tests.push_back({sc, p, n, 1, std::max(par, 1), q});
                    }
                }
            }
            for (const auto& t : tests) {
                for (const auto& dev : s.devices) {
                    for (int32_t d : s.n_depth) {
                        for (int32_t b : s.n_batch) {
                            for (int32_t ub : s.n_ubatch) {
                                for (int32_t th : s.n_threads) {
                                    for (const auto& tk : s.type_k) {
                                        for (const auto& tv : s.type_v) {
                                            for (const auto& fa : s.flash_attn) {
                                                for (int32_t ngl : s.n_gpu_layers) {
                                                    out.push_back(PointSpec{.scenario = t.scenario, .model = model,
                                                                            .device = dev, .n_prompt = t.n_prompt,
                                                                            .n_gen = t.n_gen, .n_depth = d,
                                                                            .n_batch = b, .n_ubatch = ub,
                                                                            .n_threads = th, .type_k = tk,
                                                                            .type_v = tv, .flash_attn = fa,
                                                                            .n_gpu_layers = ngl,
                                                                            .embed_batch = t.embed_batch,
                                                                            .n_parallel = t.n_parallel,
                                                                            .target_qps = t.target_qps,
                                                                            .lengths = is_load(t.scenario)
                                                                                           ? s.lengths
                                                                                           : std::string(),
                                                                            .target = s.target,
                                                                            .served_model = s.served_model,
                                                                            .workload = s.workload,
                                                                            .tokenizer = s.tokenizer});
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return out;
}

}  // namespace accel::bench
