#pragma once
// web-bench on a Whisper model: the table (or JSON) of each browser's figures and the ratio between browsers.
#include <string>

#include "accel/web/web_whisper.h"

namespace accel::cli {

// Prints the figures and returns the exit code: exit_runtime when a browser failed, else exit_ok.
int print_whisper_bench(const web::WhisperBench& bench, const std::string& model, bool json);

}  // namespace accel::cli
