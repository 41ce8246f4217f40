// The pool loader's validated-load mode: a new file is loaded in a helper process first, so that a crash there
// refuses the load and this process lives on. The helper is the real accel binary, or scripts that stand in for a
// helper that aborts, refuses or hangs.
#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/hw/device.h"
#include "accel/pool/engine_loader.h"
#include "test_support.h"

namespace {

using namespace accel;

struct ValidatedLoad : ::testing::Test {
    test::TempDir dir;
    pool::EngineLoader loader{hw::ggml_devices()};

    std::filesystem::path script(const std::string& name, const std::string& body) {
        const auto p = dir / name;
        test::write_file(p, "#!/bin/sh\n" + body + "\n");
        std::filesystem::permissions(p, std::filesystem::perms::owner_all);
        return p;
    }
    void load(const std::filesystem::path& model, const std::string& identity = "") {
        pool::DeviceBytes measured;
        (void)loader.load({.model = model, .identity = identity, .device = "cpu", .options = {.n_ctx = 64}}, measured);
    }
    std::string refusal(const std::filesystem::path& model) {
        try {
            load(model);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << e.what();
            return e.what();
        }
        ADD_FAILURE() << "loaded";
        return {};
    }
};

TEST_F(ValidatedLoad, AHelperThatAbortsRefusesTheLoad) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    loader.set_validated_load({.enabled = true,
                               .program = script("abort.sh", "echo 'llama.cpp aborted: GGML_ASSERT(x) failed' >&2\n"
                                                             "kill -ABRT $$")});
    const std::string msg = refusal(stories);
    EXPECT_NE(msg.find(stories.string() + ": refused: loading it ended a helper process (signal 6"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("GGML_ASSERT(x) failed"), std::string::npos) << msg;
}

TEST_F(ValidatedLoad, AHelperRefusalKeepsItsMessageAndAHangTimesOut) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    loader.set_validated_load(
        {.enabled = true, .program = script("refuse.sh", "echo \"accel: error: $2: token 3 duplicates token 1\" >&2\nexit 2")});
    EXPECT_EQ(refusal(stories), stories.string() + ": token 3 duplicates token 1");
    loader.set_validated_load({.enabled = true,
                               .program = script("hang.sh", "exec sleep 30"),
                               .timeout = std::chrono::milliseconds(300)});
    EXPECT_NE(refusal(stories).find("(timed out after"), std::string::npos);
}

TEST_F(ValidatedLoad, TheRealHelperLoadsOncePerFileVersion) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const char* bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(bin, nullptr) << "ACCEL_BIN is set by CTest";
    const auto count = dir / "count";
    loader.set_validated_load(
        {.enabled = true, .program = script("count.sh", "echo x >> '" + count.string() + "'\nexec '" + bin + "' \"$@\"")});
    load(stories, "stories-v1");
    load(stories, "stories-v1");  // seen: no helper
    EXPECT_EQ(test::read_file(count), "x\n");
    load(stories, "stories-v2");  // another version of the file: checked again
    EXPECT_EQ(test::read_file(count), "x\nx\n");
}

TEST_F(ValidatedLoad, ADamagedFileIsRefusedInProcessBeforeAnyHelper) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const char* bin = std::getenv("ACCEL_BIN");
    ASSERT_NE(bin, nullptr);
    loader.set_validated_load({.enabled = true, .program = bin});
    // Cut inside the tensor data: the header parses, the data range of the last tensor does not fit.
    const std::string bytes = test::read_file(stories);
    test::write_file(dir / "cut.gguf", bytes.substr(0, bytes.size() - 100));
    const std::string msg = refusal(dir / "cut.gguf");
    EXPECT_NE(msg.find((dir / "cut.gguf").string() + ": "), std::string::npos) << msg;
    EXPECT_NE(msg.find("outside the"), std::string::npos) << msg;
}

}  // namespace
