#include "accel/engine/loaded_model.h"

#include <llama.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/core/text.h"
#include "accel/engine/backend.h"
#include "accel/engine/session.h"
#include "accel/model/gguf_validate.h"

namespace accel::engine {
namespace {

llama_split_mode to_llama(SplitMode mode) {
    switch (mode) {
        case SplitMode::none: return LLAMA_SPLIT_MODE_NONE;
        case SplitMode::layer: return LLAMA_SPLIT_MODE_LAYER;
        case SplitMode::row: return LLAMA_SPLIT_MODE_ROW;
        case SplitMode::tensor: return LLAMA_SPLIT_MODE_TENSOR;
    }
    return LLAMA_SPLIT_MODE_LAYER;
}

}  // namespace

std::string_view to_string(SplitMode mode) {
    switch (mode) {
        case SplitMode::layer: return "layer";
        case SplitMode::none: return "none";
        case SplitMode::row: return "row";
        case SplitMode::tensor: return "tensor";
    }
    return "?";
}

SplitMode parse_split_mode(std::string_view text) {
    const std::string t = lower(text);
    for (SplitMode m : {SplitMode::layer, SplitMode::none, SplitMode::row, SplitMode::tensor}) {
        if (t == to_string(m)) return m;
    }
    throw Error(ErrorKind::invalid_input,
                fmt::format("unknown split mode '{}' (use none, layer, row or tensor)", text));
}

void LoadedModel::Free::operator()(llama_model* model) const { llama_model_free(model); }

void check_gguf_file(const std::filesystem::path& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status)) {
        throw Error(ErrorKind::invalid_input, "model file not found: " + path.string());
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw Error(ErrorKind::invalid_input, "model path is not a regular file: " + path.string());
    }
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) {
        throw Error(ErrorKind::invalid_input, "cannot read model file " + path.string() + ": " + std::strerror(errno));
    }
    std::array<char, 4> magic{};
    if (std::fread(magic.data(), 1, magic.size(), f.get()) != magic.size() || std::memcmp(magic.data(), "GGUF", 4) != 0) {
        throw Error(ErrorKind::invalid_input, "not a GGUF file (bad magic): " + path.string());
    }
    f.reset();
    // Everything the pinned llama.cpp would abort on or trust is refused here, before any llama_* call sees the
    // file (docs/model.md, "Validation before load"). Every load and quantize path calls this first.
    model::read_validated_gguf(path);
}

LoadedModel LoadedModel::load(const std::filesystem::path& path, const ModelLoadParams& params) {
    init_backend();
    check_gguf_file(path);

    llama_model_params mp = llama_model_default_params();
    // Devices by ggml name; the list must outlive the load call.
    std::vector<ggml_backend_dev_t> devs;
    std::vector<float> split(llama_max_devices(), 0.0f);
    const std::vector<std::string> names =
        !params.split_devices.empty() ? params.split_devices
                                      : (params.device.empty() || params.device == "cpu" ? std::vector<std::string>{}
                                                                                           : std::vector{params.device});
    for (size_t i = 0; i < names.size(); ++i) {
        ggml_backend_dev_t dev = ggml_backend_dev_by_name(names[i].c_str());
        if (dev == nullptr) {
            throw Error(ErrorKind::invalid_input, "unknown device '" + names[i] + "' (see accel detect)");
        }
        devs.push_back(dev);
        if (i < params.split_fractions.size() && i < split.size()) split[i] = params.split_fractions[i];
    }
    if (!devs.empty()) {
        devs.push_back(nullptr);
        mp.devices = devs.data();
        if (!params.split_fractions.empty()) mp.tensor_split = split.data();
    }
    mp.split_mode = to_llama(params.split_mode);
    mp.n_gpu_layers = devs.empty() ? 0 : params.n_gpu_layers;
    mp.load_mode = params.use_mmap ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    mp.vocab_only = params.vocab_only;
    bool cancelled = false;
    struct ProgressState {
        const std::function<bool(float)>* fn;
        bool* cancelled;
    } state{&params.on_progress, &cancelled};
    mp.progress_callback = [](float progress, void* user) -> bool {
        auto* s = static_cast<ProgressState*>(user);
        if (*s->fn && !(*s->fn)(progress)) {
            *s->cancelled = true;
            return false;
        }
        return true;
    };
    mp.progress_callback_user_data = &state;

    clear_backend_message();
    const auto t0 = std::chrono::steady_clock::now();
    llama_model* raw = llama_model_load_from_file(path.c_str(), mp);
    const auto t1 = std::chrono::steady_clock::now();
    if (raw == nullptr) {
        if (cancelled) {
            throw Error(ErrorKind::busy, "loading " + path.string() + " was cancelled");
        }
        std::string why = last_backend_message();
        throw Error(ErrorKind::invalid_input,
                    "cannot load model " + path.string() + (why.empty() ? "" : ": " + why));
    }
    LoadedModel m;
    m.model_.reset(raw);
    m.path_ = path;
    m.load_time_ = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0);
    return m;
}

uint64_t LoadedModel::n_params() const { return llama_model_n_params(model_.get()); }

uint64_t LoadedModel::size_bytes() const { return llama_model_size(model_.get()); }

std::string LoadedModel::description() const {
    std::array<char, 256> buf{};
    llama_model_desc(model_.get(), buf.data(), buf.size());
    return buf.data();
}

std::string LoadedModel::architecture() const {
    std::array<char, 128> buf{};
    if (llama_model_meta_val_str(model_.get(), "general.architecture", buf.data(), buf.size()) < 0) {
        return "unknown";
    }
    return buf.data();
}

}  // namespace accel::engine

namespace accel::engine {

int32_t LoadedModel::n_vocab() const { return llama_vocab_n_tokens(llama_model_get_vocab(model_.get())); }
bool LoadedModel::adds_bos() const { return llama_vocab_get_add_bos(llama_model_get_vocab(model_.get())); }
int32_t LoadedModel::bos() const { return llama_vocab_bos(llama_model_get_vocab(model_.get())); }
bool LoadedModel::is_eog(int32_t token) const { return llama_vocab_is_eog(llama_model_get_vocab(model_.get()), token); }
int32_t LoadedModel::n_layer() const { return llama_model_n_layer(model_.get()); }
int32_t LoadedModel::n_embd() const { return llama_model_n_embd(model_.get()); }

void trial_load(const std::filesystem::path& path) {
    const LoadedModel model = LoadedModel::load(path);
    if (model.n_vocab() > 0) (void)tokenize(model, "Hello world\n", true);
}

}  // namespace accel::engine
