// A remote point: the existing scenarios against an OpenAI-compatible endpoint, through the same load harness.
#include "accel/bench/remote_point.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "accel/bench/measure.h"
#include "accel/bench/load_shard.h"
#include "accel/bench/poisson_schedule.h"
#include "accel/bench/remote_outcome.h"
#include "accel/bench/remote_target.h"
#include "accel/bench/remote_workload.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/server_scenario.h"
#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"

namespace accel::bench {
namespace {

struct RemoteRun {
    LoadRun load;
    std::vector<RemoteResponse> responses;
};

// The requests through a RemoteSut and run_load: arrivals empty means all due at once (closed loops). start: a
// distributed load's common start (else now).
RemoteRun drive(const TargetUrl& url, std::span<const RemoteRequest> requests, int32_t n_workers,
                std::vector<double> arrivals, std::chrono::seconds timeout,
                std::optional<std::chrono::steady_clock::time_point> start = std::nullopt) {
    if (arrivals.empty()) arrivals.assign(requests.size(), 0.0);
    RemoteSut sut(url, requests, n_workers, timeout);
    RemoteRun out;
    out.load = run_load(sut, arrivals, start);
    out.responses = sut.responses();
    return out;
}

// --tokenizer: the GGUF's vocabulary only (no weights), loaded before the warm-up; nullopt without one.
// The seed of one run's prompts: the run's seed with the point's name and rate. Every point, and every probe of a
// peak search, sends prompts of its own: a server that caches prompts (llama-server keeps them in host memory, accel
// serve in its slots) would otherwise answer a later point from what an earlier one left, and its TTFT would measure
// the cache, not the prefill the point names. Hashed rather than added so that nearby seeds share no prompts; every
// generator of a distributed run derives the same value. 31 bits: the requests carry it as their `seed`, which
// servers read as a 32-bit integer (accel serve refuses more).
uint64_t prompt_seed(uint64_t seed, const PointSpec& spec, double qps) {
    const std::string h = sha256_hex(fmt::format("{}|{}|{}", seed, spec.test_name(), qps));
    return std::stoull(h.substr(0, 8), nullptr, 16) & 0x7fffffffULL;
}

std::optional<engine::LoadedModel> load_tokenizer(const std::string& path) {
    if (path.empty()) return std::nullopt;
    try {
        return engine::LoadedModel::load(path, {.vocab_only = true});
    } catch (const Error& e) {
        throw Error(ErrorKind::invalid_input, fmt::format("--tokenizer {}: {}", path, e.what()));
    }
}

// After the run (never on the timed path): each complete answer without usage gets its text's token count, the text
// tokenized whole with the model's vocabulary (no BOS, special-token text left as text).
void count_tokens(const engine::LoadedModel& vocab, std::span<RemoteResponse> responses) {
    for (RemoteResponse& r : responses) {
        if (r.ok() && !r.completion_tokens) {
            r.tokenizer_tokens = static_cast<int32_t>(engine::tokenize(vocab, r.text, false).size());
        }
    }
}

// The single-stream greedy answer per request body, kept for the process (a worker measures several points).
std::map<std::string, std::string>& reference_answers() {
    static std::map<std::string, std::string> answers;
    return answers;
}

// --verify: the answers of the first requests under load against the same requests sent one at a time.
constexpr size_t verify_requests = 16;

void verify_remote(PointResult& r, const TargetUrl& url, std::span<const RemoteRequest> requests,
                   std::span<const RemoteResponse> responses, std::chrono::seconds timeout) {
    const size_t n = std::min(verify_requests, requests.size());
    auto& ref = reference_answers();
    std::vector<RemoteRequest> missing;
    for (size_t i = 0; i < n; ++i) {
        if (!ref.contains(requests[i].body)) missing.push_back(requests[i]);
    }
    if (!missing.empty()) {
        const RemoteRun single = drive(url, missing, 1, {}, timeout);
        for (size_t i = 0; i < missing.size(); ++i) {
            if (!single.responses[i].ok()) {
                throw Error(ErrorKind::io, "--verify: the single-stream reference request failed: " +
                                               single.responses[i].error);
            }
            ref[missing[i].body] = single.responses[i].text;
        }
    }
    size_t n_compared = 0, n_diverged = 0;
    std::string first;
    for (size_t i = 0; i < n; ++i) {
        if (!responses[i].ok()) continue;
        ++n_compared;
        const std::string& want = ref[requests[i].body];
        const std::string& got = responses[i].text;
        if (want == got) continue;
        if (n_diverged++ == 0) {
            const auto at = std::mismatch(want.begin(), want.end(), got.begin(), got.end()).first - want.begin();
            first = fmt::format("request {} differs from byte {} (single stream {} bytes, under load {} bytes)", i, at,
                                want.size(), got.size());
        }
    }
    const bool pass = n_diverged == 0 && n_compared > 0;
    const std::string summary =
        fmt::format("{} of {} greedy answers at concurrency {} equal the single-stream answers{}",
                    n_compared - n_diverged,
                    n_compared, r.remote ? r.remote->concurrency : 1, first.empty() ? "" : "; " + first);
    r.verify = VerifyOutcome{.pass = pass, .summary = summary};
    if (!pass) {
        r.measurement.valid = false;
        r.measurement.reasons.push_back("verify failed: " + summary);
    }
}

template <class T>
std::vector<T> pick(const std::vector<T>& all, std::span<const uint32_t> queries) {
    std::vector<T> out;
    out.reserve(queries.size());
    for (uint32_t q : queries) out.push_back(all[q]);
    return out;
}

// A distributed load's generator (LoadShard): its share of the schedule, the queries with index % count == index,
// sent from the common start; their samples and its point go to the shard's file. Inactive: does nothing.
class Share {
public:
    Share(const PointSpec& spec, const PointOptions& options) : shard_(options.load_shard) {
        if (!shard_.active()) return;
        if (spec.scenario != Scenario::server || options.find_peak || options.verify) {
            throw Error(ErrorKind::invalid_input, "--load-shard: distributed load runs the server scenario at one "
                                                  "QPS (no --find-peak, no --verify)");
        }
        file_ = {.path = shard_.samples_out, .shard = shard_, .seed = options.seed, .slo = options.slo,
                 .max_lateness_ms = options.max_lateness_ms};
    }
    // Narrows the whole schedule to this share (at most max_in_flight connections); returns the common start.
    std::optional<std::chrono::steady_clock::time_point> take(std::vector<double>& arrivals,
                                                              std::vector<RemoteRequest>& requests,
                                                              int32_t& concurrency, int32_t max_in_flight) {
        if (!shard_.active()) return std::nullopt;
        file_.n_schedule = static_cast<int64_t>(arrivals.size());
        queries_ = shard_queries(arrivals.size(), shard_.index, shard_.count);
        arrivals = pick(arrivals, queries_);
        requests = pick(requests, queries_);
        concurrency = static_cast<int32_t>(
            std::clamp<int64_t>(static_cast<int64_t>(queries_.size()), 1, std::max(1, max_in_flight)));
        return steady_start(shard_.start_at_ms);
    }
    void keep(const RemoteRun& run) {
        if (!shard_.active()) return;
        file_.samples = remote_samples(run.load, run.responses, queries_);
        file_.max_issue_lag_ns = run.load.max_issue_lag_ns;
    }
    void write(const PointResult& r) {
        if (!shard_.active()) return;
        file_.host = generator_host();
        file_.point = r;
        write_load_shard(file_);
    }

private:
    LoadShard shard_;
    LoadShardFile file_;
    std::vector<uint32_t> queries_;
};

}  // namespace

void measure_remote_point(PointResult& r, const PointSpec& spec, const PointOptions& options) {
    if (!options.cpu_mask.empty()) apply_cpu_mask(options.cpu_mask);
    if (spec.scenario != Scenario::latency && spec.scenario != Scenario::offline &&
        spec.scenario != Scenario::server) {
        throw Error(ErrorKind::invalid_input, fmt::format("--target drives the latency, offline and server scenarios, "
                                                          "not {}", to_string(spec.scenario)));
    }
    TargetUrl url = parse_target_url(spec.target);
    url.api_key = options.target_api_key;
    Share share(spec, options);
    TargetIdentity id;
    try {
        id = read_target_identity(url, spec.served_model);
    } catch (const Error&) {
        r.failure_stage = "load";
        throw;
    }
    r.device = "remote";
    r.model_name = id.served_model;
    r.model_sha256 = "served:" + id.served_model + "@" + url.text;
    r.model_desc = id.server_header.empty() ? "remote" : id.server_header;
    std::optional<engine::LoadedModel> vocab;
    try {
        vocab = load_tokenizer(spec.tokenizer);
    } catch (const Error&) {
        r.failure_stage = "load";
        throw;
    }

    const Workload workload = parse_workload(spec.workload);
    const RequestLengths lengths =
        spec.lengths.empty() ? fixed_lengths(spec.n_prompt, spec.n_gen) : parse_request_lengths(spec.lengths);
    const std::vector<std::string> words = corpus_words();
    const auto requests_for = [&](size_t n, uint64_t seed) {
        return make_remote_requests(workload, lengths, n, seed, id.served_model, words);
    };
    const std::chrono::seconds timeout = options.timeout;

    // Untimed warm-up, one request at a time.
    if (options.rules.n_warmup > 0) {
        (void)drive(url, requests_for(static_cast<size_t>(options.rules.n_warmup), options.seed ^ 0x3a3aULL), 1, {},
                    timeout);
    }
    std::string metrics_why;
    const auto before = scrape_metrics(url, metrics_why);

    const bool server = spec.scenario == Scenario::server;
    const int32_t workers = spec.scenario == Scenario::latency ? 1 : std::max(1, spec.n_parallel);
    std::map<double, RemoteStats> stats_at;  // per probed QPS (server), the client figures
    std::vector<RemoteRequest> last_requests;
    std::vector<RemoteResponse> last_responses;
    const auto one_run = [&](double qps) {
        size_t n = static_cast<size_t>(std::max(1, options.n_queries));
        if (spec.scenario == Scenario::latency) n = static_cast<size_t>(std::max(1, options.rules.n_min_reps));
        std::vector<double> arrivals;
        int32_t concurrency = workers;
        if (server) {
            const double min_s = std::chrono::duration<double>(options.rules.min_duration).count();
            const double by_duration = std::ceil(min_s * qps);
            n = static_cast<size_t>(std::max<double>(static_cast<double>(n), by_duration));
            arrivals = poisson_arrivals(qps, n, options.seed);
            concurrency = static_cast<int32_t>(std::min<int64_t>(static_cast<int64_t>(n),
                                                                 std::max(1, options.max_in_flight)));
        }
        auto requests = requests_for(n, prompt_seed(options.seed, spec, qps));
        const auto start = share.take(arrivals, requests, concurrency, options.max_in_flight);
        RemoteRun run = drive(url, requests, concurrency, arrivals, timeout, start);
        if (vocab) count_tokens(*vocab, run.responses);
        share.keep(run);
        RemoteOutcome o = remote_outcome(run.load, run.responses, server, qps, concurrency,
                                         server ? options.slo : ServerSlo{}, options.max_lateness_ms);
        // A probe the client could not keep, or with failed requests, passes no SLO.
        if (!o.outcome.measurement.valid && o.outcome.stats.slo_pass) o.outcome.stats.slo_pass = false;
        o.stats.api = requests.empty() ? "" : requests.front().path;
        stats_at[qps] = o.stats;
        last_requests = std::move(requests);
        last_responses = std::move(run.responses);
        return o.outcome;
    };
    ServerOutcome outcome;
    if (server) {
        outcome = run_server_search(one_run, {.lengths = lengths, .n_queries = options.n_queries,
                                              .target_qps = spec.target_qps, .seed = options.seed,
                                              .slo = options.slo, .find_peak = options.find_peak});
    } else {
        outcome = one_run(0);
    }
    r.measurement = std::move(outcome.measurement);
    r.measurement.samples_tokens.clear();
    if (server) r.server = std::move(outcome.stats);
    RemoteStats st = stats_at[server ? r.server->target_qps : 0.0];
    st.target = id;
    st.workload = workload.text;
    st.tokenizer = spec.tokenizer;
    if (before) {
        std::string why_after;
        const auto after = scrape_metrics(url, why_after);
        if (after) {
            st.server_metrics_delta = metrics_delta(*before, *after);
        } else {
            st.server_metrics_note = why_after;
        }
    } else {
        st.server_metrics_note = metrics_why;
    }
    r.remote = std::move(st);
    // --verify compares the last run's answers (with --find-peak: the last probe's).
    if (options.verify) verify_remote(r, url, last_requests, last_responses, timeout);
    r.energy_unavailable = "not measured for a remote target (the server runs elsewhere)";
    r.peak_rss_bytes = peak_rss_bytes();  // the client's
    r.ok = true;
    share.write(r);
}

}  // namespace accel::bench
