#include "accel/engine/chat.h"

#include <llama.h>

#include <vector>

#include "accel/core/error.h"

namespace accel::engine {

std::string apply_chat_template(const LoadedModel& model, const std::string& user_message) {
    const char* tmpl = llama_model_chat_template(model.get(), nullptr);
    if (tmpl == nullptr) {
        throw Error(ErrorKind::invalid_input, model.path().string() + " has no chat template; drop --chat");
    }
    const llama_chat_message msg{"user", user_message.c_str()};
    std::vector<char> buf(user_message.size() * 2 + 1024);
    int32_t n = llama_chat_apply_template(tmpl, &msg, 1, true, buf.data(), static_cast<int32_t>(buf.size()));
    if (n > static_cast<int32_t>(buf.size())) {
        buf.resize(static_cast<size_t>(n));
        n = llama_chat_apply_template(tmpl, &msg, 1, true, buf.data(), static_cast<int32_t>(buf.size()));
    }
    if (n < 0) {
        throw Error(ErrorKind::invalid_input,
                    "llama.cpp does not support the chat template of " + model.path().string() + "; drop --chat");
    }
    return std::string(buf.data(), static_cast<size_t>(n));
}

}  // namespace accel::engine
