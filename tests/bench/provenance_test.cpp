// bench/provenance: the one builder, and the three commands that store runs through it.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"
#include "accel/bench/provenance.h"
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
    const accel::web::LlmFigures native{.backend = "native", .ok = true, .pp_ts = {10, 11}, .tg_ts = {5, 6}};
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

}  // namespace
