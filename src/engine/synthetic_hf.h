#pragma once
// Private to engine/: what the make-model builders that go through accel convert share (synthetic_wav2vec2.cpp,
// synthetic_clap.cpp): a Hugging Face folder's f32 model.safetensors of RANDOM WEIGHTS and text files, in a temporary
// folder removed on scope exit.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::engine::detail {

struct HfTensor {
    std::string name;
    std::vector<uint64_t> shape;
    enum class Fill : uint8_t { random, ones, zeros, positive } fill = Fill::random;
    uint64_t n() const {
        uint64_t p = 1;
        for (auto d : shape) p *= d;
        return p;
    }
};

// Throws Error{io} naming the file when it cannot be written.
void write_text(const std::filesystem::path& p, const std::string& text);
// Values: N(0, 0.02) for `random` (transformers' initializer_range), 1, 0, or uniform in (0.5, 1.5) for `positive`;
// each tensor's stream seeded by `seed` and its name. Throws Error{io} when writing fails.
void write_hf_safetensors(const std::filesystem::path& p, const std::vector<HfTensor>& ts, uint64_t seed);

struct RemoveAllOnExit {
    std::filesystem::path dir;
    ~RemoveAllOnExit() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace accel::engine::detail
