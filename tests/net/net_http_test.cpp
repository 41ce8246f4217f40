// net/: the server's limits and deadlines on the wire, streaming (SSE framing, cancellation), and the client.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/net/http_client.h"
#include "accel/net/http_server.h"
#include "accel/net/security.h"
#include "accel/net/sse.h"
#include "raw_http.h"

namespace fs = std::filesystem;
using namespace accel::net;
using namespace std::chrono_literals;

namespace {

using accel::test::connect_to;
using accel::test::count_fds;
using accel::test::exchange;
using accel::test::read_all;
using accel::test::status_of;

HttpServerOptions small_limits() {
    HttpServerOptions o;
    o.limits.max_body_bytes = 100;
    o.limits.max_header_bytes = 1000;
    o.limits.read_timeout = 600ms;
    o.limits.max_connections = 8;  // a closed connection still counts while its thread finishes
    o.default_headers = {{"X-Test", "yes"}};
    return o;
}

HttpResponse echo(const HttpRequest& r) {
    return HttpResponse{.content_type = "application/json",
                        .body = r.method + " " + r.path + " q=" + r.param("q") + " body=" + r.body +
                                " host=" + (r.header("host") ? *r.header("host") : "")};
}

TEST(NetServer, AnswersThroughTheClientWithDefaultHeaders) {
    HttpServer s(small_limits(), echo);
    EXPECT_EQ(s.host(), "127.0.0.1");
    HttpClient c("127.0.0.1", s.port());
    HttpResult r = c.get("/a/b?q=x%20y");
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, "GET /a/b q=x y body= host=127.0.0.1:" + std::to_string(s.port()));
    ASSERT_NE(r.header("x-test"), nullptr);
    EXPECT_EQ(*r.header("x-test"), "yes");
    EXPECT_EQ(*r.header("content-type"), "application/json");
    r = c.post("/p", "{\"a\":1}");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.substr(0, 22), "POST /p q= body={\"a\":1");
}

TEST(NetServer, LimitsOnTheWire) {
    HttpServer s(small_limits(), echo);
    const std::string host = "Host: 127.0.0.1\r\n";
    const std::string big = exchange(s.port(), "POST /p HTTP/1.1\r\n" + host + "Content-Length: 101\r\n\r\n");
    EXPECT_EQ(status_of(big), 413) << big;
    EXPECT_NE(big.find("X-Test: yes"), std::string::npos) << "refusals carry the default headers too";
    EXPECT_EQ(status_of(exchange(s.port(), "GET / HTTP/1.1\r\nX-Pad: " + std::string(1200, 'p') + "\r\n\r\n")), 431);
    EXPECT_EQ(status_of(exchange(s.port(), "POST /p HTTP/1.1\r\n" + host + "\r\n")), 411);
    EXPECT_EQ(status_of(exchange(s.port(), "POST /p HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n")), 501);
    EXPECT_EQ(status_of(exchange(s.port(), "nonsense\r\n\r\n")), 400);
    EXPECT_EQ(status_of(exchange(s.port(), "GET / HTTP/1.1\r\n" + host + host + "\r\n")), 400);
    EXPECT_EQ(status_of(exchange(s.port(), "POST /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nabc")), 400);
    // The client's own cap check: a body exactly at the cap is fine.
    HttpClient c("127.0.0.1", s.port());
    EXPECT_EQ(c.post("/p", std::string(100, 'x'), "text/plain").status, 200);
    EXPECT_EQ(c.post("/p", std::string(101, 'x'), "text/plain").status, 413);
}

TEST(NetServer, SlowClientsGet408WithinTheDeadlineAndNothingLeaks) {
    const int before = count_fds();
    {
        HttpServer s(small_limits(), echo);
        const int fd = connect_to(s.port());
        const std::string partial = "POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nab";
        ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
        const auto t0 = std::chrono::steady_clock::now();
        EXPECT_EQ(status_of(read_all(fd)), 408);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
        ::close(fd);
        for (int i = 0; i < 100 && s.n_open_connections() > 0; ++i) std::this_thread::sleep_for(20ms);
        EXPECT_EQ(s.n_open_connections(), 0);
    }
    EXPECT_EQ(count_fds(), before);
}

TEST(NetServer, ConnectionsPastTheCapGet503WithRetryAfter) {
    HttpServerOptions o = small_limits();
    o.limits.max_connections = 2;
    HttpServer s(o, echo);
    const int a = connect_to(s.port()), b = connect_to(s.port());
    for (int i = 0; i < 50 && s.n_open_connections() < 2; ++i) std::this_thread::sleep_for(10ms);
    const std::string busy = exchange(s.port(), "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(busy), 503) << busy;
    EXPECT_NE(busy.find("Retry-After: 1"), std::string::npos);
    ::close(a);
    ::close(b);
}

TEST(NetServer, KeepAliveConnectionsCarrySeveralRequests) {
    HttpServerOptions o = small_limits();
    o.limits.keep_alive_idle = 10000ms;
    HttpServer s(o, echo);
    // A keep-alive client: three requests (a streamed one among them), one connection.
    HttpClient keep("127.0.0.1", s.port(), {.keep_alive = true});
    for (int i = 0; i < 3; ++i) {
        const HttpResult r = i == 1 ? keep.post("/p", "{}") : keep.get("/g?q=" + std::to_string(i));
        ASSERT_EQ(r.status, 200) << r.error;
        EXPECT_EQ(r.header("connection"), nullptr);  // no Connection: close
        ASSERT_NE(r.header("keep-alive"), nullptr);
        EXPECT_EQ(*r.header("keep-alive"), "timeout=10, max=1000");
    }
    EXPECT_EQ(s.n_accepted_connections(), 1);
    // A client that says Connection: close gets one request per connection.
    HttpClient once("127.0.0.1", s.port());
    for (int i = 0; i < 2; ++i) ASSERT_EQ(once.get("/g").status, 200);
    EXPECT_EQ(s.n_accepted_connections(), 3);
    // An error answer (on the kept connection) closes it: the next request opens a new one.
    EXPECT_EQ(keep.post("/big", std::string(500, 'x')).status, 413);
    EXPECT_EQ(s.n_accepted_connections(), 3);
    EXPECT_EQ(keep.get("/g").status, 200);
    EXPECT_EQ(s.n_accepted_connections(), 4);
    // Two requests in one write (pipelining): both answered, in order.
    const std::string two = exchange(s.port(), "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
                                               "GET /two HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    const size_t one_at = two.find("GET /one"), two_at = two.find("GET /two");
    ASSERT_NE(one_at, std::string::npos) << two;
    ASSERT_NE(two_at, std::string::npos) << two;
    EXPECT_LT(one_at, two_at);
}

TEST(NetServer, AnIdleKeepAliveConnectionMakesRoomAtTheCap) {
    HttpServerOptions o = small_limits();
    o.limits.keep_alive_idle = 5000ms;
    o.limits.max_connections = 1;
    HttpServer s(o, echo);
    HttpClient a("127.0.0.1", s.port(), {.keep_alive = true});
    ASSERT_EQ(a.get("/a").status, 200);
    for (int i = 0; i < 500 && s.n_idle_connections() < 1; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(s.n_open_connections(), 1);  // a's connection, idle
    EXPECT_EQ(s.n_idle_connections(), 1);
    // A new connection: the idle one is closed for it rather than the new one refused.
    HttpClient b("127.0.0.1", s.port());
    const HttpResult rb = b.get("/b");
    EXPECT_EQ(rb.status, 200) << rb.error << rb.body;
    // a reconnects by itself (its socket is seen closed before the request goes out).
    for (int i = 0; i < 100 && s.n_open_connections() > 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(a.get("/a").status, 200);
    EXPECT_EQ(s.n_accepted_connections(), 3);
}

TEST(NetServer, StopEndsIdleKeepAliveConnectionsPromptly) {
    HttpServerOptions o = small_limits();
    o.limits.keep_alive_idle = 60000ms;
    HttpServer s(o, echo);
    HttpClient a("127.0.0.1", s.port(), {.keep_alive = true});
    ASSERT_EQ(a.get("/a").status, 200);
    const auto t0 = std::chrono::steady_clock::now();
    s.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(s.n_open_connections(), 0);
}

TEST(NetServer, StreamsServerSentEventsInChunks) {
    HttpServer s(small_limits(), [](const HttpRequest&) {
        return HttpResponse{.content_type = "text/event-stream", .stream = [](StreamSink& sink) {
                                for (int i = 0; i < 3; ++i) sink.write(sse_event("{\"i\":" + std::to_string(i) + "}"));
                                sink.write(sse_event("[DONE]"));
                            }};
    });
    HttpClient c("127.0.0.1", s.port());
    SseParser parser;
    std::string raw;
    HttpResult r = c.post_streaming("/s", "{}", [&](std::string_view d) {
        raw += d;
        parser.feed(d);
        return true;
    });
    EXPECT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(*r.header("transfer-encoding"), "chunked");
    EXPECT_EQ(raw, "data: {\"i\":0}\n\ndata: {\"i\":1}\n\ndata: {\"i\":2}\n\ndata: [DONE]\n\n");
    EXPECT_EQ(parser.take_events(), (std::vector<std::string>{"{\"i\":0}", "{\"i\":1}", "{\"i\":2}", "[DONE]"}));
}

TEST(NetServer, AStreamSeesTheClientLeave) {
    std::atomic<bool> saw_cancel{false};
    HttpServer s(small_limits(), [&](const HttpRequest&) {
        return HttpResponse{.content_type = "text/event-stream", .stream = [&](StreamSink& sink) {
                                for (int i = 0; i < 500 && sink.write(sse_event("x")); ++i) std::this_thread::sleep_for(10ms);
                                saw_cancel = sink.cancelled();
                            }};
    });
    const int fd = connect_to(s.port());
    const std::string req = "GET /s HTTP/1.1\r\nHost: x\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    read_all(fd, 300);
    const auto t0 = std::chrono::steady_clock::now();
    ::close(fd);
    for (int i = 0; i < 200 && s.n_open_connections() > 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(s.n_open_connections(), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "the stream ran on after the client left";
    EXPECT_TRUE(saw_cancel.load());
}

TEST(NetServer, HandlerExceptionsBecome500AndStopIsPrompt) {
    HttpServerOptions o = small_limits();
    o.error_response = [](int status, std::string_view why) {
        return HttpResponse{.status = status, .content_type = "application/json",
                            .body = "{\"error\":\"" + std::string(why) + "\"}"};
    };
    HttpServer s(o, [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    HttpClient c("127.0.0.1", s.port());
    HttpResult r = c.get("/");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body, "{\"error\":\"boom\"}");
    const uint16_t port = s.port();
    const int idle = connect_to(port);
    const auto t0 = std::chrono::steady_clock::now();
    s.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    ::close(idle);
    EXPECT_LT(connect_to(port), 0);
    EXPECT_NE(HttpClient("127.0.0.1", port).get("/").error, "");
}

TEST(NetServer, BindsWhereAskedAndRefusesNonsense) {
    EXPECT_TRUE(is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(is_loopback_host("127.1.2.3"));
    EXPECT_TRUE(is_loopback_host("localhost"));
    EXPECT_FALSE(is_loopback_host("0.0.0.0"));
    EXPECT_FALSE(is_loopback_host("10.0.0.1"));
    EXPECT_THROW(HttpServer(HttpServerOptions{.host = "not-an-ip"}, echo), accel::Error);
    HttpServer a(HttpServerOptions{.host = "localhost"}, echo);
    EXPECT_EQ(a.host(), "127.0.0.1");
    EXPECT_THROW(HttpServer(HttpServerOptions{.port = a.port()}, echo), accel::Error);  // in use
}

TEST(NetSecurity, TokensAndConstantTimeCompare) {
    const std::string a = random_token(), b = random_token();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_TRUE(constant_time_equal(a, a));
    EXPECT_FALSE(constant_time_equal(a, b));
    EXPECT_FALSE(constant_time_equal(a, a.substr(0, 31)));
    EXPECT_FALSE(constant_time_equal("", a));
    EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(NetSse, FramingAndParsingInPieces) {
    EXPECT_EQ(sse_event("a"), "data: a\n\n");
    EXPECT_EQ(sse_event("a\nb"), "data: a\ndata: b\n\n");
    SseParser p;
    const std::string stream = ": comment\r\ndata: one\r\n\r\ndata: two\ndata: lines\nevent: x\n\ndata:[DONE]\n\n";
    for (char c : stream) p.feed(std::string_view(&c, 1));  // byte by byte: events never split wrong
    EXPECT_EQ(p.take_events(), (std::vector<std::string>{"one", "two\nlines", "[DONE]"}));
    EXPECT_TRUE(p.take_events().empty());
}

}  // namespace
