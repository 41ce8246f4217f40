#pragma once
// Raw HTTP over a loopback socket, for tests that must send what no well-behaved client would (partial requests,
// bad headers, idle connections) and read the answer byte for byte.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace accel::test {

// Open file descriptors of this process (a leak check: compare before and after).
inline int count_fds() {
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

// A connected socket to 127.0.0.1:port, or -1.
inline int connect_to(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Everything the peer sends until it closes or timeout_ms pass.
inline std::string read_all(int fd, int timeout_ms = 5000) {
    std::string out;
    char buf[4096];
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < until) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

// Sends raw bytes and returns the whole answer.
inline std::string exchange(uint16_t port, const std::string& raw) {
    const int fd = connect_to(port);
    if (fd < 0) return "connect failed";
    ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
    std::string out = read_all(fd);
    ::close(fd);
    return out;
}

// The status code of a raw answer, -1 when it is not an HTTP/1.1 answer.
inline int status_of(const std::string& answer) {
    if (answer.rfind("HTTP/1.1 ", 0) != 0) return -1;
    return std::stoi(answer.substr(9, 3));
}

}  // namespace accel::test
