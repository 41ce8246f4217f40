// `accel __validate-load FILE`: the hidden helper entry that the pool's validated-load mode runs in a short-lived
// child process (core/spawn.h). It validates and loads the file on the CPU and tokenizes a short text with the
// special tokens the model adds (where llama.cpp asserts on missing BOS/EOS/SEP), then exits: 0 loaded, 2 refused
// (the message on stderr), 1 another failure. An abort inside llama.cpp ends this process, not the one that asked.
#include <memory>
#include <string>

#include "accel/engine/loaded_model.h"
#include "commands.h"

namespace accel::cli {

void register_validate_load(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("__validate-load", "");
    cmd->group("");  // hidden: an internal entry, not a user command
    auto path = std::make_shared<std::string>();
    cmd->add_option("file", *path)->required();
    cmd->callback([path, &exit_code] {
        engine::trial_load(*path);
        exit_code = exit_ok;
    });
}

}  // namespace accel::cli
