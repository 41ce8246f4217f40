// A campaign spec (TOML) into a plan: the sweep through bench's parsers, cut into shards with their requirements.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "accel/bench/campaign_json.h"
#include "accel/bench/request_lengths.h"
#include "accel/core/error.h"
#include "accel/fleet/plan.h"
#include "accel/hw/device.h"
#include "accel/model/flash_attn.h"
#include "accel/model/kv_type.h"

namespace accel::fleet {
namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
    throw Error(ErrorKind::invalid_input, where + ": " + what);
}

// One table of the spec, its keys checked against a list and each read with its file, line and dotted key.
class Section {
public:
    Section(const toml::table* table, std::string file, std::string prefix, std::vector<std::string> known)
        : table_(table), file_(std::move(file)), prefix_(std::move(prefix)) {
        if (table_ == nullptr) return;
        for (const auto& [key, node] : *table_) {
            const std::string k(key.str());
            if (std::find(known.begin(), known.end(), k) == known.end()) {
                std::string list;
                for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
                bad(where(k), "unknown key (known: " + list + ")");
            }
        }
    }

    std::string where(const std::string& key) const {
        const toml::node* n = table_ ? table_->get(key) : nullptr;
        const int line = n ? static_cast<int>(n->source().begin.line) : 0;
        return fmt::format("{}{}: {}{}", file_, line > 0 ? ":" + std::to_string(line) : "", prefix_, key);
    }
    const toml::node* get(const std::string& key) const { return table_ ? table_->get(key) : nullptr; }

    // A list value as bench's list syntax: a string as is, a number, or an array of either joined by commas.
    std::optional<std::string> list(const std::string& key) const {
        const toml::node* n = get(key);
        if (n == nullptr) return std::nullopt;
        if (const auto* arr = n->as_array()) {
            std::string out;
            for (const auto& item : *arr) out += (out.empty() ? "" : ",") + scalar(item, key);
            if (out.empty()) bad(where(key), "an empty list");
            return out;
        }
        return scalar(*n, key);
    }
    std::optional<std::string> text(const std::string& key) const {
        const toml::node* n = get(key);
        if (n == nullptr) return std::nullopt;
        if (auto s = n->value<std::string>()) return *s;
        bad(where(key), "expected a string");
    }
    std::optional<double> number(const std::string& key) const {
        const toml::node* n = get(key);
        if (n == nullptr) return std::nullopt;
        if (auto d = n->value<double>()) return *d;
        bad(where(key), "expected a number");
    }
    std::optional<int64_t> integer(const std::string& key) const {
        const toml::node* n = get(key);
        if (n == nullptr) return std::nullopt;
        if (auto i = n->value_exact<int64_t>()) return *i;
        bad(where(key), "expected an integer");
    }
    // Runs parse on a value and reports its Error as this key's.
    template <class F>
    auto checked(const std::string& key, F&& parse) const {
        try {
            return parse();
        } catch (const Error& e) {
            bad(where(key), e.what());
        }
    }

private:
    std::string scalar(const toml::node& n, const std::string& key) const {
        if (auto s = n.value_exact<std::string>()) return *s;
        if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
        if (auto d = n.value_exact<double>()) return fmt::format("{:g}", *d);
        bad(where(key), "expected a string, a number or a list of them");
    }

    const toml::table* table_;
    std::string file_;
    std::string prefix_;
};

const toml::table* sub_table(const toml::table& root, const std::string& file, const char* key) {
    const toml::node* n = root.get(key);
    if (n == nullptr) return nullptr;
    if (const auto* t = n->as_table()) return t;
    bad(fmt::format("{}:{}: {}", file, n->source().begin.line, key), "expected a table ([" + std::string(key) + "])");
}

std::vector<std::string> models_from(const Section& s, const std::filesystem::path& spec_dir) {
    const auto text = s.list("model");
    if (!text) bad(s.where("model"), "required: the model file(s) of the campaign");
    std::vector<std::string> out;
    for (const auto& m : s.checked("model", [&] { return bench::parse_str_list("model", *text); })) {
        std::filesystem::path p(m);
        if (p.is_relative()) p = spec_dir / p;
        out.push_back(p.lexically_normal().string());
    }
    return out;
}

bench::SweepSpec sweep_from(const Section& s, const std::filesystem::path& spec_dir) {
    bench::SweepSpec w;
    w.models = models_from(s, spec_dir);
    const auto ints = [&](const char* key, std::vector<int32_t>& into) {
        if (auto v = s.list(key)) into = s.checked(key, [&] { return bench::parse_int_list(key, *v); });
    };
    if (auto v = s.list("scenario")) {
        w.scenarios.clear();
        for (const auto& sc : s.checked("scenario", [&] {
                 return bench::parse_str_list("scenario", *v, {"llm", "embed", "latency", "server", "offline"});
             })) {
            w.scenarios.push_back(bench::parse_scenario(sc));
        }
    }
    // A list of typed values through the parser bench's flag of the same setting uses.
    const auto typed = [&](const char* key, auto& into, auto parse) {
        if (auto v = s.list(key)) into = s.checked(key, [&] { return bench::parse_list(key, *v, parse); });
    };
    typed("device", w.devices, hw::parse_device_id);
    ints("n_prompt", w.n_prompt);
    ints("n_gen", w.n_gen);
    ints("depth", w.n_depth);
    ints("batch_size", w.n_batch);
    ints("ubatch_size", w.n_ubatch);
    ints("threads", w.n_threads);
    typed("n_gpu_layers", w.n_gpu_layers, [](std::string_view v) {  // -1 is a value, not a range
        return v == "-1" ? -1 : bench::parse_int_list("n_gpu_layers", std::string(v)).front();
    });
    ints("embed_batch", w.embed_batch);
    ints("parallel", w.n_parallel);
    if (const toml::node* n = s.get("pg")) {
        const auto* arr = n->as_array();
        const auto one = [&](const toml::node& item) {
            const auto text = item.value_exact<std::string>();
            if (!text) bad(s.where("pg"), "expected \"N,M\" strings");
            w.pg.push_back(s.checked("pg", [&] { return bench::parse_pg(*text); }));
        };
        if (arr) {
            for (const auto& item : *arr) one(item);
        } else {
            one(*n);
        }
    }
    typed("cache_type_k", w.type_k, model::parse_kv_type);
    typed("cache_type_v", w.type_v, model::parse_kv_type);
    typed("flash_attn", w.flash_attn, model::parse_flash_attn);
    if (auto v = s.list("qps")) w.target_qps = s.checked("qps", [&] { return bench::parse_positive_list("qps", *v); });
    if (auto v = s.text("lengths")) {
        s.checked("lengths", [&] { return bench::parse_request_lengths(*v); });
        w.lengths = *v;
    }
    return w;
}

RunSettings run_from(const Section& s, const std::filesystem::path& spec_dir) {
    RunSettings r;
    const auto positive = [&](const char* key, int32_t& into, int64_t min) {
        if (auto v = s.integer(key)) {
            if (*v < min || *v > 1'000'000) bad(s.where(key), fmt::format("{} is out of range (at least {})", *v, min));
            into = static_cast<int32_t>(*v);
        }
    };
    positive("repetitions", r.repetitions, 1);
    positive("warmup", r.warmup, 0);
    positive("timeout", r.timeout_s, 1);
    positive("queries", r.n_queries, 1);
    if (auto v = s.number("min_duration")) r.min_duration_s = *v;
    if (auto v = s.number("max_cv")) r.max_cv = *v;
    if (auto v = s.integer("seed")) r.seed = static_cast<uint64_t>(*v);
    if (auto v = s.text("results_dir")) {
        std::filesystem::path p(*v);
        r.results_dir = (p.is_relative() ? spec_dir / p : p).lexically_normal().string();
    }
    return r;
}

// [hardware.<kind>] tables: what a shard on a device of that kind needs and how schedulers ask for it.
std::map<std::string, HardwareRequirement> hardware_from(const toml::table* hw, const std::string& file) {
    std::map<std::string, HardwareRequirement> out;
    out["cuda"] = {.kind = "cuda", .slurm_gres = "gpu:1", .node_selector = {{"nvidia.com/gpu.present", "true"}},
                   .k8s_resource = "nvidia.com/gpu"};
    if (hw == nullptr) return out;
    for (const auto& [key, node] : *hw) {
        const std::string kind(key.str());
        const auto* t = node.as_table();
        if (t == nullptr) bad(fmt::format("{}: hardware.{}", file, kind), "expected a table ([hardware." + kind + "])");
        const Section s(t, file, "hardware." + kind + ".",
                        {"min_memory_gb", "slurm_gres", "slurm_constraint", "node_selector", "k8s_resource"});
        HardwareRequirement& r = out[kind];
        r.kind = kind;
        if (auto v = s.number("min_memory_gb")) {
            if (*v < 0) bad(s.where("min_memory_gb"), "must not be negative");
            r.min_memory_bytes = static_cast<uint64_t>(*v * 1024 * 1024 * 1024);
        }
        if (auto v = s.text("slurm_gres")) r.slurm_gres = *v;
        if (auto v = s.text("slurm_constraint")) r.slurm_constraint = *v;
        if (auto v = s.text("k8s_resource")) r.k8s_resource = *v;
        if (const toml::node* sel = s.get("node_selector")) {
            const auto* st = sel->as_table();
            if (st == nullptr) bad(s.where("node_selector"), "expected a table of label = \"value\"");
            r.node_selector.clear();
            for (const auto& [label, value] : *st) {
                const auto v = value.value_exact<std::string>();
                if (!v) bad(s.where("node_selector"), "label " + std::string(label.str()) + ": expected a string");
                r.node_selector.emplace_back(std::string(label.str()), *v);
            }
        }
    }
    return out;
}

std::string device_kind(const std::string& device) {
    std::string kind = device;
    while (!kind.empty() && std::isdigit(static_cast<unsigned char>(kind.back()))) kind.pop_back();
    return kind.empty() ? device : kind;
}

std::vector<Shard> cut(const std::vector<bench::PointSpec>& points, bool per_point,
                       const std::map<std::string, HardwareRequirement>& hardware, const RunSettings& run) {
    std::vector<Shard> shards;
    std::map<std::string, size_t> by_key;
    const bench::PointOptions opts = point_options(run);
    for (const auto& p : points) {
        const std::string key = p.model + "\n" + p.device;
        auto it = by_key.find(key);
        if (per_point || it == by_key.end()) {
            Shard s;
            s.index = static_cast<int32_t>(shards.size());
            const std::string kind = device_kind(p.device);
            const auto hw = hardware.find(kind);
            s.requirement = hw != hardware.end() ? hw->second : HardwareRequirement{.kind = kind};
            s.requirement.kind = kind;
            s.requirement.device = p.device;
            it = by_key.insert_or_assign(key, shards.size()).first;
            shards.push_back(std::move(s));
        }
        Shard& s = shards[it->second];
        s.points.push_back(p);
        s.estimate_s += bench::estimate_point_seconds(p, opts);
    }
    return shards;
}

}  // namespace

Plan plan_from_spec(const std::filesystem::path& spec_file) {
    const std::string file = spec_file.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(spec_file, ec)) throw Error(ErrorKind::invalid_input, file + ": no such spec file");
    toml::table root;
    try {
        root = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
        bad(fmt::format("{}:{}", file, e.source().begin.line), std::string(e.description()));
    }
    const Section top(&root, file, "", {"campaign", "sweep", "run", "shards", "hardware", "slurm", "kubernetes"});
    const std::filesystem::path dir = std::filesystem::absolute(spec_file).parent_path();
    Plan plan;
    plan.spec_file = std::filesystem::absolute(spec_file).lexically_normal().string();
    const auto name = top.text("campaign");
    if (!name) bad(file + ": campaign", "required: the campaign's name (letters, digits, '.', '_', '-')");
    plan.campaign = *name;
    top.checked("campaign", [&] { check_name("campaign", plan.campaign); return 0; });

    const Section sweep(sub_table(root, file, "sweep"), file, "sweep.",
                        {"model", "scenario", "device", "n_prompt", "n_gen", "pg", "depth", "batch_size", "ubatch_size",
                         "threads", "cache_type_k", "cache_type_v", "flash_attn", "n_gpu_layers", "embed_batch",
                         "parallel", "qps", "lengths"});
    const bench::SweepSpec w = sweep_from(sweep, dir);
    plan.run = run_from(Section(sub_table(root, file, "run"), file, "run.",
                                {"repetitions", "warmup", "min_duration", "max_cv", "timeout", "seed", "queries",
                                 "results_dir"}),
                        dir);
    const Section shards(sub_table(root, file, "shards"), file, "shards.", {"split"});
    const std::string split = shards.text("split").value_or("model-device");
    if (split != "model-device" && split != "point") {
        bad(shards.where("split"), "'" + split + "': use model-device or point");
    }

    const Section slurm(sub_table(root, file, "slurm"), file, "slurm.", {"partition", "time_factor", "extra"});
    plan.slurm.partition = slurm.text("partition").value_or("");
    plan.slurm.time_factor = slurm.number("time_factor").value_or(2.0);
    if (const toml::node* extra = slurm.get("extra")) {
        const auto* arr = extra->as_array();
        if (arr == nullptr) bad(slurm.where("extra"), "expected a list of sbatch options");
        for (const auto& item : *arr) {
            const auto v = item.value_exact<std::string>();
            if (!v) bad(slurm.where("extra"), "expected strings (\"--account=x\")");
            plan.slurm.extra.push_back(*v);
        }
    }
    const Section kube(sub_table(root, file, "kubernetes"), file, "kubernetes.",
                       {"image", "namespace", "volume_claim", "parallelism"});
    plan.kubernetes.image = kube.text("image").value_or(plan.kubernetes.image);
    plan.kubernetes.namespace_name = kube.text("namespace").value_or(plan.kubernetes.namespace_name);
    plan.kubernetes.volume_claim = kube.text("volume_claim").value_or(plan.kubernetes.volume_claim);
    plan.kubernetes.parallelism = static_cast<int32_t>(kube.integer("parallelism").value_or(0));

    const auto hardware = hardware_from(sub_table(root, file, "hardware"), file);
    plan.shards = cut(bench::expand(w), split == "point", hardware, plan.run);
    if (plan.shards.empty()) bad(file + ": sweep", "the sweep expands to no points");
    for (Shard& s : plan.shards) s.id = shard_id(plan, s);
    return plan;
}

}  // namespace accel::fleet
