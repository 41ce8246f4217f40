#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/conformance_model.h"
#include "accel/engine/synthetic_model.h"
#include "accel/store/result_writer.h"

namespace accel::bench {

// not_yet: a Hugging Face class accel has no converter, engine or fixture for yet (the reason says which); like
// unsupported, it is not a failure.
enum class ConformStatus : uint8_t { pass, fail, unsupported, not_yet };
std::string_view to_string(ConformStatus s);  // "pass", "fail", "unsupported", "not yet"
ConformStatus parse_conform_status(std::string_view text);  // to_string's names; anything else is fail

// One measured figure of a case against transformers, with its limit from model::hf_limits().
struct ConformMetric {
    std::string name;   // model::to_string(HfMetric): "logits_rel", "top1", ...
    double value = 0;
    double limit = 0;
    bool higher_is_better = false;  // value >= limit passes; else value <= limit
};

// A case passes when nmse <= max_nmse, top-1 agreement >= min_top1 and the save/reload round trip gives
// bit-identical outputs. See docs/conform.md for how the figures were chosen.
struct ConformThreshold {
    double max_nmse = 0;
    double min_top1 = 0;
};
ConformThreshold conform_threshold(engine::WeightType type);

// What one case (architecture variant x device x weight type) gave.
struct ConformResult {
    std::string arch;        // engine::ConformanceArch::id() ("llama", "llama-moe", ...), or the Hugging Face
                             // model_type of a case against transformers ("llama", "bert", "vit")
    std::string llama_arch;  // llama.cpp's architecture name
    std::string device;      // ggml device name, lower case
    std::string type;        // f32, f16, q8_0, q4_0
    ConformStatus status = ConformStatus::fail;
    std::string stage;       // where it ended: build, quantize, reference, run, compare, done
    std::string reason;      // one line; empty for a pass
    bool loaded = false;
    std::optional<double> load_ms, nmse, top1;
    std::optional<bool> round_trip_identical;
    std::optional<double> round_trip_max_abs;
    std::string output_kind;  // "logits" or "embeddings"
    int signal = 0;           // the signal that ended the child process, 0 if none
    double wall_ms = 0;       // the whole case, child process included
    std::filesystem::path model_path;  // the model file of this type, when it was made
    std::string model_sha256;
    int64_t model_bytes = 0;
    std::string reference;   // what the output was compared with: "accel cpu f32" or "transformers <version>"
    std::vector<ConformMetric> metrics;  // cases against transformers: every figure and its limit
};

// The reference of the cases against llama.cpp itself.
inline constexpr std::string_view conform_self_reference = "accel cpu f32";
// Whether r is a case against transformers (a Hugging Face class), not one against llama.cpp itself.
inline bool against_transformers(const ConformResult& r) {
    return !r.reference.empty() && r.reference != conform_self_reference;
}

struct ConformOptions {
    // Variant ids or llama.cpp names (both variants), and Hugging Face model_types of the key classes
    // (bench/hf_conformance.h: hf_classes()); a name that is both selects both. Empty: all.
    std::vector<std::string> archs;
    std::vector<std::string> devices;         // ggml device names; empty: every device ggml exposes
    std::vector<engine::WeightType> types{engine::WeightType::f32, engine::WeightType::f16, engine::WeightType::q8_0,
                                          engine::WeightType::q4_0};
    uint64_t seed = 1;
    std::filesystem::path model_dir;  // models are cached in <model_dir>/<arch>-s<seed>/; empty: cache_dir()/models/conform
    std::filesystem::path vocab_dir;  // llama.cpp's ggml-vocab-*.gguf
    int32_t n_threads = 2;
    int timeout_s = 120;              // per case; a case past it is killed and recorded as a fail
    // Also run the cases against transformers for the Hugging Face classes among `archs` (all 13 when archs is
    // empty), after the others (`accel conform` does).
    bool against_transformers = false;
    // The committed Hugging Face fixtures (tests/fixtures/hf of the source tree); empty: the cases against
    // transformers are `not yet` for want of a fixture.
    std::filesystem::path hf_fixtures;
    std::function<void(const ConformResult&)> on_result;  // called after each case, in order
};

// The architecture variants the options select; Hugging Face class names that are no llama.cpp architecture
// select none. Throws Error{invalid_input} naming a name that is neither.
std::vector<engine::ConformanceArch> select_architectures(const std::vector<std::string>& names);

// Runs every case, each in a child process (fork), so that an abort or a crash in llama.cpp is recorded as a fail
// with its signal and the suite goes on. Variants llama.cpp cannot build, save or load on the CPU are
// `unsupported` with the reason. Test-only: ACCEL_CONFORM_PERTURB=<arch id> negates that architecture's device
// output, so its cases must fail; ACCEL_CONFORM_CRASH=<arch id> aborts its cases' child processes. Throws Error{invalid_input} for an unknown architecture or device.
std::vector<ConformResult> run_conformance(const ConformOptions& opts);

// Stores the cases as one run (command "conform"): a results row (scenario "conform", valid = pass) for each case
// that was measured, a failures row (stage "unsupported", or where it failed) for the others, and a models row per
// architecture and type, so the `compatibility` view shows arch x device x type -> status with evidence ids.
// Returns the run id.
std::string store_conformance(const std::vector<ConformResult>& results, const store::WriterOptions& writer,
                              const std::string& command_line, uint64_t seed);

// How many Hugging Face model types of the knowledge table this build converts, runs, and passes against
// transformers: a type runs only when a case for its llama.cpp architecture passed in `results`, and passes against
// transformers only when its cases against transformers in `results` all passed (at least one).
struct CoverageGroup {
    std::string family, subfamily;
    int n_types = 0, n_mapped = 0, n_runnable = 0;
    int n_convertible = 0;       // accel convert takes the type's checkpoints (model::convertible_model_types())
    int n_transformers_pass = 0;
};
struct CoverageType {
    std::string model_type, family, subfamily, llama_arch;  // llama_arch "" when none runs it
    std::string status;  // "runnable", "failed", "unsupported", "not run", "no llama.cpp architecture"
    bool convertible = false;
    std::string transformers;         // against transformers: "pass", "fail", "not yet", or "not run" (a class
                                      // with a case that `results` does not hold)
    std::string transformers_reason;  // why not a pass: the first failing or not-yet case's reason
};
struct Coverage {
    int n_types = 0, n_mapped = 0, n_runnable = 0, n_convertible = 0, n_transformers_pass = 0;
    std::vector<CoverageGroup> groups;  // sorted by family, subfamily
    std::vector<CoverageType> key_types;  // the 13 key classes, sorted: the headline
};
const std::vector<std::string>& coverage_key_types();  // bert, clap, clip, ... xclip
std::vector<std::string> knowledge_table_archs();       // llama.cpp architectures the knowledge table names
Coverage compute_coverage(const std::vector<ConformResult>& results);
// What `accel conform --coverage` runs: the knowledge table's architectures that the suite can build.
std::vector<std::string> coverage_architectures();

struct ConformTally {
    int n_pass = 0, n_fail = 0, n_unsupported = 0, n_not_yet = 0;
};
ConformTally tally(const std::vector<ConformResult>& results);

}  // namespace accel::bench
