// The ResourcePool's performance targets (issue 5), each measured against its peer in the same run:
//   1. a pool hit, from acquire to lease: median < 2 us single-threaded, p99 < 20 us with as many threads as cores
//      (and 8 threads, reported);
//   2. loading through the pool adds < 1% to llama.cpp's own load (model + context) of a ~200M synthetic model;
//   3. generation through accel (pool + engine::generate) is within 2% of a plain llama.cpp decode loop, on a
//      ~100M synthetic model.
// Loads and generation run in A B B A pairs, and each figure is the median of the per-pair ratios.
// Usage: pool_bench MODEL_200M.gguf MODEL_100M.gguf [rounds]
// Synthetic models have random weights: valid for speed, meaningless for text.
#include <llama.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "accel/bench/statistics.h"
#include "accel/engine/generator.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/hw/device.h"
#include "accel/pool/engine_loader.h"
#include "accel/pool/resource_pool.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace accel;

double ns(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::nano>(b - a).count(); }

// A loader that loads nothing: the hit path is all that is measured.
class NullResident : public pool::Resident {};
class NullLoader : public pool::Loader {
public:
    pool::DeviceBytes estimate(const pool::LoadSpec& s) override { return {{s.device, 1 << 20}}; }
    std::unique_ptr<pool::Resident> load(const pool::LoadSpec& s, pool::DeviceBytes& m) override {
        m[s.device] = 1 << 20;
        return std::make_unique<NullResident>();
    }
};
class BigMonitor : public pool::DeviceMonitor {
public:
    std::vector<std::string> devices() override { return {"cpu"}; }
    uint64_t total_bytes(const std::string&) override { return 1ull << 40; }
    uint64_t free_bytes(const std::string&) override { return 1ull << 40; }
    bool is_gpu(const std::string&) override { return false; }
    uint64_t system_available_bytes() override { return 1ull << 40; }
};

void hit_latency(const std::filesystem::path& model) {
    NullLoader loader;
    BigMonitor monitor;
    pool::ResourcePool p(pool::PoolConfig{}, loader, monitor);
    const pool::Request req{.model = model, .devices = {"cpu"}};
    p.acquire(req).release();  // resident from now on
    const auto run = [&](int threads, int per_thread) {
        std::vector<double> all;
        std::mutex m;
        std::vector<std::thread> ts;
        std::atomic<bool> go{false};
        for (int t = 0; t < threads; ++t) {
            ts.emplace_back([&] {
                std::vector<double> lat;
                lat.reserve(static_cast<size_t>(per_thread));
                while (!go) std::this_thread::yield();
                for (int i = 0; i < per_thread; ++i) {
                    const auto t0 = Clock::now();
                    pool::Lease l = p.acquire(req);
                    const auto t1 = Clock::now();
                    lat.push_back(ns(t0, t1));
                }
                std::lock_guard g(m);
                all.insert(all.end(), lat.begin(), lat.end());
            });
        }
        go = true;
        for (auto& t : ts) t.join();
        return bench::summarize(all);
    };
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const auto one = run(1, 200000);
    const auto many = run(cores, 50000);
    const auto eight = run(8, 20000);
    fmt::print("| pool hit, 1 thread | median {:.2f} us | p99 {:.2f} us | target median < 2 us: {} |\n", one.p50 / 1e3,
               one.p99 / 1e3, one.p50 < 2000 ? "met" : "MISSED");
    fmt::print("| pool hit, {} threads (= cores) | median {:.2f} us | p99 {:.2f} us | target p99 < 20 us: {} |\n",
               cores, many.p50 / 1e3, many.p99 / 1e3, many.p99 < 20000 ? "met" : "MISSED");
    fmt::print("| pool hit, 8 threads | median {:.2f} us | p99 {:.2f} us | (reported) |\n", eight.p50 / 1e3,
               eight.p99 / 1e3);
}

// llama.cpp's own load: the model from its file, then a context, with the parameters accel's engine passes.
uint64_t load_direct_ns(const std::filesystem::path& model, uint32_t n_ctx) {
    const auto t0 = Clock::now();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model* m = llama_model_load_from_file(model.c_str(), mp);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n_ctx;
    cp.no_perf = true;
    cp.n_threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    cp.n_threads_batch = cp.n_threads;
    llama_context* ctx = llama_init_from_model(m, cp);
    const auto t1 = Clock::now();
    if (m == nullptr || ctx == nullptr) {
        std::fprintf(stderr, "pool_bench: llama.cpp could not load %s\n", model.c_str());
        std::exit(1);
    }
    llama_free(ctx);
    llama_model_free(m);
    return static_cast<uint64_t>(ns(t0, t1));
}

uint64_t load_pool_ns(const std::filesystem::path& model, uint32_t n_ctx) {
    const auto devices = hw::ggml_devices();
    pool::EngineLoader loader(devices);
    pool::SystemMonitor monitor(devices);
    pool::ResourcePool p(pool::PoolConfig{}, loader, monitor);
    const auto t0 = Clock::now();
    auto lease = p.acquire({.model = model, .devices = {"cpu"}, .options = {.n_ctx = n_ctx}});
    return static_cast<uint64_t>(ns(t0, Clock::now()));
}

// The two parts of the pool's load overhead, timed alone: the loader's plan (GGUF header read, memory estimate,
// placement) on a fresh loader, and the pool's admission (identity, budgets, the memory monitor, accounting)
// around a loader that loads nothing.
double plan_ns(const std::filesystem::path& model, uint32_t n_ctx) {
    pool::EngineLoader loader(hw::ggml_devices());
    const auto t0 = Clock::now();
    loader.estimate({.model = model, .identity = "bench", .device = "cpu", .options = {.n_ctx = n_ctx}});
    return ns(t0, Clock::now());
}

double admission_ns(const std::filesystem::path& model, uint32_t n_ctx) {
    NullLoader loader;
    pool::SystemMonitor monitor(hw::ggml_devices());
    pool::ResourcePool p(pool::PoolConfig{}, loader, monitor);
    const auto t0 = Clock::now();
    auto lease = p.acquire({.model = model, .devices = {"cpu"}, .options = {.n_ctx = n_ctx}});
    return ns(t0, Clock::now());
}

// llama.cpp alone: tokenize, decode the prompt, then greedy sampling and single-token decodes.
double direct_tokens_per_s(const std::filesystem::path& model, int n) {
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model* m = llama_model_load_from_file(model.c_str(), mp);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 1024;
    cp.no_perf = true;
    // The same threads accel uses by default (one per logical core), so the two run the same work.
    cp.n_threads = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
    cp.n_threads_batch = cp.n_threads;
    llama_context* ctx = llama_init_from_model(m, cp);
    const llama_vocab* vocab = llama_model_get_vocab(m);
    std::vector<llama_token> toks(64);
    const std::string prompt = "The quick brown fox";
    const int nt = llama_tokenize(vocab, prompt.c_str(), static_cast<int32_t>(prompt.size()), toks.data(), 64, true, false);
    toks.resize(static_cast<size_t>(nt));
    llama_sampler* smpl = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(smpl, llama_sampler_init_greedy());
    llama_decode(ctx, llama_batch_get_one(toks.data(), nt));
    llama_token tok = llama_sampler_sample(smpl, ctx, -1);
    const auto t0 = Clock::now();
    for (int i = 1; i < n; ++i) {
        llama_decode(ctx, llama_batch_get_one(&tok, 1));
        tok = llama_sampler_sample(smpl, ctx, -1);
    }
    const double secs = ns(t0, Clock::now()) / 1e9;
    llama_sampler_free(smpl);
    llama_free(ctx);
    llama_model_free(m);
    return (n - 1) / secs;
}

double accel_tokens_per_s(const std::filesystem::path& model, int n) {
    const auto devices = hw::ggml_devices();
    pool::EngineLoader loader(devices);
    pool::SystemMonitor monitor(devices);
    pool::ResourcePool p(pool::PoolConfig{}, loader, monitor);
    auto lease = p.acquire({.model = model, .devices = {"cpu"}, .options = {.n_ctx = 1024}});
    const auto st = engine::generate(*lease.session(), "The quick brown fox", {.n_predict = n},
                                     [](std::string_view) { return true; });
    return (st.n_tokens_gen - 1) * 1e9 / static_cast<double>(st.gen_time.count());
}

double median(std::vector<double> v) { return bench::summarize(v).p50; }

// Paired rounds in A B B A order: each arm runs first in half the rounds, so whatever the previous run leaves
// behind (freed pages, a cooler cache, a clock that drifts over the run) falls on both arms alike. The figure is
// the median of the per-round ratios accel/peer, which cancels drift slower than one round.
struct Paired {
    std::vector<double> accel, peer;
    double median_ratio() const {
        std::vector<double> r;
        for (size_t i = 0; i < accel.size(); ++i) r.push_back(accel[i] / peer[i]);
        return median(r);
    }
};

template <typename A, typename P, typename Between>
Paired run_paired(int rounds, A accel_arm, P peer_arm, Between between) {
    Paired out;
    for (int r = 0; r < rounds; ++r) {
        if (r % 2 == 0) {
            out.peer.push_back(peer_arm());
            out.accel.push_back(accel_arm());
        } else {
            out.accel.push_back(accel_arm());
            out.peer.push_back(peer_arm());
        }
        between();
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: pool_bench MODEL_200M.gguf MODEL_100M.gguf [rounds]\n");
        return 2;
    }
    const std::filesystem::path m200 = argv[1];
    const std::filesystem::path m100 = argv[2];
    const int rounds = argc > 3 ? std::atoi(argv[3]) : 5;
    llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
    fmt::print("| measurement | accel | peer | result |\n|---|---|---|---|\n");
    hit_latency(m100);

    // Loads: a load's spread on this VM is several percent (sd 3-8 ms of 72 ms), so resolving 1% takes many more
    // rounds than generation does: 60 pairs take about 10 s.
    const int load_rounds = std::max(60, rounds);
    std::vector<double> plans, admissions;
    const Paired load = run_paired(
        load_rounds, [&] { return static_cast<double>(load_pool_ns(m200, 512)); },
        [&] { return static_cast<double>(load_direct_ns(m200, 512)); },
        [&] {
            plans.push_back(plan_ns(m200, 512));
            admissions.push_back(admission_ns(m200, 512));
        });
    const double load_ratio = load.median_ratio();
    fmt::print("| load 200M through the pool vs llama.cpp (model + context), {} A B B A pairs | {:.1f} ms | {:.1f} ms | "
               "{:+.2f}% (target < 1%: {}) |\n",
               load_rounds, median(load.accel) / 1e6, median(load.peer) / 1e6, 100 * (load_ratio - 1),
               load_ratio < 1.01 ? "met" : "MISSED");
    fmt::print("| of which, timed alone: the loader's plan (GGUF header, estimate, placement) | {:.0f} us | | {:.2f}% "
               "of the direct load |\n",
               median(plans) / 1e3, 100 * median(plans) / median(load.peer));
    fmt::print("| of which, timed alone: the pool's admission (identity, budgets, memory monitor) | {:.0f} us | | "
               "{:.2f}% of the direct load |\n",
               median(admissions) / 1e3, 100 * median(admissions) / median(load.peer));

    // 512 tokens (about 1.5 s an arm here): with 256 the ratio moved by 2% between runs on this VM.
    constexpr int gen_tokens = 512;
    const Paired gen = run_paired(
        rounds, [&] { return accel_tokens_per_s(m100, gen_tokens); },
        [&] { return direct_tokens_per_s(m100, gen_tokens); }, [] {});
    const double gen_ratio = gen.median_ratio();
    fmt::print("| generation 100M, {} tokens greedy, {} A B B A pairs | {:.2f} t/s | {:.2f} t/s | ratio {:.3f} (target "
               "0.98-1.02: {}) |\n",
               gen_tokens, rounds, median(gen.accel), median(gen.peer), gen_ratio,
               gen_ratio >= 0.98 && gen_ratio <= 1.02 ? "met" : "MISSED");
    return 0;
}
