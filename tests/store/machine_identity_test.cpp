// store/: one machine id means one machine. The v3 migration moves machine ids to the fingerprint that includes
// accelerators; merge and writes refuse an id that names two different machines.
#include <string>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/store/database.h"
#include "accel/store/exporter.h"
#include "accel/store/record_batch.h"
#include "accel/store/result_writer.h"
#include "accel/store/schema.h"
#include "test_support.h"

namespace {

using namespace accel::store;
using Row = std::vector<std::optional<std::string>>;

constexpr uint64_t host_memory = 137438953472ULL;  // 128 GiB
constexpr uint64_t gpu_memory = 150323855360ULL;   // 143360 MiB

// An inventory as `accel detect --json` wrote it: one host, one GPU of the given model.
std::string inventory(const std::string& gpu) {
    return R"({"cpu":{"model":"AMD EPYC 9654","logical_cores":16},"memory":{"total_bytes":137438953472,)"
           R"("available_bytes":1},"devices":[{"name":"CPU","type":"cpu","backend":"CPU","description":"AMD EPYC 9654",)"
           R"("memory_total_bytes":137438953472,"memory_free_bytes":5},{"name":"CUDA0","type":"gpu","backend":"CUDA",)"
           R"("description":")" +
           gpu + R"(","memory_total_bytes":150323855360,"memory_free_bytes":7,"pci_bus_id":"0000:c1:00.0",)"
                 R"("vendor":{"probe":"nvml","driver_version":"550.54.15","compute_capability":"9.0"}}]})";
}

// The ids computed by hand from the fields, not from the inventory text.
accel::MachineFingerprint fingerprint(const std::string& gpu) {
    return {.cpu_model = "AMD EPYC 9654", .n_logical_cores = 16, .memory_total_bytes = host_memory,
            .accelerators = {{.model = gpu, .memory_total_mib = gpu_memory >> 20, .compute_capability = "9.0"}},
            .device_names = {"CPU", "CUDA0"}};
}

// A database as accel wrote it before v3: schema version 2, the machine under its v1 id, a run, a result and a
// failure naming it.
void write_v2(const std::filesystem::path& path, const std::string& gpu, const std::string& tag) {
    auto db = Database::open(path, OpenOptions{.migrate = false});
    migrate(db, 2);
    const std::string old_id = accel::fingerprint_id_v1(fingerprint(gpu));
    db.exec("INSERT INTO machines (id, cpu_model, n_logical_cores, memory_total_bytes, device_names, inventory) "
            "VALUES (" + sql_quote(old_id) + ", 'AMD EPYC 9654', 16, 137438953472, 'CPU,CUDA0', " +
            sql_quote(inventory(gpu)) + ")");
    db.exec("INSERT INTO runs (id, command, status, machine_id, source) VALUES ('run-" + tag + "', 'accel bench', "
            "'complete', " + sql_quote(old_id) + ", 'accel')");
    db.exec("INSERT INTO results (id, run_id, machine_id, model_name, scenario, device, avg_ts, valid, created_at) "
            "VALUES ('res-" + tag + "', 'run-" + tag + "', " + sql_quote(old_id) + ", 'tiny', 'pp', 'cuda0', 1, true, now())");
    db.exec("INSERT INTO failures (id, run_id, machine_id, scenario) VALUES ('fail-" + tag + "', 'run-" + tag +
            "', " + sql_quote(old_id) + ", 'pp')");
}

TEST(MachineIdentity, V2DatabaseMovesMachinesToTheirNewIds) {
    accel::test::TempDir dir;
    const auto path = dir / "v2.duckdb";
    write_v2(path, "NVIDIA H200", "a");
    {
        auto db = Database::open(path, OpenOptions{.migrate = false});
        db.exec("INSERT INTO machines (id, cpu_model, inventory) VALUES ('llama-bench-m', 'some CPU', '{}')");
    }
    auto db = Database::open(path);
    EXPECT_EQ(schema_version(db), 3);
    const std::string id = accel::fingerprint_id(fingerprint("NVIDIA H200"));
    EXPECT_EQ(db.query("SELECT string_agg(id, ',' ORDER BY id) FROM machines").rows[0][0],
              std::min(id, std::string("llama-bench-m")) + "," + std::max(id, std::string("llama-bench-m")))
        << "an imported machine without an accel inventory keeps its id";
    for (const char* table : {"runs", "results", "failures"}) {
        EXPECT_EQ(db.query(std::string("SELECT machine_id FROM ") + table).rows, (std::vector<Row>{{id}})) << table;
    }
    EXPECT_EQ(db.query("SELECT cpu_model, n_logical_cores FROM machines WHERE id = " + sql_quote(id)).rows[0],
              (Row{"AMD EPYC 9654", "16"}));
}

// The bug: an H100 and an H200 machine on the same host had one id, and a merge filed the H100's results under
// the H200's inventory. Merging two such old files keeps them apart.
TEST(MachineIdentity, MergeOfOldFilesKeepsTwoGpusApart) {
    accel::test::TempDir dir;
    write_v2(dir / "h200.duckdb", "NVIDIA H200", "h200");
    write_v2(dir / "h100.duckdb", "NVIDIA H100 80GB HBM3", "h100");
    auto db = Database::open(dir / "h200.duckdb");
    merge_sources(db, {dir / "h100.duckdb"});
    const std::string h200 = accel::fingerprint_id(fingerprint("NVIDIA H200"));
    const std::string h100 = accel::fingerprint_id(fingerprint("NVIDIA H100 80GB HBM3"));
    ASSERT_NE(h200, h100);
    EXPECT_EQ(db.query("SELECT count(*) FROM machines").rows[0][0], "2");
    EXPECT_EQ(db.query("SELECT id, machine_id FROM results ORDER BY id").rows,
              (std::vector<Row>{{"res-h100", h100}, {"res-h200", h200}}));
    EXPECT_EQ(db.query("SELECT json_extract_string(inventory, '$.devices[1].description') FROM machines "
                       "WHERE id = " + sql_quote(h100)).rows[0][0],
              "NVIDIA H100 80GB HBM3");
}

MachineRecord named(const std::string& cpu) {
    return {.id = "m1", .cpu_model = cpu, .n_logical_cores = 8, .memory_total_bytes = 1ULL << 34,
            .inventory_json = "{}"};
}

TEST(MachineIdentity, MergeMeetingOneIdWithTwoMachinesNamesBoth) {
    accel::test::TempDir dir;
    for (const auto& [file, cpu] : {std::pair{"a.duckdb", "CPU A"}, std::pair{"b.duckdb", "CPU B"}}) {
        auto w = ResultWriter::begin({.db = dir / file}, RunRecord{}, named(cpu), BuildRecord{.accel_version = "x"});
        w.finish();
    }
    auto db = Database::open(dir / "a.duckdb");
    try {
        merge_sources(db, {dir / "b.duckdb"});
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        const std::string m = e.what();
        EXPECT_NE(m.find("CPU A"), std::string::npos) << m;
        EXPECT_NE(m.find("CPU B"), std::string::npos) << m;
        EXPECT_NE(m.find("b.duckdb"), std::string::npos) << m;
    }
    EXPECT_EQ(db.query("SELECT count(*) FROM runs").rows[0][0], "1") << "nothing of b was merged";
}

TEST(MachineIdentity, WriteMeetingOneIdWithTwoMachinesIsRefusedFreeMemoryIsNot) {
    accel::test::TempDir dir;
    auto db = Database::open(dir / "r.duckdb");
    MachineRecord gpu{.id = accel::fingerprint_id(fingerprint("NVIDIA H200")), .cpu_model = "AMD EPYC 9654",
                      .n_logical_cores = 16, .memory_total_bytes = host_memory,
                      .inventory_json = inventory("NVIDIA H200")};
    write_batch(db, {.machines = {named("CPU A"), gpu}});
    MachineRecord later = gpu;  // the same machine read again: other free memory, another driver
    later.inventory_json = R"({"cpu":{"model":"AMD EPYC 9654","logical_cores":16},"memory":{"total_bytes":)"
                           R"(137438953472,"available_bytes":99},"devices":[{"name":"CUDA0","type":"gpu","backend":)"
                           R"("CUDA","description":"NVIDIA H200","memory_total_bytes":150323855360,"memory_free_bytes":)"
                           R"(99,"vendor":{"driver_version":"560.1","compute_capability":"9.0"}}]})";
    EXPECT_NO_THROW(write_batch(db, {.machines = {later}}));
    try {
        write_batch(db, {.machines = {named("CPU B")}});
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("'CPU A'"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'CPU B'"), std::string::npos) << e.what();
    }
    EXPECT_EQ(db.query("SELECT count(*) FROM machines").rows[0][0], "2");
}

}  // namespace
