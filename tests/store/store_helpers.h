#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "accel/store/records.h"
#include "accel/store/result_writer.h"

namespace accel::store::test {

MachineRecord test_machine();
BuildRecord test_build();
// `n` results for one point shape, each with `n_samples` samples of ~duration_ns (times `scale`), tokens n_tokens.
std::vector<ResultRecord> make_results(int n, int n_samples, int64_t duration_ns = 1000000, int32_t n_tokens = 64);
int64_t count(const std::filesystem::path& db, const std::string& sql);

// Forks a writer that commits batches of `batch` results and reports each committed id over a pipe, SIGKILLs it
// after a random delay (seeded), reopens the database and checks every invariant with gtest assertions.
void crash_once(const std::filesystem::path& db, unsigned seed);

}  // namespace accel::store::test
