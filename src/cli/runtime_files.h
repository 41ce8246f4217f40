#pragma once

#include <filesystem>

namespace accel::cli {

// Folder of llama.cpp's ggml-vocab-*.gguf tokenizers: $ACCEL_VOCAB_DIR, else <prefix>/share/accel/vocab next to
// an installed accel, else the pinned build's copy recorded at configure time.
std::filesystem::path vocab_dir();

// Folder of the committed Hugging Face fixtures (tests/fixtures/hf, the references transformers computed):
// `flag` when given (Error{invalid_input} when it is no folder), else $ACCEL_HF_FIXTURES, else the source tree's
// tests/fixtures/hf recorded at configure time when it is still there; empty when none is found.
std::filesystem::path hf_fixtures_dir(const std::filesystem::path& flag);

}  // namespace accel::cli
