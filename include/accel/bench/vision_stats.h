#pragma once
// The vision scenario's own figures (vision_scenario.h), a PointResult extension stored under "vision".
#include <cstdint>
#include <string>

namespace accel::bench {

// What the vision scenario adds to a point, stored under "vision".
struct VisionStats {
    std::string arch;              // "vit", "clip_model" (its image tower) or "detr"
    int32_t batch = 1;             // images per forward pass
    int32_t source_width = 0, source_height = 0;  // the synthetic source image before preprocessing
    int32_t image_size = 0;  // the model's square input side after preprocessing; 0 for detr (follows the image)
    int32_t input_width = 0, input_height = 0;  // the model's input as the pass saw it (detr: the padded batch)
    double images_per_s = 0;       // mean over repetitions (the forward pass alone)
    double latency_p50_ms = 0, latency_p90_ms = 0, latency_p99_ms = 0;        // per pass
    double preprocess_p50_ms = 0, preprocess_p90_ms = 0, preprocess_p99_ms = 0;  // per batch, timed apart
    double flops_per_image = 0;    // model::vision_flops_per_image, from the graph's shape; 0 for detr (not counted)
    double gflops_per_s = 0;       // flops_per_image x images_per_s
    uint64_t compute_bytes_estimate = 0;  // model::estimate_vision_memory before load
    uint64_t compute_bytes_measured = 0;  // ggml's graph buffers after the passes; 0 for detr (not reported)
};

}  // namespace accel::bench
