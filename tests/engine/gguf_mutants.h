#pragma once
// Damaged copies of a real GGUF, made at test time: truncations, byte flips in the header and the tokenizer,
// duplicated tokens, and hostile counts, values, dimensions, offsets and types at the exact places a GGUF walker
// written here (independent of accel's reader) finds them. Deterministic for a given input and seed.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace accel::test {

struct Mutant {
    std::string name;   // what was changed, for failure messages
    std::string bytes;  // the damaged file
};

namespace mutants_detail {

struct Field {
    std::string what;  // e.g. "kv llama.block_count value", "tensor blk.0.attn_q.weight dim 1"
    size_t pos;
    size_t size;  // 4 or 8
};

struct Layout {
    size_t header_end = 0;  // end of the tensor infos
    std::vector<Field> fields;
    std::vector<std::pair<size_t, size_t>> token_strings;  // (pos, length) of each tokenizer.ggml.tokens element
};

class Walker {
public:
    explicit Walker(const std::string& b) : b_(b) {}
    template <typename T>
    T get() {
        T v{};
        if (pos_ + sizeof(T) > b_.size()) throw std::runtime_error("gguf_mutants: unexpected end of the source file");
        std::memcpy(&v, b_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string str() {
        const auto n = get<uint64_t>();
        std::string s = b_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    size_t pos() const { return pos_; }
    void skip(size_t n) { pos_ += n; }

private:
    const std::string& b_;
    size_t pos_ = 0;
};

inline size_t scalar_bytes(uint32_t t) {
    static constexpr size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < 13 ? sizes[t] : 0;
}

inline Layout walk(const std::string& b) {
    Layout l;
    Walker w(b);
    w.skip(4);
    l.fields.push_back({"header version", w.pos(), 4});
    w.skip(4);
    l.fields.push_back({"header tensor count", w.pos(), 8});
    const auto n_tensors = w.get<uint64_t>();
    l.fields.push_back({"header kv count", w.pos(), 8});
    const auto n_kv = w.get<uint64_t>();
    for (uint64_t k = 0; k < n_kv; ++k) {
        l.fields.push_back({"kv key length", w.pos(), 8});
        const std::string key = w.str();
        l.fields.push_back({"kv " + key + " type", w.pos(), 4});
        const auto t = w.get<uint32_t>();
        if (t == 8) {
            l.fields.push_back({"kv " + key + " string length", w.pos(), 8});
            (void)w.str();
        } else if (t == 9) {
            l.fields.push_back({"kv " + key + " element type", w.pos(), 4});
            const auto et = w.get<uint32_t>();
            l.fields.push_back({"kv " + key + " count", w.pos(), 8});
            const auto n = w.get<uint64_t>();
            for (uint64_t i = 0; i < n; ++i) {
                if (et == 8) {
                    const size_t at = w.pos();
                    const std::string s = w.str();
                    if (key == "tokenizer.ggml.tokens") l.token_strings.push_back({at + 8, s.size()});
                } else {
                    if (i < 4 && scalar_bytes(et) == 4) l.fields.push_back({"kv " + key + " element", w.pos(), 4});
                    w.skip(scalar_bytes(et));
                }
            }
        } else {
            if (scalar_bytes(t) >= 4) l.fields.push_back({"kv " + key + " value", w.pos(), scalar_bytes(t)});
            w.skip(scalar_bytes(t));
        }
    }
    for (uint64_t k = 0; k < n_tensors; ++k) {
        const std::string name = w.str();
        l.fields.push_back({"tensor " + name + " dims", w.pos(), 4});
        const auto n_dims = w.get<uint32_t>();
        for (uint32_t d = 0; d < n_dims; ++d) {
            l.fields.push_back({"tensor " + name + " dim " + std::to_string(d), w.pos(), 8});
            w.skip(8);
        }
        l.fields.push_back({"tensor " + name + " type", w.pos(), 4});
        w.skip(4);
        l.fields.push_back({"tensor " + name + " offset", w.pos(), 8});
        w.skip(8);
    }
    l.header_end = w.pos();
    return l;
}

struct Rng {
    uint64_t s;
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

inline void put(std::string& b, const Field& f, uint64_t v) { std::memcpy(b.data() + f.pos, &v, f.size); }

inline uint64_t get(const std::string& b, const Field& f) {
    uint64_t v = 0;
    std::memcpy(&v, b.data() + f.pos, f.size);
    return v;
}

}  // namespace mutants_detail

// About `target` mutants of `source` (a valid GGUF), spread over the kinds of damage in proportion.
inline std::vector<Mutant> make_mutants(const std::string& source, size_t target = 400, uint64_t seed = 0x5eed) {
    using namespace mutants_detail;
    const Layout l = walk(source);
    Rng rng{seed | 1};
    std::vector<Mutant> out;
    auto add = [&](std::string name, std::string bytes) {
        if (bytes != source) out.push_back({std::move(name), std::move(bytes)});
    };
    const size_t share = std::max<size_t>(1, target / 8);

    // 1. Truncations: every field boundary in the header first, then offsets spread over the data.
    for (size_t i = 0; i < share; ++i) {
        const size_t cut = i % 2 == 0 && i / 2 < l.fields.size() ? l.fields[rng.below(l.fields.size())].pos + rng.below(9)
                                                                 : rng.below(source.size());
        add("truncated to " + std::to_string(cut) + " bytes", source.substr(0, cut));
    }
    // 2. Byte flips anywhere in the header (keys, types, counts, names).
    for (size_t i = 0; i < share; ++i) {
        std::string b = source;
        const size_t at = rng.below(l.header_end);
        const auto x = static_cast<char>(1 + rng.below(255));
        b[at] = static_cast<char>(b[at] ^ x);
        add("header byte " + std::to_string(at) + " xor " + std::to_string(static_cast<unsigned char>(x)), b);
    }
    // 3. Byte changes inside token strings (the SIGABRT: a changed byte made two tokens equal).
    for (size_t i = 0; i < share && !l.token_strings.empty(); ++i) {
        std::string b = source;
        const auto [pos, len] = l.token_strings[rng.below(l.token_strings.size())];
        if (len == 0) continue;
        const size_t at = pos + rng.below(len);
        b[at] = static_cast<char>(i % 2 == 0 ? 'a' + rng.below(26) : rng.below(256));
        add("token byte " + std::to_string(at) + " changed", b);
    }
    // 4. A token overwritten with another of the same length: a duplicate in an otherwise valid file.
    for (size_t i = 0; i < share / 2 && l.token_strings.size() > 1; ++i) {
        std::string b = source;
        const auto [pa, la] = l.token_strings[rng.below(l.token_strings.size())];
        for (size_t tries = 0; tries < 64; ++tries) {
            const auto [pb, lb] = l.token_strings[rng.below(l.token_strings.size())];
            if (lb == la && pb != pa) {
                b.replace(pb, lb, source.substr(pa, la));
                break;
            }
        }
        add("token at byte " + std::to_string(pa) + " duplicated", b);
    }
    // 5-8. Hostile values at fields: counts, scalar values, dimensions, types, offsets.
    static constexpr uint64_t hostile[] = {0,
                                           1,
                                           2,
                                           3,
                                           7,
                                           31,
                                           255,
                                           513,
                                           1025,
                                           65535,
                                           0x7fffffffULL,
                                           0x80000000ULL,
                                           0xffffffffULL,
                                           0x100000000ULL,
                                           0x7fffffffffffffffULL,
                                           0xffffffffffffffffULL};
    const size_t n_hostile = std::size(hostile);
    const size_t n_fields = target > out.size() ? target - out.size() : 0;
    std::vector<const Field*> kv_fields;  // metadata fields get half the picks: tensors have many more fields
    for (const auto& f : l.fields)
        if (f.what.rfind("kv ", 0) == 0) kv_fields.push_back(&f);
    for (size_t i = 0; i < n_fields; ++i) {
        const Field& f = i % 2 == 0 && !kv_fields.empty() ? *kv_fields[rng.below(kv_fields.size())]
                                                          : l.fields[rng.below(l.fields.size())];
        std::string b = source;
        uint64_t v = hostile[rng.below(n_hostile)];
        if (i % 4 == 1) v = get(source, f) + 1;
        if (i % 4 == 3 && get(source, f) > 0) v = get(source, f) - 1;
        if (f.size == 4) v &= 0xffffffffULL;
        put(b, f, v);
        add(f.what + " = " + std::to_string(v), b);
    }
    return out;
}

}  // namespace accel::test
