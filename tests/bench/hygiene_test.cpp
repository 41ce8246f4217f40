// What accel records about the machine around a measurement, checked against fixture trees and hand-computed
// values: RAPL energy (with counter wrap-around), run hygiene, --cpu-mask; and --find-peak on a real model.
#include <sched.h>

#include <algorithm>

#include <gtest/gtest.h>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/run_hygiene.h"
#include "accel/core/error.h"
#include "test_support.h"

namespace {

using namespace accel;
using accel::test::TempDir;
using accel::test::write_file;

// A powercap tree as Linux lays it out: a package domain, its DRAM subdomain, and a non-RAPL zone to ignore.
void write_rapl(const TempDir& root, uint64_t package_uj, uint64_t dram_uj) {
    const auto base = root / "sys/class/powercap";
    write_file(base / "intel-rapl:0/name", "package-0\n");
    write_file(base / "intel-rapl:0/energy_uj", std::to_string(package_uj) + "\n");
    write_file(base / "intel-rapl:0/max_energy_range_uj", "262143328850\n");
    write_file(base / "intel-rapl:0:0/name", "dram\n");
    write_file(base / "intel-rapl:0:0/energy_uj", std::to_string(dram_uj) + "\n");
    write_file(base / "intel-rapl:0:0/max_energy_range_uj", "65712999613\n");
    write_file(base / "dtpm/name", "dtpm\n");
}

TEST(Rapl, ReadsEveryDomainByNameAndZone) {
    TempDir root;
    write_rapl(root, 1'500'000, 250'000);
    const bench::EnergyReading r = bench::read_energy(root.path());
    ASSERT_TRUE(r.available) << r.reason;
    ASSERT_EQ(r.uj.size(), 2U) << "dtpm is not a RAPL zone";
    EXPECT_EQ(r.uj[0].first, "package-0(intel-rapl:0)");
    EXPECT_EQ(r.uj[0].second, 1'500'000U);
    EXPECT_EQ(r.uj[1].first, "dram(intel-rapl:0:0)");
    EXPECT_EQ(r.uj[1].second, 250'000U);
}

TEST(Rapl, JoulesBetweenReadingsIncludingAWrappedCounter) {
    TempDir root;
    write_rapl(root, 262'143'000'000, 1'000'000);
    const bench::EnergyReading a = bench::read_energy(root.path());
    write_rapl(root, 500'000, 3'500'000);  // the package counter wrapped past max_energy_range_uj
    const bench::EnergyReading b = bench::read_energy(root.path());
    const auto j = bench::energy_between(a, b, root.path());
    ASSERT_TRUE(j.has_value());
    ASSERT_EQ(j->size(), 2U);
    // (262143328850 - 262143000000) + 500000 = 828850 uJ
    EXPECT_DOUBLE_EQ((*j)[0].second, 0.828850);
    EXPECT_DOUBLE_EQ((*j)[1].second, 2.5);
}

TEST(Rapl, UnavailableWithTheReason) {
    TempDir none;
    const bench::EnergyReading r = bench::read_energy(none.path());
    EXPECT_FALSE(r.available);
    EXPECT_EQ(r.reason, "no RAPL powercap domains under /sys/class/powercap (VM, or a CPU without RAPL)");
    EXPECT_FALSE(bench::energy_between(r, r, none.path()).has_value());

    TempDir locked;  // since Linux 5.10 energy_uj is root-only: here it is simply missing
    write_file(locked / "sys/class/powercap/intel-rapl:0/name", "package-0\n");
    const bench::EnergyReading l = bench::read_energy(locked.path());
    EXPECT_FALSE(l.available);
    EXPECT_EQ(l.reason, "cannot read " + (locked / "sys/class/powercap/intel-rapl:0/energy_uj").string() +
                            " (since Linux 5.10 it needs root)");
}

TEST(Hygiene, ReadsGovernorBiasAndLoadFromTheRoot) {
    TempDir root;
    write_file(root / "sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance\n");
    write_file(root / "sys/devices/system/cpu/cpu0/cpufreq/energy_performance_preference", "balance_power\n");
    write_file(root / "proc/loadavg", "1.50 0.75 0.25 2/300 12345\n");
    write_file(root / "proc/stat", "cpu  100 0 50 1000 10 0 0 0 0 0\n");
    const bench::Hygiene h = bench::read_hygiene(root.path());
    EXPECT_EQ(h.governor, "performance");
    EXPECT_EQ(h.energy_perf_bias, "balance_power");
    EXPECT_DOUBLE_EQ(h.loadavg_1m, 1.5);
    EXPECT_EQ(h.other_cpu_percent, -1) << "a /proc/stat that does not move gives no share, not 0%";
    EXPECT_FALSE(h.affinity.empty());

    TempDir bare;
    const bench::Hygiene b = bench::read_hygiene(bare.path());
    EXPECT_EQ(b.governor, "unavailable: no cpufreq in this kernel or VM");
    EXPECT_EQ(b.energy_perf_bias, "unavailable: not exposed by the driver");
    EXPECT_EQ(b.loadavg_1m, -1);
}

std::vector<int> affinity() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> out;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return out;
    for (int i = 0; i < CPU_SETSIZE; ++i) {
        if (CPU_ISSET(i, &set)) out.push_back(i);
    }
    return out;
}

TEST(CpuMask, RestrictsThisProcessToTheMaskedCpus) {
    const std::vector<int> before = affinity();
    ASSERT_FALSE(before.empty());
    const int first = before.front();
    const std::string mask = fmt::format("0x{:x}", 1ULL << first);
    cpu_set_t saved;
    ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
    bench::apply_cpu_mask(mask);
    EXPECT_EQ(affinity(), std::vector<int>{first});
    ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
    EXPECT_EQ(affinity(), before);
}

TEST(CpuMask, BadMasksNameTheFlag) {
    EXPECT_EQ(test::thrown_message<Error>([] { bench::apply_cpu_mask("zz"); }),
              "--cpu-mask zz: expected a hex mask such as 0x3");
    EXPECT_EQ(test::thrown_message<Error>([] { bench::apply_cpu_mask("0x"); }),
              "--cpu-mask 0x: expected a hex mask such as 0x3");
    EXPECT_EQ(test::thrown_message<Error>([] { bench::apply_cpu_mask("0x0"); }), "--cpu-mask 0x0 selects no CPU");
}

// --find-peak on stories260K: whatever this machine's edge is, the figures must agree with each other.
TEST(FindPeak, OnARealModelThePeakIsTheBestPassingProbe) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    const auto r = test::run_accel({"bench", "-m", stories.string(), "--scenario", "server", "--find-peak",
                                    "--slo-p99-ms", "200", "--qps", "20", "--queries", "20", "-p", "8", "-n", "4",
                                    "-t", "1", "--no-store", "--json"},
                                   {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto res = nlohmann::json::parse(r.out).at("results").at(0);
    const auto& s = res.at("server");
    const auto& probes = s.at("probes");
    ASSERT_FALSE(probes.empty());
    EXPECT_LE(probes.size(), 12U);
    double best = 0;
    for (const auto& p : probes) {
        const bool pass = p.at("pass");
        EXPECT_EQ(pass, p.at("p99_ms").get<double>() <= 200.0) << p.dump();
        if (pass) best = std::max(best, p.at("qps").get<double>());
    }
    ASSERT_GT(best, 0) << "stories260K meets a 200 ms p99 at some rate on any machine: " << s.dump();
    EXPECT_EQ(s.at("peak_qps").get<double>(), best);
    EXPECT_EQ(s.at("target_qps").get<double>(), best) << "the stored figures are the peak probe's";
    EXPECT_EQ(s.at("slo_pass"), true);
    EXPECT_EQ(res.at("valid"), true);
}

}  // namespace
