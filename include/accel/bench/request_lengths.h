#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace accel::bench {

// Prompt and output lengths of the requests of the offline and server scenarios (--lengths):
//   fixed:P,G                   every request has P prompt tokens and G generated tokens
//   uniform:PMIN-PMAX,GMIN-GMAX each length drawn uniformly from the inclusive range (fixed seed)
//   file:PATH                   one "P G" pair per line ('#' comments and blank lines skipped), taken in order
//                               and repeated when more requests than lines are needed
// Prompt lengths are at least 1 and output lengths at least 1.
struct RequestLengths {
    enum class Kind : uint8_t { fixed, uniform, file };
    Kind kind = Kind::fixed;
    int32_t prompt_min = 1, prompt_max = 1;
    int32_t gen_min = 1, gen_max = 1;
    std::vector<std::pair<int32_t, int32_t>> pairs;  // file: the pairs in file order
    std::string text;                                // as given

    // n (prompt, gen) pairs; uniform draws come from seed, so the same spec and seed give the same lengths.
    std::vector<std::pair<int32_t, int32_t>> draw(size_t n, uint64_t seed) const;
};

// Parses the --lengths syntax above. Throws Error{invalid_input} with a one-line message naming the text (and the
// file line for file:), e.g. "--lengths uniform:9-3,1-2: prompt range 9-3 is empty".
RequestLengths parse_request_lengths(const std::string& text);

// fixed:P,G for -p/-n values.
RequestLengths fixed_lengths(int32_t n_prompt, int32_t n_gen);

}  // namespace accel::bench
