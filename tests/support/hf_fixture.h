#pragma once
// The committed Hugging Face fixtures (tests/fixtures/hf, made by scripts/oracle): their folders and raw tensors,
// read independently of the converter under test.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "accel/model/hf_limits.h"
#include "accel/model/safetensors_file.h"

namespace accel::test {

// max |got - ref| / (max - min of ref): the metric of docs/conform.md's "Against transformers" table; infinity when
// the sizes differ.
inline double rel_diff(const std::vector<float>& got, const std::vector<float>& ref) {
    if (got.size() != ref.size() || ref.empty()) return HUGE_VAL;
    const auto [lo, hi] = std::minmax_element(ref.begin(), ref.end());
    double max_diff = 0;
    for (size_t i = 0; i < ref.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(got[i]) - ref[i]));
    return max_diff / (double(*hi) - *lo);
}

// A limit of the one table (model::hf_limits(), docs/conform.md); a row the table lacks is a mistake in the test.
inline double table_limit(const std::string& cls, accel::model::ConvertType type, accel::model::HfMetric metric) {
    const auto l = accel::model::hf_limit(cls, type, metric);
    if (!l) throw std::runtime_error("model::hf_limits() has no " + cls + " " + accel::model::to_string(type) + " " +
                                     std::string(accel::model::to_string(metric)) + " row");
    return *l;
}

inline std::filesystem::path hf_fixture(const std::string& cls) {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    return std::filesystem::path(src != nullptr ? src : ".") / "tests" / "fixtures" / "hf" / cls;
}

// IEEE half and bfloat16 by their definitions (sign, exponent, mantissa), not by bit tricks.
inline float half_value(uint16_t h) {
    const int sign = (h & 0x8000) ? -1 : 1;
    const int exp = (h >> 10) & 0x1f;
    const int man = h & 0x3ff;
    if (exp == 0) return static_cast<float>(sign * std::ldexp(man, -24));
    return static_cast<float>(sign * std::ldexp(1024 + man, exp - 25));
}
inline float bf16_value(uint16_t h) {
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// The tensor `name` of the safetensors file `file` as floats (F32, F16, BF16, or I64 for a mask).
inline std::vector<float> read_st_tensor(const std::filesystem::path& file, const std::string& name) {
    const model::SafetensorsFile st = model::read_safetensors(file);
    for (const auto& t : st.tensors) {
        if (t.name != name) continue;
        std::vector<uint8_t> raw(t.end - t.begin);
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), std::fclose);
        if (!f || std::fseek(f.get(), static_cast<long>(8 + st.header_bytes + t.begin), SEEK_SET) != 0 ||
            std::fread(raw.data(), 1, raw.size(), f.get()) != raw.size())
            throw std::runtime_error("cannot read " + name + " from " + file.string());
        std::vector<float> out(t.n_elements);
        for (size_t i = 0; i < out.size(); ++i) {
            if (t.dtype == "F32") {
                std::memcpy(&out[i], raw.data() + 4 * i, 4);
            } else if (t.dtype == "I64") {  // a mask (DETR's pixel_mask)
                int64_t v;
                std::memcpy(&v, raw.data() + 8 * i, 8);
                out[i] = static_cast<float>(v);
            } else {
                uint16_t h;
                std::memcpy(&h, raw.data() + 2 * i, 2);
                out[i] = t.dtype == "F16" ? half_value(h) : bf16_value(h);
            }
        }
        return out;
    }
    throw std::runtime_error(name + " is not in " + file.string());
}

}  // namespace accel::test
