// model: the memory estimator against measured memory. Loads one GGUF model through the engine, opens a session,
// fills the whole context in ubatch-sized decodes that return every token's logits (so that every buffer llama.cpp
// reserved is touched), and compares the peak RSS increase over the process's own baseline with the estimate.
// One model per process, so that nothing from an earlier model is counted. Run it through estimator_table.sh.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <llama.h>

#include "accel/core/error.h"
#include "accel/engine/loaded_model.h"
#include "accel/engine/session.h"
#include "accel/model/gguf_file.h"
#include "accel/model/memory_estimate.h"

namespace {

// VmRSS or VmHWM from /proc/self/status, in bytes.
uint64_t status_bytes(const std::string& key) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1)) * 1024;
    return 0;
}

// Resets VmHWM to the current RSS, so that the peak measured afterwards belongs to the model.
void reset_peak() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: estimator_bench MODEL.gguf [n_ctx] [n_ubatch]\n");
        return 2;
    }
    const std::string path = argv[1];
    const uint32_t n_ctx = argc > 2 ? static_cast<uint32_t>(std::stoul(argv[2])) : 2048;
    const uint32_t n_ubatch = argc > 3 ? static_cast<uint32_t>(std::stoul(argv[3])) : 512;
    try {
        const auto file = accel::model::read_gguf(path);
        const auto shape = accel::model::memory_shape_from_gguf(file);
        const auto est = accel::model::estimate_memory(shape, {.n_ctx = n_ctx,
                                                               .n_parallel = 1,
                                                               .n_batch = n_ubatch,
                                                               .n_ubatch = n_ubatch,
                                                               .n_outputs = n_ubatch,
                                                               .kv_type = accel::model::KvType::f16,
                                                               .flash_attn = accel::model::FlashAttn::off,
                                                               .device = "cpu"});
        llama_backend_init();  // before the baseline: the backend registry is process overhead, not the model's
        reset_peak();
        const uint64_t baseline = status_bytes("VmRSS");
        const auto model = accel::engine::LoadedModel::load(path);
        auto session = accel::engine::Session::open(model, {.n_ctx = n_ctx,
                                                            .n_batch = n_ubatch,
                                                            .n_ubatch = n_ubatch,
                                                            .n_threads = 2,
                                                            .flash_attn = accel::engine::FlashAttn::off});
        llama_batch batch = llama_batch_init(static_cast<int32_t>(n_ubatch), 0, 1);
        for (uint32_t pos = 0; pos + n_ubatch <= n_ctx; pos += n_ubatch) {
            batch.n_tokens = static_cast<int32_t>(n_ubatch);
            for (uint32_t i = 0; i < n_ubatch; ++i) {
                batch.token[i] = static_cast<llama_token>(1 + (pos + i) % 100);
                batch.pos[i] = static_cast<llama_pos>(pos + i);
                batch.n_seq_id[i] = 1;
                batch.seq_id[i][0] = 0;
                batch.logits[i] = 1;
            }
            if (llama_decode(session.get(), batch) != 0) {
                llama_batch_free(batch);
                throw accel::Error(accel::ErrorKind::backend, path + ": llama_decode failed");
            }
        }
        llama_batch_free(batch);
        const uint64_t peak = status_bytes("VmHWM");
        const uint64_t measured = peak > baseline ? peak - baseline : 0;
        const double err = measured ? 100.0 * (static_cast<double>(est.total_bytes) - static_cast<double>(measured)) /
                                          static_cast<double>(measured)
                                    : 0.0;
        fmt::print("| {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:+.1f}% |\n",
                   path.substr(path.find_last_of('/') + 1), file.n_params(), est.weights_bytes / 1048576.0,
                   est.kv_cache_bytes / 1048576.0, est.compute_buffer_bytes / 1048576.0, est.total_bytes / 1048576.0,
                   measured / 1048576.0, err);
    } catch (const accel::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
