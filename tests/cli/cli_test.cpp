// The CLI's contract: exit codes, one-line errors, JSON with schema_version. Runs the real binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace {

using accel::test::run_accel;

TEST(Cli, VersionJsonNamesPinnedDependencies) {
    const auto r = run_accel({"version", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    EXPECT_EQ(j.at("llama_cpp_commit"), "de3ff815ea7d559ee917f063901b8986f038abc6");
    EXPECT_EQ(j.at("duckdb_version"), "v1.4.4");
    EXPECT_EQ(j.at("llama_cpp_source"), "pinned");
    ASSERT_TRUE(j.at("ggml_backends").is_array());
    const auto& b = j.at("ggml_backends");
    EXPECT_NE(std::find(b.begin(), b.end(), "CPU"), b.end()) << b.dump();
    EXPECT_FALSE(j.at("accel_version").get<std::string>().empty());
}

TEST(Cli, VersionTable) {
    const auto r = run_accel({"version"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("llama.cpp   de3ff815ea7d559ee917f063901b8986f038abc6"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("duckdb      v1.4.4"), std::string::npos) << r.out;
}

TEST(Cli, UnknownSubcommandIsUsageError) {
    const auto r = run_accel({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
}

// With --help too: a typo must not print the main help and exit 0.
TEST(Cli, UnknownSubcommandWithHelpIsUsageError) {
    for (const std::vector<std::string>& args : {std::vector<std::string>{"NOSUCH", "--help"},
                                                 std::vector<std::string>{"--help", "NOSUCH"},
                                                 std::vector<std::string>{"--log-level", "info", "NOSUCH", "-h"}}) {
        const auto r = run_accel(args);
        EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1];
        EXPECT_NE(r.err.find("unknown subcommand 'NOSUCH'"), std::string::npos) << r.err;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
    // A known subcommand's help is still help.
    EXPECT_EQ(run_accel({"version", "--help"}).exit_code, 0);
}

TEST(Cli, UnknownFlagIsUsageError) {
    const auto r = run_accel({"version", "--bogus"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
}

// CLI11 reads "-5" into an unsigned option as 2^64 - 5 (strtoull wraps): every unsigned flag must refuse it.
TEST(Cli, NegativeValueOfAnUnsignedFlagIsUsageError) {
    const std::vector<std::vector<std::string>> cases = {
        {"serve", "--cache-ram", "-5"}, {"serve", "--ctx", "-1"},   {"generate", "--seed", "-1"},
        {"generate", "--ctx", "-1"},    {"inspect", "x", "--ctx", "-1"}, {"bench", "--seed", "-1"},
        {"conform", "--seed", "-1"},    {"make-model", "--seed", "-1"}};
    for (const auto& args : cases) {
        const auto r = run_accel(args);
        EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[args.size() - 2];
        const std::string first = r.err.substr(0, r.err.find('\n'));  // the error; then the usual pointer to --help
        EXPECT_EQ(first, "accel: error: " + args[args.size() - 2] + ": must be non-negative, not -" +
                             args.back().substr(1))
            << r.err;
    }
}

TEST(Cli, NoSubcommandIsUsageError) {
    EXPECT_EQ(run_accel({}).exit_code, 2);
}

TEST(Cli, HelpDocumentsExitCodes) {
    const auto r = run_accel({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
    EXPECT_NE(r.out.find("3  the command ran but its check failed"), std::string::npos);
}

TEST(Cli, MissingModelNamesPath) {
    const auto r = run_accel({"generate", "--model", "/no/such/model.gguf", "--prompt", "x"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.signal, 0);
    EXPECT_NE(r.err.find("/no/such/model.gguf"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, GarbageGgufFailsCleanly) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "garbage.gguf", std::string(4096, '\x5a'));
    const auto r = run_accel({"generate", "--model", (dir / "garbage.gguf").string(), "--prompt", "x"});
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("garbage.gguf"), std::string::npos) << r.err;
}

TEST(Cli, GgufMagicWithGarbageFailsCleanly) {
    accel::test::TempDir dir;
    std::string bytes = "GGUF";
    bytes += std::string("\x03\x00\x00\x00", 4);       // version 3
    bytes += std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8);  // absurd tensor count
    bytes += std::string(64, '\x01');
    accel::test::write_file(dir / "bad.gguf", bytes);
    const auto r = run_accel({"generate", "--model", (dir / "bad.gguf").string(), "--prompt", "x"});
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("bad.gguf"), std::string::npos) << r.err;
}

TEST(Cli, DbQueryRoundTripAndFormats) {
    accel::test::TempDir dir;
    const std::string db = (dir / "r.duckdb").string();
    ASSERT_EQ(run_accel({"db", "query", "CREATE TABLE t(a INTEGER, b VARCHAR); INSERT INTO t VALUES (1,'x,y')", "--db", db})
                  .exit_code,
              0);
    auto r = run_accel({"db", "query", "SELECT a, b FROM t", "--db", db, "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "a,b\n1,\"x,y\"\n");
    r = run_accel({"db", "query", "SELECT a, b FROM t", "--db", db, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("schema_version"), 1);
    EXPECT_EQ(j.at("rows")[0].at("a"), 1);
    EXPECT_EQ(j.at("rows")[0].at("b"), "x,y");
    r = run_accel({"db", "query", "SELECT a, b FROM t", "--db", db});
    EXPECT_EQ(r.out, "a  b\n-  ---\n1  x,y\n");
}

TEST(Cli, DbQueryUsesAccelDbEnvironment) {
    accel::test::TempDir dir;
    const std::string db = (dir / "env.duckdb").string();
    const auto r = run_accel({"db", "query", "SELECT 42 AS answer", "--format", "csv"}, {"ACCEL_DB=" + db});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "answer\n42\n");
    EXPECT_TRUE(std::filesystem::exists(db));
}

TEST(Cli, DbQuerySyntaxErrorExits2WithDuckDbMessage) {
    accel::test::TempDir dir;
    const auto r = run_accel({"db", "query", "SELEC 1", "--db", (dir / "r.duckdb").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("syntax error"), std::string::npos) << r.err;
}

TEST(Cli, MakeModelRefusesUnsavableArchitecture) {
    accel::test::TempDir dir;
    const auto r = run_accel({"make-model", "--arch", "t5", "--params", "1M", "--out", (dir / "t5.gguf").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.signal, 0);
    EXPECT_NE(r.err.find("cannot save t5"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("accel convert HF_DIR"), std::string::npos) << r.err;  // what to do instead
    EXPECT_FALSE(std::filesystem::exists(dir / "t5.gguf"));
}

TEST(Cli, MakeModelRejectsBadSize) {
    accel::test::TempDir dir;
    const auto r = run_accel({"make-model", "--params", "lots", "--out", (dir / "m.gguf").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("'lots'"), std::string::npos) << r.err;
}

TEST(Cli, MakeModelHelpSaysWeightsAreRandom) {
    const auto r = run_accel({"make-model", "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("RANDOM WEIGHTS"), std::string::npos);
}

}  // namespace
