// `accel inspect PATH [--json]`: metadata summary, classification, memory estimate and device fit.

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/version.h"
#include "accel/hw/device.h"
#include "accel/hw/device_ranking.h"
#include "accel/model/model_info.h"
#include "commands.h"
#include "output.h"

namespace accel::cli {

namespace {

struct InspectOptions {
    std::string path;
    uint32_t ctx = 4096;
    uint32_t parallel = 1;
    uint32_t batch = 2048;
    uint32_t ubatch = 512;
    std::string kv_type = "f16";
    bool flash_attn = false;
    std::string device = "cpu";
    FormatOption format;
};

struct DeviceFit {
    std::string device;
    std::optional<bool> fits;  // nullopt: unavailable
    std::optional<uint64_t> available_bytes;
    std::string reason;
};

std::string human_bytes(uint64_t b) {
    if (b >= (uint64_t{1} << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1u << 30));
    if (b >= (uint64_t{1} << 20)) return fmt::format("{:.2f} MiB", static_cast<double>(b) / (1u << 20));
    if (b >= 1024) return fmt::format("{:.1f} KiB", static_cast<double>(b) / 1024);
    return fmt::format("{} B", b);
}

// Every device ggml sees, ranked by hw/ for the whole estimate on one device and the model's weight types.
std::vector<DeviceFit> device_fits(std::optional<uint64_t> total_bytes, const model::ModelInfo& m) {
    const auto devices = hw::ggml_devices();
    std::vector<DeviceFit> out;
    if (!total_bytes) {
        for (const auto& d : devices)
            out.push_back({d.id, std::nullopt, d.memory_free_bytes, "unavailable: no memory estimate for this model"});
        return out;
    }
    hw::Requirements req{.bytes_per_device = *total_bytes};
    // Only GGUF tensor types are ggml types; safetensors dtypes say nothing about what a device runs.
    if (m.gguf)
        for (const auto& [type, n] : m.tensor_type_counts) req.tensor_types.push_back(type);
    for (const auto& r : hw::rank_devices(devices, req)) {
        DeviceFit f{.device = r.id, .fits = r.feasible, .available_bytes = std::nullopt, .reason = r.reason};
        for (const auto& d : devices)
            if (d.id == r.id) f.available_bytes = d.memory_free_bytes;
        out.push_back(std::move(f));
    }
    return out;
}

nlohmann::json opt_json(const std::optional<uint64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
}

// What inspect found, for either output.
struct Inspection {
    model::ModelInfo m;
    model::Classification c;
    model::MemoryConfig cfg;
    std::optional<model::MemoryEstimate> est;
    std::vector<DeviceFit> fits;
};

nlohmann::json memory_json(const model::MemoryEstimate& est, const model::MemoryConfig& cfg) {
    const nlohmann::json config = {{"n_ctx", est.n_ctx},
                                   {"n_parallel", cfg.n_parallel},
                                   {"n_batch", cfg.n_batch},
                                   {"n_ubatch", cfg.n_ubatch},
                                   {"n_outputs", cfg.n_parallel},
                                   {"kv_type", std::string(model::to_string(cfg.kv_type))},
                                   {"flash_attn", cfg.flash_attn == model::FlashAttn::on},
                                   {"device", cfg.device}};
    return {{"config", config},
            {"n_kv_cells", est.n_kv_cells},
            {"weights_bytes", est.weights_bytes},
            {"kv_cache_bytes", est.kv_cache_bytes},
            {"compute_buffer_bytes", est.compute_buffer_bytes},
            {"total_bytes", est.total_bytes},
            {"is_estimate", true},
            {"notes", est.notes}};
}

nlohmann::json gguf_json(const model::GgufFile& g) {
    nlohmann::json meta = nlohmann::json::object();
    for (const auto& [k, v] : g.metadata) meta[k] = v.to_text();
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : g.tensors)
        tensors.push_back({{"name", t.name},
                           {"type", model::ggml_type_info(t.ggml_type)->name},
                           {"shape", t.shape},
                           {"offset", t.offset},
                           {"bytes", t.n_bytes}});
    return {{"version", g.version},
            {"alignment", g.alignment},
            {"data_offset", g.data_offset},
            {"metadata", meta},
            {"tensors", tensors}};
}

nlohmann::json inspect_json(const Inspection& in) {
    const auto& m = in.m;
    const auto& c = in.c;
    nlohmann::json mix = nlohmann::json::array();
    for (const auto& [type, n] : m.tensor_type_counts)
        mix.push_back({{"type", type}, {"tensors", n}, {"bytes", m.tensor_type_bytes.at(type)}});
    nlohmann::json doc = {
        {"schema_version", json_schema_version}, {"path", m.path}, {"format", m.format},
        {"architecture", m.architecture}, {"name", m.name}, {"file_type", m.file_type}, {"file_bytes", m.file_bytes},
        {"n_params", m.n_params}, {"n_tensors", m.n_tensors}, {"weights_bytes", m.weights_bytes},
        {"quantization_mix", mix}, {"context_length", opt_json(m.context_length)}, {"n_embd", opt_json(m.n_embd)},
        {"n_layer", opt_json(m.n_layer)}, {"n_head", opt_json(m.n_head)}, {"n_head_kv", opt_json(m.n_head_kv)},
        {"n_vocab", opt_json(m.n_vocab)}, {"tokenizer_model", m.tokenizer_model},
        {"tokenizer_class", m.tokenizer_class}, {"has_generation_config", m.has_generation_config},
        {"files_read", m.files_read},
        {"classification",
         {{"family", c.family}, {"subfamily", c.subfamily}, {"tasks", c.tasks}, {"confidence", c.confidence},
          {"reasons", c.reasons}}},
    };
    if (in.est) {
        doc["memory_estimate"] = memory_json(*in.est, in.cfg);
    } else {
        doc["memory_estimate"] = nullptr;
        doc["memory_estimate_unavailable"] = "the model's layer count or embedding size is unknown";
    }
    nlohmann::json devs = nlohmann::json::array();
    for (const auto& d : in.fits)
        devs.push_back({{"device", d.device},
                        {"fits", d.fits ? nlohmann::json(*d.fits) : nlohmann::json()},
                        {"available_bytes", opt_json(d.available_bytes)},
                        {"reason", d.reason}});
    doc["devices"] = devs;
    if (m.gguf) doc["gguf"] = gguf_json(*m.gguf);
    if (!m.gguf) doc["accel_convert"] = hf_support_json(hf_support_of(m.evidence.architectures));
    return doc;
}

void print_inspection(const Inspection& in) {
    const auto& m = in.m;
    const auto& c = in.c;
    const auto& cfg = in.cfg;
    const auto& est = in.est;
    auto opt = [](const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : std::string("unknown"); };
    fmt::print("model:          {}\n", m.path);
    fmt::print("format:         {}{}\n", m.format, m.gguf ? fmt::format(" v{}", m.gguf->version) : "");
    fmt::print("architecture:   {}\n", m.architecture.empty() ? "unknown" : m.architecture);
    if (!m.name.empty()) fmt::print("name:           {}\n", m.name);
    fmt::print("parameters:     {}\n", m.n_params);
    fmt::print("tensors:        {}\n", m.n_tensors);
    fmt::print("file type:      {}\n", m.file_type.empty() ? "unknown" : m.file_type);
    std::string mix;
    for (const auto& [type, n] : m.tensor_type_counts)
        mix +=
            fmt::format("{}{} x{} ({})", mix.empty() ? "" : ", ", type, n, human_bytes(m.tensor_type_bytes.at(type)));
    fmt::print("weights:        {} [{}]\n", human_bytes(m.weights_bytes), mix.empty() ? "no tensors read" : mix);
    fmt::print("context length: {}\n", opt(m.context_length));
    fmt::print("embedding:      {}\n", opt(m.n_embd));
    fmt::print("layers:         {}\n", opt(m.n_layer));
    fmt::print("heads:          {} (kv {})\n", opt(m.n_head), opt(m.n_head_kv));
    fmt::print("vocab:          {}\n", opt(m.n_vocab));
    fmt::print("tokenizer:      {}\n", m.tokenizer_model.empty() ? "unknown" : m.tokenizer_model);
    if (!m.gguf) fmt::print("{}\n", hf_support_line(hf_support_of(m.evidence.architectures)));
    fmt::print("\nclassification: {}/{} (confidence {:.2f})\n", c.family, c.subfamily, c.confidence);
    for (const auto& r : c.reasons) fmt::print("  - {}\n", r);
    if (est) {
        fmt::print("\nmemory estimate (ctx {} x {} seq, ubatch {}, KV {}, flash-attn {}, device {}):\n", est->n_ctx,
                   cfg.n_parallel, cfg.n_ubatch, model::to_string(cfg.kv_type), model::to_string(cfg.flash_attn),
                   cfg.device);
        fmt::print("  weights         {:>12}  (exact, from the tensor table)\n", human_bytes(est->weights_bytes));
        fmt::print("  KV cache        {:>12}  ({} cells)\n", human_bytes(est->kv_cache_bytes), est->n_kv_cells);
        fmt::print("  compute buffer  {:>12}  (estimate)\n", human_bytes(est->compute_buffer_bytes));
        fmt::print("  total           {:>12}  (estimate)\n", human_bytes(est->total_bytes));
    } else {
        fmt::print("\nmemory estimate: unavailable (the model's layer count or embedding size is unknown)\n");
    }
    fmt::print("\ndevices:\n");
    for (const auto& d : in.fits) fmt::print("  {}: {}\n", d.device, d.reason);
}

int run_inspect(const InspectOptions& o) {
    Inspection in{.m = model::inspect_model(o.path)};
    in.c = model::classify(in.m.evidence);
    in.cfg = {.n_ctx = o.ctx,
              .n_parallel = o.parallel,
              .n_batch = o.batch,
              .n_ubatch = o.ubatch,
              .kv_type = model::parse_kv_type(o.kv_type),
              .flash_attn = o.flash_attn ? model::FlashAttn::on : model::FlashAttn::off,
              .device = o.device};
    if (in.m.memory_shape) in.est = model::estimate_memory(*in.m.memory_shape, in.cfg);
    in.fits = device_fits(in.est ? std::optional<uint64_t>(in.est->total_bytes) : std::nullopt, in.m);
    if (o.format.resolve() == Format::json) {
        print_json(inspect_json(in));
    } else {
        print_inspection(in);
    }
    return exit_ok;
}

}  // namespace

void register_inspect(CLI::App& app, int& exit_code) {
    auto opts = std::make_shared<InspectOptions>();
    auto* cmd = app.add_subcommand(
        "inspect",
        "Inspect a GGUF file, a Hugging Face model directory or a config.json: metadata, classification,\n"
        "a memory estimate for the given run settings, and which devices it would fit.\n"
        "Reads headers only. Exit 2 for a malformed or missing model.");
    cmd->add_option("path", opts->path, "GGUF file, model directory or config.json")->required();
    cmd->add_option("--ctx", opts->ctx, "Context length per sequence for the estimate (0: the model's)")
        ->default_val(4096)
        ->check(accel::cli::non_negative);
    cmd->add_option("--parallel", opts->parallel, "Parallel sequences")->default_val(1)->check(CLI::PositiveNumber);
    cmd->add_option("-b,--batch-size", opts->batch, "Logical batch (n_batch)")
        ->default_val(2048)
        ->check(CLI::PositiveNumber);
    cmd->add_option("--ubatch-size", opts->ubatch, "Physical batch (n_ubatch)")
        ->default_val(512)
        ->check(CLI::PositiveNumber);
    cmd->add_option("--cache-type", opts->kv_type, "KV cache type: f16, q8_0, q4_0, ... (llama-bench -ctk)")
        ->default_val("f16");
    cmd->add_flag("--flash-attn", opts->flash_attn, "Assume flash attention (no KQ matrix in the compute buffer)");
    cmd->add_option("--device", opts->device, "Device the estimate is for")->default_val("cpu");
    add_format_option(*cmd, opts->format, {"table", "json"});
    cmd->callback([opts, &exit_code] { exit_code = run_inspect(*opts); });
}

}  // namespace accel::cli
