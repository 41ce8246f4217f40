// libFuzzer target for the safetensors header reader. The input is a whole file: 8-byte length, header, data.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "accel/core/error.h"
#include "accel/model/safetensors_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 8) return 0;
    uint64_t n = 0;
    std::memcpy(&n, data, 8);
    if (n > size - 8) return 0;  // read_safetensors rejects this before parsing; the fuzzer targets the parser
    try {
        const auto f = accel::model::parse_safetensors_header(
            std::string_view(reinterpret_cast<const char*>(data) + 8, static_cast<size_t>(n)), size,
            "fuzz.safetensors");
        (void)f.n_params();
    } catch (const accel::Error&) {
    }
    return 0;
}
