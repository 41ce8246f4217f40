#include "gguf_writer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::model::detail {
namespace {

constexpr uint64_t alignment = 32;  // GGUF's default (general.alignment absent)
enum class Kv : uint32_t { u8 = 0, u32 = 4, i32 = 5, f32 = 6, boolean = 7, string = 8, array = 9 };

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
}

void put_string(std::vector<uint8_t>& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

void begin_kv(std::vector<uint8_t>& kv, uint64_t& n_kv, const std::string& key, Kv type) {
    put_string(kv, key);
    put(kv, type);
    ++n_kv;
}

void begin_array(std::vector<uint8_t>& kv, uint64_t& n_kv, const std::string& key, Kv element, uint64_t n) {
    begin_kv(kv, n_kv, key, Kv::array);
    put(kv, element);
    put(kv, n);
}

uint64_t pad(uint64_t n) { return (n + alignment - 1) / alignment * alignment; }

void write_all(std::FILE* f, const std::string& path, const void* data, size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, f) != n)
        throw Error(ErrorKind::io, fmt::format("{}: write failed (disk full?)", path));
}

void write_padding(std::FILE* f, const std::string& path, uint64_t written) {
    static const uint8_t zeros[alignment] = {};
    write_all(f, path, zeros, pad(written) - written);
}

}  // namespace

uint64_t ggml_type_bytes(GgmlType type, uint64_t n) {
    switch (type) {
        case GgmlType::f32: return n * 4;
        case GgmlType::f16:
        case GgmlType::bf16: return n * 2;
        case GgmlType::q8_0: return n / 32 * 34;
    }
    return 0;
}

const char* ggml_type_name(GgmlType type) {
    switch (type) {
        case GgmlType::f32: return "f32";
        case GgmlType::f16: return "f16";
        case GgmlType::bf16: return "bf16";
        case GgmlType::q8_0: return "q8_0";
    }
    return "?";
}

uint16_t fp32_to_fp16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const uint32_t abs = x & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (abs < 0x38800000u) {  // subnormal half (or zero): scale by 2^24 and round to nearest even
        const float scaled = std::bit_cast<float>(abs) * 16777216.0f;
        return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(scaled)));
    }
    const uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);  // round to nearest even on the 13 dropped bits
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t man = h & 0x3ffu;
    if (exp == 0) {
        const float v = static_cast<float>(man) / 16777216.0f;  // man * 2^-24
        return sign ? -v : v;
    }
    if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));
    return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (man << 13));
}

uint16_t fp32_to_bf16(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 64u);  // quiet NaN, as ggml
    return static_cast<uint16_t>((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
}

float bf16_to_fp32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

void convert_row_major(const float* src, uint64_t n, GgmlType type, std::vector<uint8_t>& out) {
    const size_t at = out.size();
    out.resize(at + ggml_type_bytes(type, n));
    uint8_t* dst = out.data() + at;
    switch (type) {
        case GgmlType::f32: std::memcpy(dst, src, n * 4); return;
        case GgmlType::f16:
            for (uint64_t i = 0; i < n; ++i) {
                const uint16_t h = fp32_to_fp16(src[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            return;
        case GgmlType::bf16:
            for (uint64_t i = 0; i < n; ++i) {
                const uint16_t h = fp32_to_bf16(src[i]);
                std::memcpy(dst + 2 * i, &h, 2);
            }
            return;
        case GgmlType::q8_0:
            for (uint64_t b = 0; b < n / 32; ++b) {
                const float* x = src + 32 * b;
                float amax = 0;
                for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
                const float d = amax / 127.0f;
                const float id = d != 0 ? 1.0f / d : 0.0f;
                const uint16_t dh = fp32_to_fp16(d);
                uint8_t* blk = dst + 34 * b;
                std::memcpy(blk, &dh, 2);
                for (int j = 0; j < 32; ++j) blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::roundf(x[j] * id)));
            }
            return;
    }
}

void GgufWriter::add_string(const std::string& key, const std::string& value) {
    begin_kv(kv_, n_kv_, key, Kv::string);
    put_string(kv_, value);
}

void GgufWriter::add_u32(const std::string& key, uint32_t value) {
    begin_kv(kv_, n_kv_, key, Kv::u32);
    put(kv_, value);
}

void GgufWriter::add_i32(const std::string& key, int32_t value) {
    begin_kv(kv_, n_kv_, key, Kv::i32);
    put(kv_, value);
}

void GgufWriter::add_f32(const std::string& key, float value) {
    begin_kv(kv_, n_kv_, key, Kv::f32);
    put(kv_, value);
}

void GgufWriter::add_bool(const std::string& key, bool value) {
    begin_kv(kv_, n_kv_, key, Kv::boolean);
    put<uint8_t>(kv_, value ? 1 : 0);
}

void GgufWriter::add_strings(const std::string& key, const std::vector<std::string>& values) {
    begin_array(kv_, n_kv_, key, Kv::string, values.size());
    for (const auto& v : values) put_string(kv_, v);
}

void GgufWriter::add_f32s(const std::string& key, const std::vector<float>& values) {
    begin_array(kv_, n_kv_, key, Kv::f32, values.size());
    for (const float v : values) put(kv_, v);
}

void GgufWriter::add_i32s(const std::string& key, const std::vector<int32_t>& values) {
    begin_array(kv_, n_kv_, key, Kv::i32, values.size());
    for (const int32_t v : values) put(kv_, v);
}

void GgufWriter::add_u8s(const std::string& key, const std::vector<uint8_t>& values) {
    begin_array(kv_, n_kv_, key, Kv::u8, values.size());
    kv_.insert(kv_.end(), values.begin(), values.end());
}

void GgufWriter::add_tensor(const std::string& name, const std::vector<uint64_t>& ne, GgmlType type) {
    uint64_t n = 1;
    for (const uint64_t d : ne) n *= d;
    tensors_.push_back({name, ne, type, ggml_type_bytes(type, n)});
}

uint64_t GgufWriter::data_bytes() const {
    uint64_t n = 0;
    for (const auto& t : tensors_) n += pad(t.bytes);
    return n;
}

void GgufWriter::write_header(std::FILE* f, const std::string& path) const {
    std::vector<uint8_t> head;
    head.insert(head.end(), {'G', 'G', 'U', 'F'});
    put<uint32_t>(head, 3);
    put<uint64_t>(head, tensors_.size());
    put<uint64_t>(head, n_kv_);
    head.insert(head.end(), kv_.begin(), kv_.end());
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        put_string(head, t.name);
        put<uint32_t>(head, static_cast<uint32_t>(t.ne.size()));
        for (const uint64_t d : t.ne) put(head, d);
        put(head, t.type);
        put(head, offset);
        offset += pad(t.bytes);
    }
    write_all(f, path, head.data(), head.size());
    write_padding(f, path, head.size());
}

void GgufWriter::write_tensor(std::FILE* f, const std::string& path, const std::vector<uint8_t>& bytes) {
    if (next_ >= tensors_.size() || bytes.size() != tensors_[next_].bytes)
        throw Error(ErrorKind::internal, fmt::format("{}: tensor {} has {} bytes, not the {} announced", path,
                                                     next_ < tensors_.size() ? tensors_[next_].name : "?",
                                                     bytes.size(), next_ < tensors_.size() ? tensors_[next_].bytes : 0));
    write_all(f, path, bytes.data(), bytes.size());
    write_padding(f, path, bytes.size());
    ++next_;
}

}  // namespace accel::model::detail
