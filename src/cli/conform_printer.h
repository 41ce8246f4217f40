#pragma once
// What `accel conform` prints: the case matrix, one case as JSON, the coverage report.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"

namespace accel::cli {

nlohmann::json result_json(const bench::ConformResult& r);
// One row per architecture x reference x device, one column per type, the first reason that is not a pass.
void print_matrix(const std::vector<bench::ConformResult>& results, const std::vector<std::string>& types);
void print_coverage(const bench::Coverage& c, bool json);

}  // namespace accel::cli
