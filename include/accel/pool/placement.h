#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "accel/hw/device.h"
#include "accel/model/memory_estimate.h"

namespace accel::model {
struct GgufFile;
}

namespace accel::pool {

// Bytes the model needs, split the way llama.cpp splits it over devices: the repeating layers can be offloaded
// one by one; the input embeddings stay on the CPU; the output layer goes with the last offloaded layer.
struct ModelFootprint {
    uint32_t n_layer = 0;
    std::vector<uint64_t> layer_bytes;  // weights of blk.<i>.*, per layer
    uint64_t output_bytes = 0;          // output.weight and the final norm
    uint64_t input_bytes = 0;           // token embeddings and anything else not in a block
    uint64_t kv_bytes_per_layer = 0;    // from the memory estimate
    uint64_t compute_bytes = 0;         // from the memory estimate (an estimate)
};

ModelFootprint footprint(const model::GgufFile& file, const model::MemoryEstimate& estimate);

struct PlacementRequest {
    std::string forced_device;     // --device; "" lets placement choose
    uint64_t margin_bytes = 512ull << 20;  // kept free on a GPU
    double margin_fraction = 0.05;
};

struct Placement {
    std::string device;            // "cpu", or the GPU holding the offloaded layers ("cuda0")
    std::vector<std::string> split_devices;  // several GPUs: layers split over these, in this proportion
    std::vector<float> split_fractions;
    int32_t n_gpu_layers = 0;      // llama.cpp's n_gpu_layers: n_layer + 1 offloads the output layer too
    std::map<std::string, uint64_t> bytes;  // predicted bytes per device
    std::vector<std::string> reasons;       // one line per decision
    bool fits = true;              // false only when a forced device cannot hold the model
};

// Chooses where a model runs: the usable GPU with the most free memory that holds every layer; else several
// GPUs together (layer split in proportion to free memory); else a partial offload of as many layers as fit
// with the margin, the rest on the CPU; else the CPU. A forced device is honoured or reported as not fitting.
Placement place(const ModelFootprint& fp, const std::vector<hw::Device>& devices, const PlacementRequest& req);

}  // namespace accel::pool
