// accel's own measurements on stories260K, end to end: the samples RunRecorder stores carry their token counts, so
// `db compare` finds a planted slowdown between two recorded runs; --cold loads a file that is out of the page cache.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include <gtest/gtest.h>

#include "accel/bench/point_runner.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/run_recorder.h"
#include "accel/store/database.h"
#include "test_support.h"

namespace {

using namespace accel;
namespace fs = std::filesystem;

// {resident pages, pages} of a file, by mincore over a fresh mapping (written here, apart from the code under test).
std::pair<uint64_t, uint64_t> resident_pages(const fs::path& file) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << file;
    const auto size = static_cast<size_t>(fs::file_size(file));
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    EXPECT_NE(map, MAP_FAILED);
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> vec((size + page - 1) / page);
    EXPECT_EQ(::mincore(map, size, vec.data()), 0);
    ::munmap(map, size);
    uint64_t resident = 0;
    for (unsigned char v : vec) resident += v & 1U;
    return {resident, vec.size()};
}

// A private copy, so that no other test's process maps the same pages.
fs::path private_copy(const fs::path& model, const test::TempDir& dir) {
    const fs::path copy = dir / "m.gguf";
    fs::copy_file(model, copy);
    return copy;
}

TEST(RunRecorder, DbCompareFindsAPlantedSlowdownBetweenTwoRecordedRuns) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const fs::path db = dir / "r.duckdb";
    const bench::RunProvenance prov = bench::read_run_provenance();  // forks: before any model is loaded here
    const bench::PointOptions opts{.rules = {.n_warmup = 1, .n_min_reps = 40}};  // enough samples on a busy machine
    const bench::PointSpec pp{.model = stories.string(), .n_prompt = 16, .n_gen = 0, .n_threads = 1};
    const bench::PointSpec tg{.model = stories.string(), .n_prompt = 0, .n_gen = 8, .n_threads = 1};
    std::vector<std::string> runs;
    for (const char* tag : {"base", "slow"}) {
        auto rec = bench::RunRecorder::begin(db, "accel bench (test)", {tag}, prov);
        for (const auto& spec : {pp, tg}) {
            const bench::PointResult r = bench::run_point(spec, opts);
            ASSERT_TRUE(r.ok) << r.failure_stage << ": " << r.failure_reason;
            rec.add(r);
        }
        rec.finish(store::RunStatus::complete);
        runs.push_back(rec.run_id());
    }
    {
        auto d = store::Database::open(db);
        // Each sample's tokens: the prompt of a pp repetition, the generated tokens of a tg one.
        const auto q = d.query(
            "SELECT r.scenario || ':' || min(s.n_tokens) || ':' || max(s.n_tokens) || ':' || count(*) FROM samples s "
            "JOIN results r ON s.result_id = r.id GROUP BY r.scenario ORDER BY r.scenario");
        ASSERT_EQ(q.rows.size(), 2u);
        EXPECT_EQ(q.rows[0][0].value_or(""), "pp:16:16:80");
        EXPECT_EQ(q.rows[1][0].value_or(""), "tg:8:8:80");
        // The plant: the second run's samples become the first run's, 25% longer, so tokens/s is 20% lower.
        d.exec("UPDATE samples SET duration_ns = CAST(b.duration_ns * 1.25 AS BIGINT) "
               "FROM results rc, results rb, samples b "
               "WHERE samples.result_id = rc.id AND rc.run_id = " + store::sql_quote(runs[1]) +
               " AND rb.run_id = " + store::sql_quote(runs[0]) +
               " AND rb.scenario = rc.scenario AND b.result_id = rb.id AND b.seq = samples.seq");
    }
    const auto r = test::run_accel(
        {"db", "compare", "--db", db.string(), "--baseline", "base", "--candidate", "slow", "--format", "csv"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header, pp, tg
    size_t regressions = 0;
    for (size_t at = r.out.find(",-20.00,"); at != std::string::npos; at = r.out.find(",-20.00,", at + 1)) ++regressions;
    EXPECT_EQ(regressions, 2u) << r.out;
    EXPECT_NE(r.out.find("REGRESSION"), std::string::npos) << r.out;
}

// An empty comparison is an error (exit 2 with the reason), never a pass: here the two runs share no point.
TEST(RunRecorder, DbCompareOfNothingIsAnError) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const fs::path db = dir / "r.duckdb";
    const bench::RunProvenance prov = bench::read_run_provenance();
    const bench::PointOptions opts{.rules = {.n_warmup = 0, .n_min_reps = 3}};
    for (const auto& [tag, n_prompt] : {std::pair{"a", 8}, std::pair{"b", 12}}) {
        auto rec = bench::RunRecorder::begin(db, "accel bench (test)", {tag}, prov);
        const auto r = bench::run_point({.model = stories.string(), .n_prompt = n_prompt, .n_threads = 1}, opts);
        ASSERT_TRUE(r.ok) << r.failure_reason;
        rec.add(r);
        rec.finish(store::RunStatus::complete);
    }
    const auto r = test::run_accel({"db", "compare", "--db", db.string(), "--baseline", "a", "--candidate", "b"});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("nothing compared: no point of --baseline 'a' has a matching --candidate 'b' point"),
              std::string::npos)
        << r.err;
}

TEST(ColdCache, TheModelIsOutOfThePageCacheWhenTheLoadBegins) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const fs::path model = private_copy(stories, dir);
    (void)test::read_file(model);  // warm: every page in the cache
    ASSERT_GT(resident_pages(model).first, 0u);
    std::optional<std::pair<uint64_t, uint64_t>> at_load;
    bench::PointOptions opts{.rules = {.n_warmup = 0, .n_min_reps = 1}, .cold = true};
    opts.before_load = [&] { at_load = resident_pages(model); };
    const bench::PointResult r = bench::run_point({.model = model.string(), .n_prompt = 8, .n_threads = 1}, opts);
    ASSERT_TRUE(r.ok) << r.failure_reason;
    ASSERT_TRUE(at_load.has_value()) << "the hook did not run";
    EXPECT_EQ(at_load->first, 0u) << "of " << at_load->second << " pages were in the page cache at the load";
    ASSERT_TRUE(r.cold_cache.has_value());
    EXPECT_TRUE(*r.cold_cache) << r.cold_cache_note;
    EXPECT_EQ(r.cold_cache_note, "");
    // The energy window holds the repetitions only, and says so.
    EXPECT_NE(r.energy_window.find(" s: the scenario's 0 warm-up and 1 timed repetitions (model load and --verify "
                                   "excluded)"),
              std::string::npos)
        << r.energy_window;
}

// Pages another mapping holds cannot be dropped: the eviction says so instead of claiming a cold load.
TEST(ColdCache, PagesThatStayAreReportedNotHidden) {
    ACCEL_REQUIRE_TEST_FILE(stories, "models/stories260K.gguf");
    test::TempDir dir;
    const fs::path model = private_copy(stories, dir);
    const int fd = ::open(model.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    const auto size = static_cast<size_t>(fs::file_size(model));
    auto* map = static_cast<volatile unsigned char*>(::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0));
    ::close(fd);
    ASSERT_NE(static_cast<void*>(const_cast<unsigned char*>(map)), MAP_FAILED);
    unsigned sum = 0;
    for (size_t i = 0; i < size; i += 4096) sum += map[i];  // fault every page in, mapped
    const auto [resident, total] = resident_pages(model);
    const std::string why = bench::evict_from_page_cache(model);
    ::munmap(const_cast<unsigned char*>(map), size);
    EXPECT_EQ(resident, total) << sum;
    EXPECT_NE(why.find("pages of " + model.string() + " stayed in the page cache after posix_fadvise(DONTNEED)"),
              std::string::npos)
        << why;
}

}  // namespace
