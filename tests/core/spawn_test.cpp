// The spawning helper: exit codes, signals, timeouts and stderr as a child process reports them.
#include <csignal>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/core/spawn.h"

namespace {

using namespace accel;

SpawnResult sh(const std::string& script, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return spawn_and_wait({"/bin/sh", "-c", script}, {.timeout = timeout});
}

TEST(Spawn, ExitCodeAndStderr) {
    const auto r = sh("echo out; echo first >&2; echo 'accel: error: last line' >&2; exit 3");
    EXPECT_EQ(r.status, SpawnStatus::exited);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.err, "first\naccel: error: last line\n");  // stdout is not captured
    EXPECT_EQ(last_line(r.err), "last line");
    EXPECT_EQ(describe(r), "exit 3");
}

TEST(Spawn, SignalIsReported) {
    const auto r = sh("echo 'llama.cpp aborted: GGML_ASSERT(x) failed' >&2; kill -ABRT $$");
    EXPECT_EQ(r.status, SpawnStatus::signaled);
    EXPECT_EQ(r.signal, SIGABRT);
    EXPECT_NE(describe(r).find("signal 6"), std::string::npos) << describe(r);
    EXPECT_EQ(last_line(r.err), "llama.cpp aborted: GGML_ASSERT(x) failed");
}

TEST(Spawn, TimeoutKillsTheChild) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = sh("exec sleep 30", std::chrono::milliseconds(200));
    EXPECT_EQ(r.status, SpawnStatus::timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
    EXPECT_NE(describe(r).find("timed out"), std::string::npos);
}

TEST(Spawn, StderrKeepsTheTail) {
    const auto r = spawn_and_wait({"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo END >&2"},
                                  {.max_err_bytes = 64});
    EXPECT_EQ(r.err.size(), 64u);
    EXPECT_EQ(last_line(r.err).substr(last_line(r.err).size() - 3), "END");
}

TEST(Spawn, MissingProgramIsAnIoError) {
    try {
        (void)spawn_and_wait({"/nonexistent/program"});
        ADD_FAILURE() << "started a missing program";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/program"), std::string::npos);
    }
}

TEST(Spawn, SelfExecutableIsThisTest) {
    EXPECT_EQ(self_executable().filename(), "spawn_test");
    EXPECT_EQ(last_line(""), "");
    EXPECT_EQ(last_line("\n\n"), "");
}

}  // namespace
