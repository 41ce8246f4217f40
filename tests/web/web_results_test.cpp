// web-bench's comparison rules, on hand-written page documents: one token-counting rule on both sides, and each
// browser figure paired with native at the browser's own thread count.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "accel/web/web_results.h"

namespace {

using nlohmann::json;

std::string page_with(int n_threads, double prompt_ms, double predicted_ms) {
    json sample{{"prompt_n", 20}, {"prompt_ms", prompt_ms}, {"predicted_n", 8}, {"predicted_ms", predicted_ms}};
    json run{{"backend", "wasm"}, {"ok", true}, {"n_threads", n_threads}, {"samples", json::array({sample})}};
    return json{{"env", json::object()}, {"llm", json::array({run})}}.dump();
}

TEST(WebResults, GenerationRateCountsTheTokensAfterTheFirstLikeNative) {
    // 8 tokens generated in 70 ms from the first sampled token to the last: 7 decode steps, 100 tokens/s
    // (bench::measure_text_generation's rule; wllama's predicted_n / predicted_ms would say 114.3).
    const accel::web::PageResult p = accel::web::parse_page_result(page_with(1, 50.0, 70.0));
    ASSERT_EQ(p.llm.size(), 1u);
    ASSERT_EQ(p.llm[0].tg_ts.size(), 1u);
    EXPECT_DOUBLE_EQ(p.llm[0].tg_ts[0], 100.0);
    EXPECT_DOUBLE_EQ(p.llm[0].pp_ts[0], 400.0);  // 20 prompt tokens in 50 ms
    EXPECT_EQ(p.llm[0].n_gen, 8);
}

TEST(WebResults, EachBrowserThreadCountGetsItsNativeBaseline) {
    std::vector<accel::web::PageResult> pages{accel::web::parse_page_result(page_with(1, 50, 70)),
                                              accel::web::parse_page_result(page_with(4, 50, 70)),
                                              accel::web::parse_page_result(page_with(1, 60, 80))};
    pages[1].llm.push_back(pages[1].llm[0]);
    pages[1].llm.back().ok = false;  // a failed run's thread count is not a baseline to measure
    pages[1].llm.back().n_threads = 3;
    EXPECT_EQ(accel::web::browser_thread_counts(pages), (std::vector<int32_t>{1, 4}));

    accel::web::NativeBaselines native{.at_default = {.backend = "native", .n_threads = 2}};
    native.at_threads.push_back({.backend = "native", .n_threads = 1});
    ASSERT_NE(native.at(2), nullptr);
    EXPECT_EQ(native.at(2), &native.at_default);
    ASSERT_NE(native.at(1), nullptr);
    EXPECT_EQ(native.at(1)->n_threads, 1);
    EXPECT_EQ(native.at(4), nullptr);
}

}  // namespace
