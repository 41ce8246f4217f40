#pragma once

// Importance matrix: per input column of each matmul weight, the sum of squared activations that reached it over a
// text. llama_model_quantize uses it to weight the rounding error of low-bit types (iq2_xxs, iq2_xs, iq1_s, ...),
// which it refuses to produce without one.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "accel/engine/loaded_model.h"

namespace accel::engine {

struct ImatrixParams {
    uint32_t n_ctx = 512;    // tokens per chunk, as llama-imatrix's -c
    int32_t n_threads = 0;   // 0: one per logical core
    int32_t max_chunks = 0;  // 0: every full chunk of the text
    std::string dataset;     // name of the text, stored in the file (imatrix.datasets)
    // Called after each chunk with (chunks done, chunks in all), from the calling thread. Optional.
    std::function<void(int32_t, int32_t)> on_chunk;
};

struct ImatrixEntry {
    std::vector<float> sums;      // n_mat blocks of n_cols sums of squares
    std::vector<int64_t> counts;  // per matrix: how many activation rows were summed
};

struct Imatrix {
    std::map<std::string, ImatrixEntry> entries;  // by weight name, e.g. "blk.0.attn_q.weight"
    std::vector<std::string> datasets;
    int32_t chunk_count = 0;
    int32_t chunk_size = 0;
};

// Runs the model over the text in chunks of n_ctx tokens (BOS first when the vocabulary adds one) and collects,
// through llama.cpp's eval callback, the squared inputs of every dense matrix multiplication whose weight is a
// repeating-layer tensor ("blk.*"), as llama.cpp's imatrix tool does. Batches under 16 rows are skipped, as there.
// Expert (MUL_MAT_ID) multiplications are not collected.
// Throws Error{invalid_input} when the text is shorter than one chunk, Error{out_of_memory} when the context does
// not fit, Error{backend} when a decode fails or activations are not finite.
Imatrix compute_imatrix(const LoadedModel& model, std::string_view text, const ImatrixParams& params);

// Writes the GGUF imatrix format of the pinned llama.cpp ("<name>.in_sum2" and "<name>.counts" F32 tensors,
// general.type = imatrix, imatrix.datasets/chunk_count/chunk_size). The file appears atomically.
// Throws Error{io} naming the path when it cannot be written.
void save_imatrix(const Imatrix& imatrix, const std::filesystem::path& path);

// Reads an imatrix in the GGUF format or llama.cpp's legacy .dat format.
// Throws Error{invalid_input} naming the path when the file is missing or in neither format.
Imatrix load_imatrix(const std::filesystem::path& path);

// The per-column mean squares llama_model_quantize takes: sums divided by the count of their matrix (1 where a
// matrix saw no rows), by weight name.
std::map<std::string, std::vector<float>> imatrix_weights(const Imatrix& imatrix);

}  // namespace accel::engine
