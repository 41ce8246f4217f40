// accel plan: the spec into shards with stable ids and requirements, and the Slurm, Kubernetes and command files.
#include <algorithm>
#include <functional>
#include <cmath>
#include <regex>
#include <set>

#include <fmt/core.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "accel/bench/campaign_json.h"
#include "accel/core/error.h"
#include "accel/fleet/plan.h"
#include "accel/fleet/scheduler_outputs.h"
#include "test_support.h"

namespace accel::fleet {
namespace {

using test::TempDir;

const char* spec_text = R"(campaign = "nightly"

[sweep]
model = ["a.gguf", "/models/b.gguf"]
device = "cpu,cuda0"
n_prompt = "16,32"
n_gen = 8
threads = [1, 2]

[run]
repetitions = 2
warmup = 0
timeout = 30

[hardware.cuda]
min_memory_gb = 24
slurm_constraint = "a100"
)";

std::string text_of(const std::vector<bench::PointSpec>& points) {
    std::string out;
    for (const auto& p : points) out += bench::point_spec_json_text(p) + "\n";
    return out;
}

Plan plan_of(const TempDir& dir, const std::string& text) {
    test::write_file(dir / "spec.toml", text);
    return plan_from_spec(dir / "spec.toml");
}

TEST(Plan, CutsModelsTimesDevicesIntoShardsWithTheirPoints) {
    TempDir dir;
    const Plan p = plan_of(dir, spec_text);
    EXPECT_EQ(p.campaign, "nightly");
    // 2 models x 2 devices; each shard: (pp16, pp32, tg8) x threads 1,2 = 6 points.
    ASSERT_EQ(p.shards.size(), 4u);
    for (size_t i = 0; i < p.shards.size(); ++i) {
        EXPECT_EQ(p.shards[i].index, static_cast<int32_t>(i));
        EXPECT_EQ(p.shards[i].points.size(), 6u);
        EXPECT_TRUE(std::regex_match(p.shards[i].id, std::regex("[0-9a-f]{16}")));
        EXPECT_GT(p.shards[i].estimate_s, 0);
    }
    // A relative model path is relative to the spec's folder.
    EXPECT_EQ(p.shards[0].points[0].model, (dir.path() / "a.gguf").lexically_normal().string());
    EXPECT_EQ(p.shards[0].requirement.class_name(), "cpu");
    EXPECT_EQ(p.shards[0].requirement.describe(), "any cpu");
    const HardwareRequirement& gpu = p.shards[1].requirement;
    EXPECT_EQ(gpu.kind, "cuda");
    EXPECT_EQ(gpu.device, "cuda0");
    EXPECT_EQ(gpu.min_memory_bytes, 24ULL << 30);
    EXPECT_EQ(gpu.class_name(), "cuda0-24g");
    EXPECT_EQ(gpu.slurm_gres, "gpu:1");
    EXPECT_EQ(gpu.slurm_constraint, "a100");
    EXPECT_EQ(gpu.k8s_resource, "nvidia.com/gpu");
    for (const auto& pt : p.shards[1].points) EXPECT_EQ(pt.device, "cuda0");
    EXPECT_EQ(p.run.repetitions, 2);
    EXPECT_EQ(p.run.timeout_s, 30);
}

TEST(Plan, IdsAreStableAcrossPlanningsAndChangeWithTheContent) {
    TempDir a, b;
    const Plan p1 = plan_of(a, spec_text);
    const Plan p2 = plan_of(a, spec_text);
    for (size_t i = 0; i < p1.shards.size(); ++i) EXPECT_EQ(p1.shards[i].id, p2.shards[i].id);
    std::set<std::string> ids;
    for (const auto& s : p1.shards) ids.insert(s.id);
    EXPECT_EQ(ids.size(), p1.shards.size());
    std::string changed = spec_text;
    changed.replace(changed.find("repetitions = 2"), 15, "repetitions = 3");
    const Plan p3 = plan_of(b, changed);
    EXPECT_NE(p3.shards[2].id, p1.shards[2].id);  // the absolute model b.gguf is the same; the settings are not
    EXPECT_EQ(text_of(p3.shards[2].points), text_of(p1.shards[2].points)) << "same points";
}

TEST(Plan, SplitPerPointGivesOneShardPerPoint) {
    TempDir dir;
    const Plan p = plan_of(dir, std::string(spec_text) + "[shards]\nsplit = \"point\"\n");
    EXPECT_EQ(p.shards.size(), 24u);
}

TEST(Plan, RoundTripsThroughPlanJson) {
    TempDir dir;
    Plan p = plan_of(dir, spec_text);
    const PlanFiles f = write_plan_outputs(p, dir / "out");
    const Plan back = read_plan(f.plan);
    ASSERT_EQ(back.shards.size(), p.shards.size());
    EXPECT_EQ(back.run.results_dir, (dir.path() / "out" / "results").string());
    for (size_t i = 0; i < p.shards.size(); ++i) {
        EXPECT_EQ(back.shards[i].id, p.shards[i].id);
        EXPECT_EQ(text_of(back.shards[i].points), text_of(p.shards[i].points));
        EXPECT_EQ(shard_id(back, back.shards[i]), p.shards[i].id);  // where results go is not part of the id
        EXPECT_EQ(back.shards[i].requirement.class_name(), p.shards[i].requirement.class_name());
    }
}

std::string error_of(const TempDir& dir, const std::string& text) {
    test::write_file(dir / "spec.toml", text);
    try {
        plan_from_spec(dir / "spec.toml");
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << text;
    return "";
}

// A spec or plan file that is not there is the user's input, not an I/O failure: exit 2, naming the file.
TEST(Plan, MissingSpecOrPlanFileIsInvalidInput) {
    TempDir dir;
    for (const auto& call : {std::function<void()>([&] { plan_from_spec(dir / "none.toml"); }),
                             std::function<void()>([&] { read_plan(dir / "none.json"); })}) {
        try {
            call();
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::invalid_input) << e.what();
            EXPECT_NE(std::string(e.what()).find((dir / "none.").string()), std::string::npos) << e.what();
        }
    }
}

TEST(Plan, BadSpecsNameTheFileAndTheKey) {
    TempDir dir;
    const std::string file = (dir / "spec.toml").string();
    std::string e = error_of(dir, "campaign = \"x\"\n[sweep]\nmodel = \"m.gguf\"\nthreds = 2\n");
    EXPECT_NE(e.find(file + ":4: sweep.threds: unknown key"), std::string::npos) << e;
    e = error_of(dir, "campaign = \"x\"\n[sweep]\nmodel = \"m.gguf\"\nn_prompt = \"16,abc\"\n");
    EXPECT_NE(e.find(file + ":4: sweep.n_prompt"), std::string::npos) << e;
    e = error_of(dir, "campaign = \"x\"\n[sweep]\ndevice = \"cpu\"\n");
    EXPECT_NE(e.find("sweep.model: required"), std::string::npos) << e;
    e = error_of(dir, "campaign = \"a b\"\n[sweep]\nmodel = \"m.gguf\"\n");
    EXPECT_NE(e.find(file + ":1: campaign"), std::string::npos) << e;
    e = error_of(dir, "campaign = \"x\"\n[sweep]\nmodel = \"m.gguf\"\n[run]\nrepetitions = 0\n");
    EXPECT_NE(e.find(file + ":5: run.repetitions"), std::string::npos) << e;
    e = error_of(dir, "campaign = \"x\"\n[sweep]\nmodel = \"m.gguf\"\nflash_attn = \"maybe\"\n");
    EXPECT_NE(e.find("sweep.flash_attn"), std::string::npos) << e;
    e = error_of(dir, "campaign = \"x\"\n[sweep\n");
    EXPECT_NE(e.find(file + ":2"), std::string::npos) << e;
    for (const std::string& msg : {e}) EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
}

TEST(SchedulerOutputs, SlurmArrayPerRequirementClass) {
    TempDir dir;
    Plan p = plan_of(dir, spec_text);
    const PlanFiles f = write_plan_outputs(p, dir / "out");
    ASSERT_EQ(f.slurm_scripts.size(), 2u);
    const std::string cpu = test::read_file(dir / "out" / "slurm" / "cpu.sbatch");
    const std::string gpu = test::read_file(dir / "out" / "slurm" / "cuda0-24g.sbatch");
    EXPECT_NE(cpu.find("#SBATCH --array=0-1\n"), std::string::npos) << cpu;  // shards 0 and 2
    EXPECT_NE(cpu.find("#SBATCH --requeue\n"), std::string::npos);
    EXPECT_NE(cpu.find("shards=(0 2)\n"), std::string::npos);
    EXPECT_NE(cpu.find("run-shard --plan '" + f.plan.string() + "' --index \"${shards[$SLURM_ARRAY_TASK_ID]}\""),
              std::string::npos)
        << cpu;
    EXPECT_EQ(cpu.find("--gres"), std::string::npos);
    EXPECT_NE(gpu.find("#SBATCH --gres=gpu:1\n"), std::string::npos);
    EXPECT_NE(gpu.find("#SBATCH --constraint=a100\n"), std::string::npos);
    EXPECT_NE(gpu.find("shards=(1 3)\n"), std::string::npos);
    // The time limit: 2 x the longest shard's estimate, plus 5 minutes, in whole minutes.
    const auto classes = requirement_classes(p);
    const double est = std::max(p.shards[0].estimate_s, p.shards[2].estimate_s);
    const int minutes = static_cast<int>(std::ceil(est * 2 / 60)) + 5;
    EXPECT_NE(cpu.find(fmt::format("#SBATCH --time=0-{:02}:{:02}:00\n", minutes / 60, minutes % 60)), std::string::npos)
        << cpu;
    const std::string submit = test::read_file(f.slurm_submit);
    EXPECT_NE(submit.find("submit 'cpu' slurm/cpu.sbatch " + p.shards[0].id + " " + p.shards[2].id + "\n"),
              std::string::npos)
        << submit;
    const auto lines = test::read_file(f.commands);
    EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 4);
    EXPECT_NE(lines.find("accel run-shard --plan '" + f.plan.string() + "' --index 3 --out '"), std::string::npos);
}

TEST(SchedulerOutputs, KubernetesIndexedJobPerClass) {
    TempDir dir;
    Plan p = plan_of(dir, spec_text);
    const std::string y = kubernetes_manifest(p, requirement_classes(p));
    const auto count = [&](const std::string& s) {
        size_t n = 0;
        for (size_t at = y.find(s); at != std::string::npos; at = y.find(s, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count("kind: Job\n"), 2u);
    EXPECT_EQ(count("  completionMode: Indexed\n"), 2u);
    EXPECT_EQ(count("  completions: 2\n"), 2u);
    EXPECT_EQ(count("${shards[$JOB_COMPLETION_INDEX]}"), 2u);
    EXPECT_EQ(count("\"nvidia.com/gpu\": 1\n"), 1u);  // only the GPU class asks for a GPU
    EXPECT_EQ(count("\"nvidia.com/gpu.present\": \"true\"\n"), 1u);
    EXPECT_NE(y.find("  name: accel-nightly-cuda0-24g\n"), std::string::npos) << y;
}

}  // namespace
}  // namespace accel::fleet
