#pragma once

#include <string>

#include "accel/engine/loaded_model.h"

namespace accel::engine {

// The prompt as one user turn in the model's own chat template (tokenizer.chat_template), ready for the
// assistant's answer. Throws Error{invalid_input} when the model has no template or llama.cpp cannot apply it.
std::string apply_chat_template(const LoadedModel& model, const std::string& user_message);

}  // namespace accel::engine
