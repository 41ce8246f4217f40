// The plan file: JSON in and out, shard ids, and the point options a shard runs with.
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/bench/campaign_json.h"
#include "accel/core/error.h"
#include "accel/core/sha256.h"
#include "accel/fleet/plan.h"

namespace accel::fleet {
namespace {

using json = nlohmann::json;
constexpr int plan_schema_version = 1;

json requirement_json(const HardwareRequirement& r) {
    json sel = json::array();
    for (const auto& [k, v] : r.node_selector) sel.push_back({k, v});
    return {{"kind", r.kind},
            {"device", r.device},
            {"min_memory_bytes", r.min_memory_bytes},
            {"slurm_gres", r.slurm_gres},
            {"slurm_constraint", r.slurm_constraint},
            {"node_selector", sel},
            {"k8s_resource", r.k8s_resource}};
}

HardwareRequirement requirement_from(const json& j) {
    HardwareRequirement r{.kind = j.at("kind"),
                          .device = j.at("device"),
                          .min_memory_bytes = j.at("min_memory_bytes"),
                          .slurm_gres = j.at("slurm_gres"),
                          .slurm_constraint = j.at("slurm_constraint"),
                          .node_selector = {},
                          .k8s_resource = j.at("k8s_resource")};
    for (const auto& kv : j.at("node_selector")) r.node_selector.emplace_back(kv.at(0), kv.at(1));
    return r;
}

// What a shard measures, without where it writes: the run settings' results_dir is left out.
json run_json(const RunSettings& r, bool with_dir) {
    json j = {{"repetitions", r.repetitions}, {"warmup", r.warmup},   {"min_duration_s", r.min_duration_s},
              {"max_cv", r.max_cv},           {"timeout_s", r.timeout_s}, {"seed", r.seed},
              {"n_queries", r.n_queries}};
    if (with_dir) j["results_dir"] = r.results_dir;
    return j;
}

json points_json(const std::vector<bench::PointSpec>& points) {
    json out = json::array();
    for (const auto& p : points) out.push_back(json::parse(bench::point_spec_json_text(p)));
    return out;
}

Plan plan_from(const json& j, const std::string& origin) {
    if (j.at("schema_version").get<int>() != plan_schema_version) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: plan schema_version {} (this accel reads {})", origin,
                                                          j.at("schema_version").dump(), plan_schema_version));
    }
    Plan p;
    p.campaign = j.at("campaign");
    check_name("campaign", p.campaign);
    p.spec_file = j.at("spec_file");
    const json& r = j.at("run");
    p.run = {.repetitions = r.at("repetitions"),
             .warmup = r.at("warmup"),
             .min_duration_s = r.at("min_duration_s"),
             .max_cv = r.at("max_cv"),
             .timeout_s = r.at("timeout_s"),
             .seed = r.at("seed"),
             .n_queries = r.at("n_queries"),
             .results_dir = r.at("results_dir")};
    const json& s = j.at("slurm");
    p.slurm = {.partition = s.at("partition"), .time_factor = s.at("time_factor"), .extra = s.at("extra")};
    const json& k = j.at("kubernetes");
    p.kubernetes = {.image = k.at("image"),
                    .namespace_name = k.at("namespace"),
                    .volume_claim = k.at("volume_claim"),
                    .parallelism = k.at("parallelism")};
    for (const json& sj : j.at("shards")) {
        Shard sh{.index = sj.at("index"), .id = sj.at("id"), .requirement = requirement_from(sj.at("requirement")),
                 .points = {}, .estimate_s = sj.at("estimate_s")};
        for (const json& pj : sj.at("points")) sh.points.push_back(bench::point_spec_from_json_text(pj.dump(), origin));
        if (sh.index != static_cast<int32_t>(p.shards.size())) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: shard {} has index {}", origin, p.shards.size(), sh.index));
        }
        check_name("shard id", sh.id);
        p.shards.push_back(std::move(sh));
    }
    return p;
}

}  // namespace

std::string HardwareRequirement::class_name() const {
    if (kind == "cpu") return "cpu";
    std::string name = device;
    if (min_memory_bytes > 0) name += fmt::format("-{}g", (min_memory_bytes + (1ULL << 30) - 1) >> 30);
    return name;
}

std::string HardwareRequirement::describe() const {
    if (kind == "cpu") return "any cpu";
    std::string out = fmt::format("a {} device ({})", kind, device);
    if (min_memory_bytes > 0) {
        out += fmt::format(" with at least {:.1f} GiB", static_cast<double>(min_memory_bytes) / (1ULL << 30));
    }
    return out;
}

void check_name(const std::string& what, const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 100 && name.front() != '.' &&
                    name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                        std::string::npos;
    if (!ok) {
        throw Error(ErrorKind::invalid_input, fmt::format("{} '{}': use 1 to 100 letters, digits, '.', '_' or '-', "
                                                          "not starting with '.'",
                                                          what, name));
    }
}

std::string shard_id(const Plan& plan, const Shard& shard) {
    const json content = {{"campaign", plan.campaign},
                          {"run", run_json(plan.run, false)},
                          {"requirement", requirement_json(shard.requirement)},
                          {"points", points_json(shard.points)}};
    return sha256_hex(content.dump()).substr(0, 16);
}

bench::PointOptions point_options(const RunSettings& run) {
    return {.rules = {.n_warmup = run.warmup,
                      .n_min_reps = run.repetitions,
                      .min_duration = std::chrono::milliseconds(static_cast<int64_t>(run.min_duration_s * 1000)),
                      .max_cv = run.max_cv},
            .timeout = std::chrono::seconds(run.timeout_s),
            .seed = run.seed,
            .n_queries = run.n_queries};
}

std::string plan_to_json(const Plan& plan) {
    json shards = json::array();
    for (const Shard& s : plan.shards) {
        shards.push_back({{"index", s.index},
                          {"id", s.id},
                          {"requirement", requirement_json(s.requirement)},
                          {"class", s.requirement.class_name()},
                          {"estimate_s", s.estimate_s},
                          {"points", points_json(s.points)}});
    }
    const json j = {{"schema_version", plan_schema_version},
                    {"campaign", plan.campaign},
                    {"spec_file", plan.spec_file},
                    {"run", run_json(plan.run, true)},
                    {"slurm", {{"partition", plan.slurm.partition},
                               {"time_factor", plan.slurm.time_factor},
                               {"extra", plan.slurm.extra}}},
                    {"kubernetes", {{"image", plan.kubernetes.image},
                                    {"namespace", plan.kubernetes.namespace_name},
                                    {"volume_claim", plan.kubernetes.volume_claim},
                                    {"parallelism", plan.kubernetes.parallelism}}},
                    {"shards", shards}};
    return j.dump(2) + "\n";
}

Plan read_plan(const std::filesystem::path& plan_file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(plan_file, ec))  // a wrong --plan is the user's input: exit 2
        throw Error(ErrorKind::invalid_input, plan_file.string() + ": no such plan file");
    std::ifstream in(plan_file);
    if (!in) throw Error(ErrorKind::io, plan_file.string() + ": cannot read the plan");
    std::stringstream text;
    text << in.rdbuf();
    try {
        return plan_from(json::parse(text.str()), plan_file.string());
    } catch (const json::exception& e) {
        throw Error(ErrorKind::invalid_input, plan_file.string() + ": not an accel plan: " + e.what());
    }
}

}  // namespace accel::fleet
