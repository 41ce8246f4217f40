// The one parser and the one name of each setting the engine owns: pooling and split mode (llama-bench's -sm),
// and the error a bad value gives. No model needed.
#include <string>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "test_support.h"

namespace {

using accel::engine::Pooling;
using accel::engine::SplitMode;

std::string message_of(void (*f)()) { return accel::test::thrown_message<accel::Error>(f); }

TEST(PoolingSetting, NamesRoundTripInAnyCase) {
    const std::pair<const char*, Pooling> names[] = {{"model", Pooling::model_default},
                                                     {"none", Pooling::none},
                                                     {"mean", Pooling::mean},
                                                     {"cls", Pooling::cls},
                                                     {"last", Pooling::last},
                                                     {"rank", Pooling::rank}};
    for (const auto& [name, p] : names) {
        EXPECT_EQ(accel::engine::parse_pooling(name), p) << name;
        EXPECT_EQ(accel::engine::to_string(p), name);
    }
    EXPECT_EQ(accel::engine::parse_pooling("MEAN"), Pooling::mean);
}

TEST(PoolingSetting, BadValueNamesItAndTheChoices) {
    EXPECT_EQ(message_of([] { (void)accel::engine::parse_pooling("max"); }),
              "unknown pooling 'max' (use model, none, mean, cls, last or rank)");
}

TEST(SplitModeSetting, LlamaBenchSpellings) {
    // llama-bench's -sm none|layer|row|tensor.
    const std::pair<const char*, SplitMode> names[] = {
        {"none", SplitMode::none}, {"layer", SplitMode::layer}, {"row", SplitMode::row}, {"tensor", SplitMode::tensor}};
    for (const auto& [name, m] : names) {
        EXPECT_EQ(accel::engine::parse_split_mode(name), m) << name;
        EXPECT_EQ(accel::engine::to_string(m), name);
    }
    EXPECT_EQ(accel::engine::parse_split_mode("Row"), SplitMode::row);
    EXPECT_EQ(accel::engine::ModelLoadParams{}.split_mode, SplitMode::layer);  // llama.cpp's default
}

TEST(SplitModeSetting, BadValueNamesItAndTheChoices) {
    EXPECT_EQ(message_of([] { (void)accel::engine::parse_split_mode("rows"); }),
              "unknown split mode 'rows' (use none, layer, row or tensor)");
}

TEST(EngineSettings, KvTypeAndFlashAttnAreTheModelLayersTypes) {
    static_assert(std::is_same_v<accel::engine::KvType, accel::model::KvType>);
    static_assert(std::is_same_v<accel::engine::FlashAttn, accel::model::FlashAttn>);
    EXPECT_EQ(accel::engine::SessionParams{}.flash_attn, accel::model::FlashAttn::auto_);
}

}  // namespace
