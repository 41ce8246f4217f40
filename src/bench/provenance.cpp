// The one provenance builder: every command that stores a run describes its machine and build through it.
#include "accel/bench/provenance.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "accel/bench/point_runner.h"
#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/core/version.h"
#include "accel/engine/backend.h"

namespace accel::bench {

namespace {

using nlohmann::json;

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
    return out;
}

json to_json(const RunProvenance& p) {
    const auto& m = p.machine;
    const auto& b = p.build;
    return {{"machine_id", p.machine_id},
            {"json_text", p.json_text},
            {"command", p.command},
            {"other_cpu_percent", p.other_cpu_percent},
            {"machine", {{"id", m.id}, {"cpu_model", m.cpu_model}, {"n_logical_cores", m.n_logical_cores},
                         {"memory_total_bytes", m.memory_total_bytes}, {"device_names", m.device_names},
                         {"inventory_json", m.inventory_json}}},
            {"build", {{"accel_version", b.accel_version}, {"git_commit", b.git_commit},
                       {"llama_cpp_commit", b.llama_cpp_commit}, {"compiler", b.compiler},
                       {"build_type", b.build_type}, {"cxx_flags", b.cxx_flags}, {"backends", b.backends}}}};
}

RunProvenance provenance_from_json(const json& j) {
    RunProvenance p;
    p.machine_id = j.at("machine_id").get<std::string>();
    p.json_text = j.at("json_text").get<std::string>();
    p.command = j.at("command").get<std::string>();
    p.other_cpu_percent = j.at("other_cpu_percent").get<double>();
    const auto& m = j.at("machine");
    p.machine = {.id = m.at("id"), .cpu_model = m.at("cpu_model"), .n_logical_cores = m.at("n_logical_cores"),
                 .memory_total_bytes = m.at("memory_total_bytes"), .device_names = m.at("device_names"),
                 .inventory_json = m.at("inventory_json")};
    const auto& b = j.at("build");
    p.build = {.accel_version = b.at("accel_version"), .git_commit = b.at("git_commit"),
               .llama_cpp_commit = b.at("llama_cpp_commit"), .compiler = b.at("compiler"),
               .build_type = b.at("build_type"), .cxx_flags = b.at("cxx_flags"), .backends = b.at("backends")};
    return p;
}

json runtime_json(const LibraryRuntime& rt) {
    json backends = json::array();
    for (const auto& b : rt.ggml.backends) {
        backends.push_back({{"name", b.name}, {"library", b.library}, {"features", b.features}});
    }
    json fa = json::object();
    for (const auto& f : rt.ggml.flash_attn) fa[f.device] = f.supported;
    return {{"ggml_commit", rt.ggml.commit},
            {"ggml_version", rt.ggml.version},
            {"llama_system_info", rt.llama_system_info},
            {"backends", backends},
            {"flash_attn_ext_supported", fa}};
}

}  // namespace

std::string resolve_llama_commit(const std::string& runtime_commit, const std::string& compiled_commit) {
    if (runtime_commit.empty() || runtime_commit == "unknown") return compiled_commit;
    if (compiled_commit.size() >= runtime_commit.size() && compiled_commit.starts_with(runtime_commit)) {
        return compiled_commit;
    }
    return runtime_commit;
}

RunProvenance make_provenance(const ProvenanceInputs& in, const ProvenanceOptions& options) {
    const hw::Inventory& inv = in.inventory;
    const Hygiene& hyg = in.hygiene;
    const LibraryRuntime& runtime = in.runtime;
    const MachineFingerprint fp = hw::machine_fingerprint(inv);
    const BuildInfo& b = build_info();
    const std::string backends = joined(inv.compiled_backends);
    const std::string llama_commit = resolve_llama_commit(runtime.ggml.commit, std::string(b.llama_cpp_commit));
    json environment = json::object();
    for (const auto& [k, v] : in.invocation.environment) environment[k] = v;
    RunProvenance p;
    p.machine_id = fingerprint_id(fp);
    p.other_cpu_percent = hyg.other_cpu_percent;
    p.json_text = json{{"machine_fingerprint", p.machine_id},
                       {"cpu_model", inv.cpu.model},
                       {"accelerators", accelerators_text(fp.accelerators)},
                       {"accel_version", b.accel_version},
                       {"accel_commit", b.git_commit},
                       {"llama_cpp_commit", llama_commit},
                       {"llama_cpp_commit_compiled", b.llama_cpp_commit},
                       {"runtime", runtime_json(runtime)},
                       {"build_flags", b.cxx_flags},
                       {"compiler", b.compiler},
                       {"backends", backends},
                       {"governor", hyg.governor},
                       {"energy_performance_preference", hyg.energy_perf_bias},
                       {"loadavg_1m", hyg.loadavg_1m},
                       {"other_cpu_percent_at_start", hyg.other_cpu_percent},
                       {"other_cpu_window", hyg.other_cpu_window},
                       {"affinity", hyg.affinity},
                       {"cpu_mask", options.cpu_mask},
                       {"cold_cache", options.cold},
                       {"argv", in.invocation.argv},
                       {"environment", environment}}
                      .dump();
    p.command = shell_command(in.invocation);
    p.machine = {.id = p.machine_id, .cpu_model = fp.cpu_model, .n_logical_cores = fp.n_logical_cores,
                 .memory_total_bytes = fp.memory_total_bytes, .device_names = joined(fp.device_names),
                 .inventory_json = hw::inventory_json(inv)};
    p.build = {.accel_version = std::string(b.accel_version), .git_commit = std::string(b.git_commit),
               .llama_cpp_commit = llama_commit, .compiler = std::string(b.compiler),
               .build_type = std::string(b.build_type), .cxx_flags = std::string(b.cxx_flags), .backends = backends};
    return p;
}

RunProvenance current_provenance(const ProvenanceOptions& options) {
    return make_provenance({.inventory = hw::detect({.browsers = false}),
                            .hygiene = read_hygiene(),
                            .runtime = {.ggml = hw::ggml_runtime(), .llama_system_info = engine::llama_system_info()},
                            .invocation = current_invocation()},
                           options);
}

// hw::detect enumerates the ggml devices, which initialises CUDA, and CUDA does not survive fork(): read it in a
// child so that the measuring children forked later can still use the GPU (see probe_device_ids).
RunProvenance read_run_provenance(const std::string& cpu_mask, bool cold) {
    const IsolatedOutcome o = run_isolated(
        [&] { return to_json(current_provenance({.cpu_mask = cpu_mask, .cold = cold})).dump(); },
        std::chrono::seconds(120));
    if (!o.ok) throw Error(ErrorKind::backend, "reading the machine's inventory failed: " + o.failure_reason);
    return provenance_from_json(json::parse(o.text));
}

ProvenanceProbe::ProvenanceProbe(const ProvenanceOptions& options, std::string during) {
    const pid_t parent = ::getpid();
    const ConnectedChild child = fork_connected();
    if (child.pid == 0) {
        std::string text;
        try {
            ProvenanceInputs in{.inventory = hw::detect({.browsers = false}),
                                .runtime = {.ggml = hw::ggml_runtime(),
                                            .llama_system_info = engine::llama_system_info()},
                                .invocation = current_invocation()};
            if (::write(child.fd, "ready\n", 6) != 6) ::_exit(1);
            in.hygiene = read_hygiene("/", {.stop_fd = child.fd, .exclude_tree = parent, .during = during});
            text = to_json(make_provenance(in, options)).dump() + "\n";
        } catch (...) {
            ::_exit(1);
        }
        for (size_t off = 0; off < text.size();) {
            const ssize_t n = ::write(child.fd, text.data() + off, text.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    pid_ = child.pid;
    fd_ = child.fd;
}

ProvenanceProbe::~ProvenanceProbe() {
    if (fd_ >= 0) ::close(fd_);
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

bool ProvenanceProbe::read_some(int timeout_ms) {
    if (eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return true;
    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return true;
    if (n <= 0) {
        eof_ = true;
        return false;
    }
    out_.append(buf, static_cast<size_t>(n));
    return true;
}

void ProvenanceProbe::stop_sampling() {
    if (fd_ >= 0) (void)!::send(fd_, "s", 1, MSG_NOSIGNAL);  // the child may have finished: no SIGPIPE
}

void ProvenanceProbe::wait_ready() {
    while (out_.find('\n') == std::string::npos && read_some(1000)) {
    }
}

bool ProvenanceProbe::done() {
    while (!eof_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) return false;
        read_some(0);
    }
    return true;
}

RunProvenance ProvenanceProbe::get() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (read_some(1000)) {
        if (std::chrono::steady_clock::now() > deadline) ::kill(pid_, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    const size_t nl = out_.find('\n');
    const std::string text = nl == std::string::npos ? std::string() : out_.substr(nl + 1);
    if (out_.rfind("ready\n", 0) != 0 || text.empty()) {
        throw Error(ErrorKind::backend, "reading the machine's inventory failed: " +
                                            crash_outcome(status).failure_reason);
    }
    return provenance_from_json(json::parse(text));
}

store::ResultWriter begin_run(const store::WriterOptions& writer, store::RunRecord run, const RunProvenance& prov) {
    json extra = json::parse(run.extra_json.empty() ? "{}" : run.extra_json);
    extra["provenance"] = json::parse(prov.json_text);
    if (!prov.command.empty()) {
        if (!run.command.empty() && run.command != prov.command) extra["command_summary"] = run.command;
        run.command = prov.command;
    }
    run.extra_json = extra.dump();
    run.git_commit = prov.build.git_commit;
    return store::ResultWriter::begin(writer, std::move(run), prov.machine, prov.build);
}

}  // namespace accel::bench
