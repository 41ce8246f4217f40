#include "accel/report/report_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "accel/bench/statistics.h"

namespace accel::report {
namespace {

bool is_special(const ResultRow& r) {
    return r.platform == "web" || r.scenario == "server" || r.scenario == "tradeoffs" || r.scenario == "matmul";
}

template <class Pred>
std::vector<const ResultRow*> select(const ReportData& d, Pred pred) {
    std::vector<const ResultRow*> out;
    for (const auto& r : d.results)
        if (pred(r)) out.push_back(&r);
    return out;
}

bool is_4bit(const std::string& type) {
    return type.rfind("q4", 0) == 0 || type.rfind("Q4", 0) == 0 || type.rfind("iq4", 0) == 0 ||
           type.rfind("IQ4", 0) == 0;
}

bool is_float(const std::string& type) {
    return type == "f16" || type == "F16" || type == "f32" || type == "F32" || type == "bf16" || type == "BF16";
}

bool kv_f16(const std::string& type_k) {
    return type_k.empty() || type_k == "f16";
}

}  // namespace

Source source_of(const ReportData& d, const std::set<std::string>& run_ids) {
    Source s;
    for (const auto& r : d.runs)
        if (run_ids.count(r.id)) s.runs.emplace_back(r.id, r.command);
    return s;
}

std::vector<const ResultRow*> perf_rows(const ReportData& d) {
    return select(d, [](const ResultRow& r) { return !is_special(r) && (r.avg_ts || r.avg_ns); });
}

std::vector<const ResultRow*> server_rows(const ReportData& d) {
    return select(d, [](const ResultRow& r) { return r.scenario == "server" && r.server; });
}

std::vector<const ResultRow*> llm_latency_rows(const ReportData& d) {
    return select(d, [](const ResultRow& r) {
        return r.platform != "web" && r.scenario != "tradeoffs" &&
               (r.ttft_ns || r.tpot_ns || (r.server && (r.server->ttft_p99_ms || r.server->tpot_p99_ms)));
    });
}

std::vector<const ResultRow*> memory_rows(const ReportData& d) {
    return select(d, [](const ResultRow& r) { return r.platform != "web" && r.peak_rss_bytes; });
}

std::vector<const ResultRow*> roofline_rows(const ReportData& d) {
    return select(d, [](const ResultRow& r) { return r.decode_bandwidth_pct || r.prefill_flops_pct; });
}

std::vector<const ResultRow*> tradeoff_rows(const ReportData& d) {
    return select(d, [](const ResultRow& r) { return r.scenario == "tradeoffs" && r.tradeoffs; });
}

std::string group_label(const ResultRow& r) {
    // A served model (accel bench --target): what answered and where, beside the in-process "model · device".
    if (!r.target_url.empty()) {
        return fmt::format("{} · served by {} at {}{}", r.model_name,
                           r.target_server.empty() ? "a server without a Server header" : r.target_server,
                           r.target_url, r.workload.empty() || r.workload == "plain" ? "" : " (" + r.workload + ")");
    }
    if (r.platform == "web")
        return fmt::format("{} · {} {} ({})", r.model_name, r.browser, r.browser_version, r.backend);
    return fmt::format("{} · {}", r.model_name, r.device);
}

std::optional<SampleStats> sample_stats(const std::vector<int64_t>& samples_ns) {
    if (samples_ns.empty()) return std::nullopt;
    std::vector<double> v(samples_ns.begin(), samples_ns.end());
    std::sort(v.begin(), v.end());
    return SampleStats{.n = v.size(),
                       .min = v.front(),
                       .p50 = bench::percentile_sorted(v, 0.5),
                       .p90 = bench::percentile_sorted(v, 0.9),
                       .p99 = bench::percentile_sorted(v, 0.99),
                       .max = v.back()};
}

std::vector<WebRatio> web_ratios(const ReportData& d) {
    std::vector<WebRatio> out;
    for (const auto& w : d.results) {
        if (w.platform != "web" || !w.avg_ts || w.model_sha256.empty()) continue;
        WebRatio wr{.web = &w};
        int best = -1;
        for (const auto& n : d.results) {
            if (n.platform == "web" || n.model_sha256 != w.model_sha256 || n.scenario != w.scenario || !n.avg_ts ||
                !n.valid || n.scenario == "tradeoffs")
                continue;
            // Prefer native at the browser's thread count (a ratio across thread counts mostly measures those),
            // then the figure web-bench measured in the same run, then the same test shape.
            const int score = (n.n_threads == w.n_threads ? 8 : 0) + (n.run_id == w.run_id ? 4 : 0) +
                              (n.platform == "native" ? 2 : 0) + (n.n_prompt == w.n_prompt && n.n_gen == w.n_gen ? 1 : 0);
            if (score > best) {
                best = score;
                wr.native = &n;
            }
        }
        if (wr.native && *wr.native->avg_ts > 0) wr.ratio = *w.avg_ts / *wr.native->avg_ts;
        out.push_back(wr);
    }
    return out;
}

std::vector<Reduction> tradeoff_reductions(const ReportData& d) {
    const auto rows = tradeoff_rows(d);
    std::vector<Reduction> out;
    auto add = [&](const std::string& claim, const ResultRow& base, const ResultRow& r, const std::string& metric,
                   std::optional<double> bv, std::optional<double> v, bool estimate) {
        Reduction x{.claim = claim,
                    .model = r.model_name,
                    .metric = metric,
                    .base_variant = base.tradeoffs->variant,
                    .variant = r.tradeoffs->variant,
                    .base_value = bv,
                    .value = v,
                    .estimate = estimate};
        if (bv && v && *bv > 0) {
            x.reduction = 1 - *v / *bv;
        } else {
            x.note = "unmeasured on one side";
        }
        out.push_back(std::move(x));
    };
    const std::string c4 = "4-bit weights: 75% less memory";
    const std::string ckv = "KV cache quantization: 25-75% less KV memory";
    const std::string cfa = "flash attention: 45% less memory";
    size_t n4 = 0, nkv = 0, nfa = 0;
    for (const ResultRow* r : rows) {
        const TradeoffPoint& t = *r->tradeoffs;
        for (const ResultRow* b : rows) {
            if (b == r || b->model != r->model) continue;
            const TradeoffPoint& s = *b->tradeoffs;
            const bool same_ctx = s.n_ctx == t.n_ctx;
            if (is_4bit(t.type) && is_float(s.type) && kv_f16(s.type_k) && kv_f16(t.type_k) &&
                s.flash_attn == t.flash_attn && same_ctx) {
                add(c4, *b, *r, "weights bytes", s.weights_bytes ? s.weights_bytes : s.file_bytes,
                    t.weights_bytes ? t.weights_bytes : t.file_bytes, false);
                add(c4, *b, *r, "peak RSS", s.peak_rss_bytes, t.peak_rss_bytes, false);
                ++n4;
            }
            if (!kv_f16(t.type_k) && kv_f16(s.type_k) && s.type == t.type && s.flash_attn == t.flash_attn && same_ctx) {
                const bool measured = s.kv_bytes_measured && t.kv_bytes_measured;
                add(ckv, *b, *r, measured ? "KV bytes" : "KV bytes (estimate)",
                    measured ? s.kv_bytes_measured : s.kv_bytes_estimated,
                    measured ? t.kv_bytes_measured : t.kv_bytes_estimated, !measured);
                ++nkv;
            }
            if (t.flash_attn.value_or(false) && s.flash_attn.has_value() && !*s.flash_attn && s.type == t.type &&
                s.type_k == t.type_k && same_ctx) {
                add(cfa, *b, *r, "compute buffer bytes", s.compute_buffer_bytes, t.compute_buffer_bytes, false);
                add(cfa, *b, *r, "peak RSS", s.peak_rss_bytes, t.peak_rss_bytes, false);
                ++nfa;
            }
        }
    }
    auto none = [&](const std::string& claim, const char* what) {
        out.push_back({.claim = claim,
                       .model = "",
                       .metric = "",
                       .base_variant = "",
                       .variant = "",
                       .note = fmt::format("no data: no pair of trade-off variants that differ only in {}", what)});
    };
    if (n4 == 0) none(c4, "4-bit versus float weights");
    if (nkv == 0) none(ckv, "the KV cache type");
    if (nfa == 0) none(cfa, "flash attention");
    std::stable_sort(out.begin(), out.end(), [&](const Reduction& a, const Reduction& b) {
        auto rank = [&](const std::string& c) { return c == c4 ? 0 : c == ckv ? 1 : 2; };
        return rank(a.claim) < rank(b.claim);
    });
    return out;
}

std::vector<bool> pareto_optimal(const std::vector<const ResultRow*>& rows) {
    std::vector<bool> out(rows.size(), true);
    auto dims = [](const TradeoffPoint& t) {
        // Lower is better in each: memory, -speed, perplexity.
        // A random-weight model's perplexity says nothing of quality: it is not compared.
        std::vector<std::optional<double>> v{t.peak_rss_bytes ? t.peak_rss_bytes : t.weights_bytes,
                                             t.tg_ts ? std::optional(-*t.tg_ts) : std::nullopt,
                                             t.random_weights ? std::nullopt : t.perplexity};
        return v;
    };
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto a = dims(*rows[i]->tradeoffs);
        for (size_t j = 0; j < rows.size() && out[i]; ++j) {
            if (i == j || rows[j]->model != rows[i]->model) continue;
            const auto b = dims(*rows[j]->tradeoffs);
            bool all_le = true, one_lt = false, compared = false;
            for (size_t k = 0; k < a.size(); ++k) {
                if (!a[k] || !b[k]) continue;
                compared = true;
                if (*b[k] > *a[k]) all_le = false;
                if (*b[k] < *a[k]) one_lt = true;
            }
            if (compared && all_le && one_lt) out[i] = false;
        }
    }
    return out;
}

std::vector<CompatCell> compat_cells(const ReportData& d) {
    std::map<std::pair<std::string, std::string>, CompatCell> cells;
    for (const auto& c : d.compatibility) {
        const std::string row =
            fmt::format("{} / {}", c.architecture.empty() ? "?" : c.architecture, c.family.empty() ? "?" : c.family);
        const std::string col = fmt::format("{} · {}", c.device, c.type.empty() ? "?" : c.type);
        CompatCell& cell = cells[{row, col}];
        cell.row = row;
        cell.col = col;
        if (c.status == "ok") {
            cell.n_ok += c.n;
            cell.evidence.insert(cell.evidence.begin(), c.evidence.begin(), c.evidence.end());
        } else {
            (c.status == "invalid" ? cell.n_invalid : cell.n_failed) += c.n;
            cell.evidence.insert(cell.evidence.end(), c.evidence.begin(), c.evidence.end());
        }
    }
    std::vector<CompatCell> out;
    for (auto& [k, v] : cells) out.push_back(std::move(v));
    return out;
}

}  // namespace accel::report
