// Checks the start-up target of `accel detect` (docs/benchmarks.md, hw section): the whole process, without
// --measure, under 100 ms. Also times hw::detect() in-process, which is what the rest of accel pays.
//
//   detect_bench [--accel PATH] [--runs N]   exit 0 when the median is under the target, 3 when not
//   detect_bench --inventory                 prints hw::inventory_json() once (for machines without the CLI)
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "accel/hw/inventory.h"
#include "accel/hw/roofline.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
constexpr double target_ms = 100.0;

double run_once(const std::string& accel) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    std::string a0 = accel;
    std::string a1 = "detect";
    std::string a2 = "--json";
    std::vector<char*> argv = {a0.data(), a1.data(), a2.data(), nullptr};
    const auto t0 = Clock::now();
    pid_t pid = -1;
    if (posix_spawn(&pid, accel.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return -1;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    posix_spawn_file_actions_destroy(&actions);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string accel = ACCEL_BIN_DEFAULT;
    int runs = 20;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--inventory") {
            std::puts(accel::hw::inventory_json(accel::hw::detect()).c_str());
            return 0;
        }
        if (a == "--accel" && i + 1 < argc) {
            accel = argv[++i];
        } else if (a == "--runs" && i + 1 < argc) {
            runs = std::max(1, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: detect_bench [--accel PATH] [--runs N] | --inventory\n");
            return 2;
        }
    }
    std::vector<double> in_process;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        const accel::hw::Inventory inv = accel::hw::detect();
        in_process.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (inv.devices.empty()) {
            std::fprintf(stderr, "detect_bench: hw::detect() found no device\n");
            return 1;
        }
    }
    std::vector<double> process;
    run_once(accel);  // warm-up: page cache, dynamic loader
    for (int i = 0; i < runs; ++i) {
        const double ms = run_once(accel);
        if (ms < 0) {
            std::fprintf(stderr, "detect_bench: '%s detect --json' failed\n", accel.c_str());
            return 1;
        }
        process.push_back(ms);
    }
    const auto p = accel::hw::spread_of(process);
    const auto d = accel::hw::spread_of(in_process);
    fmt::print("accel detect --json (whole process): median {:.1f} ms, min {:.1f}, max {:.1f}, n {}\n", p.median, p.min,
               p.max, p.n);
    fmt::print("hw::detect() in process:             median {:.1f} ms, min {:.1f}, max {:.1f}, n {}\n", d.median, d.min,
               d.max, d.n);
    const bool ok = p.median < target_ms;
    fmt::print("target: under {:.0f} ms: {}\n", target_ms, ok ? "met" : "MISSED");
    return ok ? 0 : 3;
}
