#pragma once

#include <string>
#include <vector>

#include "accel/engine/loaded_model.h"

namespace accel::engine {

// The prompt as one user turn in the model's own chat template (tokenizer.chat_template), ready for the
// assistant's answer. Throws Error{invalid_input} when the model has no template or llama.cpp cannot apply it.
std::string apply_chat_template(const LoadedModel& model, const std::string& user_message);

struct ChatMessage {
    std::string role;  // "system", "user", "assistant"
    std::string content;
};

// A conversation in the model's chat template, ready for the assistant's next answer. A model without a template
// gets ChatML, as llama-server does (template_used says which). Throws Error{invalid_input} when llama.cpp cannot
// apply the template.
std::string apply_chat_template(const LoadedModel& model, const std::vector<ChatMessage>& messages,
                                std::string* template_used = nullptr);

}  // namespace accel::engine
