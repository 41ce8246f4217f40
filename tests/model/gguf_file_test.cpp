// The GGUF reader: valid files, real models, and one hand-made bad file per robustness check.
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/model/gguf_file.h"
#include "gguf_builder.h"
#include "test_support.h"

namespace {

using accel::model::GgufLimits;
using accel::model::parse_gguf;
using accel::test::GgufBuilder;

accel::model::GgufFile parse(const std::string& bytes, const GgufLimits& limits = {}) {
    return parse_gguf(std::as_bytes(std::span(bytes.data(), bytes.size())), "bad.gguf", limits);
}

// Expects a clean invalid_input error that names the file and contains `what`.
void expect_rejected(const std::string& bytes, const std::string& what, const GgufLimits& limits = {}) {
    try {
        (void)parse(bytes, limits);
        ADD_FAILURE() << "accepted; expected an error containing: " << what;
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << e.what();
        const std::string msg = e.what();
        EXPECT_EQ(msg.rfind("bad.gguf: ", 0), 0u) << msg;
        EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
}

TEST(GgufReader, ValidFileV3AndV2) {
    for (uint32_t version : {2u, 3u}) {
        const auto f = parse(accel::test::valid_gguf(version));
        EXPECT_EQ(f.version, version);
        EXPECT_EQ(f.metadata.size(), 3u);
        EXPECT_EQ(f.get_string("general.architecture"), "llama");
        EXPECT_EQ(f.get_uint("llama.block_count"), 1u);
        ASSERT_EQ(f.tensors.size(), 2u);
        EXPECT_EQ(f.tensors[1].name, "b");
        EXPECT_EQ(f.tensors[1].shape, (std::vector<uint64_t>{4, 2}));
        EXPECT_EQ(f.tensors[1].n_bytes, 32u);
        EXPECT_EQ(f.n_params(), 16u);
        EXPECT_EQ(f.weights_bytes(), 64u);
        EXPECT_EQ(f.data_offset % 32, 0u);
    }
}

TEST(GgufReader, EveryTruncationIsACleanError) {
    const auto good = accel::test::valid_gguf();
    for (size_t keep = 0; keep < good.size(); ++keep) {
        try {
            (void)parse(good.substr(0, keep));
            ADD_FAILURE() << "accepted a file cut to " << keep << " bytes";
        } catch (const accel::Error& e) {
            EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
            EXPECT_NE(std::string(e.what()).find("bad.gguf"), std::string::npos);
        }
    }
}

TEST(GgufReader, BadMagicAndVersion) {
    auto b = accel::test::valid_gguf();
    b[0] = 'X';
    expect_rejected(b, "bad magic");
    GgufBuilder v1;
    v1.header(0, 0, 1);
    expect_rejected(v1.bytes, "version 1 is not supported");
    GgufBuilder v4;
    v4.header(0, 0, 4);
    expect_rejected(v4.bytes, "version 4 is not supported");
}

TEST(GgufReader, CountsCheckedAgainstRemainingBytesBeforeAllocating) {
    GgufBuilder t;
    t.header(1'000'000, 0);
    expect_rejected(t.bytes, "tensor count 1000000 cannot fit");
    GgufBuilder k;
    k.header(0, 1'000'000);
    expect_rejected(k.bytes, "key/value count 1000000 cannot fit");
}

TEST(GgufReader, CountCaps) {
    GgufBuilder t;
    t.header(std::numeric_limits<uint64_t>::max(), 0);
    expect_rejected(t.bytes, "exceeds the limit");
    GgufBuilder k;
    k.header(0, uint64_t{1} << 40);
    expect_rejected(k.bytes, "exceeds the limit");
}

TEST(GgufReader, StringLengths) {
    GgufBuilder huge;
    huge.header(0, 1).put<uint64_t>(std::numeric_limits<uint64_t>::max()).raw("xxxxxxxxxxxxxxxx", 16);
    expect_rejected(huge.bytes, "metadata key length");
    GgufBuilder past;
    past.header(0, 1).put<uint64_t>(1000).raw("abcdefghijklmnop", 16);
    expect_rejected(past.bytes, "truncated file: metadata key claims 1000 bytes");
    GgufBuilder capped;
    capped.header(0, 1).kv_str("k", std::string(100, 'x'));
    expect_rejected(capped.bytes, "string value length 100 exceeds the limit of 50",
                    GgufLimits{.max_string_bytes = 50});
    GgufBuilder empty;
    empty.header(0, 1).kv_str("", "v");
    expect_rejected(empty.bytes, "metadata key 0 is empty");
}

TEST(GgufReader, ValueTypes) {
    GgufBuilder t;
    t.header(0, 1).str("k").put<uint32_t>(13).put<uint32_t>(0);
    expect_rejected(t.bytes, "value type 13 is not a GGUF type");
    GgufBuilder b;
    b.header(0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2);
    expect_rejected(b.bytes, "bool value 2");
}

TEST(GgufReader, Arrays) {
    GgufBuilder et;
    et.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(99).put<uint64_t>(1).put<uint32_t>(0);
    expect_rejected(et.bytes, "array element type 99 is not a GGUF type");
    GgufBuilder nested;
    nested.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).put<uint32_t>(0);
    expect_rejected(nested.bytes, "nested arrays");
    GgufBuilder big;
    big.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1'000'000).put<uint32_t>(0);
    expect_rejected(big.bytes, "array of 1000000 u32 elements needs at least 4000000 bytes");
    GgufBuilder capped;
    capped.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(0).put<uint64_t>(64).raw(std::string(64, 'x').data(),
                                                                                         64);
    expect_rejected(capped.bytes, "array length 64 exceeds the limit of 10", GgufLimits{.max_array_count = 10});
    GgufBuilder strings;  // the third string element claims more bytes than remain
    strings.header(0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(3).str("a").str("b");
    strings.put<uint64_t>(500).raw("cccc", 4);
    expect_rejected(strings.bytes, "truncated file");
    GgufBuilder ok;
    ok.header(0, 1).str("tokenizer.ggml.tokens").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(40);
    for (int i = 0; i < 40; ++i) ok.str("t" + std::to_string(i));
    const auto f = parse(ok.bytes);
    const auto* v = f.find("tokenizer.ggml.tokens");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->array_count, 40u);
    EXPECT_EQ(v->array_preview.size(), accel::model::array_preview_max);
    EXPECT_EQ(v->array_preview[3].s, "t3");
}

TEST(GgufReader, KnownKeysMustHaveTheirDeclaredType) {
    GgufBuilder a;
    a.header(0, 1).kv_str("general.alignment", "32");
    expect_rejected(a.bytes, "key 'general.alignment' has type string, expected u32");
    GgufBuilder t;
    t.header(0, 1).str("tokenizer.ggml.tokens").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(1).put<int32_t>(7);
    expect_rejected(t.bytes, "is an array of i32, expected an array of string");
}

TEST(GgufReader, DuplicateKey) {
    GgufBuilder d;
    d.header(0, 2).kv_u32("x", 1).kv_u32("x", 2);
    expect_rejected(d.bytes, "duplicate metadata key 'x'");
}

TEST(GgufReader, AlignmentPowerOfTwo) {
    for (uint32_t bad : {0u, 33u, 48u}) {
        GgufBuilder b;
        b.header(0, 1).kv_u32("general.alignment", bad);
        expect_rejected(b.bytes, "is not a power of two");
    }
    GgufBuilder huge;
    huge.header(0, 1).kv_u32("general.alignment", 1u << 30);
    expect_rejected(huge.bytes, "exceeds the limit");
}

TEST(GgufReader, TensorInfoChecks) {
    auto one = [](std::vector<uint64_t> dims, uint32_t type, uint64_t offset, const std::string& name = "w") {
        GgufBuilder b;
        b.header(1, 0).tensor(name, std::move(dims), type, offset).data(64);
        return b.bytes;
    };
    expect_rejected(one({1, 1, 1, 1, 1}, 0, 0), "has 5 dimensions");
    expect_rejected(one({}, 0, 0), "has 0 dimensions");
    expect_rejected(one({uint64_t{1} << 63}, 0, 0), "over INT64_MAX");
    expect_rejected(one({uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0), "element count overflows INT64_MAX");
    expect_rejected(one({uint64_t{1} << 31, uint64_t{1} << 31}, 0, 0), "byte size overflows SIZE_MAX");
    expect_rejected(one({8}, 4, 0), "unknown or removed ggml type 4");
    expect_rejected(one({8}, 1000, 0), "unknown or removed ggml type 1000");
    expect_rejected(one({10}, 8, 0), "row length 10 is not a multiple of the q8_0 block size 32");
    expect_rejected(one({8}, 0, 3), "offset 3 is not a multiple of the alignment 32");
    expect_rejected(one({64}, 0, 0), "lies outside the 64-byte data section");
    expect_rejected(one({8}, 0, 1u << 20), "lies outside");
    expect_rejected(one({8}, 0, 0, std::string(64, 'n')), "name is 64 bytes");
    expect_rejected(one({8}, 0, 0, ""), "empty name");
}

TEST(GgufReader, TensorOffsetsInOrderAndNotOverlapping) {
    GgufBuilder overlap;
    overlap.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).data(128);
    expect_rejected(overlap.bytes, "tensor 'b' offset 32 overlaps the previous tensor");
    GgufBuilder order;
    order.header(2, 0).tensor("a", {8}, 0, 32).tensor("b", {8}, 0, 0).data(128);
    expect_rejected(order.bytes, "out of order");
    GgufBuilder dup;
    dup.header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).data(128);
    expect_rejected(dup.bytes, "duplicate tensor name 'a'");
}

TEST(GgufReader, DataSectionPastTheEnd) {
    GgufBuilder b;
    b.header(1, 0).tensor("a", {8}, 0, 0);  // no data at all
    expect_rejected(b.bytes, "past the end");
}

TEST(GgufReader, FileErrors) {
    try {
        (void)accel::model::read_gguf("/nonexistent/model.gguf");
        FAIL();
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
    }
    accel::test::TempDir dir;
    accel::test::write_file(dir / "empty.gguf", "");
    EXPECT_THROW((void)accel::model::read_gguf(dir / "empty.gguf"), accel::Error);
    EXPECT_THROW((void)accel::model::read_gguf(dir.path()), accel::Error);
}

TEST(GgmlTypes, TableMatchesKnownSizes) {
    EXPECT_EQ(accel::model::ggml_type_info(8)->type_size, 34u);
    EXPECT_EQ(accel::model::ggml_type_info(12)->block_size, 256u);
    EXPECT_EQ(accel::model::ggml_type_info(30)->name, "bf16");
    EXPECT_EQ(accel::model::ggml_type_info(39)->type_size, 17u);
    EXPECT_FALSE(accel::model::ggml_type_info(31).has_value());
    EXPECT_FALSE(accel::model::ggml_type_info(43).has_value());
    EXPECT_EQ(accel::model::ggml_type_from_name("Q4_0"), 2u);
    EXPECT_EQ(accel::model::file_type_name(7), "Q8_0");
    EXPECT_EQ(accel::model::file_type_name(4), "unknown(4)");
}

// What each hand-made seed (fuzz/make_seeds.py) must be rejected for.
const std::map<std::string, std::string> seed_reasons = {
    {"bad_magic.gguf", "bad magic"},
    {"bad_version.gguf", "version 1 is not supported"},
    {"bad_truncated_header.gguf", "truncated file"},
    {"bad_truncated_kv.gguf", "truncated file"},
    {"bad_truncated_tensor_info.gguf", "truncated file"},
    {"bad_tensor_count_cap.gguf", "tensor count 18446744073709551615 exceeds the limit"},
    {"bad_tensor_count_remaining.gguf", "cannot fit"},
    {"bad_kv_count_cap.gguf", "exceeds the limit"},
    {"bad_kv_count_remaining.gguf", "cannot fit"},
    {"bad_key_length.gguf", "metadata key length"},
    {"bad_empty_key.gguf", "is empty"},
    {"bad_string_length.gguf", "string value length 1099511627776 exceeds the limit"},
    {"bad_value_type.gguf", "value type 13 is not a GGUF type"},
    {"bad_bool.gguf", "bool value 2"},
    {"bad_array_elem_type.gguf", "array element type 99"},
    {"bad_array_nested.gguf", "nested arrays"},
    {"bad_array_count.gguf", "array length 1099511627776 exceeds the limit"},
    {"bad_array_string_elem.gguf", "truncated file"},
    {"bad_key_type.gguf", "expected u32"},
    {"bad_array_declared_type.gguf", "expected an array of string"},
    {"bad_duplicate_key.gguf", "duplicate metadata key"},
    {"bad_alignment_zero.gguf", "not a power of two"},
    {"bad_alignment_not_pow2.gguf", "not a power of two"},
    {"bad_n_dims.gguf", "has 5 dimensions"},
    {"bad_dim_int64.gguf", "over INT64_MAX"},
    {"bad_elements_overflow.gguf", "element count overflows INT64_MAX"},
    {"bad_bytes_overflow.gguf", "byte size overflows SIZE_MAX"},
    {"bad_ggml_type.gguf", "unknown or removed ggml type 4"},
    {"bad_block_size.gguf", "not a multiple of the q8_0 block size"},
    {"bad_offset_unaligned.gguf", "not a multiple of the alignment"},
    {"bad_offset_outside.gguf", "lies outside"},
    {"bad_data_truncated.gguf", "lies outside"},
    {"bad_offset_overlap.gguf", "overlaps"},
    {"bad_offset_order.gguf", "out of order"},
    {"bad_duplicate_tensor.gguf", "duplicate tensor name"},
    {"bad_tensor_name_long.gguf", "over ggml's limit"},
    {"bad_data_section_missing.gguf", "past the end"},
};

// Every hand-made seed in the fuzz corpus (one per check) and every regression input is rejected cleanly.
TEST(GgufCorpus, SeedsAndRegressionsAreRejectedCleanly) {
    const char* src = std::getenv("ACCEL_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    int n = 0;
    for (const char* sub : {"fuzz/corpus/gguf", "fuzz/regressions/gguf"}) {
        const auto dir = std::filesystem::path(src) / sub;
        if (!std::filesystem::exists(dir)) continue;
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            const auto name = entry.path().filename().string();
            if (name.rfind("bad_", 0) != 0) continue;
            ++n;
            try {
                (void)accel::model::read_gguf(entry.path());
                ADD_FAILURE() << name << " was accepted";
            } catch (const accel::Error& e) {
                EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input) << name << ": " << e.what();
                EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
                if (auto it = seed_reasons.find(name); it != seed_reasons.end())
                    EXPECT_NE(std::string(e.what()).find(it->second), std::string::npos) << e.what();
                else if (std::string(sub).find("corpus") != std::string::npos)
                    ADD_FAILURE() << name << " has no expected reason in seed_reasons";
            }
        }
    }
    EXPECT_GE(n, static_cast<int>(seed_reasons.size())) << "the seed corpus is missing";
    for (const char* good : {"good_v2.gguf", "good_v3.gguf"})
        EXPECT_EQ(accel::model::read_gguf(std::filesystem::path(src) / "fuzz/corpus/gguf" / good).tensors.size(), 2u);
}

TEST(GgufModels, Stories260K) {
    ACCEL_REQUIRE_TEST_FILE(path, "models/stories260K.gguf");
    const auto f = accel::model::read_gguf(path);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.n_params(), 292'800u);
    EXPECT_EQ(f.tensors.size(), 48u);
    EXPECT_EQ(f.data_offset + f.weights_bytes() <= f.file_bytes, true);
}

}  // namespace
