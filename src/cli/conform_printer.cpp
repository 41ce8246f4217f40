#include "conform_printer.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/core.h>

#include "accel/core/version.h"
#include "output.h"

namespace accel::cli {
namespace {

// The figure a cell shows: nmse against accel's CPU f32, the first metric (logits or embedding) against transformers.
double headline(const bench::ConformResult& r) { return r.metrics.empty() ? r.nmse.value_or(0) : r.metrics[0].value; }

std::string cell(const bench::ConformResult& r) {
    switch (r.status) {
        case bench::ConformStatus::pass: return fmt::format("pass {:.1e}", headline(r));
        case bench::ConformStatus::fail:
            return r.nmse || !r.metrics.empty() ? fmt::format("FAIL {:.1e}", headline(r))
                                                : (r.signal != 0 ? fmt::format("FAIL sig{}", r.signal) : "FAIL");
        case bench::ConformStatus::unsupported: return "unsupported";
        case bench::ConformStatus::not_yet: return "not yet";
    }
    return "";
}

}  // namespace

nlohmann::json result_json(const bench::ConformResult& r) {
    nlohmann::json j{{"arch", r.arch},          {"llama_arch", r.llama_arch}, {"device", r.device},
                     {"type", r.type},          {"status", bench::to_string(r.status)},
                     {"stage", r.stage},        {"reason", r.reason},         {"loaded", r.loaded},
                     {"output", r.output_kind}, {"signal", r.signal},         {"wall_ms", r.wall_ms},
                     {"reference", r.reference}};
    const auto opt = [&j](const char* key, const auto& v) { j[key] = v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    opt("load_ms", r.load_ms);
    opt("nmse", r.nmse);
    opt("top1", r.top1);
    opt("round_trip_identical", r.round_trip_identical);
    opt("round_trip_max_abs", r.round_trip_max_abs);
    j["model_path"] = r.model_path.string();
    if (!r.metrics.empty()) {
        nlohmann::json m = nlohmann::json::object();
        for (const auto& x : r.metrics) {
            m[x.name] = {{"value", x.value}, {x.higher_is_better ? "min" : "max", x.limit}};
        }
        j["metrics"] = m;
    }
    return j;
}

void print_matrix(const std::vector<bench::ConformResult>& results, const std::vector<std::string>& types) {
    Table t;
    t.columns = {"arch", "reference", "device"};
    const size_t first_type = t.columns.size();
    for (const auto& ty : types) t.columns.push_back(ty);
    t.columns.push_back("reason");
    t.numeric.assign(t.columns.size(), false);
    std::map<std::tuple<std::string, std::string, std::string>, size_t> row_of;
    for (const auto& r : results) {
        const auto key = std::make_tuple(r.arch, r.reference, r.device);
        auto it = row_of.find(key);
        if (it == row_of.end()) {
            it = row_of.emplace(key, t.rows.size()).first;
            std::vector<std::optional<std::string>> row(t.columns.size(), std::string("-"));
            row[0] = r.arch;
            row[1] = r.reference;
            row[2] = r.device;
            row.back() = std::string();
            t.rows.push_back(std::move(row));
        }
        auto& row = t.rows[it->second];
        const auto at = std::find(types.begin(), types.end(), r.type);
        if (at == types.end()) {  // a class with no case yet: one result for every type
            for (size_t c = first_type; c < first_type + types.size(); ++c) row[c] = cell(r);
            row.back() = r.reason;
            continue;
        }
        row[first_type + static_cast<size_t>(at - types.begin())] = cell(r);
        if (r.status != bench::ConformStatus::pass && row.back()->empty()) row.back() = r.type + ": " + r.reason;
    }
    fmt::print("{}", render_table(t));
}

void print_coverage(const bench::Coverage& c, bool json) {
    if (json) {
        nlohmann::json groups = nlohmann::json::array();
        for (const auto& g : c.groups) {
            groups.push_back({{"family", g.family}, {"subfamily", g.subfamily}, {"types", g.n_types},
                              {"convertible", g.n_convertible}, {"mapped", g.n_mapped}, {"runnable", g.n_runnable},
                              {"transformers_pass", g.n_transformers_pass}});
        }
        nlohmann::json keys = nlohmann::json::array();
        for (const auto& k : c.key_types) {
            keys.push_back({{"model_type", k.model_type}, {"family", k.family}, {"subfamily", k.subfamily},
                            {"llama_arch", k.llama_arch}, {"status", k.status}, {"convertible", k.convertible},
                            {"transformers", k.transformers}, {"transformers_reason", k.transformers_reason}});
        }
        print_json({{"schema_version", json_schema_version},
                    {"types", c.n_types},
                    {"convertible", c.n_convertible},
                    {"mapped", c.n_mapped},
                    {"runnable", c.n_runnable},
                    {"transformers_pass", c.n_transformers_pass},
                    {"groups", groups},
                    {"key_types", keys}});
        return;
    }
    fmt::print("Of the {} Hugging Face model types in the knowledge table, accel converts {}, runs {} ({} have a "
               "llama.cpp architecture; a type runs only when a conformance case for its architecture passed here) "
               "and passes against transformers {}.\n\n",
               c.n_types, c.n_convertible, c.n_runnable, c.n_mapped, c.n_transformers_pass);
    Table k;
    k.columns = {"key class", "transformers", "convert", "llama.cpp arch", "run", "why not a pass"};
    k.numeric.assign(k.columns.size(), false);
    for (const auto& x : c.key_types) {
        k.rows.push_back({x.model_type, x.transformers, x.convertible ? "yes" : "no",
                          x.llama_arch.empty() ? "-" : x.llama_arch, x.status,
                          x.transformers == "pass" ? "" : x.transformers_reason});
    }
    fmt::print("{}\n", render_table(k));
    Table g;
    g.columns = {"family", "subfamily", "types", "convert", "mapped", "run", "pass vs transformers"};
    g.numeric = {false, false, true, true, true, true, true};
    for (const auto& x : c.groups) {
        g.rows.push_back({x.family, x.subfamily, std::to_string(x.n_types), std::to_string(x.n_convertible),
                          std::to_string(x.n_mapped), std::to_string(x.n_runnable), std::to_string(x.n_transformers_pass)});
    }
    fmt::print("{}", render_table(g));
}

}  // namespace accel::cli
