#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace accel::bench {

// Inputs for the llm scenarios, in the manner of LoadGen's QuerySampleLibrary: random token ids with a fixed
// seed, so every run and every tool sees the same kind of input. BOS starts a text when the model wants one.
class TokenSampleLibrary {
public:
    TokenSampleLibrary(int32_t n_vocab, bool add_bos, int32_t bos, uint64_t seed)
        : n_vocab_(n_vocab), add_bos_(add_bos), bos_(bos), rng_(seed) {}

    // n tokens; the first is BOS when the model adds one and the text starts at position 0.
    std::vector<int32_t> tokens(int32_t n, bool at_start = true) {
        std::vector<int32_t> out(static_cast<size_t>(n));
        fill(out, at_start);
        return out;
    }
    void fill(std::vector<int32_t>& out, bool at_start = true) {
        std::uniform_int_distribution<int32_t> dist(0, n_vocab_ - 1);
        for (auto& t : out) t = dist(rng_);
        if (at_start && add_bos_ && !out.empty()) out[0] = bos_;
    }
    int32_t next() { return std::uniform_int_distribution<int32_t>(0, n_vocab_ - 1)(rng_); }

private:
    int32_t n_vocab_;
    bool add_bos_;
    int32_t bos_;
    std::mt19937_64 rng_;
};

}  // namespace accel::bench
