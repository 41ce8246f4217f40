#include "accel/bench/verify.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/core.h>

namespace accel::bench {
namespace {

std::vector<int32_t> top_k(const std::vector<float>& row, size_t k) {
    std::vector<int32_t> idx(row.size());
    std::iota(idx.begin(), idx.end(), 0);
    k = std::min(k, idx.size());
    std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                      [&](int32_t a, int32_t b) { return row[static_cast<size_t>(a)] > row[static_cast<size_t>(b)]; });
    idx.resize(k);
    return idx;
}

}  // namespace

VerifyResult compare_llm(const std::vector<std::vector<float>>& ref, const std::vector<std::vector<float>>& dev,
                         const std::vector<int32_t>& ref_greedy, const std::vector<int32_t>& dev_greedy,
                         const VerifyThresholds& t) {
    VerifyResult r;
    const size_t n = std::min(ref.size(), dev.size());
    r.n_positions = static_cast<int32_t>(n);
    size_t top1 = 0;
    double overlap = 0;
    for (size_t i = 0; i < n; ++i) {
        const auto a = top_k(ref[i], 5);
        const auto b = top_k(dev[i], 5);
        if (!a.empty() && !b.empty() && a[0] == b[0]) ++top1;
        size_t common = 0;
        for (int32_t x : a) common += std::count(b.begin(), b.end(), x) > 0 ? 1 : 0;
        overlap += a.empty() ? 0.0 : static_cast<double>(common) / static_cast<double>(a.size());
    }
    r.top1 = n > 0 ? static_cast<double>(top1) / static_cast<double>(n) : 0.0;
    r.top5_overlap = n > 0 ? overlap / static_cast<double>(n) : 0.0;
    size_t same = 0;
    const size_t g = std::min(ref_greedy.size(), dev_greedy.size());
    for (size_t i = 0; i < g && ref_greedy[i] == dev_greedy[i]; ++i) ++same;  // the streams diverge after a miss
    r.greedy_match = ref_greedy.empty() ? 0.0 : static_cast<double>(same) / static_cast<double>(ref_greedy.size());
    // Traces of different lengths or vocabularies are not the same computation: never compare only a prefix.
    std::string mismatch;
    if (ref.size() != dev.size()) {
        mismatch = fmt::format("; the traces differ in length: {} reference positions, {} device positions",
                               ref.size(), dev.size());
    } else if (ref_greedy.size() != dev_greedy.size()) {
        mismatch = fmt::format("; the greedy continuations differ in length: {} reference tokens, {} device tokens",
                               ref_greedy.size(), dev_greedy.size());
    } else {
        for (size_t i = 0; i < n; ++i) {
            if (ref[i].size() != dev[i].size()) {
                mismatch = fmt::format("; position {} has {} reference logits and {} device logits", i, ref[i].size(),
                                       dev[i].size());
                break;
            }
        }
    }
    r.pass = n > 0 && mismatch.empty() && r.top1 >= t.min_top1 && r.top5_overlap >= t.min_top5_overlap &&
             r.greedy_match >= t.min_greedy_match;
    r.summary = fmt::format("top-1 {:.3f} (>= {:.2f}), top-5 overlap {:.3f} (>= {:.2f}), greedy match {:.3f} (>= {:.2f}) "
                            "over {} positions{}: {}",
                            r.top1, t.min_top1, r.top5_overlap, t.min_top5_overlap, r.greedy_match, t.min_greedy_match,
                            n, mismatch, r.pass ? "pass" : "FAIL");
    return r;
}

EmbedVerifyResult compare_embeddings(const std::vector<std::vector<float>>& ref,
                                     const std::vector<std::vector<float>>& dev, const EmbedVerifyThresholds& t) {
    EmbedVerifyResult r;
    r.n_texts = static_cast<int32_t>(std::min(ref.size(), dev.size()));
    bool shapes_ok = !ref.empty() && ref.size() == dev.size();
    r.min_cosine = ref.empty() ? 0.0 : 1.0;
    const auto norm = [](const std::vector<float>& v) {
        double s = 0;
        for (float x : v) s += static_cast<double>(x) * x;
        return std::sqrt(s);
    };
    for (size_t i = 0; i < static_cast<size_t>(r.n_texts); ++i) {
        const auto& a = ref[i];
        const auto& b = dev[i];
        if (a.size() != b.size() || a.empty()) {
            shapes_ok = false;
            continue;
        }
        const double na = norm(a);
        const double nb = norm(b);
        double dot = 0;
        double diff = 0;
        for (size_t k = 0; k < a.size(); ++k) {
            const double x = na > 0 ? a[k] / na : 0.0;
            const double y = nb > 0 ? b[k] / nb : 0.0;
            dot += x * y;
            diff = std::max(diff, std::fabs(x - y));
        }
        r.min_cosine = std::min(r.min_cosine, dot);
        r.max_abs_diff = std::max(r.max_abs_diff, diff);
    }
    r.pass = shapes_ok && r.min_cosine >= t.min_cosine && r.max_abs_diff <= t.max_abs_diff;
    r.summary = fmt::format("min cosine {:.6f} (>= {:g}), max abs diff {:.3g} (<= {:g}) of L2-normalised vectors over "
                            "{} texts{}: {}",
                            r.min_cosine, t.min_cosine, r.max_abs_diff, t.max_abs_diff, r.n_texts,
                            shapes_ok ? "" : " (shapes differ)", r.pass ? "pass" : "FAIL");
    return r;
}

}  // namespace accel::bench
