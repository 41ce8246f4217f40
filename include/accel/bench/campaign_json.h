#pragma once

#include <string>

#include "accel/bench/point_result.h"
#include "accel/bench/point_runner.h"

namespace accel::bench {

// One result as `accel bench --json` prints it: the stored fields plus llama-bench's JSON field names where they
// mean the same (avg_ts, stddev_ts, n_prompt, …), the build, and the run's provenance (a JSON object's text).
std::string result_json_text(const PointResult& r, const std::string& provenance_json);

// A rough duration of one point for --dry-run: load plus (warm-up + repetitions) at an assumed 200 tokens/s
// prompt, 20 tokens/s decode. A guess from assumed speeds, never a measurement.
double estimate_point_seconds(const PointSpec& p, const PointOptions& options);

// A point's spec as a JSON object's text (the keys results store it with) and back, for plans that carry points
// to other machines (fleet/). from_text throws Error{invalid_input} naming origin for a malformed object.
std::string point_spec_json_text(const PointSpec& p);
PointSpec point_spec_from_json_text(const std::string& text, const std::string& origin);

}  // namespace accel::bench
