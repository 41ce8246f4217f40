// Header-only safetensors validation, following the checks of the reference parser (huggingface/safetensors).
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#include "accel/model/safetensors_file.h"
#include "json_strict.h"

namespace accel::model {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
    throw Error(ErrorKind::invalid_input, fmt::format("{}: {}", source, what));
}

uint64_t get_u64(const nlohmann::json& j, const std::string& source, const std::string& what) {
    if (!j.is_number_unsigned()) fail(source, fmt::format("{} must be a non-negative integer", what));
    return j.get<uint64_t>();
}

}  // namespace

uint32_t safetensors_dtype_bytes(std::string_view dtype) {
    struct D {
        std::string_view name;
        uint32_t bytes;
    };
    static constexpr std::array<D, 16> dtypes = {{
        {"BOOL", 1},
        {"U8", 1},
        {"I8", 1},
        {"F8_E5M2", 1},
        {"F8_E4M3", 1},
        {"F8_E8M0", 1},
        {"I16", 2},
        {"U16", 2},
        {"F16", 2},
        {"BF16", 2},
        {"I32", 4},
        {"U32", 4},
        {"F32", 4},
        {"F64", 8},
        {"I64", 8},
        {"U64", 8},
    }};
    for (const auto& d : dtypes)
        if (d.name == dtype) return d.bytes;
    return 0;
}

uint64_t SafetensorsFile::n_params() const {
    uint64_t n = 0;
    for (const auto& t : tensors) n += t.n_elements;
    return n;
}

SafetensorsFile parse_safetensors_header(std::string_view header, uint64_t file_bytes, const std::string& source,
                                         const SafetensorsLimits& limits) {
    SafetensorsFile f;
    f.source = source;
    f.header_bytes = header.size();
    f.file_bytes = file_bytes;
    if (header.size() > limits.max_header_bytes)
        fail(source, fmt::format("header is {} bytes, over the limit of {}", header.size(), limits.max_header_bytes));
    if (header.empty() || header.front() != '{') fail(source, "header does not start with '{'");
    const auto j = detail::parse_json(header, source, true);
    if (!j.is_object()) fail(source, "header is not a JSON object");
    if (j.size() > limits.max_tensor_count + 1)
        fail(source, fmt::format("{} tensors exceed the limit of {}", j.size(), limits.max_tensor_count));
    for (const auto& [name, entry] : j.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) fail(source, "__metadata__ is not an object");
            for (const auto& [k, v] : entry.items()) {
                if (!v.is_string()) fail(source, fmt::format("__metadata__ value of '{}' is not a string", k));
                f.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        if (!entry.is_object()) fail(source, fmt::format("tensor '{}' entry is not an object", name));
        SafetensorsTensor t;
        t.name = name;
        const auto dt = entry.find("dtype");
        const auto shape = entry.find("shape");
        const auto offs = entry.find("data_offsets");
        if (dt == entry.end() || !dt->is_string()) fail(source, fmt::format("tensor '{}' has no dtype", name));
        if (shape == entry.end() || !shape->is_array()) fail(source, fmt::format("tensor '{}' has no shape", name));
        if (offs == entry.end() || !offs->is_array() || offs->size() != 2)
            fail(source, fmt::format("tensor '{}' data_offsets is not [begin, end]", name));
        t.dtype = dt->get<std::string>();
        const uint32_t elem = safetensors_dtype_bytes(t.dtype);
        if (elem == 0) fail(source, fmt::format("tensor '{}' has unsupported dtype '{}'", name, t.dtype));
        t.n_elements = 1;
        for (const auto& d : *shape) {
            const uint64_t v = get_u64(d, source, fmt::format("tensor '{}' shape entry", name));
            if (v != 0 && t.n_elements > std::numeric_limits<uint64_t>::max() / v)
                fail(source, fmt::format("tensor '{}' element count overflows", name));
            t.n_elements *= v;
            t.shape.push_back(v);
        }
        if (t.n_elements > std::numeric_limits<uint64_t>::max() / elem)
            fail(source, fmt::format("tensor '{}' byte size overflows", name));
        t.begin = get_u64((*offs)[0], source, fmt::format("tensor '{}' begin offset", name));
        t.end = get_u64((*offs)[1], source, fmt::format("tensor '{}' end offset", name));
        if (t.end < t.begin) fail(source, fmt::format("tensor '{}' ends before it begins", name));
        if (t.end - t.begin != t.n_elements * elem)
            fail(source, fmt::format("tensor '{}' spans {} bytes but shape x dtype needs {}", name, t.end - t.begin,
                                     t.n_elements * elem));
        f.tensors.push_back(std::move(t));
    }
    std::sort(f.tensors.begin(), f.tensors.end(),
              [](const auto& a, const auto& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
    uint64_t expected = 0;
    for (const auto& t : f.tensors) {
        if (t.begin < expected)
            fail(source, fmt::format("tensor '{}' data [{}, {}) overlaps the previous tensor", t.name, t.begin, t.end));
        if (t.begin > expected)
            fail(source,
                 fmt::format("tensor '{}' starts at {}, leaving a hole after offset {}", t.name, t.begin, expected));
        expected = t.end;
    }
    if (file_bytes < 8 || file_bytes - 8 < header.size() || file_bytes - 8 - header.size() != expected)
        fail(source, fmt::format("data ends at {} bytes after the header, but the file holds {}", expected,
                                 file_bytes >= 8 + header.size() ? file_bytes - 8 - header.size() : 0));
    return f;
}

std::vector<uint8_t> read_tensor_bytes(const std::filesystem::path& path, uint64_t header_bytes,
                                       const SafetensorsTensor& t) {
    std::vector<uint8_t> raw(t.end - t.begin);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!f || std::fseek(f.get(), static_cast<long>(8 + header_bytes + t.begin), SEEK_SET) != 0 ||
        std::fread(raw.data(), 1, raw.size(), f.get()) != raw.size())
        throw Error(ErrorKind::io, path.string() + ": cannot read tensor " + t.name);
    return raw;
}

SafetensorsFile read_safetensors(const std::filesystem::path& path, const SafetensorsLimits& limits) {
    const std::string name = path.string();
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(ErrorKind::io, fmt::format("{}: cannot read: {}", name, ec.message()));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, fmt::format("{}: cannot open", name));
    std::array<char, 8> prefix{};
    if (size < 8 || !in.read(prefix.data(), 8)) fail(name, "truncated file: no 8-byte header length");
    uint64_t n = 0;
    std::memcpy(&n, prefix.data(), 8);
    if (n > limits.max_header_bytes)
        fail(name, fmt::format("header length {} exceeds the limit of {} bytes", n, limits.max_header_bytes));
    if (n > size - 8) fail(name, fmt::format("header length {} exceeds the {} bytes that follow", n, size - 8));
    std::string header(static_cast<size_t>(n), '\0');
    if (!in.read(header.data(), static_cast<std::streamsize>(n))) fail(name, "truncated header");
    return parse_safetensors_header(header, size, name, limits);
}

}  // namespace accel::model
