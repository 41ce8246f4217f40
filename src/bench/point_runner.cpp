#include "accel/bench/point_runner.h"
#include "accel/bench/vision_scenario.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

#include <fmt/core.h>

#include "accel/bench/audio_scenario.h"
#include "accel/bench/engine_parallel_target.h"
#include "accel/bench/engine_targets.h"
#include "accel/bench/llm_scenario.h"
#include "accel/bench/measure.h"
#include "accel/bench/remote_point.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/request_lengths.h"
#include "accel/bench/sample_library.h"
#include "accel/bench/server_scenario.h"
#include "accel/bench/verify.h"
#include "accel/engine/batch_decoder.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/engine/embedder.h"
#include "accel/hw/device.h"
#include "accel/hw/gpu_energy.h"
#include "accel/hw/inventory.h"
#include "accel/hw/roofline.h"
#include "accel/core/fingerprint.h"
#include "accel/pool/resource_pool.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// Closed loop, one query at a time: prompt, then greedy generation. Each query's latency includes everything
// from the first prompt token to the last generated one.
Measurement run_latency(LlmTarget& target, const PointSpec& spec, const RunRules& rules, uint64_t seed) {
    TokenSampleLibrary lib(target.n_vocab(), target.add_bos(), target.bos(), seed);
    std::vector<int32_t> prompt(static_cast<size_t>(spec.n_prompt));
    Measurement m;
    const auto query = [&](bool timed) {
        lib.fill(prompt);
        target.reset();
        const auto t0 = Clock::now();
        target.prefill(prompt, 0);
        int32_t tok = target.greedy();
        const auto t_first = Clock::now();
        for (int32_t i = 1; i < spec.n_gen; ++i) {
            target.decode_one(tok, spec.n_prompt + i - 1);
            tok = target.greedy();
        }
        const auto t1 = Clock::now();
        if (!timed) return;
        const int64_t e2e = ns_between(t0, t1);
        m.samples_ns.push_back(e2e);
        m.samples_ts.push_back(spec.n_gen * 1e9 / static_cast<double>(std::max<int64_t>(e2e, 1)));
        m.samples_tokens.push_back(spec.n_gen);
        m.ttft_ns.push_back(ns_between(t0, t_first));
        if (spec.n_gen > 1) m.tpot_ns.push_back(ns_between(t_first, t1) / (spec.n_gen - 1));
        m.wall += std::chrono::nanoseconds(e2e);
    };
    for (int32_t i = 0; i < rules.n_warmup; ++i) query(false);
    while (static_cast<int32_t>(m.samples_ns.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(m.samples_ns.size()) < rules.n_min_reps || m.wall < rules.min_duration)) {
        query(true);
    }
    finish_measurement(m, rules);
    return m;
}

// Texts of about n tokens: random vocabulary pieces, so the tokenizer and the model see ordinary input.
std::vector<std::string> embed_texts(const engine::LoadedModel& model, const PointSpec& spec, uint64_t seed) {
    TokenSampleLibrary lib(model.n_vocab(), false, -1, seed);
    std::vector<std::string> texts;
    const int32_t lo = std::min(1000, model.n_vocab() / 2);
    for (int32_t b = 0; b < spec.embed_batch; ++b) {
        std::vector<int32_t> toks;
        while (static_cast<int32_t>(toks.size()) < std::max(1, spec.n_prompt - 2)) {
            const int32_t t = lib.next();
            if (t >= lo) toks.push_back(t);
        }
        texts.push_back(engine::detokenize(model, toks));
    }
    return texts;
}

Measurement run_embed(engine::Session& session, const PointSpec& spec, const RunRules& rules, uint64_t seed) {
    const auto texts = embed_texts(session.model(), spec, seed);
    EngineEmbedTarget target(session);
    return run_batches<std::string>(target, texts, rules);
}

// A failed check makes the point INVALID with the check's own summary as the reason: fast but wrong must show.
void record_verify(PointResult& r, bool pass, const std::string& summary) {
    r.verify = VerifyOutcome{.pass = pass, .summary = summary};
    if (!pass) {
        r.measurement.valid = false;
        r.measurement.reasons.push_back("verify failed against the CPU reference: " + summary);
    }
}

// Logits at every position of a fixed prompt, then a greedy continuation: what --verify compares.
constexpr int32_t verify_prompt_tokens = 32;
constexpr int32_t verify_greedy_tokens = 16;

struct LogitTrace {
    std::vector<std::vector<float>> rows;
    std::vector<int32_t> greedy;
};

LogitTrace trace(engine::Session& session, uint64_t seed, bool perturb) {
    engine::BatchDecoder dec(session);
    TokenSampleLibrary lib(dec.n_vocab(), session.model().adds_bos(), session.model().bos(), seed ^ 0x5eedULL);
    const auto prompt = lib.tokens(std::min<int32_t>(verify_prompt_tokens, dec.n_batch()));
    dec.clear_memory();
    dec.batch_clear();
    for (size_t i = 0; i < prompt.size(); ++i) dec.batch_add(prompt[i], static_cast<int32_t>(i), 0, true);
    dec.batch_decode();
    LogitTrace t;
    for (size_t i = 0; i < prompt.size(); ++i) {
        const auto l = dec.logits(static_cast<int32_t>(i));
        t.rows.emplace_back(l.begin(), l.end());
    }
    // A test-only switch plants a wrong device (negated logits) so the check's failure path is exercised.
    if (perturb) {
        for (auto& row : t.rows) {
            for (auto& x : row) x = -x;
        }
    }
    int32_t tok = perturb ? static_cast<int32_t>(std::min_element(t.rows.back().begin(), t.rows.back().end()) -
                                                 t.rows.back().begin())
                          : dec.argmax(static_cast<int32_t>(prompt.size()) - 1);
    for (int32_t i = 0; i < verify_greedy_tokens; ++i) {
        t.greedy.push_back(tok);
        dec.batch_clear();
        dec.batch_add(tok, static_cast<int32_t>(prompt.size()) + i, 0, true);
        dec.batch_decode();
        tok = dec.argmax(-1);
        if (perturb) tok = (tok + 1) % dec.n_vocab();
    }
    return t;
}

// This machine's roofline from `accel detect --measure`'s cache, read once per process: a worker that measures
// many points pays for the inventory once.
const std::optional<hw::Roofline>& machine_roofline() {
    static const std::optional<hw::Roofline> roof = [] {
        const hw::Inventory inv = hw::detect({.browsers = false});
        const std::string fp = fingerprint_id(hw::machine_fingerprint(inv));
        return hw::load_roofline(hw::roofline_cache_path(inv), fp);
    }();
    return roof;
}

// The point against this machine's roof (bench/roofline_efficiency.h), when `accel detect --measure` cached one.
// kv_cells: the point's own context, which the KV estimate in r was made for.
void record_roofline(PointResult& r, uint32_t kv_cells) {
    const auto& roof = machine_roofline();
    const auto& s = r.spec;
    const bool llm = s.scenario == Scenario::llm;
    r.roofline = roofline_efficiency(roof ? &*roof : nullptr,
                                     {.device = r.device,
                                      .model_description = r.model_desc,
                                      .n_prompt = llm ? s.n_prompt : 0,
                                      .n_gen = llm ? s.n_gen : 0,
                                      .n_depth = s.n_depth,
                                      .tokens_per_s = r.measurement.ts.mean,
                                      .weight_bytes = r.model_size,
                                      .n_params_blocks = r.model_n_params_blocks,
                                      .kv_bytes = r.kv_cache_bytes_estimate,
                                      .kv_cells = kv_cells});
}

// How big the point's context is, and how many sequences share it.
struct PointContext {
    bool embed = false;
    bool load = false;        // a load scenario (server, offline)
    RequestLengths lengths;   // load scenarios
    int32_t n_slots = 1;
    uint32_t n_ctx = 0;
};

PointContext size_context(const PointSpec& spec, const PointOptions& options) {
    PointContext c;
    c.embed = spec.scenario == Scenario::embed;
    c.load = spec.scenario == Scenario::server || spec.scenario == Scenario::offline;
    c.lengths = !c.load ? RequestLengths{}
                : spec.lengths.empty() ? fixed_lengths(spec.n_prompt, spec.n_gen)
                                       : parse_request_lengths(spec.lengths);
    // Load scenarios: each slot has its own part of the context (llama.cpp splits n_ctx over n_seq_max, in
    // steps of 256 cells), big enough for the longest prompt plus the longest output.
    c.n_slots = c.load ? std::max(1, spec.n_parallel) : 1;
    const int32_t per_slot = (std::max(256, c.lengths.prompt_max + c.lengths.gen_max + 16) + 255) / 256 * 256;
    // llm: llama-bench's context, depth + prompt + generated tokens (llama.cpp pads it to 256 cells), so that
    // the KV cache and the attention span match the peer's; a 528-cell context for pp512 became 768 cells.
    // latency: a few cells of room for the BOS and the greedy loop's last token.
    // --verify traces its own prompt and continuation in the same context, so it needs room for those too.
    const int32_t n_verify = options.verify ? verify_prompt_tokens + verify_greedy_tokens : 1;
    const int32_t n_single = spec.scenario == Scenario::llm
                                 ? std::max(n_verify, spec.n_depth + spec.n_prompt + spec.n_gen)
                                 : std::max(256, spec.n_depth + spec.n_prompt + spec.n_gen + 16);
    c.n_ctx = c.embed  ? static_cast<uint32_t>(std::max(512, spec.n_prompt + 16) * spec.embed_batch)
              : c.load ? static_cast<uint32_t>(per_slot * c.n_slots)
                       : static_cast<uint32_t>(n_single);
    return c;
}

// The memory estimator's configuration for the point as it is loaded (size_context, load_options).
model::MemoryConfig memory_config(const PointSpec& spec, const PointContext& c) {
    const uint32_t n_seq = c.embed ? static_cast<uint32_t>(std::max(1, spec.embed_batch))
                                   : static_cast<uint32_t>(std::max(1, c.n_slots));
    return {.n_ctx = std::max<uint32_t>(1, c.n_ctx / n_seq),
            .n_parallel = n_seq,
            .n_batch = static_cast<uint32_t>(spec.n_batch),
            .n_ubatch = static_cast<uint32_t>(spec.n_ubatch),
            .kv_type = spec.type_k,
            .flash_attn = spec.flash_attn};
}

pool::LoadOptions load_options(const PointSpec& spec, const PointContext& c) {
    return {.n_ctx = c.n_ctx,
            .n_seq = static_cast<uint32_t>(c.embed ? spec.embed_batch : c.n_slots),
            .n_batch = static_cast<uint32_t>(c.embed ? std::max<int32_t>(spec.n_batch, 512) : spec.n_batch),
            .n_ubatch = static_cast<uint32_t>(c.embed ? std::max<int32_t>(spec.n_ubatch, 512) : spec.n_ubatch),
            .type_k = spec.type_k,
            .type_v = spec.type_v,
            .flash_attn = spec.flash_attn,
            .n_gpu_layers = spec.n_gpu_layers,
            .embeddings = c.embed,
            .pooling = c.embed ? engine::Pooling::mean : engine::Pooling::model_default};
}

// The energy window: the scenario's warm-up and timed repetitions; the load before and --verify after are outside
// it. A GPU point also reads the GPU's own counter (NVML), over the same window as RAPL.
class EnergyWindow {
public:
    EnergyWindow(const std::vector<hw::Device>& devices, const std::string& device) : device_(device) {
        for (const auto& d : devices) {
            if (d.id == device && (d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu)) {
                gpu_.emplace(d.pci_bus_id);
            }
        }
    }
    void begin() {
        e0_ = read_energy();
        if (gpu_) gpu_mj0_ = gpu_->read_mj();
        t0_ = Clock::now();
    }
    void end(PointResult& r, const RunRules& rules) {
        const EnergyReading e1 = read_energy();
        const auto gpu_mj1 = gpu_ ? gpu_->read_mj() : std::nullopt;
        r.energy_window = fmt::format(
            "{:.3f} s: the scenario's {} warm-up and {} timed repetitions (model load and --verify excluded)",
            static_cast<double>(ns_between(t0_, Clock::now())) / 1e9, rules.n_warmup,
            r.measurement.samples_ns.size());
        if (auto j = energy_between(e0_, e1)) {
            r.energy_j = *j;
        } else {
            r.energy_unavailable = e0_.available ? e1.reason : e0_.reason;
        }
        if (!gpu_) return;
        if (gpu_mj0_ && gpu_mj1) {
            r.energy_j.emplace_back("gpu:" + device_, static_cast<double>(*gpu_mj1 - *gpu_mj0_) / 1000.0);
        } else {
            r.energy_unavailable += (r.energy_unavailable.empty() ? "" : "; ") + device_ + ": " +
                                    (gpu_->available() ? "the energy counter read failed" : gpu_->reason());
        }
    }

private:
    std::string device_;
    std::optional<hw::GpuEnergyCounter> gpu_;
    EnergyReading e0_;
    std::optional<uint64_t> gpu_mj0_;
    Clock::time_point t0_;
};

// Runs the point's scenario on the leased session: the timed part of the point.
void run_scenario(PointResult& r, engine::Session& session, const PointSpec& spec, const PointOptions& options,
                  const PointContext& c, bool embedding_model) {
    if (c.embed) {
        r.measurement = run_embed(session, spec, options.rules, options.seed);
        return;
    }
    if (c.load) {
        if (embedding_model) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{} is an embedding model: the {} scenario serves generative LLMs (use "
                                    "--scenario embed)", spec.model, to_string(spec.scenario)));
        }
        EngineParallelTarget target(session);
        const LoadTest test{.lengths = c.lengths, .n_queries = options.n_queries, .target_qps = spec.target_qps,
                            .seed = options.seed, .slo = options.slo, .find_peak = options.find_peak};
        if (spec.scenario == Scenario::server) {
            ServerOutcome o = run_server(target, test, options.rules);
            r.measurement = std::move(o.measurement);
            r.server = std::move(o.stats);
        } else {
            OfflineOutcome o = run_offline(target, test, options.rules);
            r.measurement = std::move(o.measurement);
            r.offline = std::move(o.stats);
        }
        return;
    }
    EngineLlmTarget target(session);
    if (spec.scenario == Scenario::latency) {
        r.measurement = run_latency(target, spec, options.rules, options.seed);
    } else {
        r.measurement = run_llm_test(
            target, {.n_prompt = spec.n_prompt, .n_gen = spec.n_gen, .n_depth = spec.n_depth, .seed = options.seed},
            options.rules);
    }
}

// A test-only switch (ACCEL_VERIFY_PERTURB=1) plants a wrong device so the check's failure path is exercised.
bool verify_perturbed() {
    const char* env = std::getenv("ACCEL_VERIFY_PERTURB");
    return env != nullptr && std::string(env) == "1";
}

// --verify for embed: the same texts through a CPU reference from a pool of its own (always a separate context).
void verify_embed(PointResult& r, MeasuredModel& m, const PointSpec& spec, const PointOptions& options,
                  const PointContext& c) {
    pool::ResourcePool ref_pool(m.pool().config(), m.loader(), m.monitor());
    const auto texts = embed_texts(m.session().model(), spec, options.seed ^ 0x5eedULL);
    auto dev = engine::embed(m.session(), texts, {});
    if (verify_perturbed()) {
        for (auto& v : dev) {
            for (auto& x : v) x = -x;
        }
    }
    pool::LoadOptions ref_options{.n_ctx = c.n_ctx, .n_seq = static_cast<uint32_t>(spec.embed_batch)};
    ref_options.n_batch = static_cast<uint32_t>(std::max<int32_t>(spec.n_batch, 512));
    ref_options.n_ubatch = static_cast<uint32_t>(std::max<int32_t>(spec.n_ubatch, 512));
    ref_options.n_gpu_layers = 0;
    ref_options.embeddings = true;
    ref_options.pooling = engine::Pooling::mean;
    pool::Lease ref_lease = ref_pool.acquire(
        {.model = spec.model, .devices = {"cpu"}, .options = ref_options, .fallback = pool::Fallback::forbid});
    const auto ref = engine::embed(*ref_lease.session(), texts, {});
    const EmbedVerifyResult v = compare_embeddings(ref, dev);
    record_verify(r, v.pass, v.summary);
}

// --verify for the LLM scenarios: logits and a greedy continuation against the same model in f32-accumulating CPU
// execution, in its own context.
void verify_llm(PointResult& r, MeasuredModel& m, const PointSpec& spec, const PointOptions& options,
                const PointContext& c) {
    const LogitTrace dev = trace(m.session(), options.seed, verify_perturbed());
    pool::Lease ref_lease = m.pool().acquire({.model = spec.model,
                                              .devices = {"cpu"},
                                              .options = {.n_ctx = c.n_ctx, .n_gpu_layers = 0},
                                              .fallback = pool::Fallback::forbid});
    const LogitTrace ref = trace(*ref_lease.session(), options.seed, false);
    const VerifyResult v = compare_llm(ref.rows, dev.rows, ref.greedy, dev.greedy);
    record_verify(r, v.pass, v.summary);
}

// Everything from the facts to the roofline; throws for a failure of the point (the caller records it).
void measure_point(PointResult& r, const PointSpec& spec, const PointOptions& options) {
    if (!spec.target.empty()) {
        measure_remote_point(r, spec, options);
        return;
    }
    if (!options.cpu_mask.empty()) apply_cpu_mask(options.cpu_mask);
    if (spec.scenario == Scenario::audio) return measure_audio_point(r, spec, options);  // whisper.cpp, not the pool
    if (spec.scenario == Scenario::vision) {  // accel's own image models: vision_scenario.cpp
        const auto& roof = machine_roofline();
        measure_vision_point(r, spec, options, roof ? &*roof : nullptr);
        r.energy_unavailable = "not measured for vision points";  // as audio: no energy window around the passes
        r.peak_rss_bytes = peak_rss_bytes();
        r.ok = true;
        return;
    }
    const PointContext c = size_context(spec, options);
    // The facts read the file: before --cold evicts it, never after. The KV estimate is for the point's own
    // context, sequences, batches, KV type and flash attention, so that the report's estimate-versus-measured
    // compares the same configuration.
    const ModelFacts facts = read_model_facts(spec.model, memory_config(spec, c));
    record_facts(r, facts);
    MeasuredModel m;
    EnergyWindow energy(m.devices(), spec.device);
    try {
        m.load({.model = spec.model,
                .device = spec.device,
                .options = load_options(spec, c),
                .n_threads = spec.n_threads,
                .cold = options.cold,
                .before_load = options.before_load});
    } catch (const Error&) {
        r.failure_stage = "load";
        throw;
    }
    m.record(r);
    energy.begin();
    run_scenario(r, m.session(), spec, options, c, facts.embedding);
    energy.end(r, options.rules);
    if (options.verify && c.embed) verify_embed(r, m, spec, options, c);
    if (options.verify && !c.embed) verify_llm(r, m, spec, options, c);
    r.peak_rss_bytes = peak_rss_bytes();
    record_roofline(r, c.n_ctx);
    r.ok = true;
}

}  // namespace

void prepare_point_process() {
    (void)hw::ggml_devices();
    (void)machine_roofline();
}

PointResult run_point(const PointSpec& spec, const PointOptions& options) {
    PointResult r;
    r.spec = spec;
    reset_peak_rss();
    try {
        measure_point(r, spec, options);
    } catch (const Error& e) {
        r.failure_stage = r.failure_stage.empty() ? "run" : r.failure_stage;
        r.failure_reason = e.what();
    } catch (const std::exception& e) {
        r.failure_stage = "run";
        r.failure_reason = std::string("internal error: ") + e.what();
    }
    return r;
}

IsolatedOutcome run_isolated(const std::function<std::string()>& body, std::chrono::seconds timeout) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw Error(ErrorKind::io, "pipe failed: " + std::string(std::strerror(errno)));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) throw Error(ErrorKind::io, "fork failed: " + std::string(std::strerror(errno)));
    if (pid == 0) {
        ::close(fds[0]);
        std::string text;
        try {
            text = body() + "\n";
        } catch (...) {
            ::_exit(1);
        }
        size_t off = 0;
        while (off < text.size()) {
            const ssize_t n = ::write(fds[1], text.data() + off, text.size() - off);
            if (n <= 0) break;
            off += static_cast<size_t>(n);
        }
        ::_exit(0);  // no static destructors or atexit handlers of the parent's state in the child
    }
    ::close(fds[1]);
    std::string out;
    const auto deadline = Clock::now() + timeout;
    bool timed_out = false;
    char buf[65536];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000))) <= 0) continue;
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timed_out) return timeout_outcome(timeout);
    if (WIFSIGNALED(status) || out.empty()) return crash_outcome(status);
    IsolatedOutcome o;
    o.ok = true;
    o.text = std::move(out);
    return o;
}

ConnectedChild fork_connected() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        throw Error(ErrorKind::io, "socketpair failed: " + std::string(std::strerror(errno)));
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error(ErrorKind::io, "fork failed: " + std::string(std::strerror(errno)));
    }
    ::close(pid == 0 ? fds[0] : fds[1]);
    return {.pid = pid, .fd = pid == 0 ? fds[1] : fds[0]};
}

IsolatedOutcome timeout_outcome(std::chrono::seconds timeout) {
    IsolatedOutcome o;
    o.failure_stage = "timeout";
    o.failure_reason = fmt::format("killed after the --timeout of {} s", timeout.count());
    return o;
}

IsolatedOutcome crash_outcome(int wait_status) {
    IsolatedOutcome o;
    o.failure_stage = "crash";
    o.failure_reason = WIFSIGNALED(wait_status)
                           ? fmt::format("the measuring process died with signal {} ({})", WTERMSIG(wait_status),
                                         strsignal(WTERMSIG(wait_status)))
                           : fmt::format("the measuring process exited with status {} and no result",
                                         WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
    return o;
}

std::vector<hw::Device> probe_devices(std::chrono::seconds timeout) {
    const IsolatedOutcome o = run_isolated(
        [] {
            std::string lines;
            for (const auto& d : hw::ggml_devices()) {
                lines += fmt::format("{}\t{}\t{}\t{}\t{}\n", d.id, static_cast<int>(d.type), d.memory_total_bytes,
                                     d.memory_free_bytes, d.name);
            }
            return lines;
        },
        timeout);
    if (!o.ok) throw Error(ErrorKind::backend, "listing the devices failed: " + o.failure_reason);
    std::vector<hw::Device> out;
    size_t start = 0;
    for (size_t nl = o.text.find('\n'); nl != std::string::npos; start = nl + 1, nl = o.text.find('\n', start)) {
        std::vector<std::string> f;
        size_t fs = start;
        for (size_t tab = o.text.find('\t', fs); tab != std::string::npos && tab < nl && f.size() < 4;
             fs = tab + 1, tab = o.text.find('\t', fs)) {
            f.push_back(o.text.substr(fs, tab - fs));
        }
        if (f.size() != 4) continue;
        hw::Device d;
        d.id = f[0];
        d.type = static_cast<hw::DeviceType>(std::stoi(f[1]));
        d.memory_total_bytes = std::stoull(f[2]);
        d.memory_free_bytes = std::stoull(f[3]);
        d.name = o.text.substr(fs, nl - fs);
        out.push_back(std::move(d));
    }
    return out;
}

PointResult run_point_isolated(const PointSpec& spec, const PointOptions& options) {
    IsolatedOutcome o = run_isolated([&] { return to_json_text(run_point(spec, options)); }, options.timeout);
    if (!o.ok) {
        PointResult r;
        r.spec = spec;
        r.failure_stage = o.failure_stage;
        r.failure_reason = o.failure_reason;
        return r;
    }
    return point_result_from_json(o.text);
}

}  // namespace accel::bench
