#pragma once
// The vision scenario's own figures (vision_scenario.h), a PointResult extension stored under "vision".
// What accel cannot count or measure for an architecture is nullopt (null in the JSON) with the reason beside it,
// never 0: a reader must not take "not counted" for "free".
#include <cstdint>
#include <optional>
#include <string>

namespace accel::bench {

// What the vision scenario adds to a point, stored under "vision".
struct VisionStats {
    std::string arch;             // "vit", "clip_model" (its image tower), "detr" or "xclip" (its video tower)
    int32_t batch = 1;            // images per forward pass; xclip: clips per pass (each clip is n_frames images)
    int32_t n_frames = 0;         // xclip: frames per clip, the model's num_frames; 0 for the image models
    int32_t n_source_frames = 0;  // xclip: frames of each synthetic source clip, sampled down to n_frames; 0 else
    int32_t source_width = 0, source_height = 0;  // the synthetic source image (xclip: frame) before preprocessing
    int32_t image_size = 0;  // the model's square input side after preprocessing; 0 for detr (follows the image)
    int32_t input_width = 0, input_height = 0;  // the model's input as the pass saw it (detr: the padded batch)
    double images_per_s = 0;            // images (xclip: frames) per second through the pass, mean over repetitions
    std::optional<double> clips_per_s;  // xclip: clips per second through the pass (samples_ts), mean; null for images
    std::optional<double> frame_ms;     // xclip: the pass's mean time / (n_frames x batch); null for images
    double latency_p50_ms = 0, latency_p90_ms = 0, latency_p99_ms = 0;        // per pass
    // Per batch, timed apart: resize and normalize (xclip: the frame sampling as well, of batch x n_frames frames).
    double preprocess_p50_ms = 0, preprocess_p90_ms = 0, preprocess_p99_ms = 0;
    std::optional<double> flops_per_image;           // model::vision_flops_per_image, from the graph's shape
    std::optional<double> gflops_per_s;              // flops_per_image x images_per_s
    std::string flops_unavailable;                   // why flops_per_image is null; "" when counted
    std::optional<uint64_t> compute_bytes_estimate;  // model::estimate_vision_memory before load
    std::optional<uint64_t> compute_bytes_measured;  // ggml's graph buffers after the passes
    std::string compute_bytes_unavailable;           // why either of the two is null; "" when both are there
};

}  // namespace accel::bench
