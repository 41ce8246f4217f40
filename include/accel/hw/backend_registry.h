#pragma once

#include <string>
#include <vector>

namespace accel::hw {

// Names of the ggml backends compiled into (or loaded by) this build, e.g. {"CPU"} or {"CUDA", "CPU"}.
// Thread-safe after the first call; the first call registers the backends.
std::vector<std::string> compiled_backends();

// One ggml backend as the loaded library reports it.
struct RuntimeBackend {
    std::string name;                   // "CUDA", "CPU"
    std::string library;                // the file it was loaded from ("libggml-cuda.so"), "" when unknown
    std::vector<std::string> features;  // "ARCHS=900", "USE_GRAPHS=1", "AVX2=1", … (ggml_backend_get_features)
};

// One device: whether the loaded backend runs ggml's fused flash attention (GGML_OP_FLASH_ATTN_EXT, f16 K/V,
// head size 128). A CUDA build with GGML_CUDA_FA=OFF says no here, which no feature string reports.
struct RuntimeFlashAttn {
    std::string device;  // ggml's device name, lower case
    bool supported = false;
};

// What the ggml library that actually runs says about itself, not what accel was compiled against: a GPU run
// can load a separately built libggml.
struct GgmlRuntime {
    std::string commit;   // ggml_commit(): the commit the library was built from; "unknown" when built without git
    std::string version;  // ggml_version()
    std::vector<RuntimeBackend> backends;
    std::vector<RuntimeFlashAttn> flash_attn;
};

// Reads the above. Registers the backends on the first call (which initialises CUDA: see bench::run_isolated).
GgmlRuntime ggml_runtime();

}  // namespace accel::hw
