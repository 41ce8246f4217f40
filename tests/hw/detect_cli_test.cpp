// `accel detect` through the real binary: JSON keys the rest of accel relies on, ACCEL_DEVICES, --measure.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/hw/roofline.h"
#include "test_support.h"

namespace {

using accel::test::run_accel;
using nlohmann::json;

TEST(DetectCli, JsonHasTheDocumentedKeys) {
    const auto r = run_accel({"detect", "--json"}, {"ACCEL_DEVICES="});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    EXPECT_EQ(j.at("fingerprint").get<std::string>().size(), 16U);
    const json& cpu = j.at("cpu");
    EXPECT_FALSE(cpu.at("model").get<std::string>().empty());
    EXPECT_EQ(cpu.at("logical_cores").get<long>(), sysconf(_SC_NPROCESSORS_ONLN));
    EXPECT_GE(cpu.at("physical_cores").get<int>(), 1);
    EXPECT_TRUE(cpu.at("features").is_array());
    const json& mem = j.at("memory");
    EXPECT_GT(mem.at("total_bytes").get<uint64_t>(), 0U);
    EXPECT_LE(mem.at("available_bytes").get<uint64_t>(), mem.at("total_bytes").get<uint64_t>());
    EXPECT_TRUE(mem.contains("limit_bytes"));
    EXPECT_TRUE(mem.at("limit_bytes").is_null() || mem.at("limit_bytes").is_number_unsigned());
    ASSERT_TRUE(j.at("devices").is_array());
    ASSERT_FALSE(j.at("devices").empty());
    for (const auto& d : j.at("devices")) {
        for (const char* key : {"id", "name", "type", "backend", "memory_total_bytes", "memory_free_bytes", "usable",
                                "reason"}) {
            EXPECT_TRUE(d.contains(key)) << key << " in " << d.dump();
        }
    }
    const json& cpu_dev = j.at("devices").at(0);
    EXPECT_EQ(cpu_dev.at("id"), "cpu");
    EXPECT_EQ(cpu_dev.at("type"), "cpu");
    EXPECT_EQ(cpu_dev.at("backend"), "CPU");
    EXPECT_EQ(cpu_dev.at("usable"), true);
    EXPECT_FALSE(j.contains("measurements")) << "only with --measure";
    EXPECT_TRUE(j.at("browsers").is_null()) << "only with --browsers";
    EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST(DetectCli, TableIsCompact) {
    const auto r = run_accel({"detect"}, {"ACCEL_DEVICES="});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("\ncpu  "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("fingerprint  "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("usable  reason"), std::string::npos) << r.out;
    EXPECT_LT(std::count(r.out.begin(), r.out.end(), '\n'), 30) << r.out;
}

TEST(DetectCli, AllowListExcludesTheCpu) {
    const auto r = run_accel({"detect", "--json"}, {"ACCEL_DEVICES=cuda0"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j.at("accel_devices"), "cuda0");
    const json& cpu = j.at("devices").at(0);
    EXPECT_EQ(cpu.at("usable"), false);
    EXPECT_EQ(cpu.at("reason"), "not in ACCEL_DEVICES");
    const auto plain = run_accel({"detect", "--json"}, {"ACCEL_DEVICES="});
    EXPECT_EQ(json::parse(plain.out).at("fingerprint"), j.at("fingerprint")) << "ACCEL_DEVICES keeps the fingerprint";
}

TEST(DetectCli, BrowsersOnlyWhenAsked) {
    accel::test::TempDir bin;
    accel::test::write_file(bin / "firefox", "#!/bin/sh\necho 'Mozilla Firefox 128.3.1esr'\n");
    chmod((bin / "firefox").c_str(), 0755);
    const auto r = run_accel({"detect", "--json", "--browsers"}, {"PATH=" + bin.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json b = json::parse(r.out).at("browsers");
    ASSERT_EQ(b.size(), 1U) << b.dump();
    EXPECT_EQ(b.at(0).at("name"), "firefox");
    EXPECT_EQ(b.at(0).at("version"), "Mozilla Firefox 128.3.1esr");
    const auto t = run_accel({"detect", "--browsers"}, {"PATH=" + bin.path().string()});
    EXPECT_NE(t.out.find("browser      firefox Mozilla Firefox 128.3.1esr"), std::string::npos) << t.out;
}

TEST(DetectCli, QuickNeedsMeasure) {
    const auto r = run_accel({"detect", "--quick"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--measure"), std::string::npos) << r.err;
}

TEST(DetectCli, QuickMeasureIsFreshAndNotCached) {
    accel::test::TempDir cache;
    const auto r = run_accel({"detect", "--measure", "--quick", "--json"},
                             {"ACCEL_DEVICES=", "ACCEL_CACHE_DIR=" + cache.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json m = json::parse(r.out).at("measurements");
    EXPECT_EQ(m.at("schema_version"), 1);
    EXPECT_EQ(m.at("source"), "fresh");
    EXPECT_FALSE(m.at("measured_at").get<std::string>().empty());
    EXPECT_GE(m.at("bandwidth").size(), 3U);
    std::vector<std::string> types;
    for (const auto& mm : m.at("matmul")) {
        types.push_back(mm.at("type"));
        EXPECT_GT(mm.at("gflops").at("median").get<double>(), 0.0);
        EXPECT_EQ(mm.at("m"), 256) << "--quick's one shape";
        ASSERT_FALSE(mm.at("trials").empty());
        for (const auto& t : mm.at("trials")) EXPECT_LT(t.at("check_nmse").get<double>(), 1e-3) << mm.at("type");
    }
    EXPECT_EQ(types, (std::vector<std::string>{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_K"}));
    EXPECT_FALSE(std::filesystem::exists(cache / "measure")) << "quick figures must not be cached";
}

TEST(DetectCli, MeasureReadsTheCacheAndSaysSo) {
    accel::test::TempDir cache;
    const std::string env_cache = "ACCEL_CACHE_DIR=" + cache.path().string();
    const auto plain = run_accel({"detect", "--json"}, {"ACCEL_DEVICES="});
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    const std::string fp = json::parse(plain.out).at("fingerprint");
    // A cache file as an earlier --measure on this machine leaves it.
    accel::hw::Roofline r;
    r.fingerprint = fp;
    r.measured_at = "2026-01-02T03:04:05Z";
    r.accel_version = "0.1.0";
    r.duration_s = 2.0;
    r.bandwidth.push_back({.kernel = "read", .threads = 1, .array_bytes = 64 << 20,
                           .gb_per_s = {.median = 19.5, .min = 18, .max = 20, .n = 5}});
    r.matmul.push_back({.device = "cpu", .type = "f32", .m = 2048, .n = 256, .k = 2048, .threads = 2,
                        .gflops = {.median = 39.0, .min = 37, .max = 44, .n = 5}});
    accel::hw::save_roofline(r, cache / "measure" / (fp + ".json"));
    const auto j = run_accel({"detect", "--measure", "--json"}, {"ACCEL_DEVICES=", env_cache});
    ASSERT_EQ(j.exit_code, 0) << j.err;
    const json m = json::parse(j.out).at("measurements");
    EXPECT_EQ(m.at("source"), "cache");
    EXPECT_EQ(m.at("measured_at"), "2026-01-02T03:04:05Z");
    EXPECT_EQ(m.at("matmul").at(0).at("gflops").at("median"), 39.0);
    const auto t = run_accel({"detect", "--measure"}, {"ACCEL_DEVICES=", env_cache});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_NE(t.out.find("measurements from the cache, measured 2026-01-02T03:04:05Z"), std::string::npos) << t.out;
}

}  // namespace
