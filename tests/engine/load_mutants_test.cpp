// The whole load path in-process over a few hundred damaged copies of stories260K made at test time: validation,
// then llama.cpp's load, then (for files that load) a short generation. A file llama.cpp would abort on must be
// refused by validation first, so this process must survive every one: a signal or a hang fails the test run.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/engine/generator.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "gguf_mutants.h"
#include "test_support.h"

namespace {

using namespace accel;

TEST(LoadMutants, EveryDamagedCopyIsRefusedCleanlyOrRuns) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    const auto mutants = test::make_mutants(test::read_file(model), 400);
    ASSERT_GE(mutants.size(), 300u);
    test::TempDir dir;
    const auto path = dir / "mutant.gguf";
    std::map<std::string, int> outcomes;
    for (const auto& m : mutants) {
        test::write_file(path, m.bytes);
        try {
            const auto loaded = engine::LoadedModel::load(path);
            auto session = engine::Session::open(loaded, {.n_ctx = 64, .n_batch = 64, .n_ubatch = 64, .n_threads = 1});
            (void)engine::generate(session, "Once upon a time", {.n_predict = 2}, [](std::string_view) { return true; });
            ++outcomes["ran"];
        } catch (const Error& e) {
            const std::string msg = e.what();
            // A refusal names the file, on one line.
            EXPECT_NE(msg.find(path.string()), std::string::npos) << m.name << ": " << msg;
            EXPECT_EQ(msg.find('\n'), std::string::npos) << m.name << ": " << msg;
            ++outcomes[std::string(to_string(e.kind()))];
        } catch (const std::exception& e) {
            ADD_FAILURE() << m.name << ": not an accel::Error: " << e.what();
        }
    }
    for (const auto& [what, n] : outcomes) std::printf("%s: %d\n", what.c_str(), n);
    EXPECT_GT(outcomes["invalid_input"], 200) << "most damaged copies must be refused as invalid input";
}

}  // namespace
