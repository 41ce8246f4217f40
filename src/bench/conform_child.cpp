#include "conform_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"

namespace accel::bench::detail {
namespace {

using nlohmann::json;

void write_text(const std::filesystem::path& p, const std::string& text) {
    std::ofstream f(p, std::ios::trunc);
    f << text;
}

std::string read_text(const std::filesystem::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// The abort message llama.cpp left on stderr ("llama.cpp aborted: ..."), else the last line.
std::string crash_message(const std::filesystem::path& log) {
    std::istringstream in(read_text(log));
    std::string line, last, aborted;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        last = line;
        if (line.find("aborted") != std::string::npos || line.find("GGML_ASSERT") != std::string::npos) aborted = line;
    }
    std::string msg = aborted.empty() ? last : aborted;
    if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
    return msg;
}

}  // namespace

json to_json(const ConformResult& r) {
    json j{{"arch", r.arch},     {"llama_arch", r.llama_arch}, {"device", r.device},     {"type", r.type},
           {"status", to_string(r.status)}, {"stage", r.stage}, {"reason", r.reason}, {"loaded", r.loaded},
           {"output", r.output_kind}, {"signal", r.signal}, {"reference", r.reference}};
    const auto opt = [&j](const char* key, const auto& v) {
        if (v) j[key] = *v;
    };
    opt("load_ms", r.load_ms);
    opt("nmse", r.nmse);
    opt("top1", r.top1);
    opt("round_trip_identical", r.round_trip_identical);
    opt("round_trip_max_abs", r.round_trip_max_abs);
    if (!r.metrics.empty()) {
        json m = json::array();
        for (const auto& x : r.metrics) {
            m.push_back({{"name", x.name}, {"value", x.value}, {"limit", x.limit}, {"min", x.higher_is_better}});
        }
        j["metrics"] = m;
    }
    return j;
}

ConformResult from_json(const json& j) {
    ConformResult r;
    r.arch = j.at("arch");
    r.llama_arch = j.at("llama_arch");
    r.device = j.at("device");
    r.type = j.at("type");
    r.status = parse_conform_status(j.at("status").get<std::string>());
    r.stage = j.at("stage");
    r.reason = j.at("reason");
    r.loaded = j.at("loaded");
    r.output_kind = j.at("output");
    r.signal = j.at("signal");
    r.reference = j.value("reference", "");
    if (j.contains("load_ms")) r.load_ms = j["load_ms"].get<double>();
    if (j.contains("nmse")) r.nmse = j["nmse"].get<double>();
    if (j.contains("top1")) r.top1 = j["top1"].get<double>();
    if (j.contains("round_trip_identical")) r.round_trip_identical = j["round_trip_identical"].get<bool>();
    if (j.contains("round_trip_max_abs")) r.round_trip_max_abs = j["round_trip_max_abs"].get<double>();
    if (j.contains("metrics")) {
        for (const auto& m : j["metrics"]) {
            r.metrics.push_back({m.at("name"), m.at("value"), m.at("limit"), m.at("min")});
        }
    }
    return r;
}

void write_stage(const ChildFiles& f, const char* stage) { write_text(f.stage, stage); }

ChildOutcome run_in_child(const ConformResult& base, const ChildFiles& f, int timeout_s,
                          const std::function<ConformResult()>& body) {
    ChildOutcome out{.result = base};
    ConformResult& r = out.result;
    const auto t0 = std::chrono::steady_clock::now();
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(ErrorKind::io, std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        const int fd = ::open(f.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 2);
            ::close(fd);
        }
        int code = 0;
        try {
            const ConformResult cr = body();
            PartialFile result(f.result);
            write_text(result.path(), to_json(cr).dump());
            result.commit();
        } catch (...) {
            code = 3;
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    out.pid = pid;
    int status = 0;
    bool timed_out = false;
    const auto deadline = t0 + std::chrono::seconds(timeout_s);
    while (true) {
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) break;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::error_code ec;
    const std::string stage_reached = read_text(f.stage);
    if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 && std::filesystem::exists(f.result, ec)) {
        try {
            r = from_json(json::parse(read_text(f.result)));
        } catch (const std::exception& e) {
            r.status = ConformStatus::fail;
            r.stage = stage_reached;
            r.reason = std::string("unreadable case result: ") + e.what();
        }
    } else {
        out.died = true;
        r.status = ConformStatus::fail;
        r.stage = stage_reached.empty() ? "start" : stage_reached;
        const std::string msg = crash_message(f.log);
        if (timed_out) {
            r.reason = fmt::format("timed out after {} s during {} (killed)", timeout_s, r.stage);
            r.signal = SIGKILL;
        } else if (WIFSIGNALED(status)) {
            r.signal = WTERMSIG(status);
            r.reason = fmt::format("the case process died of signal {} ({}) during {}{}", r.signal,
                                   strsignal(r.signal), r.stage, msg.empty() ? "" : ": " + msg);
        } else {
            r.reason = fmt::format("the case process exited with code {} during {}{}",
                                   WIFEXITED(status) ? WEXITSTATUS(status) : -1, r.stage, msg.empty() ? "" : ": " + msg);
        }
    }
    for (const auto& p : {f.result, f.stage, f.log}) std::filesystem::remove(p, ec);
    return out;
}

}  // namespace accel::bench::detail
