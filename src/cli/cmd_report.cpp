// Placeholder: the command is being written.
#include "commands.h"

namespace accel::cli {

void register_report(CLI::App& /*app*/, int& /*exit_code*/) {}

}  // namespace accel::cli
