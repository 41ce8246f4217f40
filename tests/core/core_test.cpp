#include <cstdlib>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/core/fingerprint.h"
#include "accel/core/log.h"
#include "accel/core/partial_file.h"
#include "accel/core/paths.h"
#include "accel/core/sha256.h"
#include "test_support.h"

namespace {

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(accel::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(accel::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, FileMatchesString) {
    accel::test::TempDir dir;
    const std::string content(3 << 20, 'x');  // spans several read blocks
    accel::test::write_file(dir / "f", content);
    EXPECT_EQ(accel::sha256_file(dir / "f"), accel::sha256_hex(content));
}

TEST(Sha256, MissingFileNamesPath) {
    try {
        accel::sha256_file("/nonexistent/model.gguf");
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
    }
}

TEST(Fingerprint, StableAndOrderIndependent) {
    accel::MachineFingerprint a{.cpu_model = "X", .n_logical_cores = 8, .memory_total_bytes = 1 << 30,
                                .device_names = {"CPU", "CUDA0"}};
    accel::MachineFingerprint b = a;
    b.device_names = {"CUDA0", "CPU"};
    EXPECT_EQ(accel::fingerprint_id(a), accel::fingerprint_id(b));
    EXPECT_EQ(accel::fingerprint_id(a).size(), 16u);
    b.n_logical_cores = 16;
    EXPECT_NE(accel::fingerprint_id(a), accel::fingerprint_id(b));
    // v1 (what older accel stored): sha256 over CPU, cores, memory and the sorted device names.
    EXPECT_EQ(accel::fingerprint_id_v1(b), accel::sha256_hex("X\n16\n1073741824\nCPU\nCUDA0").substr(0, 16));
    EXPECT_NE(accel::fingerprint_id(a), accel::fingerprint_id_v1(a));
}

TEST(Fingerprint, AcceleratorsAreThePhysicalGpus) {
    using accel::DeviceFacts;
    const std::vector<DeviceFacts> devices = {
        {.type = "cpu", .backend = "CPU", .name = "CPU", .description = "AMD EPYC", .memory_total_bytes = 1ULL << 36},
        {.type = "accel", .backend = "BLAS", .name = "BLAS", .description = "OpenBLAS"},
        {.type = "gpu", .backend = "CUDA", .name = "CUDA0", .description = "NVIDIA H200", .pci_bus_id = "0000:c1:00.0",
         .memory_total_bytes = 150000ULL << 20},
        {.type = "gpu", .backend = "Vulkan", .name = "Vulkan0", .description = "NVIDIA H200",
         .pci_bus_id = "0000:c1:00.0", .memory_total_bytes = 1, .compute_capability = ""},
        {.type = "gpu", .backend = "", .name = "AMD Instinct MI300X", .description = "AMD Instinct MI300X (ROCm SMI)",
         .memory_total_bytes = 196592ULL << 20, .vendor_memory_total_bytes = 196608ULL << 20},
    };
    const auto acc = accel::accelerators_of(devices);
    ASSERT_EQ(acc.size(), 2U);
    EXPECT_EQ(acc[0], (accel::AcceleratorIdentity{.model = "AMD Instinct MI300X", .memory_total_mib = 196608}));
    EXPECT_EQ(acc[1], (accel::AcceleratorIdentity{.model = "NVIDIA H200", .memory_total_mib = 150000}));
    EXPECT_EQ(accel::accelerators_text(acc), "AMD Instinct MI300X (196608 MiB); NVIDIA H200 (150000 MiB)");
    EXPECT_EQ(accel::accelerators_text({}), "none");
}

TEST(Paths, EnvironmentOverrides) {
    setenv("ACCEL_DATA_DIR", "/tmp/accel-data-x", 1);
    setenv("ACCEL_CACHE_DIR", "/tmp/accel-cache-x", 1);
    setenv("ACCEL_CONFIG", "/tmp/cfg.toml", 1);
    unsetenv("ACCEL_DB");
    EXPECT_EQ(accel::paths::data_dir(), "/tmp/accel-data-x");
    EXPECT_EQ(accel::paths::cache_dir(), "/tmp/accel-cache-x");
    EXPECT_EQ(accel::paths::config_file(), "/tmp/cfg.toml");
    EXPECT_EQ(accel::paths::default_db(), "/tmp/accel-data-x/results.duckdb");
    setenv("ACCEL_DB", "/tmp/r.duckdb", 1);
    EXPECT_EQ(accel::paths::default_db(), "/tmp/r.duckdb");
}

TEST(Paths, DefaultsUnderHome) {
    for (const char* v : {"ACCEL_DATA_DIR", "ACCEL_CACHE_DIR", "ACCEL_CONFIG", "ACCEL_DB", "XDG_DATA_HOME",
                          "XDG_CACHE_HOME", "XDG_CONFIG_HOME"}) {
        unsetenv(v);
    }
    setenv("HOME", "/home/u", 1);
    EXPECT_EQ(accel::paths::data_dir(), "/home/u/.local/share/accel");
    EXPECT_EQ(accel::paths::cache_dir(), "/home/u/.cache/accel");
    EXPECT_EQ(accel::paths::config_file(), "/home/u/.config/accel/config.toml");
    EXPECT_EQ(accel::paths::default_db(), "/home/u/.local/share/accel/results.duckdb");
}

TEST(Log, ParseLevels) {
    EXPECT_EQ(accel::parse_log_level("debug"), accel::LogLevel::debug);
    EXPECT_EQ(accel::parse_log_level("off"), accel::LogLevel::off);
    EXPECT_FALSE(accel::parse_log_level("verbose").has_value());
}

TEST(Log, DisabledLevelDoesNotFormat) {
    accel::set_log_level(accel::LogLevel::error);
    int evaluated = 0;
    auto count = [&] { return ++evaluated; };
    ACCEL_LOG_DEBUG("{}", count());
    EXPECT_EQ(evaluated, 0);
    accel::set_log_level(accel::LogLevel::warn);
}

}  // namespace

// Two writers of one path never share a temporary; an uncommitted temporary is removed; commit replaces the file.
TEST(PartialFile, UniqueTemporariesCommitAndCleanUp) {
    accel::test::TempDir dir;
    const auto out = dir / "model.gguf";
    {
        accel::PartialFile a(out);
        accel::PartialFile b(out);
        EXPECT_NE(a.path(), b.path());
        EXPECT_EQ(a.path().parent_path(), out.parent_path());
        EXPECT_TRUE(accel::is_partial_file_name(a.path().filename().string())) << a.path();
        accel::test::write_file(a.path(), "first");
        accel::test::write_file(b.path(), "second");
        a.commit();
        b.commit();
    }
    EXPECT_EQ(accel::test::read_file(out), "second");
    {
        accel::PartialFile c(out);
        accel::test::write_file(c.path(), "never committed");
    }
    EXPECT_EQ(accel::test::read_file(out), "second");
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        ++n;
        EXPECT_FALSE(accel::is_partial_file_name(e.path().filename().string())) << e.path();
    }
    EXPECT_EQ(n, 1u);
    EXPECT_FALSE(accel::is_partial_file_name("model.gguf"));
}

TEST(PartialFile, CommitWithoutAFileNamesBothPaths) {
    accel::test::TempDir dir;
    accel::PartialFile a(dir / "x.json");
    try {
        a.commit();
        FAIL() << "expected an Error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::io);
        EXPECT_NE(std::string(e.what()).find("x.json"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(a.path().filename().string()), std::string::npos) << e.what();
    }
}

// A parent removes what its killed child left, and only that child's temporaries.
TEST(PartialFile, RemoveTemporariesOfOneWriter) {
    accel::test::TempDir dir;
    const auto out = dir / "r.json";
    accel::test::write_file(dir / ".r.json.partial-111-0", "child");
    accel::test::write_file(dir / ".r.json.partial-222-0", "another process");
    accel::remove_partial_files(out, 111);
    EXPECT_FALSE(std::filesystem::exists(dir / ".r.json.partial-111-0"));
    EXPECT_TRUE(std::filesystem::exists(dir / ".r.json.partial-222-0"));
}
