// Distributed load: one schedule split over load generators, their raw samples, and the merge into one point.
#include "accel/bench/load_shard.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "point_result_json.h"

namespace accel::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int32_t max_shards = 1024;
constexpr const char* shard_kind = "accel-load-shard";

int64_t ns_since(Clock::time_point t0, Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - t0).count();
}

Clock::time_point at_ns(int64_t ns) { return Clock::time_point{} + std::chrono::nanoseconds(ns); }

json sample_json(const RemoteSample& s) {
    json j = {{"query", s.query}, {"due_ns", s.due_ns}, {"sent_ns", s.sent_ns}, {"done_ns", s.done_ns},
              {"e2e_ns", s.done_ns - s.due_ns}, {"chunk_ns", s.chunk_ns},
              {"ttft_ns", s.chunk_ns.empty() ? json(nullptr) : json(s.chunk_ns.front() - s.due_ns)},
              {"completion_tokens", json_or_null(s.completion_tokens)},
              {"prompt_tokens", json_or_null(s.prompt_tokens)},
              {"tokenizer_tokens", json_or_null(s.tokenizer_tokens)}, {"status", s.status}, {"error", s.error}};
    return j;
}

RemoteSample sample_of(const json& j) {
    RemoteSample s;
    j.at("query").get_to(s.query);
    j.at("due_ns").get_to(s.due_ns);
    j.at("sent_ns").get_to(s.sent_ns);
    j.at("done_ns").get_to(s.done_ns);
    j.at("chunk_ns").get_to(s.chunk_ns);
    s.completion_tokens = get_opt<int32_t>(j, "completion_tokens");
    s.prompt_tokens = get_opt<int32_t>(j, "prompt_tokens");
    s.tokenizer_tokens = get_opt<int32_t>(j, "tokenizer_tokens");
    j.at("status").get_to(s.status);
    j.at("error").get_to(s.error);
    return s;
}

std::string opt_text(const std::optional<double>& v) { return v ? fmt::format("{:g}", *v) : "none"; }

}  // namespace

LoadShard parse_load_shard(const std::string& text) {
    const auto bad = [&] {
        return Error(ErrorKind::invalid_input,
                     fmt::format("--load-shard {}: give I/K, this generator's index I of K generators (0 <= I < K "
                                 "<= {})", text, max_shards));
    };
    const size_t slash = text.find('/');
    if (slash == std::string::npos) throw bad();
    LoadShard s;
    const char* b = text.data();
    const char* e = text.data() + text.size();
    const auto [p1, ec1] = std::from_chars(b, b + slash, s.index);
    const auto [p2, ec2] = std::from_chars(b + slash + 1, e, s.count);
    if (ec1 != std::errc{} || p1 != b + slash || ec2 != std::errc{} || p2 != e) throw bad();
    if (s.count < 1 || s.count > max_shards || s.index < 0 || s.index >= s.count) throw bad();
    return s;
}

std::vector<uint32_t> shard_queries(size_t n, int32_t index, int32_t count) {
    std::vector<uint32_t> out;
    for (size_t i = static_cast<size_t>(index); i < n; i += static_cast<size_t>(count)) {
        out.push_back(static_cast<uint32_t>(i));
    }
    return out;
}

Clock::time_point steady_start(int64_t start_at_ms) {
    const auto wall_now = std::chrono::system_clock::now();
    const Clock::time_point steady_now = Clock::now();
    const auto start = std::chrono::system_clock::time_point(std::chrono::milliseconds(start_at_ms));
    const auto ahead = start - wall_now;
    if (ahead <= std::chrono::milliseconds(0)) {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall_now.time_since_epoch());
        throw Error(ErrorKind::invalid_input,
                    fmt::format("--start-at {}: the start is {:.3f} s in the past on this host (now {}); give a time "
                                "after every generator has started and warmed up",
                                start_at_ms, std::chrono::duration<double>(-ahead).count(), now_ms.count()));
    }
    return steady_now + std::chrono::duration_cast<Clock::duration>(ahead);
}

std::string generator_host() {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == 0) return "unknown";
    return name;
}

std::vector<RemoteSample> remote_samples(const LoadRun& run, std::span<const RemoteResponse> responses,
                                         std::span<const uint32_t> queries) {
    std::vector<RemoteSample> out;
    out.reserve(responses.size());
    for (size_t j = 0; j < responses.size(); ++j) {
        const RemoteResponse& r = responses[j];
        RemoteSample s{.query = queries[j],
                       .due_ns = run.arrival_ns[j],
                       .sent_ns = ns_since(run.t0, r.sent),
                       .done_ns = ns_since(run.t0, r.done),
                       .completion_tokens = r.completion_tokens,
                       .prompt_tokens = r.prompt_tokens,
                       .tokenizer_tokens = r.tokenizer_tokens,
                       .status = r.status,
                       .error = r.error};
        s.chunk_ns.reserve(r.chunks.size());
        for (const auto& c : r.chunks) s.chunk_ns.push_back(ns_since(run.t0, c));
        out.push_back(std::move(s));
    }
    return out;
}

RemoteOutcome remote_outcome_of_samples(std::span<const RemoteSample> samples, int64_t max_issue_lag_ns,
                                        double target_qps, int32_t concurrency, const ServerSlo& slo,
                                        double max_lateness_ms) {
    // The time points of one generator whose clock started at zero: remote_outcome reads them back exactly.
    LoadRun run;
    run.t0 = Clock::time_point{};
    run.max_issue_lag_ns = max_issue_lag_ns;
    std::vector<RemoteResponse> responses(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
        const RemoteSample& s = samples[i];
        RemoteResponse& r = responses[i];
        run.arrival_ns.push_back(s.due_ns);
        r.sent = at_ns(s.sent_ns);
        r.done = at_ns(s.done_ns);
        for (int64_t c : s.chunk_ns) r.chunks.push_back(at_ns(c));
        r.completion_tokens = s.completion_tokens;
        r.prompt_tokens = s.prompt_tokens;
        r.tokenizer_tokens = s.tokenizer_tokens;
        r.status = s.status;
        r.error = s.error;
        run.span_ns = std::max(run.span_ns, s.done_ns);
    }
    return remote_outcome(run, responses, true, target_qps, concurrency, slo, max_lateness_ms);
}

void write_load_shard(const LoadShardFile& f) {
    json samples = json::array();
    for (const auto& s : f.samples) samples.push_back(sample_json(s));
    const json j = {{"schema_version", 1},
                    {"kind", shard_kind},
                    {"host", f.host},
                    {"shard", {{"index", f.shard.index}, {"count", f.shard.count}}},
                    {"start_at_ms", f.shard.start_at_ms},
                    {"seed", f.seed},
                    {"n_schedule", f.n_schedule},
                    {"slo", {{"p99_ms", json_or_null(f.slo.p99_ms)}, {"ttft_p99_ms", json_or_null(f.slo.ttft_p99_ms)},
                             {"tpot_p99_ms", json_or_null(f.slo.tpot_p99_ms)}}},
                    {"max_lateness_ms", f.max_lateness_ms},
                    {"max_issue_lag_ns", f.max_issue_lag_ns},
                    {"point", json::parse(to_json_text(f.point))},
                    {"samples", samples}};
    std::error_code ec;
    if (f.path.has_parent_path()) std::filesystem::create_directories(f.path.parent_path(), ec);
    PartialFile out(f.path);
    {
        std::ofstream os(out.path());
        os << j.dump() << "\n";
        if (!os) throw Error(ErrorKind::io, fmt::format("--samples-out {}: cannot write", f.path.string()));
    }
    out.commit();
}

LoadShardFile read_load_shard(const std::filesystem::path& path) {
    std::ifstream is(path);
    std::stringstream ss;
    ss << is.rdbuf();
    const auto bad = [&](const std::string& why) {
        return Error(ErrorKind::invalid_input, fmt::format("--merge-samples: {}: {}", path.string(), why));
    };
    if (!is) throw bad("cannot read");
    const json j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("kind", "") != shard_kind) {
        throw bad("not a load-generator samples file (accel bench --load-shard ... --samples-out FILE writes them)");
    }
    LoadShardFile f;
    f.path = path;
    try {
        j.at("host").get_to(f.host);
        j.at("shard").at("index").get_to(f.shard.index);
        j.at("shard").at("count").get_to(f.shard.count);
        j.at("start_at_ms").get_to(f.shard.start_at_ms);
        j.at("seed").get_to(f.seed);
        j.at("n_schedule").get_to(f.n_schedule);
        const json& slo = j.at("slo");
        f.slo = {.p99_ms = get_opt<double>(slo, "p99_ms"), .ttft_p99_ms = get_opt<double>(slo, "ttft_p99_ms"),
                 .tpot_p99_ms = get_opt<double>(slo, "tpot_p99_ms")};
        j.at("max_lateness_ms").get_to(f.max_lateness_ms);
        j.at("max_issue_lag_ns").get_to(f.max_issue_lag_ns);
        f.point = point_result_from_json(j.at("point").dump());
        for (const json& s : j.at("samples")) f.samples.push_back(sample_of(s));
    } catch (const json::exception& e) {
        throw bad(std::string("malformed: ") + e.what());
    } catch (const Error& e) {
        throw bad(e.what());
    }
    return f;
}

std::vector<std::pair<std::string, std::string>> schedule_identity(const LoadShardFile& f) {
    const PointSpec& s = f.point.spec;
    return {{"target", s.target},
            {"served model", s.served_model},
            {"workload", s.workload.empty() ? "plain" : s.workload},
            {"scenario", std::string(to_string(s.scenario))},
            {"lengths", s.lengths.empty() ? fmt::format("fixed:{},{}", s.n_prompt, s.n_gen) : s.lengths},
            {"QPS", fmt::format("{:g}", s.target_qps)},
            {"seed", std::to_string(f.seed)},
            {"schedule size", std::to_string(f.n_schedule)},
            {"shard count", std::to_string(f.shard.count)},
            {"start", std::to_string(f.shard.start_at_ms)},
            {"max lateness ms", fmt::format("{:g}", f.max_lateness_ms)},
            {"SLO", fmt::format("p99 {}, TTFT {}, TPOT {}", opt_text(f.slo.p99_ms), opt_text(f.slo.ttft_p99_ms),
                                opt_text(f.slo.tpot_p99_ms))}};
}

MergedLoad merge_load_shards(const std::filesystem::path& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw Error(ErrorKind::invalid_input, fmt::format("--merge-samples {}: not a folder", dir.string()));
    }
    std::vector<std::filesystem::path> paths;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.is_regular_file() && e.path().extension() == ".json" && !is_partial_file_name(e.path().filename())) {
            paths.push_back(e.path());
        }
    }
    std::sort(paths.begin(), paths.end());
    if (paths.empty()) {
        throw Error(ErrorKind::invalid_input, fmt::format("--merge-samples {}: no *.json samples file", dir.string()));
    }
    std::vector<LoadShardFile> files;
    for (const auto& p : paths) files.push_back(read_load_shard(p));
    return merge_load_shards(std::move(files));
}

MergedLoad merge_load_shards(std::vector<LoadShardFile> files) {
    if (files.empty()) throw Error(ErrorKind::invalid_input, "--merge-samples: no samples file");
    const auto bad = [](const std::string& why) { return Error(ErrorKind::invalid_input, "--merge-samples: " + why); };
    const auto first = schedule_identity(files.front());
    for (size_t i = 1; i < files.size(); ++i) {
        const auto other = schedule_identity(files[i]);
        for (size_t k = 0; k < first.size(); ++k) {
            if (first[k].second == other[k].second) continue;
            throw bad(fmt::format("{} and {} are shards of different schedules: {} {} vs {} (every generator must "
                                  "run the same command but for --load-shard's index)",
                                  files.front().path.string(), files[i].path.string(), first[k].first,
                                  first[k].second, other[k].second));
        }
    }
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.shard.index < b.shard.index; });
    const int32_t count = files.front().shard.count;
    std::map<int32_t, std::string> seen;
    for (const auto& f : files) {
        if (!f.point.remote) throw bad(fmt::format("{}: not the point of a --target server run", f.path.string()));
        if (!f.point.ok) {
            throw bad(fmt::format("{}: generator {} failed ({}: {})", f.path.string(), f.shard.index,
                                  f.point.failure_stage, f.point.failure_reason));
        }
        const auto [it, fresh] = seen.emplace(f.shard.index, f.path.string());
        if (!fresh) {
            throw bad(fmt::format("shard {}/{} is given twice: {} and {}", f.shard.index, count, it->second,
                                  f.path.string()));
        }
    }
    for (int32_t i = 0; i < count; ++i) {
        if (!seen.contains(i)) {
            throw bad(fmt::format("shard {}/{} is missing ({} of {} samples files given); its queries would be "
                                  "left out of the percentiles", i, count, files.size(), count));
        }
    }

    // The union of the samples, in schedule order; each shard's queries must be exactly its share.
    std::vector<RemoteSample> all;
    int64_t max_lag = 0;
    int32_t concurrency = 0;
    MergedLoad out;
    for (auto& f : files) {
        const auto want = shard_queries(static_cast<size_t>(f.n_schedule), f.shard.index, count);
        std::vector<uint32_t> got;
        for (const auto& s : f.samples) got.push_back(s.query);
        if (got != want) {
            throw bad(fmt::format("{}: shard {}/{} holds {} samples, not its {} queries of the schedule of {}",
                                  f.path.string(), f.shard.index, count, got.size(), want.size(), f.n_schedule));
        }
        max_lag = std::max(max_lag, f.max_issue_lag_ns);
        concurrency += f.point.remote ? f.point.remote->concurrency : 1;
        out.generators.push_back(
            fmt::format("{} (shard {}/{}, {} queries)", f.host, f.shard.index, count, f.samples.size()));
        all.insert(all.end(), std::make_move_iterator(f.samples.begin()), std::make_move_iterator(f.samples.end()));
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.query < b.query; });

    const LoadShardFile& head = files.front();
    RemoteOutcome o = remote_outcome_of_samples(all, max_lag, head.point.spec.target_qps, concurrency, head.slo,
                                                head.max_lateness_ms);
    if (!o.outcome.measurement.valid && o.outcome.stats.slo_pass) o.outcome.stats.slo_pass = false;

    PointResult& r = out.point;
    r = head.point;  // spec, device, model identity
    r.measurement = std::move(o.outcome.measurement);
    r.server = std::move(o.outcome.stats);
    RemoteStats st = std::move(o.stats);
    const RemoteStats& h = *head.point.remote;
    st.target = h.target;
    st.api = h.api;
    st.workload = h.workload;
    st.server_metrics_note = "not merged: each generator scraped /metrics over its own window (see its samples file)";
    st.generators = out.generators;
    r.remote = std::move(st);
    r.verify.reset();
    r.peak_rss_bytes = 0;
    for (const auto& f : files) r.peak_rss_bytes = std::max(r.peak_rss_bytes, f.point.peak_rss_bytes);
    r.ok = true;
    return out;
}

}  // namespace accel::bench
