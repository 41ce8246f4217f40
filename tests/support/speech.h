#pragma once
// Speech for Whisper tests, synthesized at test time by Debian's espeak-ng (never committed): a WAV file of the
// given text (22,050 Hz mono 16-bit, espeak-ng's output), or nullopt with the reason when espeak-ng is absent.
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "test_support.h"

namespace accel::test {

inline std::optional<std::string> espeak_wav(const std::string& text, const std::filesystem::path& out,
                                             int words_per_minute = 160) {
    std::filesystem::path exe;  // run_process does not search PATH
    const char* path = std::getenv("PATH");
    for (std::string rest = path != nullptr ? path : "/usr/bin"; !rest.empty();) {
        const size_t colon = rest.find(':');
        const std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / "espeak-ng";
        if (std::filesystem::exists(candidate)) {
            exe = candidate;
            break;
        }
        rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
    if (exe.empty()) return "espeak-ng is not installed (apt-get install espeak-ng)";
    const ProcessResult r =
        run_process({exe.string(), "-v", "en", "-s", std::to_string(words_per_minute), "-w", out.string(), text}, {}, 120);
    if (r.exit_code != 0 || !std::filesystem::exists(out)) return "espeak-ng could not synthesize speech: " + r.err;
    return std::nullopt;
}

// Skips the test (fails it under CI=true) when espeak-ng cannot make the file.
#define ACCEL_REQUIRE_SPEECH(text, out, ...)                                                             \
    if (auto why_ = ::accel::test::espeak_wav(text, out __VA_OPT__(, ) __VA_ARGS__)) {                  \
        if (::accel::test::in_ci()) FAIL() << *why_ << " (CI=true: espeak-ng required)";                \
        GTEST_SKIP() << *why_;                                                                           \
    }

// A sentence that takes about 4 s at 160 words per minute; repeated, it makes clips of any length.
inline constexpr const char* speech_sentence =
    "The quick brown fox jumps over the lazy dog, and then it runs back into the quiet forest.";

inline std::string repeated_speech(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += std::string(speech_sentence) + " ";
    return s;
}

}  // namespace accel::test
