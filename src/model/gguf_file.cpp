// GGUF reader written for hostile input: every count and length is checked against the bytes that remain before
// anything is allocated, because real parsers have had heap overflows here (CVE-2025-53630, CVE-2025-49847).
#include "accel/model/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_set>

#include <fmt/core.h>

#include "accel/core/error.h"

namespace accel::model {

namespace {

constexpr uint64_t max_key_bytes = 65535;
constexpr uint64_t max_tensor_name_bytes = 63;  // ggml's GGML_MAX_NAME is 64 including the terminator
constexpr uint32_t max_dims = 4;                // GGML_MAX_DIMS

// Checked against the pinned ggml (ggml_blck_size / ggml_type_size); ids 4, 5, 31-33 and 36-38 were removed.
constexpr std::array<GgmlTypeInfo, 43> ggml_types = {{
    {"f32", 1, 4},      {"f16", 1, 2},        {"q4_0", 32, 18},    {"q4_1", 32, 20},     {"", 0, 0},
    {"", 0, 0},         {"q5_0", 32, 22},     {"q5_1", 32, 24},    {"q8_0", 32, 34},     {"q8_1", 32, 36},
    {"q2_K", 256, 84},  {"q3_K", 256, 110},   {"q4_K", 256, 144},  {"q5_K", 256, 176},   {"q6_K", 256, 210},
    {"q8_K", 256, 292}, {"iq2_xxs", 256, 66}, {"iq2_xs", 256, 74}, {"iq3_xxs", 256, 98}, {"iq1_s", 256, 50},
    {"iq4_nl", 32, 18}, {"iq3_s", 256, 110},  {"iq2_s", 256, 82},  {"iq4_xs", 256, 136}, {"i8", 1, 1},
    {"i16", 1, 2},      {"i32", 1, 4},        {"i64", 1, 8},       {"f64", 1, 8},        {"iq1_m", 256, 56},
    {"bf16", 1, 2},     {"", 0, 0},           {"", 0, 0},          {"", 0, 0},           {"tq1_0", 256, 54},
    {"tq2_0", 256, 66}, {"", 0, 0},           {"", 0, 0},          {"", 0, 0},           {"mxfp4", 32, 17},
    {"nvfp4", 64, 36},  {"q1_0", 128, 18},    {"q2_0", 64, 18},
}};

// Keys whose type llama.cpp relies on; a file that declares another type is rejected here instead of misread.
struct ExpectedKey {
    std::string_view key;
    GgufType type;
    GgufType array_type;  // for arrays
};
constexpr std::array<ExpectedKey, 8> expected_keys = {{
    {"general.architecture", GgufType::string, GgufType::u8},
    {"general.alignment", GgufType::u32, GgufType::u8},
    {"general.name", GgufType::string, GgufType::u8},
    {"general.file_type", GgufType::u32, GgufType::u8},
    {"tokenizer.ggml.model", GgufType::string, GgufType::u8},
    {"tokenizer.ggml.tokens", GgufType::array, GgufType::string},
    {"tokenizer.ggml.scores", GgufType::array, GgufType::f32},
    {"tokenizer.ggml.token_type", GgufType::array, GgufType::i32},
}};

size_t scalar_size(GgufType t) {
    switch (t) {
        case GgufType::u8:
        case GgufType::i8:
        case GgufType::boolean:
            return 1;
        case GgufType::u16:
        case GgufType::i16:
            return 2;
        case GgufType::u32:
        case GgufType::i32:
        case GgufType::f32:
            return 4;
        case GgufType::u64:
        case GgufType::i64:
        case GgufType::f64:
            return 8;
        case GgufType::string:
            return 8;  // at least the length prefix
        case GgufType::array:
            return 12;  // at least the element type and count
    }
    return 0;
}

class Cursor {
public:
    Cursor(std::span<const std::byte> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: {} (at byte {})", source_, what, pos_));
    }
    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return bytes_.size() - pos_; }

    template <typename T>
    T read(const char* what) {
        if (remaining() < sizeof(T))
            fail(fmt::format("truncated file: {} needs {} bytes, {} remain", what, sizeof(T), remaining()));
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    // A string's bytes in place: valid as long as the caller's bytes are.
    std::string_view read_view(const char* what, uint64_t cap) {
        const auto n = read<uint64_t>(what);
        if (n > cap) fail(fmt::format("{} length {} exceeds the limit of {} bytes", what, n, cap));
        if (n > remaining()) fail(fmt::format("truncated file: {} claims {} bytes, {} remain", what, n, remaining()));
        std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(n));
        pos_ += n;
        return s;
    }

    std::string read_string(const char* what, uint64_t cap) { return std::string(read_view(what, cap)); }

    void skip(uint64_t n, const char* what) {
        if (n > remaining()) fail(fmt::format("truncated file: {} claims {} bytes, {} remain", what, n, remaining()));
        pos_ += n;
    }

private:
    std::span<const std::byte> bytes_;
    const std::string& source_;
    uint64_t pos_ = 0;
};

bool valid_value_type(uint32_t t) {
    return t <= static_cast<uint32_t>(GgufType::f64);
}

GgufValue read_scalar(Cursor& c, GgufType t, const GgufLimits& limits) {
    GgufValue v;
    v.type = t;
    switch (t) {
        case GgufType::u8:
            v.u = c.read<uint8_t>("u8 value");
            break;
        case GgufType::i8:
            v.i = c.read<int8_t>("i8 value");
            break;
        case GgufType::u16:
            v.u = c.read<uint16_t>("u16 value");
            break;
        case GgufType::i16:
            v.i = c.read<int16_t>("i16 value");
            break;
        case GgufType::u32:
            v.u = c.read<uint32_t>("u32 value");
            break;
        case GgufType::i32:
            v.i = c.read<int32_t>("i32 value");
            break;
        case GgufType::u64:
            v.u = c.read<uint64_t>("u64 value");
            break;
        case GgufType::i64:
            v.i = c.read<int64_t>("i64 value");
            break;
        case GgufType::f32:
            v.f = c.read<float>("f32 value");
            break;
        case GgufType::f64:
            v.f = c.read<double>("f64 value");
            break;
        case GgufType::boolean: {
            const auto b = c.read<uint8_t>("bool value");
            if (b > 1) c.fail(fmt::format("bool value {} is neither 0 nor 1", b));
            v.u = b;
            break;
        }
        case GgufType::string:
            v.s = c.read_string("string value", limits.max_string_bytes);
            break;
        case GgufType::array:
            c.fail("nested arrays are not supported");
    }
    return v;
}

GgufValue read_value(Cursor& c, GgufType t, const std::string& key, const GgufLimits& limits) {
    if (t != GgufType::array) return read_scalar(c, t, limits);
    GgufValue v;
    v.type = GgufType::array;
    const auto et = c.read<uint32_t>("array element type");
    if (!valid_value_type(et)) c.fail(fmt::format("key '{}': array element type {} is not a GGUF type", key, et));
    if (et == static_cast<uint32_t>(GgufType::array))
        c.fail(fmt::format("key '{}': nested arrays are not supported", key));
    v.array_type = static_cast<GgufType>(et);
    v.array_count = c.read<uint64_t>("array length");
    v.array_data_pos = c.pos();
    if (v.array_count > limits.max_array_count)
        c.fail(fmt::format("key '{}': array length {} exceeds the limit of {}", key, v.array_count,
                           limits.max_array_count));
    // Each element needs at least scalar_size bytes, so a count the file cannot hold is rejected before reading.
    const uint64_t min_each = scalar_size(v.array_type);
    if (v.array_count > c.remaining() / min_each)
        c.fail(fmt::format("key '{}': array of {} {} elements needs at least {} bytes, {} remain", key, v.array_count,
                           to_string(v.array_type), v.array_count * min_each, c.remaining()));
    if (v.array_type != GgufType::string) {
        const uint64_t keep = std::min<uint64_t>(v.array_count, array_preview_max);
        for (uint64_t k = 0; k < keep; ++k) v.array_preview.push_back(read_scalar(c, v.array_type, limits));
        c.skip((v.array_count - keep) * min_each, "array data");
        return v;
    }
    for (uint64_t k = 0; k < v.array_count; ++k) {
        if (k < array_preview_max) {
            v.array_preview.push_back(read_scalar(c, GgufType::string, limits));
            continue;
        }
        const auto n = c.read<uint64_t>("string length");
        if (n > limits.max_string_bytes)
            c.fail(fmt::format("key '{}': string element {} has length {}, over the limit of {} bytes", key, k, n,
                               limits.max_string_bytes));
        c.skip(n, "string element");
    }
    return v;
}

void check_expected_type(Cursor& c, const std::string& key, const GgufValue& v) {
    for (const auto& e : expected_keys) {
        if (e.key != key) continue;
        if (v.type != e.type)
            c.fail(fmt::format("key '{}' has type {}, expected {}", key, to_string(v.type), to_string(e.type)));
        if (v.type == GgufType::array && v.array_type != e.array_type)
            c.fail(fmt::format("key '{}' is an array of {}, expected an array of {}", key, to_string(v.array_type),
                               to_string(e.array_type)));
    }
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t limit) {
    return a != 0 && b > limit / a;
}

}  // namespace

std::string_view to_string(GgufType type) {
    static constexpr std::array<std::string_view, 13> names = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                                               "bool", "string", "array", "u64", "i64", "f64"};
    const auto i = static_cast<uint32_t>(type);
    return i < names.size() ? names[i] : std::string_view("invalid");
}

std::optional<uint64_t> GgufValue::as_uint() const {
    switch (type) {
        case GgufType::u8:
        case GgufType::u16:
        case GgufType::u32:
        case GgufType::u64:
            return u;
        case GgufType::i8:
        case GgufType::i16:
        case GgufType::i32:
        case GgufType::i64:
            if (i >= 0) return static_cast<uint64_t>(i);
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

std::string GgufValue::to_text() const {
    switch (type) {
        case GgufType::u8:
        case GgufType::u16:
        case GgufType::u32:
        case GgufType::u64:
            return std::to_string(u);
        case GgufType::i8:
        case GgufType::i16:
        case GgufType::i32:
        case GgufType::i64:
            return std::to_string(i);
        case GgufType::f32:
        case GgufType::f64:
            return fmt::format("{}", f);
        case GgufType::boolean:
            return u ? "true" : "false";
        case GgufType::string:
            return s.size() > 80 ? s.substr(0, 77) + "..." : s;
        case GgufType::array:
            return fmt::format("[{} x {}]", array_count, to_string(array_type));
    }
    return {};
}

const GgufValue* GgufFile::find(const std::string& key) const {
    const auto it = metadata.find(key);
    return it == metadata.end() ? nullptr : &it->second;
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const auto* v = find(key);
    if (!v || v->type != GgufType::string) return std::nullopt;
    return v->s;
}

std::optional<uint64_t> GgufFile::get_uint(const std::string& key) const {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (v->type == GgufType::array) {
        // Per-layer values (e.g. head_count_kv in hybrid models): report the largest, which sizes buffers.
        std::optional<uint64_t> best;
        for (const auto& e : v->array_preview)
            if (auto x = e.as_uint(); x && (!best || *x > *best)) best = x;
        return best;
    }
    return v->as_uint();
}

uint64_t GgufFile::n_params() const {
    uint64_t n = 0;
    for (const auto& t : tensors) n += t.n_elements;
    return n;
}

uint64_t GgufFile::weights_bytes() const {
    uint64_t n = 0;
    for (const auto& t : tensors) n += t.n_bytes;
    return n;
}

std::optional<GgmlTypeInfo> ggml_type_info(uint32_t ggml_type) {
    if (ggml_type >= ggml_types.size() || ggml_types[ggml_type].block_size == 0) return std::nullopt;
    return ggml_types[ggml_type];
}

std::optional<uint32_t> ggml_type_from_name(std::string_view name) {
    for (uint32_t i = 0; i < ggml_types.size(); ++i) {
        const auto n = ggml_types[i].name;
        if (n.empty() || n.size() != name.size()) continue;
        bool same = true;
        for (size_t k = 0; k < n.size(); ++k)
            same = same &&
                   std::tolower(static_cast<unsigned char>(n[k])) == std::tolower(static_cast<unsigned char>(name[k]));
        if (same) return i;
    }
    return std::nullopt;
}

std::string file_type_name(uint32_t file_type) {
    static constexpr std::array<std::string_view, 42> names = {
        "ALL_F32", "F16",     "Q4_0",      "Q4_1",   "",       "",        "",       "Q8_0",   "Q5_0",
        "Q5_1",    "Q2_K",    "Q3_K_S",    "Q3_K_M", "Q3_K_L", "Q4_K_S",  "Q4_K_M", "Q5_K_S", "Q5_K_M",
        "Q6_K",    "IQ2_XXS", "IQ2_XS",    "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S",  "IQ4_NL", "IQ3_S",
        "IQ3_M",   "IQ2_S",   "IQ2_M",     "IQ4_XS", "IQ1_M",  "BF16",    "",       "",       "",
        "TQ1_0",   "TQ2_0",   "MXFP4_MOE", "NVFP4",  "Q1_0",   "Q2_0"};
    if (file_type < names.size() && !names[file_type].empty()) return std::string(names[file_type]);
    return fmt::format("unknown({})", file_type);
}

GgufFile parse_gguf(std::span<const std::byte> bytes, const std::string& source, const GgufLimits& limits) {
    Cursor c(bytes, source);
    GgufFile f;
    f.source = source;
    f.file_bytes = bytes.size();

    const auto magic = c.read<std::array<char, 4>>("magic");
    if (std::string_view(magic.data(), 4) != "GGUF") c.fail("not a GGUF file (bad magic)");
    f.version = c.read<uint32_t>("version");
    if (f.version != 2 && f.version != 3)
        c.fail(fmt::format("GGUF version {} is not supported (only 2 and 3)", f.version));
    const auto n_tensors = c.read<uint64_t>("tensor count");
    const auto n_kv = c.read<uint64_t>("metadata key/value count");
    if (n_tensors > limits.max_tensor_count)
        c.fail(fmt::format("tensor count {} exceeds the limit of {}", n_tensors, limits.max_tensor_count));
    if (n_kv > limits.max_kv_count)
        c.fail(fmt::format("metadata key/value count {} exceeds the limit of {}", n_kv, limits.max_kv_count));
    // Smallest possible entries: key length + type + 1-byte value; name length + n_dims + type + offset.
    constexpr uint64_t min_kv_bytes = 8 + 4 + 1;
    constexpr uint64_t min_tensor_bytes = 8 + 4 + 4 + 8;
    if (n_kv > c.remaining() / min_kv_bytes)
        c.fail(fmt::format("metadata key/value count {} cannot fit in the {} bytes that remain", n_kv, c.remaining()));
    if (n_tensors > c.remaining() / min_tensor_bytes)
        c.fail(fmt::format("tensor count {} cannot fit in the {} bytes that remain", n_tensors, c.remaining()));

    for (uint64_t k = 0; k < n_kv; ++k) {
        auto key = c.read_string("metadata key", max_key_bytes);
        if (key.empty()) c.fail(fmt::format("metadata key {} is empty", k));
        if (f.metadata.count(key)) c.fail(fmt::format("duplicate metadata key '{}'", key));
        const auto t = c.read<uint32_t>("metadata value type");
        if (!valid_value_type(t)) c.fail(fmt::format("key '{}': value type {} is not a GGUF type", key, t));
        auto v = read_value(c, static_cast<GgufType>(t), key, limits);
        check_expected_type(c, key, v);
        f.metadata.emplace(std::move(key), std::move(v));
    }

    if (const auto* a = f.find("general.alignment")) {
        if (a->u == 0 || (a->u & (a->u - 1)) != 0)
            c.fail(fmt::format("general.alignment {} is not a power of two", a->u));
        if (a->u > limits.max_alignment)
            c.fail(fmt::format("general.alignment {} exceeds the limit of {}", a->u, limits.max_alignment));
        f.alignment = static_cast<uint32_t>(a->u);
    }

    // Names are checked for duplicates as views into `bytes`: the reader runs before every pool load, and a set of
    // copied strings was a measurable part of it (docs/pool.md, load overhead).
    std::unordered_set<std::string_view> names;
    names.reserve(static_cast<size_t>(n_tensors));
    f.tensors.reserve(static_cast<size_t>(n_tensors));
    for (uint64_t k = 0; k < n_tensors; ++k) {
        GgufTensor t;
        const std::string_view name = c.read_view("tensor name", 1u << 16);
        if (name.empty()) c.fail(fmt::format("tensor {} has an empty name", k));
        if (name.size() > max_tensor_name_bytes)
            c.fail(fmt::format("tensor {} name is {} bytes, over ggml's limit of {}", k, name.size(),
                               max_tensor_name_bytes));
        if (!names.insert(name).second) c.fail(fmt::format("duplicate tensor name '{}'", name));
        t.name = name;
        const auto n_dims = c.read<uint32_t>("tensor dimension count");
        if (n_dims == 0 || n_dims > max_dims)
            c.fail(fmt::format("tensor '{}' has {} dimensions (1 to {} allowed)", t.name, n_dims, max_dims));
        t.shape.reserve(n_dims);
        t.n_elements = 1;
        for (uint32_t d = 0; d < n_dims; ++d) {
            const auto ne = c.read<uint64_t>("tensor dimension");
            if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
                c.fail(fmt::format("tensor '{}' dimension {} is {}, over INT64_MAX", t.name, d, ne));
            if (mul_overflows(t.n_elements, ne, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())))
                c.fail(fmt::format("tensor '{}' element count overflows INT64_MAX", t.name));
            t.n_elements *= ne;
            t.shape.push_back(ne);
        }
        t.ggml_type = c.read<uint32_t>("tensor type");
        const auto info = ggml_type_info(t.ggml_type);
        if (!info) c.fail(fmt::format("tensor '{}' has unknown or removed ggml type {}", t.name, t.ggml_type));
        if (t.shape[0] % info->block_size != 0)
            c.fail(fmt::format("tensor '{}' row length {} is not a multiple of the {} block size {}", t.name,
                               t.shape[0], info->name, info->block_size));
        const uint64_t n_blocks = t.n_elements / info->block_size;
        if (mul_overflows(n_blocks, info->type_size, std::numeric_limits<size_t>::max()))
            c.fail(fmt::format("tensor '{}' byte size overflows SIZE_MAX", t.name));
        t.n_bytes = n_blocks * info->type_size;
        t.offset = c.read<uint64_t>("tensor offset");
        if (t.offset % f.alignment != 0)
            c.fail(fmt::format("tensor '{}' offset {} is not a multiple of the alignment {}", t.name, t.offset,
                               f.alignment));
        f.tensors.push_back(std::move(t));
    }

    // The data section starts at the next aligned position after the tensor infos.
    const uint64_t header_end = c.pos();
    f.data_offset = (header_end + f.alignment - 1) / f.alignment * f.alignment;
    if (!f.tensors.empty() && f.data_offset > f.file_bytes)
        c.fail(fmt::format("data section starts at byte {}, past the end of the {}-byte file", f.data_offset,
                           f.file_bytes));
    const uint64_t data_bytes = f.file_bytes >= f.data_offset ? f.file_bytes - f.data_offset : 0;
    uint64_t next_free = 0;
    for (const auto& t : f.tensors) {
        if (t.offset < next_free)
            c.fail(
                fmt::format("tensor '{}' offset {} overlaps the previous tensor or is out of order (next free "
                            "offset is {})",
                            t.name, t.offset, next_free));
        if (t.offset > data_bytes || t.n_bytes > data_bytes - t.offset)
            c.fail(fmt::format("tensor '{}' data [{}, {}) lies outside the {}-byte data section", t.name, t.offset,
                               t.offset + std::min(t.n_bytes, data_bytes + 1), data_bytes));
        next_free = t.offset + t.n_bytes;
    }
    return f;
}

MappedFile::MappedFile(const std::filesystem::path& path) {
    const std::string name = path.string();
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(ErrorKind::io, fmt::format("{}: cannot open: {}", name, std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a regular file", name));
    }
    const auto size = static_cast<size_t>(st.st_size);
    if (size == 0) {
        ::close(fd);
        throw Error(ErrorKind::invalid_input, fmt::format("{}: empty file, not a GGUF model", name));
    }
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw Error(ErrorKind::io, fmt::format("{}: cannot map: {}", name, std::strerror(errno)));
    data_ = p;
    size_ = size;
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(data_, size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept : data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
}

GgufFile read_gguf(const std::filesystem::path& path, const GgufLimits& limits) {
    const MappedFile mapped(path);
    return parse_gguf(mapped.bytes(), path.string(), limits);
}

bool is_embedding_model(const GgufFile& file) {
    const std::string arch = file.get_string("general.architecture").value_or("");
    if (const auto* causal = file.find(arch + ".attention.causal");
        causal != nullptr && causal->type == GgufType::boolean && causal->u == 0) {
        return true;
    }
    const auto pooling = file.get_uint(arch + ".pooling_type");
    return pooling && *pooling >= 1 && *pooling <= 4;
}

}  // namespace accel::model
