#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "accel/bench/request_lengths.h"

namespace accel::bench {

// What the requests of a remote point (accel bench --target) contain: --workload, items joined by '+':
//   plain              one prompt of corpus text per request, /v1/completions (the default)
//   shared-prefix:N    every request starts with the same system prompt of N corpus words (/v1/chat/completions)
//   multi-turn:T       conversations of T turns (/v1/chat/completions); turn k resends the whole history: the
//                      earlier user turns and, as assistant turns, corpus text of the earlier turns' output length
//                      (not the server's answers, so every turn can be scheduled on its own)
//   prompts:FILE       the prompts of FILE, one per line (blank lines skipped), in order, repeated as needed
// e.g. "shared-prefix:200+multi-turn:3". Prompt lengths from --lengths are in corpus words (the server's usage
// reports the tokens it counted); output lengths are max_tokens.
struct Workload {
    int32_t prefix_words = 0;
    int32_t turns = 1;
    std::filesystem::path prompts_file;
    std::string text = "plain";
    bool chat() const { return prefix_words > 0 || turns > 1; }
};

// Throws Error{invalid_input} naming the text ("--workload multi-turn:0: turns must be 1 to 64").
Workload parse_workload(const std::string& text);

// One request of a remote point: where it goes and its JSON body (greedy: temperature 0, streaming, usage
// included, ignore_eos so the output runs to max_tokens on servers that honour it).
struct RemoteRequest {
    std::string path;      // "/v1/completions" or "/v1/chat/completions"
    std::string body;
    int32_t max_tokens = 0;
};

// The corpus: the whitespace-separated words of the licence texts Debian ships in dir (regular files only, by
// name), never downloaded. Throws Error{io} when dir has no text.
std::vector<std::string> corpus_words(const std::filesystem::path& dir = "/usr/share/common-licenses");

// n requests for model: lengths drawn from lengths with seed, text passages drawn from words with seed. The same
// inputs give the same bodies. Throws Error{io} when the prompts file cannot be read.
std::vector<RemoteRequest> make_remote_requests(const Workload& workload, const RequestLengths& lengths, size_t n,
                                                uint64_t seed, const std::string& model,
                                                const std::vector<std::string>& words);

}  // namespace accel::bench
