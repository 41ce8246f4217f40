#include "accel/serve/openai_api.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace accel::serve {
namespace {

using nlohmann::json;

std::string fmt_missing(const char* key) { return std::string("'") + key + "' is required"; }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json parse_object(std::string_view body) {
    json j = json::parse(body, nullptr, false);
    if (j.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    return j;
}

std::string string_field(const json& j, const char* key, bool required) {
    if (!j.contains(key) || j[key].is_null()) {
        if (required) throw ApiError(400, fmt_missing(key), key);
        return {};
    }
    if (!j[key].is_string()) throw ApiError(400, std::string("'") + key + "' must be a string", key);
    return j[key].get<std::string>();
}

double number_field(const json& j, const char* key, double fallback, double lo, double hi) {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number()) throw ApiError(400, std::string("'") + key + "' must be a number", key);
    const double v = j[key].get<double>();
    if (!std::isfinite(v) || v < lo || v > hi)
        throw ApiError(400, std::string("'") + key + "' must be between " + json(lo).dump() + " and " + json(hi).dump(),
                       key);
    return v;
}

std::optional<int64_t> integer_field(const json& j, const char* key, int64_t lo, int64_t hi) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    if (!j[key].is_number_integer()) throw ApiError(400, std::string("'") + key + "' must be an integer", key);
    // Huge numbers arrive as unsigned or overflow; both are refused by range.
    if (j[key].is_number_unsigned() && j[key].get<uint64_t>() > static_cast<uint64_t>(hi))
        throw ApiError(400, std::string("'") + key + "' is out of range", key);
    const int64_t v = j[key].get<int64_t>();
    if (v < lo || v > hi) throw ApiError(400, std::string("'") + key + "' is out of range", key);
    return v;
}

bool bool_field(const json& j, const char* key) {
    if (!j.contains(key) || j[key].is_null()) return false;
    if (!j[key].is_boolean()) throw ApiError(400, std::string("'") + key + "' must be a boolean", key);
    return j[key].get<bool>();
}

// A message's content: a string, or an array of {"type": "text", "text": …} parts.
std::string message_content(const json& c) {
    if (c.is_string()) return c.get<std::string>();
    if (c.is_null()) return {};
    if (!c.is_array()) throw ApiError(400, "'content' must be a string or an array of text parts", "messages");
    std::string out;
    for (const json& part : c) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
            throw ApiError(400, "only text content parts are served", "messages");
        out += part["text"].get<std::string>();
    }
    return out;
}

std::vector<engine::ChatMessage> parse_messages(const json& j) {
    if (!j.contains("messages")) throw ApiError(400, fmt_missing("messages"), "messages");
    const json& m = j["messages"];
    if (!m.is_array() || m.empty()) throw ApiError(400, "'messages' must be a non-empty array", "messages");
    std::vector<engine::ChatMessage> out;
    for (const json& msg : m) {
        if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string())
            throw ApiError(400, "each message needs a string 'role'", "messages");
        std::string role = msg["role"].get<std::string>();
        if (role == "developer") role = "system";
        if (role != "system" && role != "user" && role != "assistant")
            throw ApiError(400, "unsupported message role '" + role + "'", "messages");
        out.push_back({std::move(role), message_content(msg.contains("content") ? msg["content"] : json())});
    }
    return out;
}

std::vector<std::string> parse_stop(const json& j) {
    if (!j.contains("stop") || j["stop"].is_null()) return {};
    const json& s = j["stop"];
    if (s.is_string()) return {s.get<std::string>()};
    if (!s.is_array() || s.size() > 4) throw ApiError(400, "'stop' must be a string or up to 4 strings", "stop");
    std::vector<std::string> out;
    for (const json& x : s) {
        if (!x.is_string()) throw ApiError(400, "'stop' must be a string or up to 4 strings", "stop");
        out.push_back(x.get<std::string>());
    }
    return out;
}

std::string base64(const void* data, size_t n) {
    static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* p = static_cast<const unsigned char*>(data);
    std::string out;
    for (size_t i = 0; i < n; i += 3) {
        const uint32_t v = (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out += abc[(v >> 18) & 63];
        out += abc[(v >> 12) & 63];
        out += i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out += i + 2 < n ? abc[v & 63] : '=';
    }
    return out;
}

json header_json(const ResponseHeader& h, bool chat, bool chunk) {
    return json{{"id", h.id},
                {"object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion"},
                {"created", h.created},
                {"model", h.model},
                {"system_fingerprint", "accel"}};
}

json usage_json(const Usage& u) {
    return json{{"prompt_tokens", u.prompt_tokens},
                {"completion_tokens", u.completion_tokens},
                {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

std::optional<std::chrono::milliseconds> keep_alive_field(const json& j) {
    if (!j.contains("keep_alive") || j["keep_alive"].is_null()) return std::nullopt;
    const json& k = j["keep_alive"];
    if (k.is_number()) {
        const double s = k.get<double>();
        if (!std::isfinite(s) || std::fabs(s) > 1e9) throw ApiError(400, "'keep_alive' is out of range", "keep_alive");
        return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
    }
    if (!k.is_string()) throw ApiError(400, "'keep_alive' must be a number of seconds or a duration text", "keep_alive");
    return parse_keep_alive(k.get<std::string>());
}

}  // namespace

std::chrono::milliseconds parse_keep_alive(std::string_view text) {
    const auto bad = [] {
        return ApiError(400, "'keep_alive' must be a number of seconds or a duration such as 30s, 5m, 1h (negative pins)",
                        "keep_alive");
    };
    if (text.empty() || text.size() > 32) throw bad();
    const std::string t(text);
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(t, &used);
    } catch (const std::exception&) {
        throw bad();
    }
    const std::string unit = t.substr(used);
    double ms_per = 0;
    if (unit == "ms") ms_per = 1;
    if (unit == "s" || unit.empty()) ms_per = 1000;
    if (unit == "m") ms_per = 60'000;
    if (unit == "h") ms_per = 3'600'000;
    if (ms_per == 0 || !std::isfinite(v) || std::fabs(v * ms_per) > 1e12) throw bad();
    return std::chrono::milliseconds(static_cast<int64_t>(v * ms_per));
}

PoolActionRequest parse_pool_action(std::string_view body) {
    const json j = parse_object(body);
    PoolActionRequest r{.model = string_field(j, "model", true), .keep_alive = keep_alive_field(j)};
    if (j.contains("pinned") && !j["pinned"].is_null()) r.pinned = bool_field(j, "pinned");
    return r;
}

ApiError::ApiError(int status, std::string message, std::string param, std::string code)
    : std::runtime_error(std::move(message)), status_(status), param_(std::move(param)), code_(std::move(code)) {}

std::string ApiError::type() const {
    if (status_ == 401) return "authentication_error";
    return status_ >= 500 ? "server_error" : "invalid_request_error";
}

std::string ApiError::json() const {
    nlohmann::json e{{"message", what()}, {"type", type()}, {"param", nullptr}, {"code", nullptr}};
    if (!param_.empty()) e["param"] = param_;
    if (!code_.empty()) e["code"] = code_;
    return dump(nlohmann::json{{"error", e}});
}

CompletionRequest parse_completion_request(std::string_view body, bool chat) {
    const json j = parse_object(body);
    CompletionRequest r{.model = string_field(j, "model", true), .chat = chat};
    if (chat) {
        r.messages = parse_messages(j);
    } else {
        if (!j.contains("prompt")) throw ApiError(400, fmt_missing("prompt"), "prompt");
        const json& p = j["prompt"];
        if (p.is_string()) {
            r.prompt = p.get<std::string>();
        } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
            r.prompt = p[0].get<std::string>();
        } else {
            throw ApiError(400, "'prompt' must be a string (or an array of one string)", "prompt");
        }
    }
    constexpr int64_t max_tokens_cap = 1 << 20;
    auto n = integer_field(j, "max_completion_tokens", 0, max_tokens_cap);
    if (!n) n = integer_field(j, "max_tokens", 0, max_tokens_cap);
    if (n) r.max_tokens = static_cast<int32_t>(*n);
    if (!chat && !r.max_tokens) r.max_tokens = 16;
    r.temperature = static_cast<float>(number_field(j, "temperature", 1.0, 0.0, 2.0));
    r.top_p = static_cast<float>(number_field(j, "top_p", 1.0, 0.0, 1.0));
    if (auto s = integer_field(j, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
        r.seed = static_cast<uint32_t>(*s);
    if (auto count = integer_field(j, "n", 1, 128); count && *count != 1)
        throw ApiError(400, "only n = 1 is served", "n");
    if (bool_field(j, "echo")) throw ApiError(400, "echo is not served", "echo");
    if (j.contains("logprobs") && !j["logprobs"].is_null() && j["logprobs"] != false)
        throw ApiError(400, "logprobs are not served", "logprobs");
    if (j.contains("tools") && !j["tools"].is_null()) throw ApiError(400, "tools are not served", "tools");
    r.stop = parse_stop(j);
    r.stream = bool_field(j, "stream");
    if (j.contains("stream_options") && !j["stream_options"].is_null()) {
        if (!j["stream_options"].is_object()) throw ApiError(400, "'stream_options' must be an object", "stream_options");
        r.include_usage = bool_field(j["stream_options"], "include_usage");
    }
    r.keep_alive = keep_alive_field(j);
    return r;
}

EmbeddingRequest parse_embedding_request(std::string_view body) {
    const json j = parse_object(body);
    EmbeddingRequest r{.model = string_field(j, "model", true)};
    if (!j.contains("input")) throw ApiError(400, fmt_missing("input"), "input");
    const json& in = j["input"];
    if (in.is_string()) {
        r.input.push_back(in.get<std::string>());
    } else if (in.is_array() && !in.empty() && in.size() <= 2048) {
        for (const json& x : in) {
            if (!x.is_string()) throw ApiError(400, "'input' must be a string or an array of strings", "input");
            r.input.push_back(x.get<std::string>());
        }
    } else {
        throw ApiError(400, "'input' must be a string or a non-empty array of up to 2048 strings", "input");
    }
    for (const auto& s : r.input)
        if (s.empty()) throw ApiError(400, "'input' must not contain empty strings", "input");
    const std::string format = string_field(j, "encoding_format", false);
    if (!format.empty() && format != "float" && format != "base64")
        throw ApiError(400, "'encoding_format' must be float or base64", "encoding_format");
    r.base64 = format == "base64";
    if (j.contains("dimensions") && !j["dimensions"].is_null())
        throw ApiError(400, "'dimensions' is not served", "dimensions");
    r.keep_alive = keep_alive_field(j);
    return r;
}

std::string finish_reason(const engine::GenerateStats& stats) {
    return stats.stopped_by_eog || stats.stopped_by_string ? "stop" : "length";
}

std::string completion_json(const ResponseHeader& h, bool chat, const std::string& text, const std::string& finish,
                            const Usage& usage) {
    json j = header_json(h, chat, false);
    json choice{{"index", 0}, {"finish_reason", finish}, {"logprobs", nullptr}};
    if (chat) {
        choice["message"] = json{{"role", "assistant"}, {"content", text}};
    } else {
        choice["text"] = text;
    }
    j["choices"] = json::array({choice});
    j["usage"] = usage_json(usage);
    return dump(j);
}

std::string completion_chunk_json(const ResponseHeader& h, bool chat, std::string_view text, const std::string& finish,
                                  bool first) {
    json j = header_json(h, chat, true);
    json choice{{"index", 0}, {"logprobs", nullptr}};
    choice["finish_reason"] = finish.empty() ? json() : json(finish);
    if (chat) {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (finish.empty()) delta["content"] = std::string(text);
        choice["delta"] = delta;
    } else {
        choice["text"] = std::string(text);
    }
    j["choices"] = json::array({choice});
    return dump(j);
}

std::string usage_chunk_json(const ResponseHeader& h, bool chat, const Usage& usage) {
    json j = header_json(h, chat, true);
    j["choices"] = json::array();
    j["usage"] = usage_json(usage);
    return dump(j);
}

std::string embeddings_json(const std::string& model, const std::vector<std::vector<float>>& vectors, bool as_base64,
                            int32_t prompt_tokens) {
    json data = json::array();
    for (size_t i = 0; i < vectors.size(); ++i) {
        json e{{"object", "embedding"}, {"index", i}};
        if (as_base64) {
            e["embedding"] = base64(vectors[i].data(), vectors[i].size() * sizeof(float));  // x86/arm: little-endian
        } else {
            e["embedding"] = vectors[i];
        }
        data.push_back(std::move(e));
    }
    return dump(json{{"object", "list"},
                     {"data", data},
                     {"model", model},
                     {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}});
}

std::string models_json(const std::vector<ModelEntry>& models) {
    json data = json::array();
    for (const auto& m : models)
        data.push_back({{"id", m.id}, {"object", "model"}, {"created", m.created}, {"owned_by", "accel"}});
    return dump(json{{"object", "list"}, {"data", data}});
}

}  // namespace accel::serve
