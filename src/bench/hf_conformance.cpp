#include "accel/bench/hf_conformance.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/core/units.h"
#include "accel/model/hf_convert.h"
#include "accel/model/hf_limits.h"
#include "conform_child.h"
#include "hf_cases.h"

namespace accel::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using model::ConvertType;


std::optional<ConvertType> convert_type(engine::WeightType w) {
    switch (w) {
        case engine::WeightType::f32: return ConvertType::f32;
        case engine::WeightType::f16: return ConvertType::f16;
        case engine::WeightType::q8_0: return ConvertType::q8_0;
        case engine::WeightType::q4_0: return std::nullopt;
    }
    return std::nullopt;
}

std::string output_kind(HfRun run) {
    switch (run) {
        case HfRun::none: return "";
        case HfRun::decoder_logits: return "logits";
        case HfRun::encoder_embeddings: return "embeddings";
        case HfRun::seq2seq_logits: return "logits";
        case HfRun::image_classes: return "image logits";
        case HfRun::image_text: return "image-text embeddings";
        case HfRun::speech_logits: return "logits";
        case HfRun::object_detection: return "logits and boxes";
        case HfRun::ctc_logits: return "CTC logits";
        case HfRun::vision_language: return "logits";
        case HfRun::audio_text: return "audio-text embeddings";
        case HfRun::video_text: return "video-text embeddings";
    }
    return "";
}

void run_class(const HfClass& c, const detail::HfCase& hc, const ConformOptions& opts, const fs::path& work,
               ConformResult& r) {
    switch (c.run) {
        case HfRun::none: return;
        case HfRun::decoder_logits: return detail::run_decoder(hc, r);
        case HfRun::seq2seq_logits: return detail::run_seq2seq(hc, r);
        case HfRun::image_classes: return detail::run_image_classes(hc, r);
        case HfRun::image_text: return detail::run_image_text(hc, r);
        case HfRun::speech_logits: return detail::run_speech(hc, r);
        case HfRun::object_detection: break;
        case HfRun::ctc_logits: return detail::run_ctc(hc, r);
        case HfRun::vision_language: return detail::run_vision_language(hc, r);
        case HfRun::audio_text: return detail::run_audio_text(hc, r);
        case HfRun::video_text: return detail::run_video_text(hc, r);
        case HfRun::encoder_embeddings: break;
    }
    const bool detection = c.run == HfRun::object_detection;
    if (detection) {
        detail::run_object_detection(hc, r);
    } else {
        detail::run_encoder(hc, r);
    }
    std::error_code ec;
    if (!c.head_fixture.empty() && fs::is_directory(opts.hf_fixtures / c.head_fixture, ec)) {
        detail::HfCase head = hc;
        head.dir = opts.hf_fixtures / c.head_fixture;
        head.model = work / fmt::format("model-head-{}.gguf", r.type);
        if (detection) {
            detail::run_object_detection_also(head, r);  // detr_timm
        } else {
            detail::run_classifier(head, r);
        }
    }
}

ConformResult base_result(const HfClass& c, const std::string& device, engine::WeightType type) {
    ConformResult r;
    r.arch = c.model_type;
    r.device = device;
    r.type = engine::to_string(type);
    r.output_kind = output_kind(c.run);
    r.status = ConformStatus::not_yet;
    r.stage = "start";
    r.reference = "none";  // until a fixture names its transformers version
    return r;
}

ConformResult run_hf_case(const HfClass& c, const std::string& device, engine::WeightType type,
                          const ConformOptions& opts, const fs::path& model_dir) {
    ConformResult r = base_result(c, device, type);
    const auto t0 = std::chrono::steady_clock::now();
    if (c.run == HfRun::none) {
        r.reason = c.not_yet;
        return r;
    }
    std::error_code ec;
    const fs::path dir = opts.hf_fixtures / c.fixture;
    if (opts.hf_fixtures.empty() || !fs::is_regular_file(dir / "reference.json", ec)) {
        r.reason = opts.hf_fixtures.empty()
                       ? "no Hugging Face fixtures: pass --hf-fixtures DIR (tests/fixtures/hf of accel's source tree)"
                       : fmt::format("no fixture {} (reference.json)", dir.string());
        return r;
    }
    r.reference = hf_fixture_reference(dir);
    const auto ct = convert_type(type);
    if (!ct) {
        r.reason = "against transformers q4_0 gets a divergence report (KL, top-1), not a pass/fail: not written yet";
        return r;
    }
    if (model::hf_limits_for(c.model_type, *ct).empty()) {
        r.reason = fmt::format("{} is not judged at {} (no row in the limits table, docs/conform.md)", c.model_type, r.type);
        return r;
    }
    const fs::path work = model_dir / ("hf-" + c.model_type);
    paths::ensure_dir(work);
    const std::string tag = fmt::format("{}-{}-{}", device, r.type, ::getpid());
    // whisper.cpp reads its own format, not GGUF
    const fs::path gguf = work / fmt::format("model-{}.{}", r.type, c.run == HfRun::speech_logits ? "bin" : "gguf");
    const detail::ChildFiles files{.result = work / ("result-" + tag + ".json"), .stage = work / ("stage-" + tag),
                                   .log = work / ("stderr-" + tag + ".log")};
    r.status = ConformStatus::fail;
    auto outcome = detail::run_in_child(r, files, opts.timeout_s, [&] {
        ConformResult cr = r;
        try {
            detail::write_stage(files, "convert");
            cr.stage = "convert";
            const auto conv = model::convert_hf(dir, gguf, {.type = *ct});
            cr.llama_arch = conv.arch;
            detail::write_stage(files, "run");
            cr.stage = "run";
            if (const char* crash = std::getenv("ACCEL_CONFORM_CRASH"); crash != nullptr && "hf:" + c.model_type == crash) {
                std::abort();
            }
            run_class(c, {c, dir, gguf, device, *ct, opts.n_threads}, opts, work, cr);
            cr.stage = "done";
            std::vector<std::string> why;
            if (!cr.reason.empty()) why.push_back(cr.reason);
            for (const auto& m : cr.metrics) {
                const bool ok = m.higher_is_better ? m.value >= m.limit : m.value <= m.limit;
                if (!ok) why.push_back(fmt::format("{} {:.3g} {} {:.3g}", m.name, m.value, m.higher_is_better ? "<" : ">", m.limit));
            }
            cr.reason.clear();
            for (const auto& w : why) cr.reason += (cr.reason.empty() ? "" : "; ") + w;
            cr.status = why.empty() ? ConformStatus::pass : ConformStatus::fail;
        } catch (const Error& e) {
            cr.status = ConformStatus::fail;
            cr.reason = e.what();
        }
        return cr;
    });
    r = std::move(outcome.result);
    if (fs::exists(gguf, ec)) {
        r.model_path = gguf;
        r.model_bytes = static_cast<int64_t>(fs::file_size(gguf, ec));
    }
    r.wall_ms = ms_since(t0);
    return r;
}

}  // namespace

const std::vector<HfClass>& hf_classes() {
    static const std::vector<HfClass> classes = {
        {"bert", "bert", HfRun::encoder_embeddings, "", "bert_cls"},
        {"clap", "clap", HfRun::audio_text, ""},
        {"clip", "clip", HfRun::image_text, ""},
        {"detr", "detr", HfRun::object_detection, "", "detr_timm"},
        {"llama", "llama", HfRun::decoder_logits, ""},
        {"llava", "llava", HfRun::vision_language, ""},
        {"llava_next", "llava_next", HfRun::vision_language, ""},
        {"qwen2", "qwen2", HfRun::decoder_logits, ""},
        {"t5", "t5", HfRun::seq2seq_logits, ""},
        {"vit", "vit", HfRun::image_classes, ""},
        {"wav2vec2", "wav2vec2", HfRun::ctc_logits, ""},
        {"whisper", "whisper", HfRun::speech_logits, ""},
        {"xclip", "xclip", HfRun::video_text, ""},
    };
    return classes;
}

const HfClass* find_hf_class(std::string_view model_type) {
    for (const auto& c : hf_classes()) {
        if (c.model_type == model_type) return &c;
    }
    return nullptr;
}

std::string hf_fixture_reference(const fs::path& fixture_dir) {
    std::error_code ec;
    if (fs::is_regular_file(fixture_dir / "reference.json", ec)) {
        const auto j = json::parse(detail::read_text(fixture_dir / "reference.json"), nullptr, false);
        if (j.is_object() && j.contains("reference") && j["reference"].is_string()) return j["reference"];
    }
    const fs::path versions = fixture_dir.parent_path() / "VERSIONS";
    if (fs::is_regular_file(versions, ec)) {
        std::istringstream in(detail::read_text(versions));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("transformers ", 0) == 0) return line;
        }
    }
    throw Error(ErrorKind::invalid_input, fmt::format("{}: neither reference.json nor ../VERSIONS names the transformers "
                                                      "version of the reference", fixture_dir.string()));
}

namespace detail {

std::vector<ConformResult> run_hf_cases(const std::vector<std::string>& names, const std::vector<std::string>& devices,
                                        const ConformOptions& opts, const fs::path& model_dir) {
    const bool all = names.empty() || (names.size() == 1 && names[0] == "all");
    std::vector<ConformResult> out;
    for (const auto& c : hf_classes()) {
        if (!all && std::find(names.begin(), names.end(), c.model_type) == names.end()) continue;
        if (c.run == HfRun::none) {  // one row says why, whatever the devices and types
            out.push_back(base_result(c, "-", engine::WeightType::f32));
            out.back().type = "-";
            out.back().reason = c.not_yet;
            if (opts.on_result) opts.on_result(out.back());
            continue;
        }
        for (const auto& dev : devices) {
            for (const auto type : opts.types) {
                out.push_back(run_hf_case(c, dev, type, opts, model_dir));
                if (opts.on_result) opts.on_result(out.back());
            }
        }
    }
    return out;
}

}  // namespace detail
}  // namespace accel::bench
