// bench/provenance: the one builder, and the three commands that store runs through it.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"
#include "accel/bench/provenance.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/run_recorder.h"
#include "accel/core/fingerprint.h"
#include "accel/store/database.h"
#include "accel/web/web_results.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using accel::hw::Device;
using accel::hw::DeviceType;
using nlohmann::json;

accel::hw::Inventory fixture_with_gpu() {
    accel::hw::Inventory inv =
        accel::hw::detect({.root = fs::path(HW_FIXTURES) / "avx512-server", .devices = false, .allow_list = ""});
    inv.compiled_backends = {"CUDA", "CPU"};
    inv.devices.push_back({.id = "cpu", .name = "CPU", .description = inv.cpu.model, .type = DeviceType::cpu,
                           .backend = "CPU", .memory_total_bytes = 1ULL << 36});
    Device gpu{.id = "cuda0", .name = "CUDA0", .description = "NVIDIA H200", .type = DeviceType::gpu,
               .backend = "CUDA", .memory_total_bytes = 150000ULL << 20, .pci_bus_id = "0000:c1:00.0"};
    gpu.vendor = accel::hw::VendorDetails{.probe = "nvml", .driver_version = "550.54.15", .compute_capability = "9.0"};
    inv.devices.push_back(gpu);
    return inv;
}

TEST(Provenance, DescribesTheInventoryItIsGiven) {
    const auto inv = fixture_with_gpu();
    const accel::bench::Hygiene hyg{.governor = "performance", .loadavg_1m = 0.5, .other_cpu_percent = 3};
    const accel::bench::LibraryRuntime rt{
        .ggml = {.commit = "0123abcd",
                 .version = "0.9.4",
                 .backends = {{.name = "CUDA", .library = "libggml-cuda.so", .features = {"ARCHS=900"}}},
                 .flash_attn = {{.device = "cuda0", .supported = false}}},
        .llama_system_info = "CUDA : ARCHS = 900 | CPU : AVX2 = 1"};
    const accel::Invocation how{.argv = {"accel", "bench", "-p", "16,32", "--tag", "it's"},
                                .environment = {{"ACCEL_DEVICES", "cpu"}}};
    const auto p = accel::bench::make_provenance({.inventory = inv, .hygiene = hyg, .runtime = rt, .invocation = how},
                                                 {.cpu_mask = "0x3", .cold = true});
    EXPECT_EQ(p.machine_id, accel::fingerprint_id(accel::hw::machine_fingerprint(inv)));
    EXPECT_EQ(p.machine.id, p.machine_id);
    EXPECT_EQ(p.machine.cpu_model, inv.cpu.model);
    EXPECT_EQ(p.machine.n_logical_cores, inv.cpu.logical_cores);
    EXPECT_EQ(p.machine.memory_total_bytes, inv.memory.total_bytes);
    EXPECT_EQ(p.machine.device_names, "CPU,CUDA0");
    EXPECT_EQ(p.build.backends, "CUDA,CPU");
    EXPECT_EQ(p.other_cpu_percent, 3);
    const json j = json::parse(p.json_text);
    EXPECT_EQ(j.at("machine_fingerprint"), p.machine_id);
    EXPECT_EQ(j.at("accelerators"), "NVIDIA H200 (150000 MiB, cc 9.0)");
    EXPECT_EQ(j.at("governor"), "performance");
    EXPECT_EQ(j.at("cpu_mask"), "0x3");
    EXPECT_EQ(j.at("cold_cache"), true);
    // The library that ran, not the one accel was compiled against.
    EXPECT_EQ(p.build.llama_cpp_commit, "0123abcd");
    EXPECT_EQ(j.at("llama_cpp_commit"), "0123abcd");
    EXPECT_EQ(j.at("runtime").at("llama_system_info"), "CUDA : ARCHS = 900 | CPU : AVX2 = 1");
    EXPECT_EQ(j.at("runtime").at("backends").at(0).at("features"), json::array({"ARCHS=900"}));
    EXPECT_EQ(j.at("runtime").at("flash_attn_ext_supported").at("cuda0"), false);
    EXPECT_EQ(j.at("argv"), json::array({"accel", "bench", "-p", "16,32", "--tag", "it's"}));
    EXPECT_EQ(j.at("environment"), json({{"ACCEL_DEVICES", "cpu"}}));
    EXPECT_EQ(p.command, "ACCEL_DEVICES=cpu accel bench -p 16,32 --tag 'it'\\''s'");
    EXPECT_EQ(accel::fingerprint_from_inventory_json(p.machine.inventory_json).value().accelerators,
              accel::hw::machine_fingerprint(inv).accelerators);
}

TEST(Provenance, LlamaCommitIsTheLibrarysOwn) {
    using accel::bench::resolve_llama_commit;
    const std::string pin = "de3ff815ea7d559ee917f063901b8986f038abc6";
    EXPECT_EQ(resolve_llama_commit("de3ff815e", pin), pin) << "a short hash of the same commit is written in full";
    EXPECT_EQ(resolve_llama_commit("b1234567", pin), "b1234567") << "another library than accel was built with";
    EXPECT_EQ(resolve_llama_commit("unknown", pin), pin);
    EXPECT_EQ(resolve_llama_commit("", pin), pin);
}

// The real library of this build: the pinned llama.cpp, built from a git checkout, says its own commit.
TEST(Provenance, RecordsTheLoadedLibrary) {
    const auto p = accel::bench::read_run_provenance();
    const json rt = json::parse(p.json_text).at("runtime");
    const std::string commit = rt.at("ggml_commit");
    EXPECT_NE(commit, "unknown");
    EXPECT_TRUE(p.build.llama_cpp_commit.starts_with(commit)) << commit << " vs " << p.build.llama_cpp_commit;
    EXPECT_NE(rt.at("llama_system_info").get<std::string>().find("CPU :"), std::string::npos) << rt.dump();
    ASSERT_FALSE(rt.at("backends").empty());
    EXPECT_TRUE(rt.at("flash_attn_ext_supported").at("cpu").get<bool>()) << "the CPU backend runs flash attention";
}

// What each of the three storing commands wrote about its machine, build and run, without the figures that
// change between two reads (free memory in the inventory, load average in the hygiene).
struct Stored {
    std::vector<std::optional<std::string>> machine, build, run;
    std::vector<std::string> provenance_keys;
};

Stored read_stored(const fs::path& db_path) {
    accel::store::Database db = accel::store::Database::open(db_path);
    Stored s;
    const auto m = db.query("SELECT id, cpu_model, n_logical_cores, memory_total_bytes, device_names, hostname, "
                            "json_extract(inventory, '$.devices[*].name')::VARCHAR FROM machines");
    EXPECT_EQ(m.rows.size(), 1U) << db_path;
    if (!m.rows.empty()) s.machine = m.rows[0];
    const auto b = db.query("SELECT * FROM builds");
    EXPECT_EQ(b.rows.size(), 1U) << db_path;
    if (!b.rows.empty()) s.build = b.rows[0];
    const auto r = db.query("SELECT git_commit, machine_id, build_id, extra->>'$.provenance' FROM runs");
    EXPECT_EQ(r.rows.size(), 1U) << db_path;
    if (!r.rows.empty()) {
        s.run = {r.rows[0][0], r.rows[0][1], r.rows[0][2]};
        const json provenance = json::parse(r.rows[0][3].value_or("{}"));
        for (const auto& [k, v] : provenance.items()) s.provenance_keys.push_back(k);
    }
    return s;
}

TEST(Provenance, BenchConformAndWebStoreTheSameFields) {
    accel::test::TempDir dir;
    const auto prov = accel::bench::read_run_provenance();
    auto rec = accel::bench::RunRecorder::begin(dir / "bench.duckdb", "accel bench", {"t"}, prov);
    rec.finish(accel::store::RunStatus::complete);
    accel::bench::store_conformance({}, {.db = dir / "conform.duckdb"}, "accel conform", 1);
    const fs::path model = dir / "model.gguf";
    accel::test::write_file(model, "not a model: only its sha256 is stored");
    const accel::web::NativeBaselines native{
        .at_default = {.backend = "native", .ok = true, .pp_ts = {10, 11}, .tg_ts = {5, 6}}};
    accel::web::store_results(dir / "web.duckdb", {.model = model}, {}, {}, native);

    const Stored bench = read_stored(dir / "bench.duckdb");
    ASSERT_FALSE(bench.machine.empty());
    EXPECT_EQ(bench.machine[0], prov.machine_id);
    EXPECT_FALSE(bench.machine[4].value_or("").empty()) << "device names";
    EXPECT_FALSE(bench.build.back().value_or("").empty()) << "backends";
    EXPECT_EQ(bench.run[1], prov.machine_id);
    EXPECT_FALSE(bench.provenance_keys.empty());
    for (const char* other : {"conform.duckdb", "web.duckdb"}) {
        const Stored s = read_stored(dir / other);
        EXPECT_EQ(s.machine, bench.machine) << other;
        EXPECT_EQ(s.build, bench.build) << other;
        EXPECT_EQ(s.run, bench.run) << other;
        EXPECT_EQ(s.provenance_keys, bench.provenance_keys) << other;
    }
}

// The CPU time of a process tree from a /proc fixture: each process's utime, stime, cutime and cstime (fields
// 14-17, after a command name with a space and a parenthesis in it), and its children's, found through every task.
TEST(Hygiene, ProcessTreeJiffiesSumsTheTreeFromProc) {
    accel::test::TempDir dir;
    const auto proc = [&](int pid, const std::string& fields, const std::vector<std::pair<int, std::string>>& kids) {
        const fs::path p = dir / "proc" / std::to_string(pid);
        fs::create_directories(p / "task" / std::to_string(pid));
        std::ofstream(p / "stat") << pid << " (a (b) c) " << fields << "\n";
        std::string children;
        for (const auto& [tid, list] : kids) {
            fs::create_directories(p / "task" / std::to_string(tid));
            std::ofstream(p / "task" / std::to_string(tid) / "children") << list;
        }
    };
    //            state ppid pgrp sess tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    proc(100, "S 1 100 100 0 -1 0 0 0 0 0 10 5 2 1 20 0 1 0", {{100, "101 "}, {102, "103"}});
    proc(101, "R 100 100 100 0 -1 0 0 0 0 0 7 0 0 0 20 0 1 0", {});
    proc(103, "S 100 100 100 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0", {{103, "104"}});
    proc(104, "S 103 100 100 0 -1 0 0 0 0 0 100 0 0 0 20 0 1 0", {});
    EXPECT_EQ(accel::bench::process_tree_jiffies(100, dir.path()), 10u + 5 + 2 + 1 + 7 + 2 + 100);
    EXPECT_EQ(accel::bench::process_tree_jiffies(104, dir.path()), 100u);
    EXPECT_EQ(accel::bench::process_tree_jiffies(999, dir.path()), 0u);  // gone
}

// A child that burns CPU counts as this process tree's time, alive and after it was reaped: what the provenance
// probe leaves out of "other processes" while accel measures.
TEST(Hygiene, AChildsCpuTimeCountsAsTheTreesAliveAndReaped) {
    const long tick = ::sysconf(_SC_CLK_TCK);
    const uint64_t before = accel::bench::process_tree_jiffies(::getpid());
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        timespec ts{};
        do {
            ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        } while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < 300);  // 300 ms of CPU
        (void)!::write(fds[1], "x", 1);
        ::pause();
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(fds[0], &c, 1), 1);
    const uint64_t alive = accel::bench::process_tree_jiffies(::getpid());
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const uint64_t reaped = accel::bench::process_tree_jiffies(::getpid());
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_GE(alive - before, static_cast<uint64_t>(tick * 25 / 100)) << "the live child's 300 ms";
    EXPECT_GE(reaped - before, static_cast<uint64_t>(tick * 25 / 100)) << "the reaped child's 300 ms";
}

// The probe run_points starts: its provenance says what ran during the CPU-share window and that accel's own
// processes were left out, and it carries the same machine and build fields as the one-shot reader.
TEST(Provenance, TheProbeSamplesWhileTheCallerMeasuresAndSaysSo) {
    accel::bench::ProvenanceProbe probe({.cpu_mask = "0x1", .cold = true}, "the test measured");
    probe.wait_ready();
    probe.stop_sampling();  // nothing to measure here: the window ends at its minimum, 100 ms, not 200
    const accel::bench::RunProvenance p = probe.get();
    const json j = json::parse(p.json_text);
    const std::string window = j.at("other_cpu_window");
    const int ms = std::stoi(window);
    EXPECT_GE(ms, 100) << window;
    EXPECT_LT(ms, 200) << window;
    EXPECT_NE(window.find(" ms at the start of the run"), std::string::npos) << window;
    EXPECT_NE(window.find("while the test measured"), std::string::npos) << window;
    EXPECT_NE(window.find("accel's own processes"), std::string::npos) << window;
    EXPECT_EQ(j.at("cpu_mask"), "0x1");
    EXPECT_EQ(j.at("cold_cache"), true);
    EXPECT_FALSE(p.machine.device_names.empty());
    EXPECT_FALSE(p.build.backends.empty());
    EXPECT_GE(p.other_cpu_percent, 0.0);
}

}  // namespace
