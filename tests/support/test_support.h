#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace accel::test {

// $ACCEL_TEST_DATA, else <source>/../shared. nullopt when the folder does not exist.
std::optional<std::filesystem::path> test_data_dir();

// The path of a shared test file, or nullopt with a message when it is absent.
// Use through ACCEL_REQUIRE_TEST_FILE, which skips the test, or fails it when CI=true.
std::optional<std::filesystem::path> find_test_file(const std::string& relative, std::string& why);
bool in_ci();

#define ACCEL_REQUIRE_TEST_FILE(var, relative)                                               \
    std::filesystem::path var;                                                               \
    {                                                                                        \
        std::string why_;                                                                    \
        auto found_ = ::accel::test::find_test_file(relative, why_);                         \
        if (!found_) {                                                                       \
            if (::accel::test::in_ci()) FAIL() << why_ << " (CI=true: shared data required)"; \
            GTEST_SKIP() << why_;                                                            \
        }                                                                                    \
        var = *found_;                                                                       \
    }

struct ProcessResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;      // the signal that ended it, 0 if it exited
    std::string out;
    std::string err;
};

// Runs the accel binary under test ($ACCEL_BIN) with args, extra environment "K=V" entries, and optional stdin.
// Kills it after timeout_s seconds (then signal is SIGKILL).
ProcessResult run_accel(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                        int timeout_s = 120);
ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
                          int timeout_s = 120);

// A fresh temporary folder, removed with its contents when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// A synthetic model made once per test binary run through `accel make-model` and cached under the build tree
// ($ACCEL_TEST_CACHE), keyed by its arguments.
std::filesystem::path synthetic_model(const std::string& arch, const std::string& params, const std::string& type,
                                      int seed = 1);

std::string read_file(const std::filesystem::path& path);
// Creates the parent folders; throws std::runtime_error when the file cannot be written.
void write_file(const std::filesystem::path& path, const std::string& content);

// A loopback port that was free a moment ago (the kernel's pick for a socket bound to port 0).
uint16_t free_port();

// The message of the exception that f() throws (E or derived); a test failure and "" when it throws none.
template <typename E = std::exception, typename F>
std::string thrown_message(F&& f) {
    try {
        std::forward<F>(f)();
    } catch (const E& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
}

}  // namespace accel::test
