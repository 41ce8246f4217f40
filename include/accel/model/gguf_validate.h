#pragma once

#include <filesystem>
#include <span>

#include "accel/model/gguf_file.h"

namespace accel::model {

// Checks a parsed GGUF for everything the pinned llama.cpp asserts on or trusts while loading it, so that a
// damaged or hostile file is refused before llama.cpp sees it (docs/model.md lists every rule and why):
// metadata value types as each key expects, hyperparameters against each other and against tensor shapes, tensor
// dimensions, tokenizer consistency (unique tokens, scores and token types, merges, special-token ids).
// `bytes` must be the bytes `file` was parsed from (arrays are re-read in place). Throws Error{invalid_input}
// "<file.source>: <what is wrong>" for the first rule the file breaks. Thread-safe (no shared state); reads only
// the header, never tensor data.
void validate_gguf(const GgufFile& file, std::span<const std::byte> bytes);

// Maps the file, parses it (read_gguf's checks) and validates it. Throws Error{io} when it cannot be opened,
// Error{invalid_input} naming the path when it is malformed or breaks a rule.
GgufFile read_validated_gguf(const std::filesystem::path& path);

}  // namespace accel::model
