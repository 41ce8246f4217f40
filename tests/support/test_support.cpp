#include "test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace accel::test {

std::optional<std::filesystem::path> test_data_dir() {
    std::filesystem::path dir;
    if (const char* v = std::getenv("ACCEL_TEST_DATA"); v != nullptr && v[0] != '\0') {
        dir = v;
    } else if (const char* s = std::getenv("ACCEL_SOURCE_DIR"); s != nullptr) {
        dir = std::filesystem::path(s) / ".." / "shared";
    } else {
        return std::nullopt;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
    return std::filesystem::weakly_canonical(dir, ec);
}

bool in_ci() {
    const char* v = std::getenv("CI");
    return v != nullptr && std::string(v) == "true";
}

std::optional<std::filesystem::path> find_test_file(const std::string& relative, std::string& why) {
    auto dir = test_data_dir();
    if (!dir) {
        why = "shared test data not found: set ACCEL_TEST_DATA (default ../shared next to the source tree)";
        return std::nullopt;
    }
    auto p = *dir / relative;
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) {
        why = "shared test file missing: " + p.string();
        return std::nullopt;
    }
    return p;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, int timeout_s) {
    std::array<int, 2> out_pipe{};
    std::array<int, 2> err_pipe{};
    if (pipe2(out_pipe.data(), O_CLOEXEC) != 0 || pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    for (const auto& kv : env) {
        const std::string key = kv.substr(0, kv.find('=') + 1);
        std::erase_if(env_strings, [&](const std::string& s) { return s.rfind(key, 0) == 0; });
        env_strings.push_back(kv);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (auto& a : args) argp.push_back(a.data());
    argp.push_back(nullptr);

    pid_t pid = 0;
    const int rc = posix_spawn(&pid, argp[0], &fa, nullptr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        throw std::runtime_error("cannot spawn " + argv[0] + ": " + std::strerror(rc));
    }
    ProcessResult res;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    bool killed = false;
    std::array<char, 65536> buf{};
    while (open_fds > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0 && !killed) {
            kill(pid, SIGKILL);
            killed = true;
        }
        poll(fds.data(), fds.size(), killed ? 1000 : static_cast<int>(std::min<int64_t>(left.count(), 1000)));
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
            const ssize_t n = read(fds[i].fd, buf.data(), buf.size());
            if (n > 0) {
                (i == 0 ? res.out : res.err).append(buf.data(), static_cast<size_t>(n));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) {
        res.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res.signal = WTERMSIG(status);
    }
    return res;
}

ProcessResult run_accel(const std::vector<std::string>& args, const std::vector<std::string>& env, int timeout_s) {
    const char* bin = std::getenv("ACCEL_BIN");
    if (bin == nullptr) throw std::runtime_error("ACCEL_BIN is not set (run the tests through ctest)");
    std::vector<std::string> argv{bin};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, env, timeout_s);
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "accel-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
}

std::filesystem::path synthetic_model(const std::string& arch, const std::string& params, const std::string& type,
                                      int seed) {
    const char* cache = std::getenv("ACCEL_TEST_CACHE");
    std::filesystem::path dir = cache != nullptr ? cache : std::filesystem::temp_directory_path() / "accel-test-cache";
    std::filesystem::create_directories(dir);
    const auto path = dir / (arch + "-" + params + "-" + type + "-s" + std::to_string(seed) + ".gguf");
    if (std::filesystem::exists(path)) return path;
    // Concurrent test binaries may race here; make-model writes atomically, so the loser simply overwrites.
    const ProcessResult r = run_accel({"make-model", "--arch", arch, "--params", params, "--type", type, "--seed",
                                       std::to_string(seed), "--out", path.string()},
                                      {}, 600);
    if (r.exit_code != 0) throw std::runtime_error("make-model failed: " + r.err);
    return path;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& path, const std::string& content) {
    // Creates the parent folders. A file that cannot be written throws, so that a test never passes on a fixture
    // that is not there.
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("test support: cannot write " + path.string());
}

uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace accel::test
