#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "accel/core/error.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"

namespace accel::bench {

// vision: accel's own image models (vit, clip_model), images/s over batches (embed_batch) of synthetic source
// images n_prompt pixels on their long side (bench/vision_scenario.h).
enum class Scenario : uint8_t { llm, embed, latency, server, offline, audio, vision };
const char* to_string(Scenario s);
Scenario parse_scenario(const std::string& text);  // throws Error{invalid_input}

// Every parameter of one measured point: the requested settings, resolved to single values.
struct PointSpec {
    Scenario scenario = Scenario::llm;
    std::string model;
    std::string device = "cpu";
    int32_t n_prompt = 512;  // audio: the clip's seconds
    int32_t n_gen = 0;
    int32_t n_depth = 0;
    int32_t n_batch = 2048;
    int32_t n_ubatch = 512;
    int32_t n_threads = 0;  // 0: one per logical core
    model::KvType type_k = model::KvType::f16;
    model::KvType type_v = model::KvType::f16;
    model::FlashAttn flash_attn = model::FlashAttn::auto_;
    int32_t n_gpu_layers = -1;  // -1: placement decides
    int32_t embed_batch = 1;    // embed scenario: texts per call
    // Load scenarios (server, offline): slots decoded together, the server's target rate, and the request lengths
    // (RequestLengths syntax; "" means fixed:n_prompt,n_gen).
    int32_t n_parallel = 1;
    double target_qps = 0;      // server only; 0 elsewhere
    std::string lengths;
    // A remote target (accel bench --target): the OpenAI-compatible endpoint, the served model's id, and the
    // workload (bench/remote_workload.h). All "" for in-process points; model is then "".
    std::string target;
    std::string served_model;
    std::string workload;
    // A GGUF whose vocabulary counts a remote answer's output tokens when the server sends no usage ("": none).
    std::string tokenizer;
    // "pp512", "tg128", "pp512+tg128", "embed b8 s64", "latency p64 n32", "offline p128 n64 x4",
    // "server p128 n64 x4 @ 2 qps", "server uniform:32-256,16-128 x4 @ 2 qps"
    std::string test_name() const;
};

// The sweep as given on the command line: every field a list; the cartesian product is run.
// -p and -n make separate tests as in llama-bench (each -p value a pp test, each -n value a tg test);
// --pg N,M adds prompt+generation tests.
struct SweepSpec {
    std::vector<Scenario> scenarios{Scenario::llm};
    std::vector<std::string> models;
    std::vector<std::string> devices{"cpu"};
    std::vector<int32_t> n_prompt{512};
    std::vector<int32_t> n_gen{128};
    std::vector<std::pair<int32_t, int32_t>> pg;
    std::vector<int32_t> n_depth{0};
    std::vector<int32_t> n_batch{2048};
    std::vector<int32_t> n_ubatch{512};
    std::vector<int32_t> n_threads{0};
    std::vector<model::KvType> type_k{model::KvType::f16};
    std::vector<model::KvType> type_v{model::KvType::f16};
    std::vector<model::FlashAttn> flash_attn{model::FlashAttn::auto_};
    std::vector<int32_t> n_gpu_layers{-1};
    std::vector<int32_t> embed_batch{1, 8};
    std::vector<int32_t> n_parallel{1};  // server, offline
    std::vector<double> target_qps{1};   // server
    std::string lengths;                 // server, offline: replaces the -p x -n pairs when given
    std::string target;                  // --target URL: every point drives that endpoint (models then unused)
    std::string served_model;            // --served-model
    std::string workload;                // --workload
    std::string tokenizer;               // --tokenizer (an absolute path)
};

std::vector<PointSpec> expand(const SweepSpec& spec);

// llama-bench's list syntax: "1,8,32", ranges "first-last" (step 1), "first-last+step", "first-last*factor".
// Throws Error{invalid_input} naming the flag and the text.
std::vector<int32_t> parse_int_list(const std::string& flag, const std::string& text);
std::vector<std::string> parse_str_list(const std::string& flag, const std::string& text,
                                        const std::vector<std::string>& allowed = {});
// A comma list, each item through `parse` (model::parse_kv_type, model::parse_flash_attn, ...): its error is
// rethrown as Error{invalid_input} prefixed with the flag.
template <typename Parse>
auto parse_list(const std::string& flag, const std::string& text, Parse parse) {
    std::vector<decltype(parse(std::string_view{}))> out;
    for (const std::string& item : parse_str_list(flag, text)) {
        try {
            out.push_back(parse(item));
        } catch (const Error& e) {
            throw Error(ErrorKind::invalid_input, flag + " " + text + ": " + e.what());
        }
    }
    return out;
}
std::pair<int32_t, int32_t> parse_pg(const std::string& text);  // "512,128"
// Positive numbers, comma-separated ("0.5,1,2"); throws Error{invalid_input} naming the flag and the text.
std::vector<double> parse_positive_list(const std::string& flag, const std::string& text);

}  // namespace accel::bench
