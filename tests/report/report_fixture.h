#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "accel/store/records.h"

namespace accel::report::test {

// Writes a fixed warehouse through store::ResultWriter: fixed ids and times, so a report of it is exact text.
// Two runs of `accel bench` (a baseline "run-base" and "run-0001" with a slower pp point), one web-bench run with
// a native and a browser result, a server sweep (three loads held to an SLO of p99 <= 60 ms and TTFT p99 <= 6.5 ms,
// the last missing it), a trade-off study, and failures whose text needs escaping.
void write_fixture_db(const std::filesystem::path& db);

// A warehouse for the summary: a baseline run tagged "nightly-s" (tg n=16, default configuration, 20 ms per
// repetition) and run "sum-new" with three configurations of tg n=16 (the default at 25 ms: a planted regression;
// t=1 at 20 ms: the known best, 1.25x; b=512 ub=128 at 25 ms, flagged noisy, with the least memory), two of tg n=32
// (the default at 30 ms and fa=on at 29.7 ms: inside the noise), an INVALID pp point and a failed load on cuda0.
// Energy: the n=16 default read 8 J and t=1 6.4 J on the RAPL package (0.05 and 0.04 J per token); b=512 and the
// n=32 points stored why they have none.
// Each repetition's time is base, base+2%, ..., base+8%, repeated (10 samples).
void write_summary_fixture_db(const std::filesystem::path& db);

// An `accel conform` run "conf-1" on cpu: llama passes in f32 and q4_0, qwen2 fails in f32 (nmse), bert is
// unsupported in f32 (a failure row); the other key classes have no case.
void write_conform_fixture_db(const std::filesystem::path& db);

// Stores `results` as one run `id` on the fixture's machine, with a model row for each distinct model_id (named
// after the result's model_name): for tests that make their records themselves, e.g. bench's measured points.
void write_run_db(const std::filesystem::path& db, const std::string& id, const std::string& command,
                  std::vector<store::ResultRecord> results);

// Writes `accel detect --measure`'s cache for the fixture's machine (this process's ACCEL_CACHE_DIR): cpu read
// bandwidth 40 GB/s and a q4_0 matmul peak of 184 GFLOP/s. Returns the file, for the caller to remove.
// Points ACCEL_CACHE_DIR at a folder of this process's own (once; later calls keep it): report_test and
// report_browser_test both write the fixture machine's roofline into the cache and remove it, and ctest runs them at
// once, so a shared ~/.cache/accel let one's removal race the other's render.
void use_private_cache_dir();

// The fixture machine's roofline in the (private: use_private_cache_dir) cache; returns its path.
std::filesystem::path write_fixture_roofline();

// The model name of the fixture, full of characters that must be escaped in HTML and Markdown.
inline constexpr const char* hostile_model_name = "tiny <b>|model</b> & 'x'";

}  // namespace accel::report::test
