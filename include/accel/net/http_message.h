#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accel::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request as the server read it: the whole body is in memory (its size is capped by HttpLimits).
struct HttpRequest {
    std::string method;                        // "GET", "POST", ...
    std::string target;                        // as sent: "/v1/models?x=1"
    std::string path;                          // decoded, without the query
    std::multimap<std::string, std::string> params;  // the query's parameters, decoded
    HeaderList headers;                        // names lowercased, in the order received
    std::string body;
    std::string remote_addr;
    // True once the client has closed its side (asks the socket; cheap enough to call per generated token).
    std::function<bool()> client_gone;

    // The first header of that name (lowercase), or nullptr.
    const std::string* header(std::string_view lower_name) const;
    // The first query parameter of that name, or "".
    std::string param(const std::string& name) const;
};

// Where a streamed body goes. write() returns false once the client has gone or the server is stopping; the
// writer should then stop producing. Not thread-safe: one writer, the thread that runs the stream function.
class StreamSink {
public:
    virtual ~StreamSink() = default;
    virtual bool write(std::string_view bytes) = 0;
    // True once the client has disconnected or the server is stopping.
    virtual bool cancelled() const = 0;
};

// What a handler answers. Exactly one of body, file or stream carries the content.
struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    HeaderList headers;
    // A byte range of a file, sent instead of body (the handler decides the status, e.g. 206, and its headers).
    std::filesystem::path file;
    uint64_t file_offset = 0, file_length = 0;
    // A body produced while it is sent (chunked transfer coding), e.g. server-sent events. Runs on the
    // connection's thread after the head is written.
    std::function<void(StreamSink&)> stream;
};

// The reason phrase of an HTTP status ("Not Found").
std::string_view reason_phrase(int status);

}  // namespace accel::net
