#pragma once
// Internal to model/: a streaming GGUF v3 writer for the converter. Metadata and tensor descriptions are collected
// first, then write_header() lays out the file and write_tensor() streams each tensor's bytes in the order added,
// so memory stays at one tensor however large the model.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace accel::model::detail {

// ggml's type ids for the types the converter writes.
enum class GgmlType : uint32_t { f32 = 0, f16 = 1, q8_0 = 8, bf16 = 30 };

// Bytes of `n` elements of `type` (q8_0: n must be a multiple of 32).
uint64_t ggml_type_bytes(GgmlType type, uint64_t n);
const char* ggml_type_name(GgmlType type);

// IEEE half and bfloat16, round to nearest even as ggml's reference conversions (NaN stays NaN).
uint16_t fp32_to_fp16(float f);
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float f);
float bf16_to_fp32(uint16_t h);

// Converts `src` (row-major, rows of ne0 elements) to `type`, appending to `out`. q8_0 as ggml's
// quantize_row_q8_0_ref: per block of 32, d = max|x| / 127 stored as f16, q = round(x / d).
void convert_row_major(const float* src, uint64_t n, GgmlType type, std::vector<uint8_t>& out);

class GgufWriter {
public:
    void add_string(const std::string& key, const std::string& value);
    void add_u32(const std::string& key, uint32_t value);
    void add_i32(const std::string& key, int32_t value);
    void add_f32(const std::string& key, float value);
    void add_bool(const std::string& key, bool value);
    void add_strings(const std::string& key, const std::vector<std::string>& values);
    void add_f32s(const std::string& key, const std::vector<float>& values);
    void add_i32s(const std::string& key, const std::vector<int32_t>& values);
    void add_u8s(const std::string& key, const std::vector<uint8_t>& values);  // raw bytes (a precompiled charsmap)
    // ne in ggml order (ne[0] is the row length, the last of the safetensors shape).
    void add_tensor(const std::string& name, const std::vector<uint64_t>& ne, GgmlType type);

    // Writes magic, metadata and tensor infos to `f` and pads to the data section. Throws Error{io}.
    void write_header(std::FILE* f, const std::string& path) const;
    // Writes the next tensor's bytes (exactly the size add_tensor implied) and its padding. Throws Error{io},
    // Error{internal} on a size mismatch.
    void write_tensor(std::FILE* f, const std::string& path, const std::vector<uint8_t>& bytes);

    uint64_t n_tensors() const { return tensors_.size(); }
    uint64_t data_bytes() const;

private:
    struct Tensor {
        std::string name;
        std::vector<uint64_t> ne;
        GgmlType type;
        uint64_t bytes;
    };
    std::vector<uint8_t> kv_;  // serialized key-value pairs
    uint64_t n_kv_ = 0;
    std::vector<Tensor> tensors_;
    size_t next_ = 0;
};

}  // namespace accel::model::detail
