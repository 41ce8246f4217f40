#include "accel/report/report_data.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/energy_per_token.h"
#include "accel/bench/sweep.h"
#include "accel/core/error.h"
#include "accel/hw/roofline.h"
#include "accel/store/result_columns.h"

namespace accel::report {
namespace {

using nlohmann::json;
using Row = std::vector<std::optional<std::string>>;

std::string text(const Row& r, size_t i) {
    return r.at(i).value_or("");
}

std::optional<int64_t> i64(const Row& r, size_t i) {
    if (!r.at(i)) return std::nullopt;
    try {
        return std::stoll(*r[i]);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<double> jnum(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
    return j[key].get<double>();
}

std::optional<int64_t> jint(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
    return j[key].get<int64_t>();
}

std::optional<bool> jbool(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_boolean()) return std::nullopt;
    return j[key].get<bool>();
}

std::string jstr(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
    return j[key].get<std::string>();
}

std::string scalar_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "null";
    return v.dump();
}

// The inventory as "key: value" lines, nested objects as dotted keys and arrays of objects one line per element.
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& out) {
    if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (k == "schema_version") continue;
            flatten(v, prefix.empty() ? k : prefix + "." + k, out);
        }
    } else if (j.is_array()) {
        bool scalars = std::all_of(j.begin(), j.end(), [](const json& e) { return !e.is_structured(); });
        if (scalars) {
            std::string line;
            for (const auto& e : j) line += (line.empty() ? "" : ", ") + scalar_text(e);
            out.emplace_back(prefix, line);
            return;
        }
        for (size_t i = 0; i < j.size(); ++i) {
            std::string line;
            if (j[i].is_object()) {
                for (const auto& [k, v] : j[i].items()) {
                    if (v.is_structured() || v.is_null()) continue;
                    line += (line.empty() ? "" : ", ") + k + "=" + scalar_text(v);
                }
            } else {
                line = j[i].dump();
            }
            out.emplace_back(fmt::format("{}[{}]", prefix, i), line);
        }
    } else if (!j.is_null()) {  // null: the inventory could not tell; leaving it out keeps the table short
        out.emplace_back(prefix, scalar_text(j));
    }
}

// The requested configuration from extra.spec; a key the spec lacks has accel bench's default (bench::PointSpec).
void read_config(ResultRow& r, const json& spec) {
    const bench::PointSpec def{};
    const auto num = [&](const char* k, int32_t d) { return jint(spec, k).value_or(d); };
    const auto str = [&](const char* k, std::string d) {
        const std::string v = jstr(spec, k);
        return v.empty() ? d : v;
    };
    const int64_t t = num("n_threads", def.n_threads), b = num("n_batch", def.n_batch),
                  ub = num("n_ubatch", def.n_ubatch), ngl = num("n_gpu_layers", def.n_gpu_layers);
    const std::string def_k(model::to_string(def.type_k)), def_v(model::to_string(def.type_v)),
        def_fa(model::to_string(def.flash_attn));
    if (r.scenario == "vision" || r.scenario == "audio") {  // accel's own graphs: no batch, KV cache or layer split
        r.config = fmt::format("t={}", t);
        r.is_default = t == def.n_threads;
        return;
    }
    const std::string tk = str("type_k", def_k), tv = str("type_v", def_v), fa = str("flash_attn", def_fa);
    r.config = fmt::format("t={} b={} ub={} kv={}/{} fa={} ngl={}", t, b, ub, tk, tv, fa, ngl);
    r.is_default = t == def.n_threads && b == def.n_batch && ub == def.n_ubatch && ngl == def.n_gpu_layers &&
                   tk == def_k && tv == def_v && fa == def_fa;
}

// Energy per timed token from extra.energy_j (the PointResult's counters); the samples and shape are read first.
void read_energy(ResultRow& r, const json& x) {
    if (!x.contains("energy_j")) return;  // keeps the reason set by read_extra
    std::vector<std::pair<std::string, double>> joules;
    if (x["energy_j"].is_array()) {
        for (const auto& e : x["energy_j"])
            if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_number())
                joules.emplace_back(e[0].get<std::string>(), e[1].get<double>());
    }
    const double tokens =
        static_cast<double>(r.samples_ns.size()) * static_cast<double>(r.n_prompt.value_or(0) + r.n_gen.value_or(0));
    const auto e = bench::energy_per_token(joules, jstr(x, "energy_unavailable"), tokens);
    r.joules_per_token = e.joules_per_token;
    r.energy_unavailable = e.unavailable;
}

// extra.vision or extra.audio. Results stored before these figures could be null wrote 0 for "not counted": read
// as absent, never as a figure of 0.
void read_media(ResultRow& r, const json& x) {
    const auto positive = [](std::optional<double> v) { return v && *v > 0 ? v : std::nullopt; };
    if (x.contains("vision") && x["vision"].is_object()) {
        const json& v = x["vision"];
        MediaPoint m{.arch = jstr(v, "arch"),
                     .n_frames = positive(jnum(v, "n_frames")),
                     .frame_ms = jnum(v, "frame_ms"),
                     .prep_p50_ms = jnum(v, "preprocess_p50_ms"),
                     .flops = positive(jnum(v, "flops_per_image")),
                     .flops_unavailable = jstr(v, "flops_unavailable"),
                     .compute_bytes_measured = positive(jnum(v, "compute_bytes_measured")),
                     .compute_bytes_unavailable = jstr(v, "compute_bytes_unavailable")};
        if (m.flops) m.gflops_per_s = jnum(v, "gflops_per_s");
        r.media = std::move(m);
    } else if (x.contains("audio") && x["audio"].is_object()) {
        const json& a = x["audio"];
        r.media = MediaPoint{.arch = jstr(x, "model_arch"),
                             .prep_p50_ms = jnum(a, "features_ms"),
                             .clip_seconds = jnum(a, "clip_seconds"),
                             .window_seconds = jnum(a, "window_seconds"),
                             .latency_covers = jstr(a, "latency_covers"),
                             .flops = positive(jnum(a, "flops_per_clip")),
                             .flops_unavailable = jstr(a, "flops_unavailable")};
    }
}

void read_extra(ResultRow& r, const std::string& extra_text) {
    r.energy_unavailable = "no energy figure stored with the result";
    const json x = json::parse(extra_text.empty() ? "{}" : extra_text, nullptr, false);
    if (x.is_discarded() || !x.is_object()) return;
    read_energy(r, x);
    r.platform = jstr(x, "platform");
    r.browser = jstr(x, "browser");
    r.browser_version = jstr(x, "browser_version");
    r.backend = jstr(x, "backend");
    if (x.contains("remote") && x["remote"].is_object()) {
        r.target_url = jstr(x["remote"], "url");
        r.target_server = jstr(x["remote"], "server_header");
        r.workload = jstr(x["remote"], "workload");
    }
    if (x.contains("spec") && x["spec"].is_object()) {
        const json& spec = x["spec"];
        if (r.scenario == "embed" || r.scenario == "vision") r.embed_batch = jint(spec, "embed_batch");
        if (auto par = jint(spec, "n_parallel"); par && *par > 1) r.n_parallel = par;
        r.lengths = jstr(spec, "lengths");
        read_config(r, spec);
    }
    read_media(r, x);
    r.noisy = jbool(x, "noisy").value_or(false);
    if (auto w = jnum(x, "model_size"); w && *w > 0) r.weight_bytes = w;
    if (auto n = jnum(x, "model_n_params_blocks"); n && *n > 0) r.n_params_blocks = n;
    r.weight_type = hw::weight_type_of(jstr(x, "model_desc"));
    if (x.contains("tpot_ns") && x["tpot_ns"].is_array() && !x["tpot_ns"].empty()) {
        double sum = 0;
        for (const auto& v : x["tpot_ns"]) sum += v.is_number() ? v.get<double>() : 0;
        r.tpot_ns = sum / static_cast<double>(x["tpot_ns"].size());
    }
    if (auto rss = jnum(x, "peak_rss_bytes"); rss && *rss > 0) r.peak_rss_bytes = rss;
    const auto weights = jnum(x, "model_size");
    if (weights && *weights > 0) r.memory_estimate_bytes = *weights + jnum(x, "kv_cache_bytes_estimate").value_or(0);
    r.decode_bandwidth_pct = jnum(x, "decode_bandwidth_pct");
    r.prefill_flops_pct = jnum(x, "prefill_flops_pct");
    r.roofline_basis = jstr(x, "roofline_basis");
    r.roofline_defect = jstr(x, "roofline_defect");
    if (x.contains("server") && x["server"].is_object()) {
        const json& s = x["server"];
        r.server = ServerPoint{.target_qps = jnum(s, "target_qps"),
                               .achieved_qps = jnum(s, "achieved_qps"),
                               .p50_ms = jnum(s, "p50_ms"),
                               .p99_ms = jnum(s, "p99_ms"),
                               .ttft_p99_ms = jnum(s, "ttft_p99_ms"),
                               .tpot_p99_ms = jnum(s, "tpot_p99_ms"),
                               .slo_pass = jbool(s, "slo_pass"),
                               .slo = jstr(s, "slo")};
        if (s.contains("slo_limits") && s["slo_limits"].is_object()) {
            const json& l = s["slo_limits"];
            r.server->slo_p99_ms = jnum(l, "p99_ms");
            r.server->slo_ttft_p99_ms = jnum(l, "ttft_p99_ms");
            r.server->slo_tpot_p99_ms = jnum(l, "tpot_p99_ms");
        }
    }
    if (x.contains("tradeoffs") && x["tradeoffs"].is_object()) {
        const json& t = x["tradeoffs"];
        TradeoffPoint p;
        p.variant = jstr(t, "variant");
        p.type = jstr(t, "type");
        p.type_k = jstr(t, "type_k");
        p.flash_attn = jbool(t, "flash_attn");
        p.mmap = jbool(t, "mmap");
        p.file_bytes = jnum(t, "file_bytes");
        p.weights_bytes = jnum(t, "weights_bytes");
        p.peak_rss_bytes = jnum(t, "peak_rss_bytes");
        p.kv_bytes_measured = jnum(t, "kv_bytes_measured");
        p.kv_bytes_estimated = jnum(t, "kv_bytes_estimated");
        p.compute_buffer_bytes = jnum(t, "compute_buffer_bytes");
        p.n_ctx = jnum(t, "n_ctx");
        p.load_ms = jnum(t, "load_ms");
        p.ttft_ms = jnum(t, "ttft_ms");
        p.pp_ts = jnum(t, "pp_ts");
        p.tg_ts = jnum(t, "tg_ts");
        p.perplexity = jnum(t, "perplexity");
        p.random_weights = jbool(t, "random_weights").value_or(false);
        p.kl_mean = jnum(t, "kl_mean");
        p.cosine = jnum(t, "cosine");
        r.tradeoffs = std::move(p);
    }
}

std::string run_match(const std::string& what) {
    const std::string q = store::sql_quote(what);
    return "(id = " + q + " OR list_contains(string_split(coalesce(tags, ''), ','), " + q + "))";
}

// Each measured device's bandwidth slope and its best matmul median per weight type.
std::vector<DeviceRoof> device_roofs(const hw::Roofline& r) {
    std::vector<std::string> devices;
    const auto add = [&](const std::string& d) {
        if (std::find(devices.begin(), devices.end(), d) == devices.end()) devices.push_back(d);
    };
    for (const auto& b : r.bandwidth) add(b.device);
    for (const auto& m : r.matmul) add(m.device);
    std::vector<DeviceRoof> out;
    for (const auto& dev : devices) {
        DeviceRoof roof{.device = dev, .bandwidth_gbs = hw::read_bandwidth_gbs(r, dev)};
        for (const auto& m : r.matmul) {
            if (m.device != dev || m.gflops.median <= 0) continue;
            const hw::MatmulResult* peak = hw::matmul_peak(r, dev, m.type);
            const double g = peak ? peak->gflops.median : m.gflops.median;
            const bool seen = std::any_of(roof.gflops_by_type.begin(), roof.gflops_by_type.end(),
                                          [&](const auto& p) { return p.first == m.type; });
            if (!seen) roof.gflops_by_type.emplace_back(m.type, g);
        }
        out.push_back(std::move(roof));
    }
    return out;
}

RooflineInfo roofline_for(const std::string& machine_id) {
    RooflineInfo info{.machine_id = machine_id};
    const auto path = hw::roofline_cache_path(machine_id);
    const auto r = hw::load_roofline(path, machine_id);
    if (!r) {
        // No host path in the text: a report of the same data is the same text on every host.
        info.note = fmt::format(
            "no data: this host has no roofline measured for machine {} (or one of another "
            "version); run accel detect --measure on that machine",
            machine_id);
        return info;
    }
    info.available = true;
    info.note = fmt::format("measured {} by accel {} in {:.1f} s", r->measured_at, r->accel_version, r->duration_s);
    for (const auto& b : r->bandwidth) {
        info.figures.push_back({.what = fmt::format("memory bandwidth {}, {} thread(s)", b.kernel, b.threads),
                                .unit = "GB/s",
                                .median = b.gb_per_s.median,
                                .min = b.gb_per_s.min,
                                .max = b.gb_per_s.max,
                                .n = b.gb_per_s.n});
    }
    for (const auto& m : r->matmul) {
        info.figures.push_back({.what = fmt::format("matmul {} {} {}x{}x{}{}", m.device, m.type, m.m, m.n, m.k,
                                                    m.threads > 0 ? fmt::format(", {} thread(s)", m.threads) : ""),
                                .unit = "GFLOP/s",
                                .median = m.gflops.median,
                                .min = m.gflops.min,
                                .max = m.gflops.max,
                                .n = m.gflops.n});
    }
    for (const auto& u : r->unavailable) info.unavailable.emplace_back(u.what, u.reason);
    info.roofs = device_roofs(*r);
    return info;
}

std::vector<std::string> split_ids(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size() && !s.empty()) {
        const size_t comma = s.find(',', start);
        out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

}  // namespace

const RunInfo* ReportData::run(const std::string& id) const {
    for (const auto& r : runs)
        if (r.id == id) return &r;
    return nullptr;
}

std::optional<double> price_of(const ResultRow& r, const bench::PriceTable& prices) {
    return prices.per_hour(r.machine_id, r.device);
}

CostUnit cost_unit(const ResultRow& r) {
    if (r.scenario == "embed") return {1e6, "million texts"};
    if (r.scenario == "vision" && r.media && r.media->arch == "xclip") return {1e3, "thousand clips"};
    if (r.scenario == "vision") return {1e3, "thousand images"};
    if (r.scenario == "audio") return {3600, "audio hour"};
    return {};
}

std::optional<double> cost_per_unit(const ResultRow& r, const bench::PriceTable& prices) {
    const auto per_million = bench::cost_per_million(r.avg_ts, price_of(r, prices));
    if (!per_million) return std::nullopt;
    return *per_million / 1e6 * cost_unit(r).units;
}

const char* throughput_unit(const ResultRow& r) {
    if (r.scenario == "embed") return "texts/s";
    if (r.scenario == "vision" && r.media && r.media->arch == "xclip") return "clips/s";
    if (r.scenario == "vision") return "images/s";
    if (r.scenario == "audio") return "audio s/s";
    return "tokens/s";
}

std::string point_shape(const ResultRow& r) {
    std::string s;
    auto add_text = [&](const char* k, const std::string& v) { s += fmt::format("{}{}={}", s.empty() ? "" : " ", k, v); };
    auto add = [&](const char* k, const std::optional<int64_t>& v) {
        if (v && (*v != 0 || std::string_view(k) == "t")) add_text(k, std::to_string(*v));
    };
    add("p", r.n_prompt);
    add("n", r.n_gen);
    add("d", r.n_depth);
    add("b", r.n_batch);
    add("t", r.n_threads);
    add("ngl", r.n_gpu_layers);
    add(r.scenario == "vision" ? "batch" : "texts", r.embed_batch);  // embed: texts per call; vision: per pass
    add("par", r.n_parallel);     // sequences decoded together
    if (!r.lengths.empty()) add_text("lengths", r.lengths);
    if (!r.type_k.empty() && r.type_k != "f16") add_text("ctk", r.type_k);
    if (r.flash_attn && *r.flash_attn) add_text("fa", "1");
    return s;
}

namespace {

// The runs matching `where` (an SQL condition over runs), oldest first.
std::vector<RunInfo> read_runs(store::Database& db, const std::string& where) {
    std::vector<RunInfo> out;
    for (const auto& r : db.query("SELECT id, coalesce(command, ''), strftime(started_at, '%Y-%m-%d %H:%M:%S'), "
                                  "status, coalesce(tags, ''), coalesce(machine_id, '') FROM runs WHERE " +
                                  where + " ORDER BY started_at, id")
                             .rows) {
        out.push_back({text(r, 0), text(r, 1), text(r, 2), text(r, 3), text(r, 4), text(r, 5)});
    }
    return out;
}

// The condition over runs that --run and --since select, with its description in d.scope.
std::string runs_in_scope(store::Database& db, const ReportOptions& o, ReportData& d) {
    std::string where = "TRUE";
    if (!o.run.empty()) {
        const auto n = db.query("SELECT count(*) FROM runs WHERE " + run_match(o.run));
        if (n.rows.empty() || n.rows[0][0] == "0")
            throw Error(ErrorKind::invalid_input, fmt::format("--run '{}' matches no run id or tag", o.run));
        where = run_match(o.run);
        d.scope = "run " + o.run;
    }
    if (!o.since.empty()) {
        const auto t = db.query("SELECT TRY_CAST(" + store::sql_quote(o.since) + " AS TIMESTAMP)");
        if (t.rows.empty() || !t.rows[0][0])
            throw Error(ErrorKind::invalid_input,
                        fmt::format("--since '{}': expected a date or timestamp such as 2026-11-01", o.since));
        where += " AND started_at >= TIMESTAMP " + store::sql_quote(*t.rows[0][0]);
        d.scope += (d.scope.empty() ? "runs started since " : ", started since ") + o.since;
    }
    if (d.scope.empty()) d.scope = "every run in the database";
    return where;
}

// The machine card's facts from the inventory document (hw::inventory_json).
void read_card(const json& inv, MachineInfo& m) {
    if (inv.contains("cpu") && inv["cpu"].is_object()) {
        m.n_physical_cores = jint(inv["cpu"], "physical_cores");
        if (!m.n_physical_cores) m.n_physical_cores = jint(inv["cpu"], "cores");
    }
    if (inv.contains("os") && inv["os"].is_object()) {
        const std::string distro = jstr(inv["os"], "distro"), kernel = jstr(inv["os"], "kernel");
        m.os = distro.empty() ? kernel : (kernel.empty() ? distro : distro + ", Linux " + kernel);
    }
    if (!inv.contains("devices") || !inv["devices"].is_array()) return;
    for (const auto& d : inv["devices"]) {
        if (!d.is_object()) continue;
        DeviceInfo x{.id = jstr(d, "id"),
                     .description = jstr(d, "description"),
                     .type = jstr(d, "type"),
                     .backend = jstr(d, "backend"),
                     .memory_total_bytes = jnum(d, "memory_total_bytes"),
                     .memory_free_bytes = jnum(d, "memory_free_bytes"),
                     .usable = jbool(d, "usable").value_or(true),
                     .reason = jstr(d, "reason")};
        if (x.id.empty()) x.id = jstr(d, "name");
        m.devices.push_back(std::move(x));
    }
}

void load_machines(store::Database& db, const std::string& scope, ReportData& d) {
    for (const auto& r : db.query("SELECT id, coalesce(cpu_model, ''), coalesce(hostname, ''), "
                                  "coalesce(device_names, ''), n_logical_cores, memory_total_bytes, inventory "
                                  "FROM machines WHERE id IN (SELECT machine_id FROM runs WHERE id IN " +
                                  scope + ") ORDER BY id")
                             .rows) {
        MachineInfo m{.id = text(r, 0),
                      .cpu_model = text(r, 1),
                      .hostname = text(r, 2),
                      .device_names = text(r, 3),
                      .n_logical_cores = i64(r, 4),
                      .memory_total_bytes = i64(r, 5)};
        const json inv = json::parse(text(r, 6).empty() ? "{}" : text(r, 6), nullptr, false);
        if (!inv.is_discarded()) {
            flatten(inv, "", m.inventory);
            read_card(inv, m);
        }
        d.machines.push_back(std::move(m));
        d.rooflines.push_back(roofline_for(d.machines.back().id));
    }
}

// One report row from a stored result (read through store's column table) and what the query added after it:
// the creation time as text and the model's architecture, family and file type.
ResultRow result_row(const store::ResultRecord& rec, const Row& row, size_t at) {
    ResultRow x{.id = rec.id,
                .run_id = rec.run_id,
                .model = rec.model_sha256.value_or(rec.model_name),
                .model_name = rec.model_name,
                .model_sha256 = rec.model_sha256.value_or(""),
                .scenario = rec.scenario,
                .device = rec.device,
                .type_k = rec.type_k,
                .type_v = rec.type_v,
                .created_at = text(row, at),
                .architecture = text(row, at + 1),
                .family = text(row, at + 2),
                .file_type = text(row, at + 3)};
    x.n_prompt = rec.n_prompt;
    x.n_gen = rec.n_gen;
    x.n_batch = rec.n_batch;
    x.n_ubatch = rec.n_ubatch;
    x.n_threads = rec.n_threads;
    x.n_gpu_layers = rec.n_gpu_layers;
    x.n_depth = rec.n_depth;
    x.flash_attn = rec.flash_attn;
    x.avg_ts = rec.avg_ts;
    x.stddev_ts = rec.stddev_ts;
    x.avg_ns = rec.avg_ns;
    x.p50_ns = rec.p50_ns;
    x.p90_ns = rec.p90_ns;
    x.p99_ns = rec.p99_ns;
    x.ttft_ns = rec.ttft_ns;
    x.valid = rec.valid;
    for (const auto& s : rec.samples) x.samples_ns.push_back(s.duration_ns);
    read_extra(x, rec.extra_json);
    if (x.model_name.empty()) x.model_name = x.model;
    return x;
}

// One point is one model, device, scenario and shape (and browser, trade-off variant or server load): the newest
// result of each is shown, as in the latest_results view.
void load_results(store::Database& db, const std::string& scope, ReportData& d) {
    const std::string results_sql =
        "SELECT " + store::result_select_list("r") +
        ", strftime(r.created_at, '%Y-%m-%d %H:%M:%S'), coalesce(m.architecture, ''), coalesce(m.family, ''), "
        "coalesce(m.file_type, '') FROM results r LEFT JOIN models m ON m.id = r.model_id WHERE r.run_id IN " +
        scope + " QUALIFY row_number() OVER (PARTITION BY coalesce(r.model_sha256, r.model_name), r.device, " +
        "r.scenario, " + store::result_shape_columns("r") +
        ", r.extra->>'platform', r.extra->>'browser', r.extra->>'type', "
        "r.extra->'tradeoffs'->>'variant', r.extra->'server'->>'target_qps', r.extra->'spec'->>'embed_batch', "
        "r.extra->'spec'->>'n_parallel', r.extra->'spec'->>'lengths', r.extra->'spec'->>'workload' "
        "ORDER BY r.created_at DESC, r.id DESC) = 1 "
        "ORDER BY coalesce(r.model_sha256, r.model_name, ''), coalesce(r.device, ''), coalesce(r.scenario, ''), "
        "r.n_prompt NULLS FIRST, r.n_gen NULLS FIRST, r.n_depth NULLS FIRST, "
        "r.n_threads NULLS FIRST, r.n_batch NULLS FIRST, r.type_k, r.flash_attn NULLS FIRST, r.extra->>'browser' "
        "NULLS FIRST, r.extra->>'backend' NULLS FIRST, (r.extra->'server'->>'target_qps')::DOUBLE NULLS FIRST, "
        "r.extra->'tradeoffs'->>'variant' NULLS FIRST, (r.extra->'spec'->>'embed_batch')::INTEGER NULLS FIRST, "
        "(r.extra->'spec'->>'n_parallel')::INTEGER NULLS FIRST, r.id";
    const auto rows = db.query(results_sql).rows;
    std::vector<store::ResultRecord> records;
    for (const auto& r : rows) records.push_back(store::result_from_row(r));
    store::read_samples(db, records);
    const size_t after = store::result_columns().size();
    for (size_t i = 0; i < rows.size(); ++i) {
        d.results.push_back(result_row(records[i], rows[i], after));
        if (const RunInfo* run = d.run(d.results.back().run_id)) d.results.back().machine_id = run->machine_id;
        d.data_until = std::max(d.data_until, d.results.back().created_at);
    }
    const auto total = db.query("SELECT count(*) FROM results WHERE run_id IN " + scope);
    if (!total.rows.empty()) {
        d.n_superseded = std::stoll(total.rows[0][0].value_or("0")) - static_cast<int64_t>(d.results.size());
    }
}

void load_failures(store::Database& db, const std::string& scope, ReportData& d) {
    for (const auto& r : db.query("SELECT f.id, f.run_id, coalesce(nullif(m.name, ''), f.model_id, ''), "
                                  "coalesce(f.scenario, ''), coalesce(f.device, ''), coalesce(f.stage, ''), "
                                  "coalesce(f.reason, ''), strftime(f.created_at, '%Y-%m-%d %H:%M:%S') "
                                  "FROM failures f LEFT JOIN models m ON m.id = f.model_id WHERE f.run_id IN " +
                                  scope + " ORDER BY f.created_at, f.id")
                             .rows) {
        d.failures.push_back({text(r, 0), text(r, 1), text(r, 2), text(r, 3), text(r, 4), text(r, 5), text(r, 6)});
        d.data_until = std::max(d.data_until, text(r, 7));
    }
}

// The compatibility view covers the whole warehouse: keep the evidence in scope.
void load_compatibility(store::Database& db, const std::string& scope, ReportData& d) {
    for (const auto& r :
         db.query("SELECT architecture, family, device, type, status, count(*), "
                  "string_agg(e, ',' ORDER BY e) FROM (SELECT c.*, unnest(c.evidence) AS e FROM "
                  "compatibility c) WHERE e IN (SELECT id FROM results WHERE run_id IN " +
                  scope + " UNION ALL SELECT id FROM failures WHERE run_id IN " + scope + ") GROUP BY ALL ORDER BY ALL")
             .rows) {
        d.compatibility.push_back({.architecture = text(r, 0),
                                   .family = text(r, 1),
                                   .device = text(r, 2),
                                   .type = text(r, 3),
                                   .status = text(r, 4),
                                   .n = i64(r, 5).value_or(0),
                                   .evidence = split_ids(text(r, 6))});
    }
}

// Conformance cases: results (measured) and failures (not) of scenario conform, newest first per case.
void load_conformance(store::Database& db, const std::string& scope, ReportData& d) {
    const auto rows = db.query(
        "SELECT id, run_id, doc FROM (SELECT id, run_id, extra AS doc, created_at FROM results WHERE scenario = "
        "'conform' AND run_id IN " + scope + " UNION ALL SELECT id, run_id, params AS doc, created_at FROM failures "
        "WHERE scenario = 'conform' AND run_id IN " + scope + ") ORDER BY created_at DESC, id DESC");
    std::set<std::string> seen;
    for (const auto& r : rows.rows) {
        const json j = json::parse(text(r, 2).empty() ? "{}" : text(r, 2), nullptr, false);
        if (j.is_discarded() || !j.is_object()) continue;
        ConformRecord c{.id = text(r, 0), .run_id = text(r, 1), .arch = jstr(j, "arch"),
                        .llama_arch = jstr(j, "llama_arch"), .device = jstr(j, "device"), .type = jstr(j, "type"),
                        .status = jstr(j, "status"), .reason = jstr(j, "reason")};
        if (!seen.insert(c.arch + "|" + c.device + "|" + c.type).second) continue;
        d.conformance.push_back(std::move(c));
    }
}

Regressions load_regressions(store::Database& db, const ReportOptions& o, const std::string& scope) {
    Regressions reg{.baseline = o.baseline};
    if (!o.run.empty()) {
        reg.candidate = o.run;
    } else {
        const auto latest = db.query("SELECT id FROM runs WHERE id IN " + scope + " AND NOT " + run_match(o.baseline) +
                                     " AND id IN (SELECT run_id FROM results) ORDER BY started_at DESC, id "
                                     "DESC LIMIT 1");
        if (!latest.rows.empty()) reg.candidate = text(latest.rows[0], 0);
    }
    const auto b = db.query("SELECT count(*) FROM runs WHERE " + run_match(o.baseline));
    if (b.rows.empty() || b.rows[0][0] == "0")
        throw Error(ErrorKind::invalid_input, fmt::format("--baseline '{}' matches no run id or tag", o.baseline));
    reg.baseline_runs = read_runs(db, run_match(o.baseline));
    if (reg.candidate.empty()) {
        reg.note = "no run with results in scope other than the baseline";
    } else {
        reg.compare =
            store::compare_runs(db, {.baseline = o.baseline, .candidate = reg.candidate, .metric = "latency"});
    }
    return reg;
}

}  // namespace

ReportData load_report_data(store::Database& db, const ReportOptions& o) {
    ReportData d;
    if (o.prices.any && (!std::isfinite(*o.prices.any) || *o.prices.any <= 0))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("--price-per-hour must be a positive number, not {:g}", *o.prices.any));
    d.prices = o.prices;
    const std::string where = runs_in_scope(db, o, d);
    const std::string scope = "(SELECT id FROM runs WHERE " + where + ")";
    d.runs = read_runs(db, where);
    load_machines(db, scope, d);
    load_results(db, scope, d);
    load_failures(db, scope, d);
    load_compatibility(db, scope, d);
    load_conformance(db, scope, d);
    if (!o.baseline.empty()) d.regressions = load_regressions(db, o, scope);
    return d;
}

}  // namespace accel::report
