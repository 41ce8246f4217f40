// libFuzzer target for the whole load path, as every accel command that loads a model runs it: accel's validation
// (engine::check_gguf_file), then, for inputs that pass, llama.cpp's real load, a context and one decode step.
// Built against the ASan+UBSan llama.cpp of `scripts/bootstrap.sh --fuzz`, so a fault inside llama.cpp is caught
// where it happens. Any abort (a failed GGML_ASSERT), crash or sanitizer report is a finding: accel's validation
// must refuse that input (never patch the pinned llama.cpp). See fuzz/README.md and docs/testing.md.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/engine/generator.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"

namespace {

// llama.cpp opens models by path: each input is written to one file per fuzzing process, in memory-backed /dev/shm
// when there is one.
const std::string& input_path() {
    static const std::string path = [] {
        const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
        return (dir / ("accel-load-fuzz-" + std::to_string(::getpid()) + ".gguf")).string();
    }();
    return path;
}

bool write_input(const uint8_t* data, size_t size) {
    std::FILE* f = std::fopen(input_path().c_str(), "wb");
    if (f == nullptr) return false;
    const bool ok = std::fwrite(data, 1, size, f) == size;
    return std::fclose(f) == 0 && ok;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    accel::set_log_level(accel::LogLevel::error);  // llama.cpp's loader is chatty; findings come from the sanitizers
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (!write_input(data, size)) return 0;
    try {
        accel::engine::check_gguf_file(input_path());
        const auto model = accel::engine::LoadedModel::load(input_path(), {.use_mmap = false});
        auto session = accel::engine::Session::open(model, {.n_ctx = 64, .n_batch = 32, .n_ubatch = 32, .n_threads = 1});
        accel::engine::generate(session, "Once upon", {.n_predict = 1}, [](std::string_view) { return true; });
    } catch (const accel::Error&) {
        // Refused with a clear error: the outcome accel promises for bad input.
    }
    return 0;
}
