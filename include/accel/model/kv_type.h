#pragma once

#include <cstdint>
#include <string_view>

namespace accel::model {

// The element type of the KV cache (llama-bench's -ctk/-ctv). The estimator sizes the cache from it; the engine
// passes it to llama.cpp. The one parser and the one name for it are here.
enum class KvType : uint8_t { f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl };

// ggml's type name: "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl".
std::string_view to_string(KvType type);
// Accepts the names to_string gives (as llama-bench's -ctk does), in any case. Throws Error{invalid_input} naming
// the text and the accepted names.
KvType parse_kv_type(std::string_view text);

}  // namespace accel::model
