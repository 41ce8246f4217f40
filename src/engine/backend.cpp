#include "accel/engine/backend.h"

#include <llama.h>
#include <whisper.h>

#include <mutex>

#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/text.h"
#include "model_io.h"

namespace accel::engine {
namespace {

thread_local std::string t_last_message;

void route_log(ggml_log_level level, const char* text, void* /*user_data*/) {
    // llama.cpp's errors and warnings show at --log-level info: accel reports each failure itself, in one line
    // that quotes llama.cpp's last message. Its info output is a debug trace.
    const bool notable = level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN;
    const LogLevel ours = notable ? LogLevel::info : LogLevel::debug;
    if (notable) {
        std::string_view line(text);
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
        if (!line.empty()) t_last_message.assign(line);
    }
    if (ours >= log_level()) {
        log_write(ours, text);
    }
}

void record_abort(const char* message) {
    // GGML_ASSERT aborts the process after this returns; leave the reason on stderr in one line.
    log_write(LogLevel::error, std::string("llama.cpp aborted: ") + message);
}

}  // namespace

void init_backend() {
    static std::once_flag once;
    std::call_once(once, [] {
        llama_log_set(route_log, nullptr);
        whisper_log_set(route_log, nullptr);
        ggml_set_abort_callback(record_abort);
        llama_backend_init();
    });
}

std::string last_backend_message() { return t_last_message; }

void clear_backend_message() { t_last_message.clear(); }

std::string llama_system_info() {
    init_backend();
    const char* text = llama_print_system_info();
    std::string out = text != nullptr ? text : "";
    while (!out.empty() && (out.back() == ' ' || out.back() == '|' || out.back() == '\n')) out.pop_back();
    return out;
}

namespace detail {

ggml_backend_dev_t find_device(const std::string& name) {
    const std::string want = lower(name);
    for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (lower(ggml_backend_dev_name(dev)) == want) return dev;
    }
    throw Error(ErrorKind::invalid_input, "unknown device '" + name + "' (see `accel detect`)");
}

}  // namespace detail

}  // namespace accel::engine
