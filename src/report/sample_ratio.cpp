#include "accel/report/sample_ratio.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "accel/report/report.h"
#include "accel/store/compare.h"

namespace accel::report {
namespace {

constexpr double z_95 = 1.959963984540054;
constexpr double alpha = 0.05;

double median_sorted(const std::vector<double>& v) {
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

std::optional<SampleRatio> time_ratio(const std::vector<int64_t>& base_ns, const std::vector<int64_t>& x_ns) {
    if (base_ns.empty() || x_ns.empty()) return std::nullopt;
    const auto positive = [](int64_t v) { return v > 0; };
    if (!std::all_of(base_ns.begin(), base_ns.end(), positive) || !std::all_of(x_ns.begin(), x_ns.end(), positive))
        return std::nullopt;
    std::vector<double> a(base_ns.begin(), base_ns.end()), b(x_ns.begin(), x_ns.end());
    SampleRatio r{.p_value = store::mann_whitney_p(a, b), .n_base = a.size(), .n_x = b.size()};
    // Every pairwise difference of log times: its median is the Hodges-Lehmann estimate of the log ratio, and its
    // order statistics at the Mann-Whitney critical rank bound the 95% interval.
    std::vector<double> d;
    d.reserve(a.size() * b.size());
    for (double x : a)
        for (double y : b) d.push_back(std::log(x) - std::log(y));
    std::sort(d.begin(), d.end());
    r.ratio = std::exp(median_sorted(d));
    const double nm = static_cast<double>(d.size());
    const double sd = std::sqrt(nm * static_cast<double>(a.size() + b.size() + 1) / 12.0);
    const auto k = static_cast<int64_t>(std::floor(nm / 2 - z_95 * sd));  // 1-based rank of the lower bound
    if (k >= 1) {
        r.ci_low = std::exp(d[static_cast<size_t>(k - 1)]);
        r.ci_high = std::exp(d[d.size() - static_cast<size_t>(k)]);
    }
    r.measurable = r.p_value < alpha && r.ci_low && (*r.ci_low > 1 || *r.ci_high < 1);
    return r;
}

std::string describe_ratio(const SampleRatio& r, const std::string& what) {
    const std::string interval =
        r.ci_low ? fmt::format("95% CI {}-{}x", format_number(*r.ci_low), format_number(*r.ci_high))
                 : fmt::format("too few samples for a 95% interval: {} and {}", r.n_base, r.n_x);
    const std::string test = fmt::format("Mann-Whitney p = {:.2g}", r.p_value);
    if (!r.measurable)
        return fmt::format("no measurable difference from {} ({}x, {}, {})", what, format_number(r.ratio), interval,
                           test);
    return fmt::format("{}x {} ({}, {})", format_number(r.ratio), what, interval, test);
}

}  // namespace accel::report
