// A stored run says how to run it again: its full argv and ACCEL_* environment, and rerunning them measures the
// same points.
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

using accel::test::run_accel;
using nlohmann::json;

json query(const std::string& db, const std::string& sql) {
    const auto q = run_accel({"db", "query", sql, "--db", db, "--format", "json"});
    EXPECT_EQ(q.exit_code, 0) << q.err;
    const json doc = json::parse(q.out, nullptr, false);
    return doc.is_object() ? doc.value("rows", json()) : json();
}

// A JSON column as `db query --format json` renders it: embedded, or as text.
json as_json(const json& v) { return v.is_string() ? json::parse(v.get<std::string>()) : v; }

TEST(Rerun, TheStoredCommandMeasuresTheSamePoints) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    accel::test::TempDir dir;
    const std::string db = (dir / "r.duckdb").string();
    const auto first = run_accel({"bench", "-m", stories.string(), "-p", "16,32", "-n", "8,4", "-r", "1", "-t", "1",
                                  "--db", db, "--tag", "first run"},
                                 {"ACCEL_DEVICES=cpu"});
    ASSERT_EQ(first.exit_code, 0) << first.err;

    const json runs = query(db, "SELECT command, extra->'$.provenance.argv' AS argv, "
                                "extra->'$.provenance.environment' AS env FROM runs");
    ASSERT_TRUE(runs.is_array() && runs.size() == 1) << runs.dump();
    const std::string command = runs[0].at("command");
    EXPECT_NE(command.find("ACCEL_DEVICES=cpu "), std::string::npos) << command;
    EXPECT_NE(command.find(" bench -m "), std::string::npos) << command;
    EXPECT_NE(command.find(" -p 16,32 -n 8,4 "), std::string::npos) << command;
    EXPECT_NE(command.find("--tag 'first run'"), std::string::npos) << command;
    const json argv = as_json(runs[0].at("argv"));
    const json env = as_json(runs[0].at("env"));
    ASSERT_GE(argv.size(), 2U);
    EXPECT_EQ(argv[0], std::getenv("ACCEL_BIN"));
    EXPECT_EQ(env.at("ACCEL_DEVICES"), "cpu");

    // Run exactly what was stored (it names the same --db, so the second run lands beside the first).
    std::vector<std::string> again = argv.get<std::vector<std::string>>();
    std::vector<std::string> vars;
    for (const auto& [k, v] : env.items()) vars.push_back(k + "=" + v.get<std::string>());
    const auto second = accel::test::run_process(again, vars);
    ASSERT_EQ(second.exit_code, 0) << second.err;

    const json points = query(db, "SELECT r.started_at, x.scenario, x.device, x.n_prompt, x.n_gen, x.n_threads, "
                                  "x.n_batch, x.n_ubatch, x.type_k, x.type_v, x.flash_attn, x.n_gpu_layers "
                                  "FROM results x JOIN runs r ON r.id = x.run_id ORDER BY ALL");
    ASSERT_TRUE(points.is_array()) << points.dump();
    std::map<std::string, std::set<std::string>> by_run;
    for (json p : points) {
        const std::string started = p.at("started_at").dump();
        p.erase("started_at");
        by_run[started].insert(p.dump());
    }
    ASSERT_EQ(by_run.size(), 2U) << points.dump();
    EXPECT_EQ(by_run.begin()->second.size(), 4U) << "pp16, pp32, tg8, tg4";
    EXPECT_EQ(by_run.begin()->second, by_run.rbegin()->second);
    const json commands = query(db, "SELECT DISTINCT command FROM runs");
    EXPECT_EQ(commands.size(), 1U) << "the rerun stores the same command: " << commands.dump();

    // The report prints it.
    const auto report = run_accel({"report", "--db", db, "--format", "markdown"});
    ASSERT_EQ(report.exit_code, 0) << report.err;
    EXPECT_NE(report.out.find("bench -m " + stories.string() + " -p 16,32 -n 8,4 -r 1 -t 1"), std::string::npos)
        << report.out;
}

}  // namespace
