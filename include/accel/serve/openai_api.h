#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/chat.h"
#include "accel/engine/generator.h"

namespace accel::serve {

// An answer that is an OpenAI-style error: {"error": {"message", "type", "param", "code"}} with an HTTP status.
class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string message, std::string param = "", std::string code = "");
    int status() const { return status_; }
    const std::string& param() const { return param_; }
    const std::string& code() const { return code_; }
    // "invalid_request_error" (4xx but 401), "authentication_error" (401), "server_error" (5xx).
    std::string type() const;
    std::string json() const;

private:
    int status_;
    std::string param_, code_;
};

// POST /v1/completions and /v1/chat/completions, as far as accel serves them.
struct CompletionRequest {
    std::string model;
    bool chat = false;
    std::string prompt;                          // completions
    std::vector<engine::ChatMessage> messages;   // chat
    std::optional<int32_t> max_tokens;           // absent: completions 16 (OpenAI's default), chat up to the context
    float temperature = 1.0f;                    // OpenAI's default; 0 is greedy
    float top_p = 1.0f;
    std::optional<uint32_t> seed;
    std::vector<std::string> stop;
    bool stream = false;
    bool include_usage = false;                  // stream_options.include_usage
    // How long the model stays loaded after this request (Ollama's keep_alive); negative pins; absent: the pool's.
    std::optional<std::chrono::milliseconds> keep_alive;
};

// POST /v1/embeddings.
struct EmbeddingRequest {
    std::string model;
    std::vector<std::string> input;
    bool base64 = false;  // encoding_format "base64": little-endian float32, base64 (what the openai clients ask for)
    std::optional<std::chrono::milliseconds> keep_alive;
};

// POST /api/load, /api/unload and /api/pin: {"model": id, "keep_alive": …} or {"model": id, "pinned": bool}.
struct PoolActionRequest {
    std::string model;
    std::optional<std::chrono::milliseconds> keep_alive;
    bool pinned = true;
};

// Parse a request body. Throw ApiError 400 for malformed JSON, wrong types, missing or out-of-range fields, and
// for options accel does not serve (n > 1, logprobs, tools), naming the field in param.
CompletionRequest parse_completion_request(std::string_view body, bool chat);
EmbeddingRequest parse_embedding_request(std::string_view body);
PoolActionRequest parse_pool_action(std::string_view body);
// keep_alive as Ollama takes it: a number of seconds, or a duration text with a unit ("250ms", "30s", "5m", "1h"),
// or "-1"/-1 (any negative value pins). Throws ApiError 400 naming keep_alive otherwise.
std::chrono::milliseconds parse_keep_alive(std::string_view text);

// The finish reason OpenAI names for what ended a generation: "stop" (end of generation or a stop string) or
// "length".
std::string finish_reason(const engine::GenerateStats& stats);

struct Usage {
    int32_t prompt_tokens = 0;
    int32_t completion_tokens = 0;
};

// Response bodies (JSON text). `id` is "cmpl-…"/"chatcmpl-…", created is Unix seconds.
struct ResponseHeader {
    std::string id;
    int64_t created = 0;
    std::string model;
};
std::string completion_json(const ResponseHeader& h, bool chat, const std::string& text, const std::string& finish,
                            const Usage& usage);
// One streamed chunk: a piece of text (finish empty), or the last one with a finish reason and no text.
// chat's first chunk carries the assistant role (first = true).
std::string completion_chunk_json(const ResponseHeader& h, bool chat, std::string_view text, const std::string& finish,
                                  bool first);
// The usage chunk after the last one (stream_options.include_usage): empty choices.
std::string usage_chunk_json(const ResponseHeader& h, bool chat, const Usage& usage);
std::string embeddings_json(const std::string& model, const std::vector<std::vector<float>>& vectors, bool base64,
                            int32_t prompt_tokens);
struct ModelEntry {
    std::string id;
    int64_t created = 0;
};
std::string models_json(const std::vector<ModelEntry>& models);

}  // namespace accel::serve
