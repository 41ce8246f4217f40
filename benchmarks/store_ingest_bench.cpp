// Ingest rate of the results warehouse through ResultWriter (DuckDB appender, one transaction per call).
// Usage: store_ingest_bench [n_results=200000] [n_sample_results=20000] [samples_per_result=100]
// Prints one line per measurement; every figure is measured here, on this machine.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "accel/store/database.h"
#include "accel/store/result_writer.h"

namespace {

using namespace accel::store;

std::vector<ResultRecord> results(int n, int n_samples) {
    std::vector<ResultRecord> out(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        ResultRecord& r = out[static_cast<size_t>(i)];
        r.model_id = "name:bench";
        r.model_name = "bench";
        r.scenario = i % 2 ? "tg" : "pp";
        r.device = "cpu";
        r.n_prompt = 512;
        r.n_gen = 0;
        r.n_batch = 2048;
        r.n_ubatch = 512;
        r.n_threads = 2;
        r.type_k = "f16";
        r.type_v = "f16";
        r.flash_attn = false;
        r.avg_ts = 100.0 + i % 7;
        r.avg_ns = 5.0e6;
        r.samples.reserve(static_cast<size_t>(n_samples));
        for (int s = 0; s < n_samples; ++s) {
            r.samples.push_back(SampleRecord{.seq = s, .duration_ns = 5000000 + s, .n_tokens = 512});
        }
    }
    return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    const int n_results = argc > 1 ? std::atoi(argv[1]) : 200000;
    const int n_sample_results = argc > 2 ? std::atoi(argv[2]) : 20000;
    const int per = argc > 3 ? std::atoi(argv[3]) : 100;
    const auto dir = std::filesystem::temp_directory_path() / ("accel-store-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto db = dir / "bench.duckdb";
    MachineRecord m{.id = "benchmachine0001",
                    .cpu_model = "",
                    .n_logical_cores = 0,
                    .memory_total_bytes = 0,
                    .device_names = "",
                    .hostname = "",
                    .inventory_json = "{}"};
    int rc = 0;
    try {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{.command = "store_ingest_bench"},
                                     m, BuildRecord{});
        auto rs = results(n_results, 0);
        auto t0 = std::chrono::steady_clock::now();
        w.add_results(std::move(rs));
        const double t_results = seconds_since(t0);
        std::printf("results: %d rows in %.3f s = %.0f rows/s (one transaction, incl. open/commit/close)\n", n_results,
                    t_results, n_results / t_results);
        auto ss = results(n_sample_results, per);
        t0 = std::chrono::steady_clock::now();
        w.add_results(std::move(ss));
        const double t_samples = seconds_since(t0);
        const double n_samples = static_cast<double>(n_sample_results) * per;
        std::printf("samples: %.0f rows (+%d result rows) in %.3f s = %.0f sample rows/s\n", n_samples,
                    n_sample_results, t_samples, n_samples / t_samples);
        // Small batches, as a benchmark run writes them: the cost of open-write-close per transaction.
        constexpr int n_batches = 50;
        t0 = std::chrono::steady_clock::now();
        for (int b = 0; b < n_batches; ++b) w.add_results(results(100, 10));
        const double t_batches = seconds_since(t0);
        std::printf("batches: %d transactions of 100 results x 10 samples in %.3f s = %.1f ms per transaction\n",
                    n_batches, t_batches, 1000 * t_batches / n_batches);
        w.finish();
        if (n_results / t_results < 100000 || n_samples / t_samples < 1000000) {
            std::printf("below target (100k result rows/s, 1M sample rows/s)\n");
            rc = 3;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "store_ingest_bench: %s\n", e.what());
        rc = 1;
    }
    std::filesystem::remove_all(dir);
    return rc;
}
