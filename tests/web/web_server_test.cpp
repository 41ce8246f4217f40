// The browser runner's HTTP server: what it serves, and what it refuses (token, Host, Origin, sizes, slow clients).
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/web/http_server.h"
#include "raw_http.h"
#include "test_support.h"

namespace fs = std::filesystem;
using accel::web::HttpServer;
using accel::web::ServerOptions;

namespace {

using accel::test::connect_to;
using accel::test::count_fds;
using accel::test::exchange;
using accel::test::read_all;
using accel::test::status_of;

const std::string kToken = "0123456789abcdef0123456789abcdef";

class ServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(dir_ / "page");
        accel::test::write_file(dir_ / "page" / "index.html", "<p>hello</p>");
        model_ = dir_ / "model.bin";
        std::string bytes;
        for (int i = 0; i < 1000; ++i) bytes += static_cast<char>('a' + i % 26);
        accel::test::write_file(model_, bytes);
    }
    ServerOptions options() {
        ServerOptions o{.token = kToken, .mounts = {{"/page/", dir_ / "page"}}, .model_file = model_};
        o.limits.max_body_bytes = 1000;
        o.limits.max_header_bytes = 2000;
        o.limits.read_timeout = std::chrono::milliseconds(800);
        return o;
    }
    std::string host(const HttpServer& s) { return "Host: 127.0.0.1:" + std::to_string(s.port()) + "\r\n"; }
    std::string post(const HttpServer& s, const std::string& path, const std::string& body, const std::string& extra = "") {
        return "POST " + path + " HTTP/1.1\r\n" + host(s) + extra + "Content-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    }
    accel::test::TempDir dir_;
    fs::path model_;
};

TEST_F(ServerTest, ServesFilesWithIsolationHeadersAndNeverWildcardCors) {
    HttpServer s(options());
    const std::string a = exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n" + host(s) + "\r\n");
    EXPECT_EQ(status_of(a), 200) << a;
    EXPECT_NE(a.find("Cross-Origin-Opener-Policy: same-origin"), std::string::npos);
    EXPECT_NE(a.find("Cross-Origin-Embedder-Policy: require-corp"), std::string::npos);
    EXPECT_NE(a.find("Content-Type: text/html"), std::string::npos);
    EXPECT_EQ(a.find("Access-Control-Allow-Origin"), std::string::npos);
    EXPECT_EQ(a.substr(a.find("\r\n\r\n") + 4), "<p>hello</p>");
    // localhost:<port> is the other accepted Host.
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\nHost: localhost:" +
                                               std::to_string(s.port()) + "\r\n\r\n")), 200);
}

TEST_F(ServerTest, BindsLoopbackOnlyOnAFreePort) {
    HttpServer a(options()), b(options());
    EXPECT_NE(a.port(), 0);
    EXPECT_NE(a.port(), b.port());
    EXPECT_EQ(a.origin(), "http://127.0.0.1:" + std::to_string(a.port()));
    // The listening socket's address, as the kernel reports it in /proc/net/tcp ("local_address" is hex ADDR:PORT).
    bool found = false;
    std::istringstream tcp(accel::test::read_file("/proc/net/tcp"));
    char port_hex[8];
    std::snprintf(port_hex, sizeof port_hex, ":%04X", a.port());
    for (std::string line; std::getline(tcp, line);) {
        std::istringstream fields(line);
        std::string slot, local;
        fields >> slot >> local;
        if (local.size() != 13 || local.substr(8) != port_hex) continue;
        found = true;
        EXPECT_EQ(local.substr(0, 8), "0100007F") << "bound to a non-loopback address: " << line;
    }
    EXPECT_TRUE(found);
}

TEST_F(ServerTest, RangeRequestsOnTheModel) {
    HttpServer s(options());
    std::string a = exchange(s.port(), "GET /model.gguf HTTP/1.1\r\n" + host(s) + "Range: bytes=26-30\r\n\r\n");
    EXPECT_EQ(status_of(a), 206) << a;
    EXPECT_NE(a.find("Content-Range: bytes 26-30/1000"), std::string::npos);
    EXPECT_EQ(a.substr(a.find("\r\n\r\n") + 4), "abcde");
    a = exchange(s.port(), "GET /model.gguf HTTP/1.1\r\n" + host(s) + "Range: bytes=-3\r\n\r\n");
    EXPECT_EQ(status_of(a), 206);
    EXPECT_EQ(a.substr(a.find("\r\n\r\n") + 4), "jkl");  // bytes 997..999: 997 % 26 = 9 -> 'j'
    a = exchange(s.port(), "GET /model.gguf HTTP/1.1\r\n" + host(s) + "Range: bytes=990-\r\n\r\n");
    EXPECT_NE(a.find("Content-Range: bytes 990-999/1000"), std::string::npos);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /model.gguf HTTP/1.1\r\n" + host(s) + "Range: bytes=1000-\r\n\r\n")), 416);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /model.gguf HTTP/1.1\r\n" + host(s) + "Range: bytes=0-1,5-6\r\n\r\n")), 416);
    a = exchange(s.port(), "GET /model.gguf HTTP/1.1\r\n" + host(s) + "\r\n");
    EXPECT_EQ(status_of(a), 200);
    EXPECT_EQ(a.substr(a.find("\r\n\r\n") + 4).size(), 1000u);
}

TEST_F(ServerTest, MissingOrWrongTokenIs401AndTheRightOneIsAccepted) {
    HttpServer s(options());
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result", "{}"))), 401);
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result?token=ffffffffffffffffffffffffffffffff", "{}"))), 401);
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result", "{}", "X-Accel-Token: " + kToken.substr(0, 31) + "\r\n"))), 401);
    EXPECT_FALSE(s.wait_message(std::chrono::milliseconds(10)));
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result", "{\"a\":1}", "X-Accel-Token: " + kToken + "\r\n"))), 204);
    auto m = s.wait_message(std::chrono::milliseconds(1000));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->name, "result");
    EXPECT_EQ(m->body, "{\"a\":1}");
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result?token=" + kToken, "{}"))), 204);
}

TEST_F(ServerTest, BadHostOrOriginIs403) {
    HttpServer s(options());
    const std::string p = std::to_string(s.port());
    // DNS rebinding: a foreign name resolving to 127.0.0.1.
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\nHost: evil.example:" + p + "\r\n\r\n")), 403);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")), 403);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n\r\n")), 403);
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result", "{}", "Origin: http://evil.example\r\nX-Accel-Token: " +
                                                                          kToken + "\r\n"))), 403);
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result", "{}", "Origin: http://127.0.0.1:" + p +
                                                                          "\r\nX-Accel-Token: " + kToken + "\r\n"))), 204);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n" + host(s) + host(s) + "\r\n")), 400);
}

TEST_F(ServerTest, OversizedOrMalformedRequestsAreRefused) {
    HttpServer s(options());
    EXPECT_EQ(status_of(exchange(s.port(), post(s, "/api/result", std::string(1001, 'x'), "X-Accel-Token: " + kToken + "\r\n"))), 413);
    // A Content-Length past the cap is refused before a byte of the body is read.
    EXPECT_EQ(status_of(exchange(s.port(), "POST /api/result HTTP/1.1\r\n" + host(s) + "Content-Length: 99999999999\r\n\r\n")), 413);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n" + host(s) + "X-Pad: " +
                                               std::string(3000, 'p') + "\r\n\r\n")), 431);
    EXPECT_EQ(status_of(exchange(s.port(), "garbage\r\n\r\n")), 400);
    EXPECT_EQ(status_of(exchange(s.port(), "POST /api/result HTTP/1.1\r\n" + host(s) + "Content-Length: -5\r\n\r\n")), 400);
    EXPECT_EQ(status_of(exchange(s.port(), "POST /api/result HTTP/1.1\r\n" + host(s) + "\r\n")), 411);
    EXPECT_EQ(status_of(exchange(s.port(), "POST /api/result HTTP/1.1\r\n" + host(s) + "Transfer-Encoding: chunked\r\n\r\n")), 501);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/../../etc/passwd HTTP/1.1\r\n" + host(s) + "\r\n")), 400);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/%2e%2e/x HTTP/1.1\r\n" + host(s) + "\r\n")), 400);
    EXPECT_EQ(status_of(exchange(s.port(), "DELETE /page/index.html HTTP/1.1\r\n" + host(s) + "\r\n")), 405);
    EXPECT_EQ(status_of(exchange(s.port(), "GET /nothing HTTP/1.1\r\n" + host(s) + "\r\n")), 404);
}

TEST_F(ServerTest, SlowClientGets408AndNoDescriptorLeaks) {
    const int before = count_fds();
    {
        HttpServer s(options());
        const int fd = connect_to(s.port());
        ASSERT_GE(fd, 0);
        const std::string partial = "GET /page/index.html HTTP/1.1\r\n";  // never finished
        ::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL);
        const auto t0 = std::chrono::steady_clock::now();
        const std::string a = read_all(fd, 5000);
        const auto waited = std::chrono::steady_clock::now() - t0;
        ::close(fd);
        EXPECT_EQ(status_of(a), 408) << a;
        EXPECT_LT(waited, std::chrono::milliseconds(3000));
        // A body that stops half-way gets the same.
        const int fd2 = connect_to(s.port());
        const std::string head = "POST /api/result HTTP/1.1\r\n" + host(s) + "Content-Length: 100\r\n\r\n{";
        ::send(fd2, head.data(), head.size(), MSG_NOSIGNAL);
        EXPECT_EQ(status_of(read_all(fd2, 5000)), 408);
        ::close(fd2);
        // A client that connects and sends nothing also goes away.
        const int fd3 = connect_to(s.port());
        EXPECT_EQ(status_of(read_all(fd3, 5000)), 408);
        ::close(fd3);
        for (int i = 0; i < 50 && s.n_open_connections() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        EXPECT_EQ(s.n_open_connections(), 0);
        for (int i = 0; i < 20; ++i) exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n" + host(s) + "\r\n");
    }
    EXPECT_EQ(count_fds(), before);
}

TEST_F(ServerTest, ConnectionsPastTheLimitGet503) {
    ServerOptions o = options();
    o.limits.max_connections = 2;
    o.limits.read_timeout = std::chrono::milliseconds(2000);
    HttpServer s(o);
    const int a = connect_to(s.port()), b = connect_to(s.port());
    for (int i = 0; i < 50 && s.n_open_connections() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n" + host(s) + "\r\n")), 503);
    ::close(a);
    ::close(b);
    for (int i = 0; i < 100 && s.n_open_connections() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(status_of(exchange(s.port(), "GET /page/index.html HTTP/1.1\r\n" + host(s) + "\r\n")), 200);
}

TEST_F(ServerTest, StopClosesTheListenerAndJoinsSlowConnections) {
    HttpServer s(options());
    const uint16_t port = s.port();
    const int fd = connect_to(port);
    const auto t0 = std::chrono::steady_clock::now();
    s.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    ::close(fd);
    EXPECT_LT(connect_to(port), 0);
}

TEST(ServerToken, RandomHexAndConstantTimeCompare) {
    const std::string a = accel::web::make_token(), b = accel::web::make_token();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
    EXPECT_TRUE(accel::web::constant_time_equal(a, a));
    EXPECT_FALSE(accel::web::constant_time_equal(a, b));
    EXPECT_FALSE(accel::web::constant_time_equal(a, a.substr(0, 31)));
    EXPECT_FALSE(accel::web::constant_time_equal("", a));
    EXPECT_THROW(HttpServer(ServerOptions{.token = "short"}), accel::Error);
}

}  // namespace
