// Damaged copies of stories260K through every command that loads a model, as child processes: each must exit 0,
// 2, or 1 with a one-line message; never a signal, never a silent non-zero exit, never a hang (each run has a
// timeout). The model-labelled test takes 30 copies; the slow-labelled build (ACCEL_MUTANTS_ALL) takes 400.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../engine/gguf_mutants.h"
#include "test_support.h"

#ifndef ACCEL_MUTANTS_ALL
#define ACCEL_MUTANTS_ALL 0
#endif

namespace {

using accel::test::run_accel;

struct Command {
    const char* name;
    std::vector<std::string> (*args)(const std::string& model, const std::string& dir);
};

const Command commands[] = {
    {"inspect", [](const std::string& m, const std::string&) { return std::vector<std::string>{"inspect", m}; }},
    {"generate",
     [](const std::string& m, const std::string&) {
         return std::vector<std::string>{"generate", "--model", m, "--prompt", "Once upon a time", "-n", "4"};
     }},
    {"embed",
     [](const std::string& m, const std::string&) {
         return std::vector<std::string>{"embed", "--model", m, "--text", "hello"};
     }},
    {"bench",
     [](const std::string& m, const std::string&) {
         return std::vector<std::string>{"bench", "-m", m, "-p", "8", "-n", "4", "-r", "1", "--warmup", "0",
                                         "--min-duration", "0", "--no-store", "--timeout", "60"};
     }},
    {"perplexity",
     [](const std::string& m, const std::string& dir) {
         return std::vector<std::string>{"perplexity", "--model", m, "--text", dir + "/text.txt", "--ctx", "32",
                                         "--chunks", "1"};
     }},
    {"quantize",
     [](const std::string& m, const std::string& dir) {
         return std::vector<std::string>{"quantize", m, "--type", "q8_0", "--out-dir", dir + "/out"};
     }},
};

TEST(MutantCommands, EveryLoadingCommandFailsCleanly) {
    ACCEL_REQUIRE_TEST_FILE(model, "models/stories260K.gguf");
    const size_t n = ACCEL_MUTANTS_ALL ? 400 : 30;
    // Mutants from a different seed than the in-process test, and for the small set every 13th of a larger set so
    // that each kind of damage is represented.
    const auto all = accel::test::make_mutants(accel::test::read_file(model), ACCEL_MUTANTS_ALL ? n : 13 * n, 0xc11);
    std::vector<accel::test::Mutant> picked;
    for (size_t i = 0; i < all.size() && picked.size() < n; i += ACCEL_MUTANTS_ALL ? 1 : 13) picked.push_back(all[i]);
    ASSERT_GE(picked.size(), ACCEL_MUTANTS_ALL ? 300u : 30u);

    accel::test::TempDir dir;
    std::string text;
    for (int i = 0; i < 40; ++i) text += "Once upon a time, there was a little girl named Lily. She loved to play. ";
    accel::test::write_file(dir / "text.txt", text);
    const std::string path = (dir / "mutant.gguf").string();
    for (const auto& m : picked) {
        accel::test::write_file(path, m.bytes);
        for (const auto& c : commands) {
            std::filesystem::remove_all(dir / "out");
            const auto r = run_accel(c.args(path, dir.path().string()), {}, 120);
            const std::string what = std::string(c.name) + " on " + m.name + ": ";
            EXPECT_EQ(r.signal, 0) << what << "killed by signal " << r.signal << ": " << r.err;
            if (r.exit_code == 1 || r.exit_code == 2) {
                // A one-line error, or bench's per-point failures ("bench: ... failed (load): FILE: why").
                const bool said = r.err.find("accel: error: ") != std::string::npos ||
                                  (r.err.find(" failed (") != std::string::npos && r.err.find(path) != std::string::npos);
                EXPECT_TRUE(said) << what << "exit " << r.exit_code << " without a message: " << r.err;
            } else {
                EXPECT_EQ(r.exit_code, 0) << what << r.err;
            }
        }
    }
}

}  // namespace
