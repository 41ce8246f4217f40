#pragma once
// Internal to bench/: one conformance case in a forked child process, and its result as JSON across the fork.
#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "accel/bench/conformance.h"

namespace accel::bench::detail {

nlohmann::json to_json(const ConformResult& r);
ConformResult from_json(const nlohmann::json& j);

struct ChildFiles {
    std::filesystem::path result, stage, log;  // the child's result (JSON), the stage it reached, its stderr
};
void write_stage(const ChildFiles& f, const char* stage);

struct ChildOutcome {
    ConformResult result;  // the child's result, or `base` with the stage reached and why it ended
    bool died = false;     // crashed, exited without a result, or timed out (result.status is fail)
    pid_t pid = 0;
};

// Runs `body` in a forked child with stderr to f.log; the child writes its result to f.result. A signal, an exit
// without a result or `timeout_s` passing (the child is killed) ends in `base` with status fail, the stage from
// f.stage, the signal and the last abort message on its stderr. Removes f's files afterwards.
ChildOutcome run_in_child(const ConformResult& base, const ChildFiles& f, int timeout_s,
                          const std::function<ConformResult()>& body);

}  // namespace accel::bench::detail

namespace accel::bench::detail {

// The cases against transformers (hf_conformance.cpp) for the key classes among `names` (all when empty, or
// "all"), on each device in each type, each in a child process. Work files go to <model_dir>/hf-<class>/.
std::vector<ConformResult> run_hf_cases(const std::vector<std::string>& names, const std::vector<std::string>& devices,
                                        const ConformOptions& opts, const std::filesystem::path& model_dir);

}  // namespace accel::bench::detail
