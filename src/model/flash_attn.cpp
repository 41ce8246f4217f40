#include "accel/model/flash_attn.h"

#include <string>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/text.h"

namespace accel::model {

std::string_view to_string(FlashAttn fa) {
    switch (fa) {
        case FlashAttn::auto_: return "auto";
        case FlashAttn::on: return "on";
        case FlashAttn::off: return "off";
    }
    return "?";
}

FlashAttn parse_flash_attn(std::string_view text) {
    const std::string t = lower(text);
    if (t == "on" || t == "enabled" || t == "true" || t == "1") return FlashAttn::on;
    if (t == "off" || t == "disabled" || t == "false" || t == "0") return FlashAttn::off;
    if (t == "auto" || t == "-1") return FlashAttn::auto_;
    throw Error(ErrorKind::invalid_input,
                fmt::format("unknown flash attention setting '{}' (use on, off or auto; 1, 0 or -1)", text));
}

}  // namespace accel::model
