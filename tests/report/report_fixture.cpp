#include "report_fixture.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/hw/roofline.h"
#include "accel/store/result_writer.h"
#include "test_support.h"

namespace accel::report::test {
namespace {

using namespace accel::store;
using nlohmann::json;

constexpr int64_t t0 = 1795000000000000000;  // 2026-11-18 (UTC)
constexpr int64_t minute = 60'000'000'000;
const std::string sha = std::string(64, 'a');

MachineRecord machine() {
    return {.id = "report-test-machine",
            .cpu_model = "Test CPU <x86>",
            .n_logical_cores = 2,
            .memory_total_bytes = 8ull << 30,
            .device_names = "cpu",
            .hostname = "testhost",
            .inventory_json = R"({"schema_version":1,"cpu":{"model":"Test CPU <x86>","cores":2},)"
                              R"("devices":[{"id":"cpu","type":"cpu"}],"compiled_backends":["cpu"]})"};
}

BuildRecord build() {
    return {.tool = "accel", .accel_version = "0.0.0-test", .llama_cpp_commit = "de3ff815ea7d", .compiler = "gcc"};
}

ResultWriter begin(const std::filesystem::path& db, const std::string& id, const std::string& command, int64_t at,
                   std::vector<std::string> tags = {}) {
    RunRecord run{.id = id, .command = command, .started_at_ns = at, .tags = std::move(tags), .host = "testhost"};
    return ResultWriter::begin({.db = db, .spool_dir = db.parent_path() / "spool"}, run, machine(), build());
}

ResultRecord point(const std::string& id, const std::string& scenario, int64_t at, int64_t base_ns, int n_samples,
                   int32_t n_prompt, int32_t n_gen) {
    ResultRecord r{.id = id,
                   .model_id = sha,
                   .model_sha256 = sha,
                   .model_name = hostile_model_name,
                   .scenario = scenario,
                   .device = "cpu"};
    r.n_prompt = n_prompt;
    r.n_gen = n_gen;
    r.n_batch = 2048;
    r.n_threads = 2;
    r.n_gpu_layers = 0;
    r.type_k = "f16";
    r.type_v = "f16";
    r.flash_attn = false;
    r.created_at_ns = at;
    std::vector<double> ts;
    const int32_t tokens = n_prompt + n_gen;
    for (int i = 0; i < n_samples; ++i) {
        // A fixed spread: base, base+2%, base+4%, ... so every statistic is exact.
        const int64_t d = base_ns + base_ns * (i % 5) / 50;
        r.samples.push_back({.seq = i, .duration_ns = d, .n_tokens = tokens});
        ts.push_back(tokens * 1e9 / static_cast<double>(d));
    }
    if (ts.size() < 2) return r;
    double mean = 0;
    for (double v : ts) mean += v;
    mean /= static_cast<double>(ts.size());
    double var = 0;
    for (double v : ts) var += (v - mean) * (v - mean);
    r.avg_ts = mean;
    r.stddev_ts = std::sqrt(var / static_cast<double>(ts.size() - 1));
    r.avg_ns = static_cast<double>(base_ns) * 1.04;
    r.p50_ns = static_cast<double>(base_ns) * 1.04;
    r.p90_ns = static_cast<double>(base_ns) * 1.08;
    r.p99_ns = static_cast<double>(base_ns) * 1.08;
    return r;
}

// A result of the summary fixture: tg/pp point with a requested configuration in extra.spec.
struct SummaryPoint {
    const char* id;
    const char* scenario;
    int32_t n_prompt, n_gen;
    int64_t base_ns;
    int32_t threads, batch, ubatch;
    const char* flash_attn;
    double rss;
    bool noisy = false;
    bool valid = true;
    double package_j = 0;              // > 0: the energy counters read this much (a core sub-domain beside it)
    const char* energy_why = nullptr;  // else the stored reason; nullptr: no energy keys at all (imported)
};

ResultRecord summary_point(const SummaryPoint& p, int64_t at) {
    ResultRecord r = point(p.id, p.scenario, at, p.base_ns, 10, p.n_prompt, p.n_gen);
    r.model_id = std::string(64, 'b');
    r.model_sha256 = r.model_id;
    r.model_name = "summary-model";
    r.n_threads = p.threads == 0 ? 2 : p.threads;  // the effective count: 0 asks for one per logical core
    r.n_batch = p.batch;
    r.n_ubatch = p.ubatch;
    r.flash_attn = std::string(p.flash_attn) == "on";
    r.valid = p.valid;
    json x = json{{"spec",
                         {{"n_threads", p.threads},
                          {"n_batch", p.batch},
                          {"n_ubatch", p.ubatch},
                          {"type_k", "f16"},
                          {"type_v", "f16"},
                          {"flash_attn", p.flash_attn},
                          {"n_gpu_layers", -1}}},
                        {"peak_rss_bytes", p.rss},
                        {"noisy", p.noisy}};
    if (p.package_j > 0) {
        x["energy_j"] = json::array({json::array({"package-0(intel-rapl:0)", p.package_j}),
                                     json::array({"core(intel-rapl:0:0)", p.package_j / 2})});
        x["energy_unavailable"] = "";
    } else if (p.energy_why) {
        x["energy_j"] = json::array();
        x["energy_unavailable"] = p.energy_why;
    }
    r.extra_json = x.dump();
    return r;
}

}  // namespace

void use_private_cache_dir() {
    static const accel::test::TempDir dir;  // lives to the end of the process
    ::setenv("ACCEL_CACHE_DIR", dir.path().c_str(), 1);
}

std::filesystem::path write_fixture_roofline() {
    use_private_cache_dir();
    accel::hw::Roofline r{.fingerprint = "report-test-machine", .measured_at = "2026-11-18T11:00:00Z"};
    r.bandwidth.push_back({.kernel = "read", .threads = 2, .gb_per_s = {.median = 40, .min = 39, .max = 41, .n = 5}});
    r.matmul.push_back({.device = "cpu", .type = "q4_0", .m = 2048, .n = 256, .k = 2048, .threads = 2,
                        .gflops = {.median = 184, .min = 180, .max = 187, .n = 5}});
    const auto cache = accel::hw::roofline_cache_path("report-test-machine");
    std::filesystem::create_directories(cache.parent_path());
    accel::hw::save_roofline(r, cache);
    return cache;
}

void write_summary_fixture_db(const std::filesystem::path& db) {
    const ModelRecord model{.id = std::string(64, 'b'),
                            .sha256 = std::string(64, 'b'),
                            .path = "/models/summary.gguf",
                            .name = "summary-model",
                            .architecture = "llama",
                            .family = "llama",
                            .n_params = 260000,
                            .file_type = "Q4_0",
                            .size_bytes = 1000000};
    {
        auto w = begin(db, "sum-base", "accel bench -m summary.gguf -n 16", t0, {"nightly-s"});
        w.add_model(model);
        w.add_results({summary_point({"s-base-tg", "tg", 0, 16, 20'000'000, 0, 2048, 512, "auto", 60e6}, t0 + minute)});
        w.finish();
    }
    auto w = begin(db, "sum-new", "accel bench -m summary.gguf -n 16,32 -p 64 -t 0,1 -b 2048,512", t0 + 10 * minute);
    w.add_model(model);
    const SummaryPoint points[] = {
        {"s-tg-default", "tg", 0, 16, 25'000'000, 0, 2048, 512, "auto", 60e6, false, true, 8.0},
        {"s-tg-t1", "tg", 0, 16, 20'000'000, 1, 2048, 512, "auto", 55e6, false, true, 6.4},
        {"s-tg-b512", "tg", 0, 16, 25'000'000, 0, 512, 128, "auto", 40e6, true, true, 0, "RAPL not readable"},
        {"s-tg32-default", "tg", 0, 32, 30'000'000, 0, 2048, 512, "auto", 60e6, false, true, 0, "no RAPL counter"},
        {"s-tg32-fa", "tg", 0, 32, 29'700'000, 0, 2048, 512, "on", 60e6, false, true, 0, "no RAPL counter"},
        {"s-pp-invalid", "pp", 64, 0, 10'000'000, 0, 2048, 512, "auto", 60e6, false, false},
    };
    std::vector<ResultRecord> rs;
    int i = 0;
    for (const auto& p : points) rs.push_back(summary_point(p, t0 + (11 + i++) * minute));
    w.add_results(rs);
    w.add_failures({{.id = "s-fail-load",
                     .model_id = std::string(64, 'b'),
                     .scenario = "llm",
                     .device = "cuda0",
                     .stage = "load",
                     .reason = "out of memory: needs 2 GiB",
                     .created_at_ns = t0 + 20 * minute}});
    w.finish();
}

void write_conform_fixture_db(const std::filesystem::path& db) {
    auto w = begin(db, "conf-1", "accel conform --coverage", t0 + 30 * minute, {"conform"});
    struct Case {
        const char *arch, *type, *status, *reason;
    };
    const Case cases[] = {{"llama", "f32", "pass", ""},
                          {"llama", "q4_0", "pass", ""},
                          {"qwen2", "f32", "fail", "nmse 4 above 1e-6"},
                          {"bert", "f32", "unsupported", "no encoder output"}};
    std::vector<ResultRecord> rs;
    std::vector<FailureRecord> fs;
    int i = 0;
    for (const Case& c : cases) {
        const std::string model_id = fmt::format("conform:{}:{}:s1", c.arch, c.type);
        w.add_model({.id = model_id, .path = "", .name = fmt::format("accel conform {} {} seed 1", c.arch, c.type),
                     .architecture = c.arch, .family = "conform", .file_type = c.type});
        const std::string doc = json{{"arch", c.arch}, {"llama_arch", c.arch}, {"device", "cpu"}, {"type", c.type},
                                     {"status", c.status}, {"reason", c.reason}}
                                    .dump();
        const std::string id = fmt::format("conf-{}-{}", c.arch, c.type);
        if (std::string(c.status) == "unsupported") {
            fs.push_back({.id = id, .model_id = model_id, .scenario = "conform", .device = "cpu",
                          .stage = "unsupported", .reason = c.reason, .params_json = doc,
                          .created_at_ns = t0 + (31 + i++) * minute});
            continue;
        }
        ResultRecord r{.id = id, .model_id = model_id, .model_name = model_id, .scenario = "conform", .device = "cpu"};
        r.valid = std::string(c.status) == "pass";
        r.created_at_ns = t0 + (31 + i++) * minute;
        r.extra_json = doc;
        rs.push_back(r);
    }
    w.add_results(rs);
    w.add_failures(fs);
    w.finish();
}

void write_run_db(const std::filesystem::path& db, const std::string& id, const std::string& command,
                  std::vector<ResultRecord> results) {
    auto w = begin(db, id, command, t0);
    std::vector<std::string> models;
    for (const auto& r : results) {
        if (std::find(models.begin(), models.end(), r.model_id) != models.end()) continue;
        models.push_back(r.model_id);
        w.add_model({.id = r.model_id, .sha256 = r.model_sha256, .name = r.model_name});
    }
    w.add_results(std::move(results));
    w.finish();
}

void write_fixture_db(const std::filesystem::path& db) {
    {
        auto w = begin(db, "run-base", "accel bench -m tiny.gguf -p 64 -n 16", t0, {"nightly-1"});
        w.add_model({.id = sha,
                     .sha256 = sha,
                     .path = "/models/tiny.gguf",
                     .name = hostile_model_name,
                     .architecture = "llama",
                     .family = "llama",
                     .n_params = 260000,
                     .file_type = "Q4_0",
                     .size_bytes = 1000000});
        w.add_results({point("res-base-pp", "pp", t0 + minute, 10'000'000, 10, 64, 0)});
        w.finish();
    }
    {
        auto w = begin(db, "run-0001", "accel bench -m tiny.gguf -p 64 -n 16", t0 + 10 * minute);
        auto pp = point("res-pp", "pp", t0 + 11 * minute, 12'000'000, 10, 64, 0);
        pp.extra_json =
            json{{"peak_rss_bytes", 50 << 20},         {"model_size", 1000000},
                 {"kv_cache_bytes_estimate", 2 << 20}, {"prefill_flops_pct", 112.5},
                 {"model_n_params_blocks", 250000},    {"model_desc", "llama 260K Q4_0"},
                 {"decode_bandwidth_pct", nullptr},    {"roofline_basis", "matmul cpu q4_0 2 threads: 80 GFLOP/s"},
                 {"roofline_defect", "above 100% of the measured roof"}}
                .dump();
        auto tg = point("res-tg", "tg", t0 + 12 * minute, 40'000'000, 5, 0, 16);
        tg.ttft_ns = 3'000'000;
        tg.extra_json =
            json{{"peak_rss_bytes", 48 << 20},         {"model_size", 1000000},
                 {"kv_cache_bytes_estimate", 2 << 20}, {"tpot_ns", {2'000'000, 2'500'000}},
                 {"model_n_params_blocks", 250000},    {"model_desc", "llama 260K Q4_0"},
                 {"decode_bandwidth_pct", 40.0},       {"roofline_basis", "read bandwidth 2 threads: 40 GB/s"}}
                .dump();
        w.add_results({pp, tg});
        w.add_failures({{.id = "fail-1",
                         .model_id = sha,
                         .scenario = "llm",
                         .device = "cuda0",
                         .stage = "load",
                         .reason = "out of memory | needs 2 GiB <more>",
                         .created_at_ns = t0 + 13 * minute}});
        std::vector<ResultRecord> server;
        for (int i = 0; i < 3; ++i) {
            auto s = point("res-server-" + std::to_string(i), "server", t0 + (14 + i) * minute, 20'000'000, 3, 64, 16);
            s.extra_json = json{{"server",
                                 {{"target_qps", 1.0 + i},
                                  {"achieved_qps", 0.95 + i},
                                  {"p50_ms", 20.0 + 10 * i},
                                  {"p99_ms", 30.0 + 20 * i},
                                  {"ttft_p99_ms", 5.0 + i},
                                  {"tpot_p99_ms", 2.0},
                                  {"slo_pass", i < 2},
                                  {"slo", "p99 <= 60 ms, TTFT p99 <= 6.5 ms"},
                                  {"slo_limits", {{"p99_ms", 60.0}, {"ttft_p99_ms", 6.5}, {"tpot_p99_ms", nullptr}}}}}}
                               .dump();
            server.push_back(s);
        }
        w.add_results(server);
        w.finish();
    }
    {
        auto w =
            begin(db, "run-web", "accel web-bench --model tiny.gguf --browser chromium", t0 + 20 * minute, {"web"});
        auto native = point("res-web-native", "tg", t0 + 21 * minute, 40'000'000, 3, 0, 16);
        native.extra_json = R"({"platform":"native","backend":"native"})";
        auto web = point("res-web-chromium", "tg", t0 + 22 * minute, 80'000'000, 3, 0, 16);
        web.device = "wasm";
        web.extra_json = R"({"platform":"web","browser":"chromium","browser_version":"120.0","backend":"wasm"})";
        w.add_results({native, web});
        w.finish();
    }
    {
        auto w = begin(db, "run-trade", "accel tradeoffs --model tiny.gguf", t0 + 30 * minute);
        struct V {
            const char* variant;
            const char* type;
            const char* type_k;
            bool fa;
            double weights, rss, kv, compute, tg, ppl;
        };
        const V vs[] = {{"f16", "f16", "f16", false, 4e6, 60e6, 8e6, 4e6, 50, 10.0},
                        {"q4_0", "q4_0", "f16", false, 1.1e6, 52e6, 8e6, 4e6, 80, 10.4},
                        {"q4_0-ctk-q8_0", "q4_0", "q8_0", false, 1.1e6, 48e6, 4.25e6, 4e6, 78, 10.5},
                        {"q4_0-fa", "q4_0", "f16", true, 1.1e6, 50e6, 8e6, 2e6, 82, 10.4}};
        std::vector<ResultRecord> rs;
        int i = 0;
        for (const V& v : vs) {
            auto r = point(std::string("res-trade-") + v.variant, "tradeoffs", t0 + (31 + i++) * minute, 30'000'000, 0,
                           0, 0);
            r.avg_ts = v.tg;
            r.stddev_ts.reset();
            r.extra_json = json{{"tradeoffs",
                                 {{"variant", v.variant},
                                  {"type", v.type},
                                  {"file_bytes", v.weights + 1e5},
                                  {"weights_bytes", v.weights},
                                  {"peak_rss_bytes", v.rss},
                                  {"kv_bytes_measured", v.kv},
                                  {"kv_bytes_estimated", v.kv},
                                  {"compute_buffer_bytes", v.compute},
                                  {"type_k", v.type_k},
                                  {"flash_attn", v.fa},
                                  {"n_ctx", 512},
                                  {"mmap", true},
                                  {"load_ms", 12.0},
                                  {"ttft_ms", nullptr},
                                  {"pp_ts", 500.0},
                                  {"tg_ts", v.tg},
                                  {"perplexity", v.ppl},
                                  {"kl_mean", nullptr},
                                  {"cosine", nullptr}}}}
                               .dump();
            rs.push_back(r);
        }
        w.add_results(rs);
        w.finish();
    }
}

}  // namespace accel::report::test
