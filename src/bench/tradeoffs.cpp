#include "accel/bench/tradeoffs.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/engine_targets.h"
#include "accel/bench/llm_scenario.h"
#include "accel/bench/measure.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/run_hygiene.h"
#include "accel/bench/sample_library.h"
#include "accel/core/error.h"
#include "accel/core/log.h"
#include "accel/core/units.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/quality.h"
#include "accel/engine/quantize.h"
#include "accel/engine/session.h"
#include "accel/engine/synthetic_model.h"
#include "accel/hw/device.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"
#include "point_result_json.h"

namespace accel::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;


std::vector<std::string> sentences_of(const std::string& text, int32_t n) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (static_cast<int32_t>(out.size()) < n && std::getline(in, line)) {
        const auto b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) continue;
        out.push_back(line.substr(b, std::min<size_t>(line.size() - b, 400)));
    }
    return out;
}

PointSpec spec_of(const TradeoffsVariant& v, const TradeoffsPoint& p, const TradeoffsOptions& o) {
    const uint32_t n_batch = std::min<uint32_t>(p.n_ctx, 2048);
    return {.scenario = Scenario::llm,
            .model = v.path,
            .device = p.n_gpu_layers > 0 ? o.device : "cpu",
            .n_prompt = o.n_prompt,
            .n_gen = o.n_gen,
            .n_depth = 0,
            .n_batch = static_cast<int32_t>(n_batch),
            .n_ubatch = static_cast<int32_t>(std::min<uint32_t>(n_batch, 512)),
            .n_threads = o.n_threads,
            .type_k = model::parse_kv_type(p.type_k),
            .type_v = model::parse_kv_type(p.type_k),
            .flash_attn = model::parse_flash_attn(p.flash_attn),
            .n_gpu_layers = p.n_gpu_layers};
}

bool machine_has_gpu() {
    const auto devs = hw::ggml_devices();
    return std::any_of(devs.begin(), devs.end(), [](const hw::Device& d) {
        return d.type == hw::DeviceType::gpu || d.type == hw::DeviceType::igpu;
    });
}

// The tradeoffs figures of a loaded model: the memory breakdown, and the device's memory (or why there is none).
void record_memory(TradeoffsMeasure& m, const MeasuredModel& model) {
    const engine::MemoryBreakdown mb = model.session().memory_breakdown();
    m.weights_bytes = mb.model_bytes();
    m.kv_bytes_measured = mb.context_bytes();
    m.compute_buffer_bytes = mb.compute_bytes();
    std::map<std::string, uint64_t> by_device;
    for (const auto& b : mb.buffers) {
        if (b.model_bytes > 0) by_device[b.device] += b.model_bytes;
    }
    m.weights_by_device.assign(by_device.begin(), by_device.end());
    if (model.on_gpu()) {
        m.device_memory_bytes = model.free_drop_bytes();
        if (!m.device_memory_bytes) m.device_memory_note = "unavailable: the device reports no change in free memory";
    } else {
        m.device_memory_note = machine_has_gpu() ? "unavailable: no layers offloaded (--ngl 0)" : "unavailable: no GPU";
    }
}

// The body of the measuring child: everything from the cold load to the speed tests, in one process. The model is
// loaded through a resource pool's lease, as every bench point is.
PointResult measure_in_child(const TradeoffsVariant& v, const TradeoffsPoint& p, const TradeoffsOptions& o) {
    PointResult r;
    r.spec = spec_of(v, p, o);
    TradeoffsMeasure m{
        .variant = v.name, .type = v.type, .file_bytes = v.file_bytes, .point = p, .device = r.spec.device};
    std::string stage = "load";
    reset_peak_rss();
    try {
        const ModelFacts facts = read_model_facts(v.path, {.n_ctx = p.n_ctx,
                                                           .n_batch = static_cast<uint32_t>(r.spec.n_batch),
                                                           .n_ubatch = static_cast<uint32_t>(r.spec.n_ubatch),
                                                           .kv_type = r.spec.type_k,
                                                           .flash_attn = r.spec.flash_attn});
        record_facts(r, facts);
        m.random_weights = facts.random_weights;
        m.kv_bytes_estimated = facts.kv_cache_bytes;
        MeasuredModel model;
        model.load({.model = v.path,
                    .device = r.spec.device,
                    .options = {.n_ctx = p.n_ctx,
                                .n_batch = static_cast<uint32_t>(r.spec.n_batch),
                                .n_ubatch = static_cast<uint32_t>(r.spec.n_ubatch),
                                .type_k = r.spec.type_k,
                                .type_v = r.spec.type_v,
                                .flash_attn = r.spec.flash_attn,
                                .n_gpu_layers = r.spec.device == "cpu" ? 0 : p.n_gpu_layers,
                                .use_mmap = p.mmap},
                    .n_threads = o.n_threads,
                    .cold = o.cold});
        if (model.cold()) {
            m.cold = *model.cold();
            if (!m.cold) ACCEL_LOG_WARN("not a cold load: {}", model.cold_note());
        }
        stage = "run";
        EngineLlmTarget target(model.session());
        TokenSampleLibrary lib(target.n_vocab(), target.add_bos(), target.bos(), o.seed);
        target.prefill(lib.tokens(o.n_prompt), 0);
        (void)target.greedy();
        m.ttft_ms = ms_between(model.load_started(), Clock::now());
        // LoadedModel::load alone (file to usable weights), as documented; the pool's acquire adds the context.
        m.load_ms = std::chrono::duration<double, std::milli>(model.guard().model().load_time()).count();
        record_memory(m, model);

        const RunRules rules{.n_warmup = 1, .n_min_reps = o.reps, .n_max_reps = o.reps};
        Measurement pp = run_llm_test(target, {.n_prompt = o.n_prompt, .n_gen = 0, .seed = o.seed}, rules);
        Measurement tg = run_llm_test(target, {.n_prompt = 0, .n_gen = o.n_gen, .seed = o.seed}, rules);
        m.pp_ts = pp.ts.mean;
        m.tg_ts = tg.ts.mean;
        // The stored row's samples are the tg repetitions; its ttft is the one measured from the start of the load.
        r.measurement = std::move(tg);
        r.measurement.ttft_ns = {static_cast<int64_t>(*m.ttft_ms * 1e6)};

        model.record(r);
        r.load_ns = static_cast<int64_t>(*m.load_ms * 1e6);
        r.device_memory_bytes = m.device_memory_bytes;
        r.energy_unavailable = "not measured by accel tradeoffs";
        r.roofline = RooflineEfficiency{.basis = "unavailable: not computed by accel tradeoffs"};
        m.peak_rss_bytes = peak_rss_bytes();
        r.peak_rss_bytes = *m.peak_rss_bytes;
        r.ok = true;
    } catch (const Error& e) {
        r.failure_stage = stage;
        r.failure_reason = e.what();
    } catch (const std::exception& e) {
        r.failure_stage = stage;
        r.failure_reason = std::string("internal error: ") + e.what();
    }
    r.tradeoffs = m;
    return r;
}

QualityFigures quality_in_child(const TradeoffsVariant& ref, const TradeoffsVariant& test, const TradeoffsOptions& o) {
    QualityFigures q;
    try {
        const bool same = ref.path == test.path;
        const model::GgufFile file = model::read_gguf(test.path);
        const bool embedding = model::is_embedding_model(file);
        // A chunk longer than the trained context would score positions the model never learned.
        uint32_t n_ctx = o.quality_ctx;
        try {
            const uint32_t train = model::memory_shape_from_gguf(file).n_ctx_train;
            if (train > 0) n_ctx = std::min(n_ctx, train);
        } catch (const Error&) {
        }
        const engine::LoadedModel ref_model = engine::LoadedModel::load(ref.path);
        const engine::PerplexityParams params{.n_ctx = n_ctx, .n_threads = o.n_threads, .max_chunks = o.quality_chunks};
        if (embedding) {
            const auto sentences = sentences_of(o.text, o.quality_sentences);
            if (same) {
                q.note = fmt::format("reference ({} is the highest-precision variant)", ref.name);
                return q;
            }
            const engine::LoadedModel test_model = engine::LoadedModel::load(test.path);
            const auto s = engine::embedding_similarity(ref_model, test_model, sentences, o.n_threads);
            q.cosine = s.mean_cosine;
            q.note = fmt::format("mean cosine to {} over {} lines of the text", ref.name, s.n_texts);
            return q;
        }
        if (same) {
            const auto p = engine::perplexity(ref_model, o.text, params);
            q.perplexity = p.perplexity;
            q.note = fmt::format("reference; perplexity over {} chunks of {} tokens", p.n_chunks, n_ctx);
            return q;
        }
        const engine::LoadedModel test_model = engine::LoadedModel::load(test.path);
        const auto k = engine::kl_divergence(ref_model, test_model, o.text, params);
        q.perplexity = k.ppl_test;
        q.kl_mean = k.kl_mean;
        q.note =
            fmt::format("KL from {} over {} scored tokens (chunks of {} tokens)", ref.name, k.n_tokens_scored, n_ctx);
    } catch (const std::exception& e) {
        q.perplexity.reset();
        q.kl_mean.reset();
        q.cosine.reset();
        q.note = std::string("unavailable: ") + e.what();
    }
    return q;
}

std::string quality_json(const QualityFigures& q) {
    return json{{"perplexity", json_or_null(q.perplexity)},
                {"kl_mean", json_or_null(q.kl_mean)},
                {"cosine", json_or_null(q.cosine)},
                {"note", q.note}}
        .dump();
}

bool is_four_bit(const std::string& type) {
    return type.rfind("Q4", 0) == 0 || type.rfind("IQ4", 0) == 0;
}

double pct_less(uint64_t base, uint64_t other) {
    return 100.0 * (1.0 - static_cast<double>(other) / static_cast<double>(base));
}

// "12.3% less", or "4.5% more" when the measure went up.
std::string change(uint64_t base, uint64_t other) {
    const double p = pct_less(base, other);
    return p >= 0 ? fmt::format("{:.1f}% less", p) : fmt::format("{:.1f}% more", -p);
}

bool same_setting(const TradeoffsPoint& a, const TradeoffsPoint& b) {
    return a.type_k == b.type_k && a.flash_attn == b.flash_attn && a.n_ctx == b.n_ctx && a.mmap == b.mmap &&
           a.n_gpu_layers == b.n_gpu_layers;
}

}  // namespace

std::vector<TradeoffsPoint> plan_points(const TradeoffsAxes& axes, bool full_grid, bool have_gpu,
                                        std::vector<SkippedPoint>& skipped) {
    if (axes.type_k.empty() || axes.flash_attn.empty() || axes.n_ctx.empty() || axes.mmap.empty() ||
        axes.n_gpu_layers.empty()) {
        throw Error(ErrorKind::invalid_input, "every tradeoffs list needs at least one value");
    }
    std::vector<TradeoffsPoint> candidates;
    const TradeoffsPoint base{.type_k = axes.type_k[0],
                              .flash_attn = axes.flash_attn[0],
                              .n_ctx = axes.n_ctx[0],
                              .mmap = axes.mmap[0],
                              .n_gpu_layers = axes.n_gpu_layers[0]};
    if (full_grid) {
        for (const auto& k : axes.type_k)
            for (const auto& fa : axes.flash_attn)
                for (uint32_t c : axes.n_ctx)
                    for (bool mm : axes.mmap)
                        for (int32_t ngl : axes.n_gpu_layers)
                            candidates.push_back(
                                {.type_k = k, .flash_attn = fa, .n_ctx = c, .mmap = mm, .n_gpu_layers = ngl});
    } else {
        candidates.push_back(base);
        // One axis at a time: the base point with one field taken from each further value of that axis.
        const auto vary = [&](auto field, const auto& values) {
            for (size_t i = 1; i < values.size(); ++i) {
                auto p = base;
                p.*field = values[i];
                candidates.push_back(p);
            }
        };
        vary(&TradeoffsPoint::type_k, axes.type_k);
        vary(&TradeoffsPoint::flash_attn, axes.flash_attn);
        vary(&TradeoffsPoint::n_ctx, axes.n_ctx);
        vary(&TradeoffsPoint::mmap, axes.mmap);
        vary(&TradeoffsPoint::n_gpu_layers, axes.n_gpu_layers);
    }
    std::vector<TradeoffsPoint> out;
    for (const auto& p : candidates) {
        if (std::any_of(out.begin(), out.end(), [&](const TradeoffsPoint& q) { return same_setting(p, q); })) continue;
        if (p.type_k != "f16" && p.type_k != "f32" && p.flash_attn != "on") {
            skipped.push_back({p, fmt::format("KV cache {} without flash attention: llama.cpp requires flash "
                                              "attention for a quantized V cache",
                                              p.type_k)});
            continue;
        }
        if (p.n_gpu_layers > 0 && !have_gpu) {
            skipped.push_back({p, "unavailable: no GPU"});
            continue;
        }
        out.push_back(p);
    }
    return out;
}

TradeoffsVariant describe_variant(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw Error(ErrorKind::invalid_input, fmt::format("model {} not found", path));
    }
    const model::GgufFile file = model::read_gguf(path);
    // accel's own ggml graphs (docs/detr.md, docs/wav2vec2.md, docs/model.md): no llama.cpp context to measure
    const std::string arch = file.get_string("general.architecture").value_or("");
    if (arch == "vit" || arch == "clip_model" || arch == "detr" || arch == "wav2vec2") {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: a '{}' model runs on accel's own ggml graph; accel tradeoffs measures llama.cpp "
                                "models only (KV cache, offload, perplexity) and has no measure for these yet "
                                "(docs/tradeoffs.md)", path, arch));
    }
    TradeoffsVariant v;
    v.path = path;
    v.name = std::filesystem::path(path).stem().string();
    v.file_bytes = file.file_bytes;
    v.type = engine::gguf_file_type(path);  // general.file_type, or guessed from the tensor types
    return v;
}

std::vector<std::string> quantize_variants(const std::string& input, const std::vector<std::string>& types,
                                           const std::filesystem::path& out_dir, std::chrono::seconds timeout) {
    const auto body = [&] {
        try {
            std::vector<std::string> paths;
            std::vector<std::string> missing;
            for (const auto& t : types) {
                const engine::QuantType& qt = engine::parse_quant_type(t);
                const auto out = engine::quantized_path(input, out_dir, qt);
                paths.push_back(out.string());
                if (!std::filesystem::exists(out)) missing.push_back(qt.name);
            }
            if (!missing.empty()) engine::quantize({.input = input, .types = missing, .out_dir = out_dir});
            return json{{"paths", paths}}.dump();
        } catch (const Error& e) {
            return json{{"error", e.what()}, {"kind", static_cast<int>(e.kind())}}.dump();
        }
    };
    const IsolatedOutcome o = run_isolated(body, timeout);
    if (!o.ok) {
        throw Error(ErrorKind::backend,
                    fmt::format("quantizing {} failed ({}: {})", input, o.failure_stage, o.failure_reason));
    }
    const json j = json::parse(o.text);
    if (j.contains("error")) {
        throw Error(static_cast<ErrorKind>(j.at("kind").get<int>()), j.at("error").get<std::string>());
    }
    return j.at("paths").get<std::vector<std::string>>();
}

const TradeoffsVariant& reference_variant(const std::vector<TradeoffsVariant>& variants) {
    if (variants.empty()) throw Error(ErrorKind::invalid_input, "no model variants to compare");
    return *std::max_element(variants.begin(), variants.end(),
                             [](const auto& a, const auto& b) { return a.file_bytes < b.file_bytes; });
}

PointResult measure_point(const TradeoffsVariant& variant, const TradeoffsPoint& point,
                          const TradeoffsOptions& options) {
    const IsolatedOutcome o =
        run_isolated([&] { return to_json_text(measure_in_child(variant, point, options)); }, options.timeout);
    if (o.ok) return point_result_from_json(o.text);
    PointResult r;
    r.spec = spec_of(variant, point, options);
    r.failure_stage = o.failure_stage;
    r.failure_reason = o.failure_reason;
    r.tradeoffs = TradeoffsMeasure{.variant = variant.name,
                                   .type = variant.type,
                                   .file_bytes = variant.file_bytes,
                                   .point = point,
                                   .device = r.spec.device};
    return r;
}

QualityFigures measure_quality(const TradeoffsVariant& reference, const TradeoffsVariant& test,
                               const TradeoffsOptions& options) {
    const IsolatedOutcome o =
        run_isolated([&] { return quality_json(quality_in_child(reference, test, options)); }, options.timeout);
    QualityFigures q;
    if (!o.ok) {
        q.note = fmt::format("unavailable: the quality measurement failed ({}: {})", o.failure_stage, o.failure_reason);
        return q;
    }
    const json j = json::parse(o.text);
    q.perplexity = get_opt<double>(j, "perplexity");
    q.kl_mean = get_opt<double>(j, "kl_mean");
    q.cosine = get_opt<double>(j, "cosine");
    q.note = j.at("note");
    return q;
}

void attach_quality(PointResult& r, const QualityFigures& q) {
    if (!r.tradeoffs) return;
    TradeoffsMeasure& m = *r.tradeoffs;
    if (m.point.type_k == "f16") {
        m.perplexity = q.perplexity;
        m.kl_mean = q.kl_mean;
        m.cosine = q.cosine;
        m.quality_note = q.note;
    } else {
        m.quality_note =
            fmt::format("not measured with a {} KV cache (quality is measured with f16 KV)", m.point.type_k);
    }
}

std::vector<ClaimCheck> check_claims(const std::vector<TradeoffsMeasure>& measures) {
    std::vector<ClaimCheck> out;

    // 4-bit weights against 16-bit (or 32-bit) ones, at the same settings.
    {
        ClaimCheck c{.claim = "4-bit: 75% memory reduction", .measured = ""};
        const TradeoffsMeasure* q4 = nullptr;
        const TradeoffsMeasure* ref = nullptr;
        for (const char* wide : {"F16", "BF16", "F32"}) {
            for (const auto& a : measures) {
                if (!is_four_bit(a.type) || !a.weights_bytes) continue;
                for (const auto& b : measures) {
                    if (b.type == wide && b.weights_bytes && same_setting(a.point, b.point)) {
                        q4 = &a;
                        ref = &b;
                        break;
                    }
                }
                if (q4 != nullptr) break;
            }
            if (q4 != nullptr) break;
        }
        if (q4 == nullptr) {
            c.measured = "unavailable: the run has no 4-bit variant next to an F16/BF16/F32 one at the same settings";
        } else {
            c.measured = fmt::format("measured: {} weights memory ({} vs {}: {} -> {})",
                                     change(*ref->weights_bytes, *q4->weights_bytes), q4->type, ref->type,
                                     mib(*ref->weights_bytes, 2), mib(*q4->weights_bytes, 2));
            if (ref->peak_rss_bytes && q4->peak_rss_bytes) {
                c.measured += fmt::format("; peak RSS {} ({} -> {})", change(*ref->peak_rss_bytes, *q4->peak_rss_bytes),
                                          mib(*ref->peak_rss_bytes, 2), mib(*q4->peak_rss_bytes, 2));
            }
        }
        out.push_back(std::move(c));
    }

    // Quantized KV caches against f16 at the same variant and settings.
    {
        ClaimCheck c{.claim = "KV cache quantization: 25-75% less KV memory", .measured = ""};
        std::string parts;
        for (const char* t : {"q8_0", "q4_0"}) {
            for (const auto& a : measures) {
                if (a.point.type_k != t || !a.kv_bytes_measured) continue;
                auto f16 = a.point;
                f16.type_k = "f16";
                const auto b = std::find_if(measures.begin(), measures.end(), [&](const TradeoffsMeasure& x) {
                    return x.variant == a.variant && same_setting(x.point, f16) && x.kv_bytes_measured;
                });
                if (b == measures.end() || *b->kv_bytes_measured == 0) continue;
                parts += fmt::format("{}{} {} ({} -> {}, {}, ctx {})", parts.empty() ? "" : "; ", t,
                                     change(*b->kv_bytes_measured, *a.kv_bytes_measured), mib(*b->kv_bytes_measured, 2),
                                     mib(*a.kv_bytes_measured, 2), a.variant, a.point.n_ctx);
                break;
            }
        }
        c.measured = parts.empty() ? "unavailable: the run has no q8_0/q4_0 KV point next to an f16 one"
                                   : "measured: KV cache " + parts;
        out.push_back(std::move(c));
    }

    // Flash attention on against off: the compute buffer is what it changes; the total puts it in proportion.
    {
        ClaimCheck c{.claim = "flash attention: 45% less memory", .measured = ""};
        const TradeoffsMeasure* on = nullptr;
        const TradeoffsMeasure* off = nullptr;
        for (const auto& a : measures) {
            if (a.point.flash_attn != "on" || !a.compute_buffer_bytes) continue;
            auto other = a.point;
            other.flash_attn = "off";
            const auto b = std::find_if(measures.begin(), measures.end(), [&](const TradeoffsMeasure& x) {
                return x.variant == a.variant && same_setting(x.point, other) && x.compute_buffer_bytes;
            });
            if (b == measures.end()) continue;
            if (on == nullptr || a.point.n_ctx > on->point.n_ctx) {
                on = &a;
                off = &*b;
            }
        }
        if (on == nullptr || *off->compute_buffer_bytes == 0) {
            c.measured = "unavailable: the run has no flash attention on/off pair at the same settings";
        } else {
            const auto total = [](const TradeoffsMeasure& m) {
                return m.weights_bytes.value_or(0) + m.kv_bytes_measured.value_or(0) +
                       m.compute_buffer_bytes.value_or(0);
            };
            c.measured = fmt::format(
                "measured: compute buffer {} ({} -> {}); weights+KV+compute {} ({} -> {}); {}, "
                "ctx {}",
                change(*off->compute_buffer_bytes, *on->compute_buffer_bytes), mib(*off->compute_buffer_bytes, 2),
                mib(*on->compute_buffer_bytes, 2), change(total(*off), total(*on)), mib(total(*off), 2),
                mib(total(*on), 2), on->variant, on->point.n_ctx);
        }
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace accel::bench
