#pragma once

#include <string>

namespace accel::engine {

// Initialises llama.cpp once per process and routes llama.cpp's, whisper.cpp's and ggml's logs to accel's logger
// (llama.cpp's info lines become accel debug lines). Thread-safe; cheap after the first call.
void init_backend();

// The last error or warning line llama.cpp logged on this thread, without the trailing newline.
// llama.cpp reports most failures only through its log, so callers add it to their Error messages.
std::string last_backend_message();
void clear_backend_message();

// llama_print_system_info() of the libllama this process loaded ("CPU : SSE3 = 1 | AVX2 = 1 | …", CUDA's ARCHS
// among them in a CUDA build), trailing blanks removed. Calls init_backend().
std::string llama_system_info();

}  // namespace accel::engine
