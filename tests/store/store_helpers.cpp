#include "store_helpers.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "accel/store/database.h"

namespace accel::store::test {

MachineRecord test_machine() {
    return MachineRecord{.id = "00000000test0001",
                         .cpu_model = "Test CPU",
                         .n_logical_cores = 2,
                         .memory_total_bytes = 1ull << 30,
                         .device_names = "cpu",
                         .hostname = "testhost",
                         .inventory_json = R"({"cpu":"Test CPU"})"};
}

BuildRecord test_build() {
    BuildRecord b;
    b.accel_version = "0.0.0-test";
    b.llama_cpp_commit = "de3ff815ea7d";
    b.compiler = "gcc";
    return b;
}

std::vector<ResultRecord> make_results(int n, int n_samples, int64_t duration_ns, int32_t n_tokens) {
    std::vector<ResultRecord> out;
    for (int i = 0; i < n; ++i) {
        ResultRecord r;
        r.model_id = "name:tiny";
        r.model_name = "tiny";
        r.scenario = "pp";
        r.device = "cpu";
        r.n_prompt = n_tokens;
        r.n_gen = 0;
        r.n_batch = 512;
        r.n_threads = 2;
        r.avg_ts = 1e9 * n_tokens / static_cast<double>(duration_ns);
        r.avg_ns = static_cast<double>(duration_ns);
        for (int s = 0; s < n_samples; ++s) {
            r.samples.push_back(SampleRecord{.seq = s, .duration_ns = duration_ns + s, .n_tokens = n_tokens});
        }
        out.push_back(std::move(r));
    }
    return out;
}

int64_t count(const std::filesystem::path& db, const std::string& sql) {
    auto d = Database::open(db);
    return std::stoll(d.query(sql).rows.at(0).at(0).value_or("-1"));
}

void crash_once(const std::filesystem::path& db, unsigned seed) {
    ASSERT_EQ(open_instance_count(), 0u) << "the parent must not hold DuckDB while forking";
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        try {
            auto w = ResultWriter::begin({.db = db, .spool_dir = db.parent_path() / "spool"},
                                         RunRecord{.command = "crash"}, test_machine(), test_build());
            for (int i = 0;; ++i) {
                std::vector<std::string> ids;
                w.add_results(make_results(10, 5), &ids);
                std::string line;
                for (const auto& id : ids) line += id + "\n";
                if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
            }
        } catch (...) {
            _exit(2);
        }
    }
    close(fds[1]);
    std::mt19937 rng(seed);
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(rng));
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself with " << WEXITSTATUS(status);
    std::string reported;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) reported.append(buf, static_cast<size_t>(n));
    close(fds[0]);
    std::set<std::string> ids;
    for (size_t pos = 0; pos < reported.size();) {
        const size_t nl = reported.find('\n', pos);
        if (nl == std::string::npos) break;
        ids.insert(reported.substr(pos, nl - pos));
        pos = nl + 1;
    }
    auto d = Database::open(db);  // must open cleanly
    const auto present = d.query("SELECT id FROM results");
    std::set<std::string> stored;
    for (const auto& row : present.rows) stored.insert(*row[0]);
    for (const auto& id : ids) ASSERT_TRUE(stored.count(id)) << "reported id missing after crash: " << id;
    // Nothing half-written: whole batches of 10, every result with all 5 samples, no orphans, no running run.
    EXPECT_EQ(d.query("SELECT count(*) % 10 FROM results").rows[0][0], "0");
    EXPECT_EQ(d.query("SELECT count(*) FROM results r WHERE n_samples <> (SELECT count(*) FROM samples s "
                      "WHERE s.result_id = r.id)")
                  .rows[0][0],
              "0");
    EXPECT_EQ(d.query("SELECT count(*) FROM samples WHERE result_id NOT IN (SELECT id FROM results)").rows[0][0], "0");
    EXPECT_EQ(d.query("SELECT count(*) FROM results WHERE run_id NOT IN (SELECT id FROM runs)").rows[0][0], "0");
    EXPECT_EQ(d.query("SELECT count(*) FROM runs WHERE status = 'running'").rows[0][0], "0");
}

}  // namespace accel::store::test
