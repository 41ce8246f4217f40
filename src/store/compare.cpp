#include "accel/store/compare.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/store/result_columns.h"

namespace accel::store {
namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string run_filter(Database& db, const std::string& what, const char* side) {
    const std::string q = sql_quote(what);
    const auto r =
        db.query("SELECT count(*) FROM runs WHERE id = " + q + " OR list_contains(string_split(tags, ','), " + q + ")");
    if (r.rows.empty() || r.rows[0][0] == "0") {
        throw Error(ErrorKind::invalid_input, fmt::format("--{} '{}' matches no run id or tag", side, what));
    }
    return "(SELECT id FROM runs WHERE id = " + q + " OR list_contains(string_split(tags, ','), " + q + "))";
}

struct Side {
    std::vector<double> values;
    std::string model, scenario, device, params;
};

// Valid results' samples in `runs` that the metric cannot use (tokens/s needs each sample's n_tokens).
size_t count_unusable(Database& db, const std::string& runs, const std::string& metric) {
    if (metric != "ts") return 0;
    const auto r = db.query("SELECT count(*) FROM results r JOIN samples s ON s.result_id = r.id WHERE r.valid AND "
                            "r.run_id IN " + runs + " AND s.n_tokens IS NULL");
    return r.rows.empty() ? 0 : std::stoull(r.rows[0][0].value_or("0"));
}

std::map<std::string, Side> load(Database& db, const std::string& runs, const std::string& metric) {
    const std::string value = metric == "ts" ? "s.n_tokens * 1e9 / s.duration_ns" : "s.duration_ns::DOUBLE";
    const auto r = db.query(
        "SELECT coalesce(r.model_sha256, r.model_name) AS model, r.scenario, r.device, "
        "concat_ws(' ', " + result_shape_label_sql("r") + ", "
        // What else makes a point (accel's own results): texts per embed call, parallel sequences, request lengths,
        // the server's target load, the browser. Without them, embed b1 and b8 samples were pooled as one point.
        "'texts=' || CASE WHEN r.scenario = 'embed' THEN r.extra->'spec'->>'embed_batch' END, "
        "'par=' || nullif(r.extra->'spec'->>'n_parallel', '1'), 'lengths=' || nullif(r.extra->'spec'->>'lengths', ''), "
        "'qps=' || (r.extra->'server'->>'target_qps'), 'browser=' || (r.extra->>'browser'), "
        "'backend=' || (r.extra->>'backend')) AS params, " +
        value + " AS v FROM results r JOIN samples s ON s.result_id = r.id WHERE r.valid AND r.run_id IN " + runs +
        " AND " + value + " IS NOT NULL");
    std::map<std::string, Side> out;
    for (const auto& row : r.rows) {
        const std::string key = row[0].value_or("") + "\x1f" + row[1].value_or("") + "\x1f" + row[2].value_or("") +
                                "\x1f" + row[3].value_or("");
        Side& s = out[key];
        s.model = row[0].value_or("");
        s.scenario = row[1].value_or("");
        s.device = row[2].value_or("");
        s.params = row[3].value_or("");
        s.values.push_back(std::stod(row[4].value_or("0")));
    }
    return out;
}

ComparePoint point_named(const Side& s) {
    ComparePoint p;
    p.model = s.model;
    p.scenario = s.scenario;
    p.device = s.device;
    p.params = s.params;
    return p;
}

// The candidate's side of a matched point, and the verdict, or the note saying why there is none.
void judge(ComparePoint& p, const Side& b, const Side& c, const CompareOptions& o) {
    p.n_candidate = c.values.size();
    p.median_candidate = median(c.values);
    if (*p.median_baseline == 0) {
        p.note = "baseline median is 0";
        return;
    }
    p.change = (*p.median_candidate - *p.median_baseline) / *p.median_baseline;
    if (b.values.size() < 3 || c.values.size() < 3) {
        p.note = "fewer than 3 samples on a side";
        return;
    }
    p.p_value = mann_whitney_p(b.values, c.values);
    const double worse = o.metric == "ts" ? -*p.change : *p.change;  // tokens/s: higher is better
    if (*p.p_value < o.alpha && std::abs(*p.change) >= o.threshold) {
        p.verdict = worse > 0 ? Verdict::regression : Verdict::improvement;
    } else {
        p.verdict = Verdict::same;
    }
}

}  // namespace

std::string_view to_string(Verdict v) {
    switch (v) {
        case Verdict::same:
            return "same";
        case Verdict::regression:
            return "REGRESSION";
        case Verdict::improvement:
            return "improvement";
        case Verdict::untested:
            return "untested";
    }
    return "untested";
}

double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
    const double n1 = static_cast<double>(a.size());
    const double n2 = static_cast<double>(b.size());
    std::vector<std::pair<double, int>> all;
    for (double x : a) all.emplace_back(x, 0);
    for (double x : b) all.emplace_back(x, 1);
    std::sort(all.begin(), all.end());
    double rank_sum_a = 0, tie_term = 0;
    for (size_t i = 0; i < all.size();) {
        size_t j = i;
        while (j < all.size() && all[j].first == all[i].first) ++j;
        const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
        const double t = static_cast<double>(j - i);
        tie_term += t * t * t - t;
        for (size_t k = i; k < j; ++k) {
            if (all[k].second == 0) rank_sum_a += avg_rank;
        }
        i = j;
    }
    const double u = rank_sum_a - n1 * (n1 + 1) / 2;
    const double mu = n1 * n2 / 2;
    const double n = n1 + n2;
    const double var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)));
    if (var <= 0) return 1.0;
    const double z = (std::abs(u - mu) - 0.5) / std::sqrt(var);
    return std::min(1.0, std::erfc(std::max(z, 0.0) / std::sqrt(2.0)));
}

CompareReport compare_runs(Database& db, const CompareOptions& o) {
    if (o.metric != "ts" && o.metric != "latency") {
        throw Error(ErrorKind::invalid_input, "--metric '" + o.metric + "': expected ts or latency");
    }
    const bool higher_better = o.metric == "ts";
    const std::string base_runs = run_filter(db, o.baseline, "baseline");
    const std::string cand_runs = run_filter(db, o.candidate, "candidate");
    const auto base = load(db, base_runs, o.metric);
    const auto cand = load(db, cand_runs, o.metric);
    CompareReport rep;
    rep.n_unusable_samples = count_unusable(db, base_runs, o.metric) + count_unusable(db, cand_runs, o.metric);
    rep.statistic = fmt::format(
        "two-sided Mann-Whitney U on raw samples of {} (normal approximation, tie-corrected); flagged when "
        "p < {} and the change of medians is at least {:.1f}%",
        higher_better ? "tokens/s (higher is better)" : "latency ns (lower is better)", o.alpha, o.threshold * 100);
    for (const auto& [key, b] : base) {
        ComparePoint p = point_named(b);
        p.n_baseline = b.values.size();
        p.median_baseline = median(b.values);
        const auto it = cand.find(key);
        if (it == cand.end()) {
            p.note = "no matching candidate point";
        } else {
            judge(p, b, it->second, o);
        }
        if (p.verdict != Verdict::untested) ++rep.n_tested;
        if (p.verdict == Verdict::regression) ++rep.n_regressions;
        if (p.verdict == Verdict::improvement) ++rep.n_improvements;
        rep.points.push_back(p);
    }
    for (const auto& [key, c] : cand) {
        if (base.count(key)) continue;
        ComparePoint p = point_named(c);
        p.n_candidate = c.values.size();
        p.median_candidate = median(c.values);
        p.note = "no matching baseline point";
        rep.points.push_back(p);
    }
    return rep;
}

std::string nothing_compared_reason(const CompareReport& rep, const CompareOptions& o) {
    if (rep.n_tested > 0) return "";
    std::string why = fmt::format(
        "nothing compared: no point of --baseline '{}' has a matching --candidate '{}' point with at least 3 "
        "samples of metric {} on each side ({} point(s) seen)",
        o.baseline, o.candidate, o.metric, rep.points.size());
    if (rep.n_unusable_samples > 0) {
        why += fmt::format("; {} sample(s) have no token count, which --metric ts needs (try --metric latency)",
                           rep.n_unusable_samples);
    }
    return why;
}

}  // namespace accel::store
