#include "accel/model/kv_type.h"

#include <array>
#include <string>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/text.h"

namespace accel::model {
namespace {

constexpr std::array kAll{KvType::f32,  KvType::f16,  KvType::bf16, KvType::q8_0,  KvType::q4_0,
                          KvType::q4_1, KvType::q5_0, KvType::q5_1, KvType::iq4_nl};

}  // namespace

std::string_view to_string(KvType type) {
    switch (type) {
        case KvType::f32: return "f32";
        case KvType::f16: return "f16";
        case KvType::bf16: return "bf16";
        case KvType::q8_0: return "q8_0";
        case KvType::q4_0: return "q4_0";
        case KvType::q4_1: return "q4_1";
        case KvType::q5_0: return "q5_0";
        case KvType::q5_1: return "q5_1";
        case KvType::iq4_nl: return "iq4_nl";
    }
    return "?";
}

KvType parse_kv_type(std::string_view text) {
    const std::string t = lower(text);
    std::string names;
    for (KvType k : kAll) {
        if (t == to_string(k)) return k;
        names += fmt::format("{}{}", names.empty() ? "" : ", ", to_string(k));
    }
    throw Error(ErrorKind::invalid_input, fmt::format("unknown KV cache type '{}' (use one of {})", text, names));
}

}  // namespace accel::model
