#pragma once

// Quantization of an F32/F16/BF16 GGUF to one or more llama.cpp file types through llama_model_quantize.
// Everything is checked before the first byte is written; each output appears atomically or not at all.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace accel::engine {

struct QuantType {
    std::string name;       // canonical, upper case as llama-quantize spells it: "Q4_K_M"
    int32_t ftype = 0;      // llama_ftype
};

// The types accel accepts, in llama-quantize's order (aliases such as Q4_K are not listed).
const std::vector<QuantType>& quant_types();

// Case-insensitive; accepts llama-quantize's aliases (Q3_K, Q4_K, Q5_K). Throws Error{invalid_input} naming the
// text and listing the valid names.
const QuantType& parse_quant_type(std::string_view name);

// The file type name of a GGUF (general.file_type, or guessed from its tensor types when absent), e.g. "F32",
// "Q4_0". Throws Error{invalid_input} naming the path when it is not a readable GGUF.
std::string gguf_file_type(const std::filesystem::path& path);

// <out_dir>/<stem>-<TYPE>.gguf, where stem is the input's file name without ".gguf" and without a trailing
// "-f32", "-f16" or "-bf16" (any case), and out_dir defaults to the input's folder.
std::filesystem::path quantized_path(const std::filesystem::path& input, const std::filesystem::path& out_dir,
                                     const QuantType& type);

struct QuantizeProgress {
    int32_t type_index = 0;  // 0-based, among the requested types
    int32_t n_types = 0;
    std::string type;
    int32_t tensor = 0;      // tensors started so far, as llama.cpp counts them; 0 before the first
    int32_t n_tensors = 0;   // 0 until llama.cpp has said
    bool done = false;       // the type's output is complete and in place
};

struct QuantizeRequest {
    std::filesystem::path input;
    std::vector<std::string> types;
    std::filesystem::path out_dir;   // empty: the input's folder
    std::filesystem::path imatrix;   // empty: none
    int32_t n_threads = 0;           // 0: one per logical core
    // Called from the calling thread at each type's start and end and as llama.cpp starts each tensor.
    std::function<void(const QuantizeProgress&)> on_progress;
};

struct QuantizePlanItem {
    QuantType type;
    std::filesystem::path out;
    uint64_t estimated_bytes = 0;  // an estimate: llama.cpp's dry run of the tensor sizes plus the input's metadata
    bool needs_imatrix = false;    // llama.cpp's dry run says some tensor of this model needs one for this type
};

struct QuantizePlan {
    std::filesystem::path input;
    std::string input_type;  // "F32", "F16" or "BF16"
    std::vector<QuantizePlanItem> items;
    uint64_t free_bytes = 0;  // free space in the output folder (statvfs), for an unprivileged user
};

struct QuantizeOutput {
    QuantType type;
    std::filesystem::path path;
    uint64_t file_bytes = 0;       // measured: the size of the written file
    uint64_t estimated_bytes = 0;  // the plan's estimate, for comparison
    std::chrono::nanoseconds elapsed{0};  // wall time of llama_model_quantize for this type
};

// Checks everything that can be checked without writing: the input is a GGUF and not quantized already (its file
// type is F32, F16 or BF16), every type is known and given once, the imatrix (if any) loads, a type that needs one
// has one, the output folder exists and is writable, no output is the input, and the outputs' estimated sizes fit in
// the free space. Runs llama.cpp's dry run once per type. Throws Error{invalid_input} with a one-line message naming
// the input (or the type, imatrix or folder) otherwise.
QuantizePlan plan_quantize(const QuantizeRequest& request);

// plan_quantize, then each type in turn. Each output is written to a hidden temporary name in the output folder and
// renamed when complete; on failure, or on SIGINT/SIGTERM/SIGHUP while it runs, the temporary file is removed (the
// signal is then re-raised). Outputs finished before a failure stay. Not thread-safe: it takes over llama.cpp's log
// callback and those signals while it runs.
// Throws what plan_quantize throws, Error{invalid_input} when llama.cpp refuses a type, Error{io} when writing fails.
std::vector<QuantizeOutput> quantize(const QuantizeRequest& request);

}  // namespace accel::engine
