#include "accel/fleet/campaign_matrix.h"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/core.h>

namespace accel::fleet {
namespace {

std::string test_label(const std::string& scenario, int64_t n_prompt, int64_t n_gen) {
    if (scenario == "pp") return fmt::format("pp{}", n_prompt);
    if (scenario == "tg") return fmt::format("tg{}", n_gen);
    if (scenario == "pg") return fmt::format("pp{}+tg{}", n_prompt, n_gen);
    return fmt::format("{} p{} n{}", scenario, n_prompt, n_gen);
}

}  // namespace

CampaignMatrix campaign_matrix(store::Database& db, const std::string& campaign) {
    const auto q = db.query(
        "SELECT coalesce(r.model_name, ''), r.scenario, coalesce(r.n_prompt, 0), coalesce(r.n_gen, 0), r.device, "
        "coalesce(r.n_threads, 0), coalesce(json_extract_string(u.extra, '$.node'), u.host, r.machine_id) AS machine, "
        "avg(r.avg_ts) FROM results r JOIN runs u ON u.id = r.run_id "
        "WHERE list_contains(string_split(u.tags, ','), " +
        store::sql_quote("campaign:" + campaign) +
        ") GROUP BY ALL ORDER BY 1, 2, 3, 4, 5, 6, 7");
    CampaignMatrix m{.campaign = campaign};
    using Key = std::tuple<std::string, std::string, std::string, int32_t>;
    std::map<Key, std::map<std::string, double>> cells;
    std::vector<Key> order;
    for (const auto& row : q.rows) {
        const auto cell = [&](size_t i) { return row.at(i).value_or(""); };
        const Key key{cell(0), test_label(cell(1), std::stoll(cell(2)), std::stoll(cell(3))), cell(4),
                      static_cast<int32_t>(std::stol(cell(5)))};
        if (!cells.contains(key)) order.push_back(key);
        auto& by_machine = cells[key];
        if (row.at(7)) by_machine[cell(6)] = std::stod(*row.at(7));
        if (std::find(m.machines.begin(), m.machines.end(), cell(6)) == m.machines.end()) m.machines.push_back(cell(6));
    }
    std::sort(m.machines.begin(), m.machines.end());
    for (const Key& key : order) {
        CampaignMatrix::Row r{.model = std::get<0>(key), .test = std::get<1>(key), .device = std::get<2>(key),
                              .n_threads = std::get<3>(key), .avg_ts = {}};
        for (const auto& machine : m.machines) {
            const auto& c = cells[key];
            const auto it = c.find(machine);
            r.avg_ts.push_back(it == c.end() ? std::nullopt : std::optional(it->second));
        }
        m.rows.push_back(std::move(r));
    }
    return m;
}

}  // namespace accel::fleet
