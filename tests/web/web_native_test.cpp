// web-bench's native baseline is measured by bench (the model loaded through a resource pool's lease): its figures
// carry the pool's placement, the greedy continuation is llama.cpp's, and the timed runs have the asked shape.
#include <gtest/gtest.h>

#include "accel/web/web_results.h"
#include "test_support.h"

namespace {

TEST(WebNative, MeasuresThroughBenchWithThePoolsPlacement) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const accel::web::LlmFigures f = accel::web::run_native(
        {.model = stories, .n_prompt = 8, .n_gen = 4, .reps = 2, .n_warmup = 1, .n_threads = 1, .greedy_n = 8});
    EXPECT_TRUE(f.ok);
    EXPECT_EQ(f.backend, "native");
    EXPECT_FALSE(f.placement.empty());
    EXPECT_EQ(f.n_threads, 1);
    EXPECT_FALSE(f.multithread);
    EXPECT_GT(f.load_ms, 0.0);
    // What accel generate continues "Once upon a time" with, greedily, on stories260K (tests/web/web_browser_test).
    EXPECT_EQ(f.greedy_text.rfind(", there was a little girl", 0), 0u) << f.greedy_text;
    ASSERT_EQ(f.pp_ts.size(), 2u);
    ASSERT_EQ(f.tg_ts.size(), 2u);
    EXPECT_GE(f.n_prompt, 8);  // eight words, the BOS and the tokenizer's pieces
    EXPECT_EQ(f.n_gen, 4);
    for (double ts : f.pp_ts) EXPECT_GT(ts, 0.0);
    for (double ts : f.tg_ts) EXPECT_GT(ts, 0.0);
}

// A browser that ran at a thread count native did not gets a native run at that count; one native already
// measured is not measured again.
TEST(WebNative, MeasuresAtEachBrowserThreadCount) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const accel::web::WebBenchOptions o{.model = stories, .n_prompt = 8, .n_gen = 4, .reps = 1, .n_warmup = 0,
                                        .n_threads = 2, .greedy_n = 0};
    accel::web::NativeBaselines native{.at_default = accel::web::run_native(o)};
    ASSERT_EQ(native.at_default.n_threads, 2);
    accel::web::PageResult page;
    page.llm.push_back({.backend = "wasm", .ok = true, .n_threads = 1});
    page.llm.push_back({.backend = "webgpu", .ok = true, .n_threads = 2});
    accel::web::add_equal_thread_baselines(o, {page}, native);
    ASSERT_EQ(native.at_threads.size(), 1u);
    EXPECT_EQ(native.at_threads[0].n_threads, 1);
    EXPECT_FALSE(native.at_threads[0].multithread);
    ASSERT_EQ(native.at_threads[0].tg_ts.size(), 1u);
    EXPECT_GT(native.at_threads[0].tg_ts[0], 0.0);
    accel::web::add_equal_thread_baselines(o, {page}, native);
    EXPECT_EQ(native.at_threads.size(), 1u);
}

}  // namespace
