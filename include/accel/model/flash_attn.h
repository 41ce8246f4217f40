#pragma once

#include <cstdint>
#include <string_view>

namespace accel::model {

// Flash attention (llama-bench's -fa). auto_ means one thing everywhere: llama.cpp decides when it creates the
// context (on when the device that holds the KV cache runs flash attention for the model, and always with a
// quantized V cache). Whoever must know the figure before that (the memory estimator, so the pool's admission)
// budgets auto_ as off, the larger compute buffer, and the warehouse records auto_ as unknown (NULL).
enum class FlashAttn : uint8_t { auto_, on, off };

// "auto", "on", "off".
std::string_view to_string(FlashAttn fa);
// llama-bench's and llama.cpp's spellings, in any case: on/enabled/true/1, off/disabled/false/0, auto/-1.
// Throws Error{invalid_input} naming the text and the accepted values.
FlashAttn parse_flash_attn(std::string_view text);

}  // namespace accel::model
