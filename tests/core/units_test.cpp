#include <chrono>

#include <gtest/gtest.h>

#include "accel/core/units.h"

namespace {

TEST(Units, ToMib) {
    EXPECT_DOUBLE_EQ(accel::to_mib(0), 0.0);
    EXPECT_DOUBLE_EQ(accel::to_mib(1048576), 1.0);
    EXPECT_DOUBLE_EQ(accel::to_mib(3 * 524288), 1.5);
}

TEST(Units, MibText) {
    EXPECT_EQ(accel::mib(1572864), "1.5 MiB");          // default: one decimal
    EXPECT_EQ(accel::mib(1835008, 0), "2 MiB");         // 1.75 rounds up
    EXPECT_EQ(accel::mib(1048576 + 10486, 2), "1.01 MiB");
    EXPECT_EQ(accel::mib(0, 2), "0.00 MiB");
    EXPECT_EQ(accel::mib(1048576, -3), "1 MiB");        // clamped to 0 decimals
}

TEST(Units, MsBetween) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point t0{};
    EXPECT_DOUBLE_EQ(accel::ms_between(t0, t0 + std::chrono::microseconds(2500)), 2.5);
    EXPECT_DOUBLE_EQ(accel::ms_between(t0 + std::chrono::seconds(1), t0), -1000.0);
}

TEST(Units, MsSinceIsBetweenTwoReadingsOfTheClock) {
    using Clock = std::chrono::steady_clock;
    const auto before = Clock::now();
    const auto t0 = before - std::chrono::milliseconds(50);
    const double ms = accel::ms_since(t0);
    EXPECT_GE(ms, 50.0);
    EXPECT_LE(ms, 50.0 + accel::ms_between(before, Clock::now()));
}

}  // namespace
