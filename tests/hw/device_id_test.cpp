// The one parser of a --device value: case-insensitive ggml ids, "auto" kept, and the error a bad value gives.
#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/hw/device.h"

namespace {

TEST(DeviceId, LowerCasesGgmlNames) {
    EXPECT_EQ(accel::hw::parse_device_id("cpu"), "cpu");
    EXPECT_EQ(accel::hw::parse_device_id("CUDA0"), "cuda0");
    EXPECT_EQ(accel::hw::parse_device_id("Vulkan1"), "vulkan1");
    EXPECT_EQ(accel::hw::parse_device_id("AUTO"), "auto");
}

TEST(DeviceId, BadValueNamesIt) {
    try {
        (void)accel::hw::parse_device_id("cuda 0");
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_STREQ(e.what(), "device name 'cuda 0' has a blank, comma or quote (use cpu, cuda0, ...; see accel detect)");
    }
    EXPECT_THROW((void)accel::hw::parse_device_id(""), accel::Error);
    EXPECT_THROW((void)accel::hw::parse_device_id("cpu,cuda0"), accel::Error);
}

}  // namespace
