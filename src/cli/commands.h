#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace accel::cli {

// Exit codes, the same for every subcommand (documented in `accel --help` and docs/cli.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_runtime = 1;  // I/O, backend, out of memory
inline constexpr int exit_usage = 2;    // usage or invalid input
inline constexpr int exit_check = 3;    // the command ran, but the check it performs failed

// For numeric flags that must not be negative. CLI11 2.1 reads "-5" into an unsigned option as 2^64 - 5 (strtoull),
// and its own NonNegativeNumber says "not in range 0.000000 to 1797...": this one says what is wrong in a sentence.
inline const CLI::Validator non_negative{
    [](const std::string& v) { return !v.empty() && v.front() == '-' ? "must be non-negative, not " + v : std::string(); },
    "NONNEG"};

// Each subcommand registers itself on the app; its callback stores its exit code in `exit_code`.
// Callbacks may throw accel::Error; main() maps it to an exit code and a one-line message.
void register_version(CLI::App& app, int& exit_code);
void register_generate(CLI::App& app, int& exit_code);
void register_make_model(CLI::App& app, int& exit_code);
void register_embed(CLI::App& app, int& exit_code);
void register_infer(CLI::App& app, int& exit_code);     // cmd_infer.cpp (engine/image_classifier)
void register_bench(CLI::App& app, int& exit_code);
void register_db(CLI::App& app, int& exit_code);        // cmd_db.cpp (store/)
void register_detect(CLI::App& app, int& exit_code);    // cmd_detect.cpp (hw/)
void register_inspect(CLI::App& app, int& exit_code);   // cmd_inspect.cpp (model/)
void register_classify(CLI::App& app, int& exit_code);  // cmd_classify.cpp (model/)
void register_conform(CLI::App& app, int& exit_code);   // cmd_conform.cpp (bench/ conformance)
void register_web_bench(CLI::App& app, int& exit_code); // cmd_web_bench.cpp (web/)
void register_report(CLI::App& app, int& exit_code);     // cmd_report.cpp (report/)
void register_recommend(CLI::App& app, int& exit_code);  // cmd_recommend.cpp (tune/)
void register_quantize(CLI::App& app, int& exit_code);   // cmd_quantize.cpp: quantize and imatrix (engine/)
void register_perplexity(CLI::App& app, int& exit_code); // cmd_perplexity.cpp (engine/quality)
void register_tradeoffs(CLI::App& app, int& exit_code);  // cmd_tradeoffs.cpp (bench/tradeoffs)
void register_convert(CLI::App& app, int& exit_code);    // cmd_convert.cpp (model/hf_convert)
void register_serve(CLI::App& app, int& exit_code);       // cmd_serve.cpp (serve/)
void register_plan(CLI::App& app, int& exit_code);       // cmd_plan.cpp (fleet/)
void register_run_shard(CLI::App& app, int& exit_code);  // cmd_run_shard.cpp (fleet/)
void register_validate_load(CLI::App& app, int& exit_code);  // cmd_validate_load.cpp: hidden helper entry (pool)

}  // namespace accel::cli
