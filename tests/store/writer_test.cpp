#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "accel/core/error.h"
#include "accel/store/database.h"
#include "accel/store/record_batch.h"
#include "accel/store/result_writer.h"
#include "store_helpers.h"
#include "test_support.h"

namespace {

using namespace accel::store;
using accel::store::test::count;
using accel::store::test::make_results;
using accel::store::test::test_build;
using accel::store::test::test_machine;

TEST(ResultWriter, WritesRunResultsSamplesFailuresWithValidReferences) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    std::string run_id;
    {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"},
                                     RunRecord{.command = "accel bench", .tags = {"nightly", "ci"}}, test_machine(),
                                     test_build());
        run_id = w.run_id();
        EXPECT_EQ(open_instance_count(), 0u) << "the writer must not hold the file between transactions";
        EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);
        EXPECT_EQ(w.add_model(ModelRecord{.id = "name:tiny", .name = "tiny", .architecture = "llama"}),
                  WriteOutcome::stored);
        EXPECT_EQ(w.add_results(make_results(3, 4)), WriteOutcome::stored);
        w.add_failures({FailureRecord{.scenario = "tg", .device = "cpu", .stage = "load", .reason = "out of memory"}});
        EXPECT_EQ(w.finish(), WriteOutcome::stored);
        EXPECT_FALSE(w.spooling());
    }
    auto d = Database::open(db);
    EXPECT_EQ(d.query("SELECT status, tags, pid > 0, host IS NOT NULL FROM runs").rows[0],
              (std::vector<std::optional<std::string>>{"complete", "nightly,ci", "true", "true"}));
    EXPECT_EQ(d.query("SELECT count(*), sum(n_samples) FROM results WHERE run_id = " + sql_quote(run_id)).rows[0],
              (std::vector<std::optional<std::string>>{"3", "12"}));
    EXPECT_EQ(d.query("SELECT count(*) FROM samples").rows[0][0], "12");
    EXPECT_EQ(d.query("SELECT reason FROM failures").rows[0][0], "out of memory");
    // References, enforced in code instead of FOREIGN KEYs.
    EXPECT_EQ(d.query("SELECT count(*) FROM results r WHERE r.machine_id NOT IN (SELECT id FROM machines) OR "
                      "r.build_id NOT IN (SELECT id FROM builds) OR r.run_id NOT IN (SELECT id FROM runs)")
                  .rows[0][0],
              "0");
    // UUID v4 ids.
    EXPECT_EQ(d.query("SELECT count(*) FROM results WHERE regexp_matches(id, "
                      "'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')")
                  .rows[0][0],
              "3");
}

TEST(ResultWriter, ResultForUnknownRunIsRejected) {
    accel::test::TempDir dir;
    auto d = Database::open(dir / "r.duckdb");
    RecordBatch b;
    b.results = make_results(1, 1);
    b.results[0].id = "x";
    b.results[0].run_id = "no-such-run";
    Transaction tx(d);
    try {
        write_batch(d, b);
        FAIL() << "expected an error";
    } catch (const accel::Error& e) {
        EXPECT_EQ(e.kind(), accel::ErrorKind::invalid_input);
        EXPECT_NE(std::string(e.what()).find("no-such-run"), std::string::npos);
    }
}

TEST(ResultWriter, UnfinishedRunIsInterruptedAndLiveRunStaysRunning) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{}, test_machine(), test_build());
        w.add_results(make_results(2, 1));
        // A reader in another process sees the live run as running while the writer is between transactions.
        const auto r =
            accel::test::run_accel({"db", "query", "--db", db.string(), "--format", "csv", "SELECT status FROM runs"});
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "status\nrunning\n");
    }
    EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'interrupted'"), 1);
}

TEST(ResultWriter, CrashLoopKeepsEveryReportedResult) {
    accel::test::TempDir dir;
    for (unsigned i = 0; i < 3; ++i) {
        accel::store::test::crash_once(dir / "crash.duckdb", 1000 + i);
        if (HasFatalFailure() || HasFailure()) return;
    }
    EXPECT_EQ(count(dir / "crash.duckdb", "SELECT count(*) FROM runs WHERE status <> 'interrupted'"), 0);
}

TEST(ResultWriter, TwoConcurrentWriterProcessesStoreExactly4000) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    ASSERT_EQ(open_instance_count(), 0u);
    std::vector<pid_t> kids;
    for (int k = 0; k < 2; ++k) {
        const pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            try {
                auto w = ResultWriter::begin(
                    {.db = db, .spool_dir = dir / "spool", .lock_wait = std::chrono::milliseconds(120000)}, RunRecord{},
                    test_machine(), test_build());
                for (int b = 0; b < 20; ++b) {
                    if (w.add_results(make_results(100, 2)) != WriteOutcome::stored) _exit(4);
                }
                w.finish();
            } catch (...) {
                _exit(3);
            }
            _exit(0);
        }
        kids.push_back(pid);
    }
    for (pid_t p : kids) {
        int status = 0;
        waitpid(p, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer status " << status;
    }
    EXPECT_EQ(count(db, "SELECT count(*) FROM results"), 4000);
    EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'complete'"), 2);
    EXPECT_FALSE(std::filesystem::exists(dir / "spool"));
}

TEST(ResultWriter, BusyDatabaseSpoolsAndIngestLoadsIt) {
    accel::test::TempDir dir;
    const auto db = dir / "r.duckdb";
    std::string run_id;
    { auto d = Database::open(db); }
    // Another process holds the file: a child that opens it, says so, and waits to be told to let go.
    int ready[2];
    int release[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(release), 0);
    const pid_t holder = fork();
    if (holder == 0) {
        auto d = Database::open(db);
        char c = 0;
        if (write(ready[1], "x", 1) != 1) _exit(2);
        if (read(release[0], &c, 1) < 0) _exit(2);
        _exit(0);
    }
    char c = 0;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    {
        auto w =
            ResultWriter::begin({.db = db, .spool_dir = dir / "spool", .lock_wait = std::chrono::milliseconds(200)},
                                RunRecord{}, test_machine(), test_build());
        run_id = w.run_id();
        EXPECT_TRUE(w.spooling());
        EXPECT_EQ(w.add_results(make_results(5, 3)), WriteOutcome::spooled);
        w.finish();
    }
    ASSERT_EQ(write(release[1], "x", 1), 1);
    int status = 0;
    waitpid(holder, &status, 0);
    for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);
    const auto spool = dir / "spool" / (run_id + ".jsonl");
    ASSERT_TRUE(std::filesystem::exists(spool));
    const auto r =
        accel::test::run_accel({"db", "ingest", "--db", db.string(), "--format", "csv", (dir / "spool").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "files,runs,results,samples,failures,already_present,truncated_lines\n1,1,5,15,0,0,0\n");
    EXPECT_FALSE(std::filesystem::exists(spool));
    EXPECT_EQ(count(db, "SELECT count(*) FROM runs WHERE status = 'complete'"), 1);
}

TEST(Ingest, MalformedLineIsNamedAndNothingStored) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "s.jsonl", R"({"schema_version":1,"kind":"run","id":"r1","status":"running"})"
                                             "\n"
                                             R"({"schema_version":1,"kind":"result","id":"x","run_id":"r1"})"
                                             "\n");
    const auto r =
        accel::test::run_accel({"db", "ingest", "--db", (dir / "r.duckdb").string(), (dir / "s.jsonl").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("s.jsonl:2: field 'scenario': missing"), std::string::npos) << r.err;
    EXPECT_EQ(count(dir / "r.duckdb", "SELECT count(*) FROM runs"), 0);
    EXPECT_TRUE(std::filesystem::exists(dir / "s.jsonl"));
}

TEST(Ingest, TruncatedLastLineIsLeftOut) {
    accel::test::TempDir dir;
    accel::test::write_file(dir / "s.jsonl", R"({"schema_version":1,"kind":"run","id":"r1","status":"running"})"
                                             "\n"
                                             R"({"schema_version":1,"kind":"resu)");
    const auto rep = ingest_spool(dir / "r.duckdb", {dir / "s.jsonl"});
    EXPECT_EQ(rep.runs, 1);
    EXPECT_EQ(rep.truncated_lines, 1);
}

// Mounts a small tmpfs at `dir` (we may run as root); returns false with a reason when it cannot.
bool mount_tmpfs(const std::filesystem::path& dir, const char* size, std::string& why) {
    std::filesystem::create_directories(dir);
    const std::string opts = std::string("size=") + size;
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
        why = std::string("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): ") + std::strerror(errno);
        return false;
    }
    return true;
}

#define REQUIRE_TMPFS(dir, size)                                      \
    {                                                                 \
        std::string why_;                                             \
        if (!mount_tmpfs(dir, size, why_)) {                          \
            if (accel::test::in_ci()) FAIL() << why_ << " (CI=true)"; \
            GTEST_SKIP() << why_;                                     \
        }                                                             \
    }

struct Unmount {
    std::filesystem::path dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
};

TEST(Faults, ReadOnlyLocationGivesCleanErrorKeepsStateAndSpools) {
    accel::test::TempDir dir;
    const auto mnt = dir / "mnt";
    REQUIRE_TMPFS(mnt, "16m");
    Unmount um{mnt};
    const auto db = mnt / "r.duckdb";
    {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{}, test_machine(), test_build());
        w.add_results(make_results(7, 2));
        w.finish();
    }
    ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr), 0) << std::strerror(errno);
    {
        try {
            Database::open(db);
            FAIL() << "opening a database on a read-only mount read-write should fail";
        } catch (const accel::Error& e) {
            EXPECT_EQ(e.kind(), accel::ErrorKind::io);
            EXPECT_NE(std::string(e.what()).find(db.string()), std::string::npos) << e.what();
        }
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{}, test_machine(), test_build());
        EXPECT_TRUE(w.spooling());
        w.add_results(make_results(4, 2));
        w.finish();
    }
    ASSERT_EQ(mount("tmpfs", mnt.c_str(), "tmpfs", MS_REMOUNT, nullptr), 0) << std::strerror(errno);
    EXPECT_EQ(count(db, "SELECT count(*) FROM results"), 7);
    const auto rep = ingest_spool(db, {dir / "spool"});
    EXPECT_EQ(rep.results, 4);
    EXPECT_EQ(count(db, "SELECT count(*) FROM results"), 11);
}

TEST(Faults, FullDiskRollsBackKeepsStateAndSpools) {
    accel::test::TempDir dir;
    const auto mnt = dir / "mnt";
    REQUIRE_TMPFS(mnt, "8m");
    Unmount um{mnt};
    const auto db = mnt / "r.duckdb";
    std::string run_id;
    {
        auto w = ResultWriter::begin({.db = db, .spool_dir = dir / "spool"}, RunRecord{}, test_machine(), test_build());
        run_id = w.run_id();
        w.add_results(make_results(10, 2));
        // Fill what is left of the disk.
        {
            std::ofstream fill(mnt / "filler", std::ios::binary);
            const std::string block(1 << 16, 'x');
            while (fill.write(block.data(), static_cast<std::streamsize>(block.size()))) {
            }
        }
        // A batch far larger than what is left: DuckDB must fail, roll back, and the writer must spool.
        EXPECT_EQ(w.add_results(make_results(5000, 10)), WriteOutcome::spooled);
        w.finish();
    }
    std::filesystem::remove(mnt / "filler");
    // The previous state: the first batch, and nothing of the failed one.
    EXPECT_EQ(count(db, "SELECT count(*) FROM results"), 10);
    EXPECT_EQ(count(db, "SELECT count(*) FROM samples"), 20);
    // The measurements survive in the spool; the small disk has no room for them, so load them elsewhere.
    const auto other = dir / "elsewhere.duckdb";
    const auto rep = ingest_spool(other, {dir / "spool"});
    EXPECT_EQ(rep.results, 5000);
    EXPECT_EQ(rep.samples, 50000);
    auto d = Database::open(other);
    EXPECT_EQ(d.query("SELECT status FROM runs WHERE id = " + sql_quote(run_id)).rows.at(0).at(0), "complete");
}

}  // namespace
