#include "accel/bench/vision_scenario.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "accel/bench/roofline_efficiency.h"
#include "accel/bench/statistics.h"
#include "accel/core/error.h"
#include "accel/core/sha256_cache.h"
#include "accel/engine/clip_model.h"
#include "accel/engine/image_classifier.h"
#include "accel/engine/object_detector.h"
#include "accel/engine/xclip_model.h"
#include "accel/media/video.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"

namespace accel::bench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t ns_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
}

// A deterministic source image: smooth gradients with a seeded ripple, so the resampler sees ordinary content.
media::Image source_image(int32_t w, int32_t h, uint64_t seed) {
    media::Image im{static_cast<uint32_t>(w), static_cast<uint32_t>(h), {}};
    im.rgb.resize(size_t{3} * static_cast<size_t>(w) * static_cast<size_t>(h));
    const double phase = static_cast<double>(seed % 1000) / 100.0;
    for (int32_t y = 0; y < h; ++y)
        for (int32_t x = 0; x < w; ++x) {
            const size_t at = 3 * (static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x));
            const double r = std::sin(x * 0.05 + phase) * std::cos(y * 0.03);
            im.rgb[at] = static_cast<uint8_t>(255.0 * x / std::max(1, w - 1));
            im.rgb[at + 1] = static_cast<uint8_t>(255.0 * y / std::max(1, h - 1));
            im.rgb[at + 2] = static_cast<uint8_t>(127.5 + 127.0 * r);
        }
    return im;
}

std::string weight_type(const model::GgufFile& f) {
    switch (f.get_uint("general.file_type").value_or(0)) {
        case 0: return "F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 7: return "Q8_0";
        default: return "";
    }
}

// One loaded image model: ViT, CLIP's image tower, DETR, or X-CLIP's video tower. preprocess() turns the source
// images into the model's input (timed apart from the pass), run() is one forward pass over it.
class VisionModel {
public:
    VisionModel(const std::string& arch, const std::string& path, const engine::VisionParams& p) {
        if (arch == "vit") {
            vit_.emplace(engine::ImageClassifier::load(path, p));
        } else if (arch == "detr") {
            detr_.emplace(engine::ObjectDetector::load(path, p));
        } else if (arch == "xclip") {
            xclip_.emplace(engine::XclipModel::load(path, p));
        } else {
            clip_.emplace(engine::ClipModel::load(path, p));
        }
    }
    // X-CLIP: `sources` holds the batch's clips one after the other, n_source frames each.
    void preprocess(const std::vector<media::Image>& sources, uint32_t n_source) {
        if (xclip_) return preprocess_clips(sources, n_source);
        if (detr_) {  // DetrImageProcessor: resized keeping the aspect ratio, the batch padded to its largest image
            detr_batch_ = media::preprocess_detr(sources, detr_->processor());
            return;
        }
        const media::ImageProcessorConfig& proc = vit_ ? vit_->processor() : clip_->processor();
        pixels_.resize(sources.size());
        for (size_t i = 0; i < sources.size(); ++i) pixels_[i] = media::preprocess(sources[i], proc);
    }
    void run() {
        if (vit_) {
            (void)vit_->run(pixels_);
        } else if (xclip_) {  // the engine embeds one clip per graph: a batch of clips is that many graphs
            const size_t n = xclip_->n_frames();
            for (size_t c = 0; c + n <= pixels_.size(); c += n)
                (void)xclip_->embed_video(std::span<const media::PixelValues>(pixels_).subspan(c, n));
        } else if (detr_) {
            (void)detr_->run(detr_batch_);
        } else {
            (void)clip_->embed_images(pixels_);
        }
    }
    // The model's input after preprocess(): width and height.
    std::pair<int32_t, int32_t> input_size() const {
        if (detr_) return {static_cast<int32_t>(detr_batch_.width), static_cast<int32_t>(detr_batch_.height)};
        return pixels_.empty()
                   ? std::pair{0, 0}
                   : std::pair{static_cast<int32_t>(pixels_[0].width), static_cast<int32_t>(pixels_[0].height)};
    }
    // ggml's graph buffers after the passes; none for DETR (ObjectDetector does not report them).
    std::optional<uint64_t> compute_bytes() const {
        if (detr_) return std::nullopt;
        if (xclip_) return xclip_->memory().compute_bytes;
        return vit_ ? vit_->memory().compute_bytes : clip_->memory().compute_bytes;
    }

private:
    // X-CLIP's frame sampling (media::sample_frame_indices, as accel infer's) and the processor on each kept frame.
    void preprocess_clips(const std::vector<media::Image>& sources, uint32_t n_source) {
        pixels_.clear();
        for (size_t c = 0; c + n_source <= sources.size(); c += n_source)
            for (const uint32_t i : media::sample_frame_indices(n_source, xclip_->n_frames()))
                pixels_.push_back(media::preprocess(sources[c + i], xclip_->processor()));
    }

    std::optional<engine::ImageClassifier> vit_;
    std::optional<engine::ClipModel> clip_;
    std::optional<engine::ObjectDetector> detr_;
    std::optional<engine::XclipModel> xclip_;
    std::vector<media::PixelValues> pixels_;
    media::DetrBatch detr_batch_;
};

// What the point needs to know of the model before loading it. What is not counted or estimated is nullopt, with
// the reason.
struct VisionFacts {
    std::string arch, desc;
    uint64_t weights_bytes = 0;
    int32_t image_size = 0;  // the model's square input; 0 for DETR (its input follows the image)
    int32_t n_frames = 0;    // X-CLIP: frames per clip (num_frames); 0 for the image models
    std::optional<double> flops_per_image;
    std::string flops_unavailable;
    std::optional<uint64_t> compute_estimate;
    std::string compute_unavailable;
};

VisionFacts detr_facts(const model::GgufFile& file) {
    return {
        .arch = "detr",
        .desc = fmt::format("detr {}d {}+{} layers {}", file.get_uint("detr.embedding_length").value_or(0),
                            file.get_uint("detr.encoder.block_count").value_or(0),
                            file.get_uint("detr.decoder.block_count").value_or(0), weight_type(file)),
        .weights_bytes = file.weights_bytes(),
        .flops_unavailable = "not counted for detr: no FLOP formula for its ResNet backbone and encoder-decoder yet",
        .compute_unavailable = "no graph-buffer estimate for detr, and ObjectDetector does not report its buffers"};
}

VisionFacts xclip_facts(const model::GgufFile& file) {
    const auto key = [&](const char* k) { return static_cast<int32_t>(file.get_uint(k).value_or(0)); };
    const int32_t n_frames = key("xclip.vision.num_frames");
    if (n_frames < 1)
        throw Error(ErrorKind::invalid_input, fmt::format("vision: {} has no xclip.vision.num_frames", file.source));
    return {.arch = "xclip",
            .desc = fmt::format("xclip {}px/{} {} frames {}", key("xclip.vision.image_size"),
                                key("xclip.vision.patch_size"), n_frames, weight_type(file)),
            .weights_bytes = file.weights_bytes(),
            .image_size = key("xclip.vision.image_size"),
            .n_frames = n_frames,
            .flops_unavailable =
                "not counted for xclip: no FLOP formula for its cross-frame message tokens and "
                "integration transformer yet",
            .compute_unavailable = "no graph-buffer estimate for xclip before load (measured after the passes)"};
}

VisionFacts vision_facts(const model::GgufFile& file, uint32_t batch) {
    const std::string arch = file.get_string("general.architecture").value_or("");
    if (arch == "detr") return detr_facts(file);
    if (arch == "xclip") return xclip_facts(file);
    if (!model::is_vision_architecture(arch))
        throw Error(ErrorKind::invalid_input,
                    fmt::format("vision: {} is a '{}' model, not vit, clip_model, detr or xclip", file.source, arch));
    const model::VisionModelShape shape = model::vision_shape_from_gguf(file);
    return {.arch = arch,
            .desc = fmt::format("{} {}px/{} {}", shape.arch, shape.image_size, shape.patch_size, weight_type(file)),
            .weights_bytes = shape.weights_bytes,
            .image_size = static_cast<int32_t>(shape.image_size),
            .flops_per_image = model::vision_flops_per_image(shape),
            .compute_estimate = model::estimate_vision_memory(shape, batch).compute_buffer_bytes};
}

// X-CLIP's synthetic source clip: twice the model's frames, so that the sampling keeps every other one.
int32_t source_frames(const VisionFacts& f) {
    return f.n_frames > 0 ? 2 * f.n_frames : 0;
}

// The figures of the point from its facts, its measurement and its preprocessing times.
VisionStats vision_stats(const VisionFacts& facts, const Measurement& meas, const Summary& pre, int32_t batch,
                         std::pair<int32_t, int32_t> source, std::pair<int32_t, int32_t> input,
                         std::optional<uint64_t> compute_measured);

double p(const Summary& s, double q) { return (q == 50 ? s.p50 : q == 90 ? s.p90 : s.p99) / 1e6; }

VisionStats vision_stats(const VisionFacts& facts, const Measurement& meas, const Summary& pre, int32_t batch,
                         std::pair<int32_t, int32_t> source, std::pair<int32_t, int32_t> input,
                         std::optional<uint64_t> compute_measured) {
    // samples_ts counts what a pass takes in: images, or X-CLIP's clips of n_frames images each.
    const int32_t per_item = std::max(facts.n_frames, 1);
    VisionStats v{.arch = facts.arch,
                  .batch = batch,
                  .n_frames = facts.n_frames,
                  .n_source_frames = source_frames(facts),
                  .source_width = source.first,
                  .source_height = source.second,
                  .image_size = facts.image_size,
                  .input_width = input.first,
                  .input_height = input.second,
                  .images_per_s = meas.ts.mean * per_item,
                  .latency_p50_ms = p(meas.ns, 50),
                  .latency_p90_ms = p(meas.ns, 90),
                  .latency_p99_ms = p(meas.ns, 99),
                  .preprocess_p50_ms = p(pre, 50),
                  .preprocess_p90_ms = p(pre, 90),
                  .preprocess_p99_ms = p(pre, 99),
                  .flops_per_image = facts.flops_per_image,
                  .flops_unavailable = facts.flops_unavailable,
                  .compute_bytes_estimate = facts.compute_estimate,
                  .compute_bytes_measured = compute_measured,
                  .compute_bytes_unavailable = facts.compute_unavailable};
    if (facts.n_frames > 0) {
        v.clips_per_s = meas.ts.mean;
        v.frame_ms = meas.ns.mean / 1e6 / (static_cast<double>(facts.n_frames) * batch);
    }
    if (v.flops_per_image) v.gflops_per_s = *v.flops_per_image * v.images_per_s / 1e9;
    return v;
}

}  // namespace

void measure_vision_point(PointResult& r, const PointSpec& spec, const PointOptions& options,
                          const hw::Roofline* roofline) {
    const model::GgufFile file = model::read_gguf(spec.model);
    if (spec.embed_batch < 1 || spec.n_prompt < 16 || spec.n_prompt > 8192)
        throw Error(ErrorKind::invalid_input, fmt::format("vision: a batch of at least 1 image (got {}) of 16 to 8192 "
                                                          "pixels (-p, got {})", spec.embed_batch, spec.n_prompt));
    const auto batch = static_cast<uint32_t>(spec.embed_batch);
    const VisionFacts facts = vision_facts(file, batch);  // refuses other architectures
    if (spec.device != "cpu" && !spec.device.empty() && spec.n_gpu_layers == 0)
        throw Error(ErrorKind::invalid_input, "vision: -ngl 0 on a GPU device is not a placement accel's image models have");
    r.model_sha256 = sha256_file_cached(spec.model);
    r.model_name = file.get_string("general.name").value_or("");
    r.model_arch = facts.arch;
    r.model_size = facts.weights_bytes;
    r.model_desc = facts.desc;
    for (const auto& t : file.tensors) {
        uint64_t n = 1;
        for (const auto d : t.shape) n *= d;
        r.model_n_params += n;
    }
    r.model_n_params_blocks = static_cast<uint64_t>(facts.flops_per_image.value_or(0) / 2);  // multiply-adds/image

    const auto t_load = Clock::now();
    VisionModel m(facts.arch, spec.model, {.device = spec.device, .n_threads = spec.n_threads});
    r.load_ns = ns_since(t_load);
    r.device = spec.device.empty() ? "cpu" : spec.device;
    r.n_threads = spec.n_threads;
    r.n_gpu_layers = r.device == "cpu" ? 0 : -1;
    r.placement = {
        fmt::format("{}: loaded straight through the engine (the pool does not place image models yet); "
                    "weights {} bytes, graph buffers {} for a batch of {}",
                    r.device, facts.weights_bytes,
                    facts.compute_estimate ? fmt::format("estimated {} bytes", *facts.compute_estimate)
                                           : "not estimated (" + facts.compute_unavailable + ")",
                    batch)};

    const int32_t w = spec.n_prompt, h = std::max(16, spec.n_prompt * 3 / 4);
    // X-CLIP: each clip of the batch is its own n_source frames, one after the other; an image model: one image each.
    const auto n_source = static_cast<uint32_t>(source_frames(facts));
    std::vector<media::Image> sources;
    for (uint32_t i = 0; i < batch * std::max(n_source, 1u); ++i)
        sources.push_back(source_image(w, h, options.seed + i));
    Measurement& meas = r.measurement;
    std::vector<double> pre_ns;
    auto rep = [&](bool timed) {
        const auto t0 = Clock::now();
        m.preprocess(sources, n_source);
        const int64_t pre = ns_since(t0);
        const auto t1 = Clock::now();
        m.run();
        const int64_t pass = ns_since(t1);
        if (!timed) return;
        pre_ns.push_back(static_cast<double>(pre));
        meas.samples_ns.push_back(pass);
        meas.samples_ts.push_back(batch * 1e9 / static_cast<double>(std::max<int64_t>(pass, 1)));
        meas.samples_tokens.push_back(static_cast<int32_t>(batch));
        meas.wall += std::chrono::nanoseconds(pass);
    };
    const RunRules& rules = options.rules;
    for (int32_t i = 0; i < rules.n_warmup; ++i) rep(false);
    while (static_cast<int32_t>(meas.samples_ns.size()) < rules.n_max_reps &&
           (static_cast<int32_t>(meas.samples_ns.size()) < rules.n_min_reps || meas.wall < rules.min_duration))
        rep(true);
    finish_measurement(meas, rules);

    r.vision =
        vision_stats(facts, meas, summarize(pre_ns), spec.embed_batch, {w, h}, m.input_size(), m.compute_bytes());
    if (!facts.flops_per_image) {
        r.roofline = RooflineEfficiency{.basis = fmt::format("no FLOP count for {} yet", facts.arch)};
        return;
    }
    // The roofline's prefill formula with an image as the "token": 2 x multiply-adds per image x images/s against
    // the matmul peak of the device and weight type.
    r.roofline = roofline_efficiency(roofline, {.device = r.device, .model_description = r.model_desc, .n_prompt = 1,
                                                .n_gen = 0, .tokens_per_s = meas.ts.mean,
                                                .weight_bytes = r.model_size,
                                                .n_params_blocks = r.model_n_params_blocks});
}

}  // namespace accel::bench
