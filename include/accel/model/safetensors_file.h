#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace accel::model {

struct SafetensorsTensor {
    std::string name;
    std::string dtype;  // "F32", "BF16", "I64", ...
    std::vector<uint64_t> shape;
    uint64_t begin = 0;  // data offsets relative to the end of the header
    uint64_t end = 0;
    uint64_t n_elements = 0;
};

struct SafetensorsFile {
    std::string source;
    uint64_t header_bytes = 0;
    uint64_t file_bytes = 0;
    std::map<std::string, std::string> metadata;  // "__metadata__"
    std::vector<SafetensorsTensor> tensors;       // sorted by begin offset

    uint64_t n_params() const;
};

struct SafetensorsLimits {
    uint64_t max_header_bytes = 100'000'000;  // the reference parser's limit
    uint64_t max_tensor_count = 1u << 20;
};

// Validates a safetensors header as the reference parser does: strict UTF-8 JSON object without duplicate keys,
// known dtypes, shape x dtype size equal to the byte span, offsets contiguous from 0 without holes or overlaps, and
// 8 + header + data equal to `file_bytes`. `header` is the JSON text (without the 8-byte length prefix).
// Throws Error{invalid_input} "<source>: <what is wrong>". Thread-safe.
SafetensorsFile parse_safetensors_header(std::string_view header, uint64_t file_bytes, const std::string& source,
                                         const SafetensorsLimits& limits = {});

// Reads only the 8-byte prefix and the header of `path`, never the tensor data.
// Throws Error{io} when unreadable, Error{invalid_input} when malformed.
SafetensorsFile read_safetensors(const std::filesystem::path& path, const SafetensorsLimits& limits = {});

// The data bytes of tensor `t` of the safetensors file at `path`, whose header is `header_bytes` long
// (SafetensorsFile::header_bytes). Throws Error{io} naming the file and the tensor when they cannot be read.
std::vector<uint8_t> read_tensor_bytes(const std::filesystem::path& path, uint64_t header_bytes,
                                       const SafetensorsTensor& t);

// Bytes per element of a safetensors dtype, 0 when unknown. Sub-byte types (F4) are not supported.
uint32_t safetensors_dtype_bytes(std::string_view dtype);

}  // namespace accel::model
