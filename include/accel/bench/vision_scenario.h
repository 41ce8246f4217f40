#pragma once
// The vision scenario: accel's own image and video models (vit, clip_model's image tower, detr, xclip's video tower)
// measured through the one point pipeline (run_point: statistics, validity rules, provenance, storage and report as
// every scenario). Each timed repetition is one forward pass over `embed_batch` images; preprocessing (resize, crop,
// rescale, normalize of a synthetic source image `n_prompt` pixels on its long side, 4:3) is timed apart, before each
// pass, and never in the samples. samples_ns: the pass; samples_ts: images/s; samples_tokens: the batch.
// X-CLIP: `embed_batch` clips per pass, each the model's num_frames frames sampled (media::sample_frame_indices) from
// a synthetic source clip of twice as many; the sampling is timed with the preprocessing; samples_ts: clips/s. The
// engine embeds one clip per graph, so a pass over B clips is B graphs back to back. Docs: docs/bench.md ("vision").
#include <cstdint>
#include <optional>
#include <string>

#include "accel/bench/point_runner.h"
#include "accel/bench/vision_stats.h"

namespace accel::hw {
struct Roofline;
}

namespace accel::bench {

// Loads the model straight through the engine (the pool does not place image models yet), then measures. Fills r
// as run_point does (facts, device, threads, load_ns, measurement, roofline against the machine's matmul peak for
// the weight type: FLOPs counted from the shape); throws for a failure of the point (run_point records it).
void measure_vision_point(PointResult& r, const PointSpec& spec, const PointOptions& options,
                          const hw::Roofline* roofline);

}  // namespace accel::bench
