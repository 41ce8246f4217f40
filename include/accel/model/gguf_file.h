#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace accel::model {

// GGUF metadata value types, numbered as in the GGUF spec.
enum class GgufType : uint32_t {
    u8 = 0,
    i8 = 1,
    u16 = 2,
    i16 = 3,
    u32 = 4,
    i32 = 5,
    f32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    u64 = 10,
    i64 = 11,
    f64 = 12,
};
std::string_view to_string(GgufType type);

// One metadata value. Scalars keep their value; arrays keep their element type, their length and at most
// `array_preview_max` leading elements (a vocabulary can hold 250k strings that no caller needs).
struct GgufValue {
    GgufType type = GgufType::u8;
    GgufType array_type = GgufType::u8;  // only for arrays
    uint64_t array_count = 0;            // only for arrays
    uint64_t array_data_pos = 0;         // only for arrays: byte offset of the first element in the input
    std::vector<GgufValue> array_preview;
    uint64_t u = 0;  // unsigned integers and booleans
    int64_t i = 0;   // signed integers
    double f = 0.0;  // floats
    std::string s;   // strings

    std::optional<uint64_t> as_uint() const;  // any integer type with a non-negative value
    std::string to_text() const;              // short human-readable form
};

inline constexpr size_t array_preview_max = 16;

struct GgufTensor {
    std::string name;
    uint32_t ggml_type = 0;
    std::vector<uint64_t> shape;  // ne[0..n_dims), innermost first as in ggml
    uint64_t offset = 0;          // relative to the start of the data section
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
};

struct GgufFile {
    std::string source;  // the file name or label used in error messages
    uint32_t version = 0;
    uint64_t file_bytes = 0;
    uint32_t alignment = 32;
    uint64_t data_offset = 0;  // absolute offset of the data section
    std::map<std::string, GgufValue> metadata;
    std::vector<GgufTensor> tensors;  // in file order

    const GgufValue* find(const std::string& key) const;
    std::optional<std::string> get_string(const std::string& key) const;
    std::optional<uint64_t> get_uint(const std::string& key) const;
    uint64_t n_params() const;       // sum of tensor element counts
    uint64_t weights_bytes() const;  // sum of tensor byte sizes
};

// Limits the reader enforces before allocating anything (see docs/model.md).
struct GgufLimits {
    uint64_t max_string_bytes = 16u << 20;  // any single string (keys are capped at 65535 too)
    uint64_t max_array_count = 1u << 26;
    uint64_t max_kv_count = 1u << 20;
    uint64_t max_tensor_count = 1u << 20;
    uint32_t max_alignment = 1u << 20;
};

// Parses GGUF v2/v3 from bytes that stay owned by the caller. `source` names the input in error messages.
// Throws Error{invalid_input} "<source>: <what is wrong>" for any malformed input; never reads outside `bytes`,
// and never allocates more than the input can justify. Thread-safe (no shared state).
GgufFile parse_gguf(std::span<const std::byte> bytes, const std::string& source, const GgufLimits& limits = {});

// Maps the file read-only and parses it; the tensor data is never read.
// Throws Error{io} when the file cannot be opened, Error{invalid_input} when it is malformed.
GgufFile read_gguf(const std::filesystem::path& path, const GgufLimits& limits = {});

// A regular file mapped read-only (private), unmapped on destruction. Move-only.
// Throws Error{io} when it cannot be opened or mapped, Error{invalid_input} when it is not a regular file or empty.
class MappedFile {
public:
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&&) = delete;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    std::span<const std::byte> bytes() const { return {static_cast<const std::byte*>(data_), size_}; }

private:
    void* data_ = nullptr;
    size_t size_ = 0;
};

// The ggml type table: name, elements per block and bytes per block; nullopt for ids that are unknown or removed.
struct GgmlTypeInfo {
    std::string_view name;
    uint32_t block_size = 0;
    uint32_t type_size = 0;
};
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t ggml_type);
std::optional<uint32_t> ggml_type_from_name(std::string_view name);  // "q8_0" -> 8, case-insensitive

// llama.cpp's general.file_type values (llama_ftype), e.g. 7 -> "Q8_0"; "unknown(N)" otherwise.
std::string file_type_name(uint32_t file_type);

// Whether the file is an embedding model: one that pools token states into text vectors (pooling_type 1..4: mean,
// cls, last, rank) or attends both ways (attention.causal false). It then has no next-token scores to generate or
// score with. llama.cpp's pooling "unspecified" (-1, stored as 4294967295) and none (0) are not pooling.
bool is_embedding_model(const GgufFile& file);

}  // namespace accel::model
