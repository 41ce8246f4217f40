// The one parser and the one name of each setting the model layer owns: KV cache type and flash attention, with
// llama-bench's spellings and the error a bad value gives.
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"
#include "test_support.h"

namespace {

using accel::model::FlashAttn;
using accel::model::KvType;

std::string message_of(void (*f)()) { return accel::test::thrown_message<accel::Error>(f); }

TEST(KvTypeSetting, LlamaBenchSpellingsRoundTrip) {
    // llama-bench's -ctk names (tools/llama-bench ggml_type_from_name), plus f32.
    const std::pair<const char*, KvType> names[] = {{"f32", KvType::f32},   {"f16", KvType::f16},
                                                    {"bf16", KvType::bf16}, {"q8_0", KvType::q8_0},
                                                    {"q4_0", KvType::q4_0}, {"q4_1", KvType::q4_1},
                                                    {"q5_0", KvType::q5_0}, {"q5_1", KvType::q5_1},
                                                    {"iq4_nl", KvType::iq4_nl}};
    for (const auto& [name, type] : names) {
        EXPECT_EQ(accel::model::parse_kv_type(name), type) << name;
        EXPECT_EQ(accel::model::to_string(type), name);
    }
}

TEST(KvTypeSetting, AnyCase) {
    EXPECT_EQ(accel::model::parse_kv_type("Q8_0"), KvType::q8_0);
    EXPECT_EQ(accel::model::parse_kv_type("F16"), KvType::f16);
}

TEST(KvTypeSetting, BadValueNamesItAndTheChoices) {
    EXPECT_EQ(message_of([] { (void)accel::model::parse_kv_type("q3"); }),
              "unknown KV cache type 'q3' (use one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl)");
    try {
        (void)accel::model::parse_kv_type("");
        ADD_FAILURE() << "an empty KV type parsed";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);  // the CLI's exit 2
    }
    EXPECT_THROW((void)accel::model::parse_kv_type("f16 "), accel::Error);
}

TEST(FlashAttnSetting, LlamaBenchSpellings) {
    for (const char* on : {"on", "1", "true", "enabled", "ON"}) {
        EXPECT_EQ(accel::model::parse_flash_attn(on), FlashAttn::on) << on;
    }
    for (const char* off : {"off", "0", "false", "disabled", "Off"}) {
        EXPECT_EQ(accel::model::parse_flash_attn(off), FlashAttn::off) << off;
    }
    for (const char* a : {"auto", "-1", "AUTO"}) EXPECT_EQ(accel::model::parse_flash_attn(a), FlashAttn::auto_) << a;
}

TEST(FlashAttnSetting, NamesRoundTrip) {
    for (FlashAttn fa : {FlashAttn::auto_, FlashAttn::on, FlashAttn::off}) {
        EXPECT_EQ(accel::model::parse_flash_attn(accel::model::to_string(fa)), fa);
    }
    EXPECT_EQ(accel::model::to_string(FlashAttn::auto_), "auto");
}

TEST(FlashAttnSetting, BadValueNamesItAndTheChoices) {
    EXPECT_EQ(message_of([] { (void)accel::model::parse_flash_attn("maybe"); }),
              "unknown flash attention setting 'maybe' (use on, off or auto; 1, 0 or -1)");
    EXPECT_THROW((void)accel::model::parse_flash_attn("2"), accel::Error);
}

}  // namespace
