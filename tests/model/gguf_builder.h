#pragma once
// Builds GGUF bytes by hand for the reader tests, including deliberately malformed ones.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace accel::test {

class GgufBuilder {
public:
    std::string bytes;

    GgufBuilder& raw(const void* p, size_t n) {
        bytes.append(static_cast<const char*>(p), n);
        return *this;
    }
    template <typename T>
    GgufBuilder& put(T v) {
        return raw(&v, sizeof(T));
    }
    GgufBuilder& str(const std::string& s) {
        put<uint64_t>(s.size());
        return raw(s.data(), s.size());
    }
    GgufBuilder& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
        raw("GGUF", 4);
        put<uint32_t>(version);
        put<uint64_t>(n_tensors);
        return put<uint64_t>(n_kv);
    }
    GgufBuilder& kv_str(const std::string& key, const std::string& value) {
        str(key);
        put<uint32_t>(8);
        return str(value);
    }
    GgufBuilder& kv_u32(const std::string& key, uint32_t value) {
        str(key);
        put<uint32_t>(4);
        return put<uint32_t>(value);
    }
    GgufBuilder& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
        str(name);
        put<uint32_t>(static_cast<uint32_t>(dims.size()));
        for (auto d : dims) put<uint64_t>(d);
        put<uint32_t>(type);
        return put<uint64_t>(offset);
    }
    // Pads to the alignment, then appends n data bytes.
    GgufBuilder& data(size_t n, size_t alignment = 32) {
        while (bytes.size() % alignment) bytes.push_back('\0');
        bytes.append(n, '\x01');
        return *this;
    }
};

// A small valid v3 file: 2 metadata keys, two f32 tensors [8] and [4, 2] (64 bytes of data).
inline std::string valid_gguf(uint32_t version = 3) {
    GgufBuilder b;
    b.header(2, 3, version)
        .kv_str("general.architecture", "llama")
        .kv_u32("llama.block_count", 1)
        .kv_u32("general.alignment", 32)
        .tensor("a", {8}, 0, 0)
        .tensor("b", {4, 2}, 0, 32)
        .data(64);
    return b.bytes;
}

}  // namespace accel::test
