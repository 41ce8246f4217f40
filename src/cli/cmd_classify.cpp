// Placeholder until model/, issue 4 lands: the subcommand exists and says so.
#include "accel/core/error.h"
#include "commands.h"

namespace accel::cli {

void register_classify(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("classify", "Classify a model config (not implemented yet)");
    cmd->allow_extras();
    cmd->callback([&exit_code] {
        exit_code = exit_runtime;
        throw Error(ErrorKind::internal, "'classify' is not implemented in this build yet");
    });
}

}  // namespace accel::cli
