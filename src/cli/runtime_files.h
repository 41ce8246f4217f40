#pragma once

#include <filesystem>

namespace accel::cli {

// Folder of llama.cpp's ggml-vocab-*.gguf tokenizers: $ACCEL_VOCAB_DIR, else <prefix>/share/accel/vocab next to
// an installed accel, else the pinned build's copy recorded at configure time.
std::filesystem::path vocab_dir();

}  // namespace accel::cli
