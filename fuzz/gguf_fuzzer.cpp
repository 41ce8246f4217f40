// libFuzzer target for the GGUF reader: any input must parse or throw accel::Error, within the memory limit.
#include <cstddef>
#include <cstdint>
#include <span>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto f = accel::model::parse_gguf(std::as_bytes(std::span(data, size)), "fuzz.gguf");
        // Touch what a caller would use, so that inconsistent results surface under the sanitizers.
        (void)f.n_params();
        (void)f.weights_bytes();
        for (const auto& [k, v] : f.metadata) (void)v.to_text();
    } catch (const accel::Error&) {
    }
    return 0;
}
