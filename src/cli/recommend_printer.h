#pragma once

#include <string>

#include "accel/tune/recommend_run.h"

namespace accel::cli {

// accel recommend's output on stdout: the JSON document (--json) or the text, for the model file asked about.
void print_recommendation_json(const tune::RecommendOutcome& out, const std::string& model_path);
void print_recommendation(const tune::RecommendOutcome& out, const std::string& model_path);

}  // namespace accel::cli
