// Placeholder until the subcommand lands: it exists and says so.
#include "accel/core/error.h"
#include "commands.h"

namespace accel::cli {

void register_web_bench(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("web-bench", "Benchmarks in real browsers (issue 10) (not implemented yet)");
    cmd->allow_extras();
    cmd->callback([&exit_code] {
        exit_code = exit_runtime;
        throw Error(ErrorKind::internal, "'web-bench' is not implemented in this build yet");
    });
}

}  // namespace accel::cli
