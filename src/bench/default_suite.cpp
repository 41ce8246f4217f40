// accel bench's default suite: synthetic models made once into the cache, plus stories260K when it is there.
#include "accel/bench/default_suite.h"

#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "accel/core/paths.h"
#include "accel/engine/synthetic_model.h"
#include "accel/engine/synthetic_whisper.h"

namespace accel::bench {

std::vector<PointSpec> default_suite(int32_t n_threads, const std::filesystem::path& vocab_dir,
                                     CampaignObserver& observer, bool dry_run) {
    const auto dir = paths::cache_dir() / "models";
    if (!dry_run) paths::ensure_dir(dir);
    const auto make = [&](const std::string& arch, const std::string& size, engine::WeightType type) {
        const auto path = dir / fmt::format("{}-{}-{}-s1.gguf", arch, size, engine::to_string(type));
        if (dry_run) return path.string();  // --dry-run measures nothing and makes nothing: the path it would use
        if (!std::filesystem::exists(path)) {
            observer.note(fmt::format("making synthetic {} {} {} (random weights: for speed only) -> {}", arch, size,
                                      engine::to_string(type), path.string()));
            engine::make_synthetic_model({.arch = arch, .n_params_target = engine::parse_param_count(size),
                                          .type = type, .seed = 1, .out = path, .vocab_dir = vocab_dir});
        }
        return path.string();
    };
    const std::string llama = make("llama", "100M", engine::WeightType::q4_0);
    const std::string bert = make("bert", "25M", engine::WeightType::f16);
    std::vector<std::string> llms{llama};
    std::filesystem::path stories = "../shared/models/stories260K.gguf";
    if (const char* d = std::getenv("ACCEL_TEST_DATA"); d != nullptr && d[0] != '\0') {
        stories = std::filesystem::path(d) / "models" / "stories260K.gguf";
    }
    if (std::filesystem::exists(stories)) {
        llms.push_back(std::filesystem::absolute(stories).string());
    } else {
        observer.note(fmt::format("{} not found; the default suite runs without it", stories.string()));
    }
    std::vector<PointSpec> points;
    for (const auto& m : llms) {
        for (auto [p, n] : {std::pair{512, 0}, std::pair{0, 128}}) {
            points.push_back({.scenario = Scenario::llm, .model = m, .n_prompt = p, .n_gen = n,
                              .n_threads = n_threads});
        }
    }
    points.push_back({.scenario = Scenario::latency, .model = llama, .n_prompt = 64, .n_gen = 32,
                      .n_threads = n_threads});
    for (int32_t b : {1, 8}) {
        points.push_back({.scenario = Scenario::embed, .model = bert, .n_prompt = 64, .n_threads = n_threads,
                          .embed_batch = b});
    }
    // One Whisper point: a 5 s clip through make-model's tiny shape (whisper.cpp file, random weights).
    const auto whisper = dir / "whisper-tiny-f16-s1.bin";
    if (!dry_run && !std::filesystem::exists(whisper)) {
        observer.note(fmt::format("making synthetic whisper tiny f16 (random weights: for speed only) -> {}",
                                  whisper.string()));
        engine::make_synthetic_whisper({.size = "tiny", .type = engine::WeightType::f16, .seed = 1, .out = whisper});
    }
    points.push_back({.scenario = Scenario::audio, .model = whisper.string(), .n_prompt = 5, .n_gen = 0,
                      .n_threads = n_threads});
    // Image models (accel's own graphs; make-model's fixed realistic shapes): one ViT-B/16 and one CLIP ViT-B/32
    // image-tower point, batch 1 of a 640 px source image (preprocessing timed apart).
    for (const char* arch : {"vit", "clip"}) {
        const auto path = dir / fmt::format("{}-{}-f16-s1.gguf", arch, std::string(arch) == "vit" ? "B16" : "B32");
        if (!dry_run && !std::filesystem::exists(path)) {
            observer.note(fmt::format("making synthetic {} (random weights: for speed only) -> {}", arch, path.string()));
            engine::make_synthetic_model({.arch = arch, .type = engine::WeightType::f16, .seed = 1, .out = path});
        }
        points.push_back({.scenario = Scenario::vision, .model = path.string(), .n_prompt = 640,
                          .n_threads = n_threads, .embed_batch = 1});
    }
    return points;
}

}  // namespace accel::bench
