#pragma once

#include <filesystem>

namespace accel::report::test {

// Writes a fixed warehouse through store::ResultWriter: fixed ids and times, so a report of it is exact text.
// Two runs of `accel bench` (a baseline "run-base" and "run-0001" with a slower pp point), one web-bench run with
// a native and a browser result, a server sweep, a trade-off study, and failures whose text needs escaping.
void write_fixture_db(const std::filesystem::path& db);

// The model name of the fixture, full of characters that must be escaped in HTML and Markdown.
inline constexpr const char* hostile_model_name = "tiny <b>|model</b> & 'x'";

}  // namespace accel::report::test
