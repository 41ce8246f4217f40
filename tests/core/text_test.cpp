#include <gtest/gtest.h>

#include "accel/core/text.h"

namespace {

TEST(Lower, AsciiLettersOnly) {
    EXPECT_EQ(accel::lower("CUDA0"), "cuda0");
    EXPECT_EQ(accel::lower("Q4_K_M"), "q4_k_m");
    EXPECT_EQ(accel::lower(""), "");
    EXPECT_EQ(accel::lower("already lower 123-_."), "already lower 123-_.");
}

TEST(Lower, LeavesUtf8Alone) {
    // "Ä" is 0xC3 0x84 in UTF-8: neither byte is an ASCII letter, so both stay.
    EXPECT_EQ(accel::lower("\xC3\x84X"), "\xC3\x84x");
}

}  // namespace
