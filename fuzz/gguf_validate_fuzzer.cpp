// libFuzzer target for validation before load: any input must parse and validate, or throw accel::Error, within the
// memory limit. Seeds: fuzz/corpus/gguf plus mutants of stories260K written by write_mutants (fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <span>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"
#include "accel/model/gguf_validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto bytes = std::as_bytes(std::span(data, size));
    try {
        const auto f = accel::model::parse_gguf(bytes, "fuzz.gguf");
        accel::model::validate_gguf(f, bytes);
    } catch (const accel::Error&) {
    }
    return 0;
}
