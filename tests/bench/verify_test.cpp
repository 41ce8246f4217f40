// compare_llm against figures computed by hand: top-1 agreement, top-5 overlap, greedy match, and traces of
// different lengths, which fail instead of being compared over their common prefix.
#include <gtest/gtest.h>

#include "accel/bench/verify.h"

namespace {

using accel::bench::compare_llm;

const std::vector<float> descending{6, 5, 4, 3, 2, 1};  // top 5: tokens 0..4, argmax 0
const std::vector<float> ascending{1, 2, 3, 4, 5, 6};   // top 5: tokens 5..1, argmax 5

TEST(Verify, FiguresMatchHandComputedValues) {
    const std::vector<std::vector<float>> ref{descending, descending, descending, descending};
    const std::vector<std::vector<float>> dev{descending, ascending, descending, descending};
    // Position 1: argmax 5 against 0, and the top 5 share tokens 1..4 (4 of 5). Greedy: equal up to the third token.
    const auto r = compare_llm(ref, dev, {1, 2, 3, 4}, {1, 2, 9, 4});
    EXPECT_EQ(r.n_positions, 4);
    EXPECT_DOUBLE_EQ(r.top1, 0.75);                         // 3 of 4
    EXPECT_DOUBLE_EQ(r.top5_overlap, (1 + 0.8 + 1 + 1) / 4);  // 0.95
    EXPECT_DOUBLE_EQ(r.greedy_match, 0.5);                  // 2 of 4: the streams diverge after a miss
    EXPECT_FALSE(r.pass);
    EXPECT_EQ(r.summary, "top-1 0.750 (>= 0.95), top-5 overlap 0.950 (>= 0.90), greedy match 0.500 (>= 0.90) over 4 "
                         "positions: FAIL");
    // The same figures pass looser marks.
    EXPECT_TRUE(compare_llm(ref, dev, {1, 2, 3, 4}, {1, 2, 9, 4}, {.min_top1 = 0.75, .min_top5_overlap = 0.9,
                                                                   .min_greedy_match = 0.5})
                    .pass);
}

TEST(Verify, TracesOfDifferentLengthsFailWithTheReason) {
    const std::vector<std::vector<float>> ref{descending, descending, descending, descending};
    const std::vector<std::vector<float>> dev{descending, descending, descending};
    // The three common positions agree exactly; the missing one must not be ignored.
    const auto r = compare_llm(ref, dev, {1, 2}, {1, 2});
    EXPECT_FALSE(r.pass);
    EXPECT_NE(r.summary.find("the traces differ in length: 4 reference positions, 3 device positions"),
              std::string::npos)
        << r.summary;
    const auto g = compare_llm(ref, ref, {1, 2, 3}, {1, 2});
    EXPECT_FALSE(g.pass);
    EXPECT_NE(g.summary.find("greedy continuations differ in length: 3 reference tokens, 2 device tokens"),
              std::string::npos)
        << g.summary;
    const auto v = compare_llm({descending}, {{6, 5, 4, 3, 2}}, {1}, {1});
    EXPECT_FALSE(v.pass);
    EXPECT_NE(v.summary.find("position 0 has 6 reference logits and 5 device logits"), std::string::npos) << v.summary;
    EXPECT_TRUE(compare_llm(ref, ref, {1, 2}, {1, 2}).pass);
}

}  // namespace
