#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "accel/bench/campaign.h"
#include "accel/bench/sweep.h"

namespace accel::bench {

// The default run of `accel bench` without --model: a synthetic ~100M llama in q4_0 (made once into
// cache_dir()/models and reused), plus stories260K when $ACCEL_TEST_DATA (else ../shared) has it, through pp512,
// tg128, a latency scenario, and embeddings on a synthetic 25M BERT. vocab_dir holds llama.cpp's tokenizers for
// the synthetic models; n_threads is the threads of every point (0: one per logical core). With dry_run it makes
// nothing and returns the paths it would use. What it makes or leaves out goes to observer.note. Throws what
// make_synthetic_model throws.
std::vector<PointSpec> default_suite(int32_t n_threads, const std::filesystem::path& vocab_dir,
                                     CampaignObserver& observer, bool dry_run = false);

}  // namespace accel::bench
