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

std::string apply_chat_template(const LoadedModel& model, const std::vector<ChatMessage>& messages,
                                std::string* template_used) {
    const char* model_tmpl = llama_model_chat_template(model.get(), nullptr);
    const char* tmpl = model_tmpl != nullptr ? model_tmpl : "chatml";
    if (template_used != nullptr) *template_used = model_tmpl != nullptr ? "model" : "chatml";
    std::vector<llama_chat_message> msgs;
    size_t chars = 0;
    for (const ChatMessage& m : messages) {
        msgs.push_back({m.role.c_str(), m.content.c_str()});
        chars += m.content.size() + m.role.size();
    }
    std::vector<char> buf(chars * 2 + 1024);
    int32_t n = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), true, buf.data(), static_cast<int32_t>(buf.size()));
    if (n > static_cast<int32_t>(buf.size())) {
        buf.resize(static_cast<size_t>(n));
        n = llama_chat_apply_template(tmpl, msgs.data(), msgs.size(), true, buf.data(), static_cast<int32_t>(buf.size()));
    }
    if (n < 0) {
        throw Error(ErrorKind::invalid_input,
                    "llama.cpp does not support the chat template of " + model.path().string());
    }
    return std::string(buf.data(), static_cast<size_t>(n));
}

}  // namespace accel::engine
