#include "accel/engine/quantize.h"

#include <gguf.h>
#include <llama.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/engine/backend.h"
#include "accel/engine/imatrix.h"
#include "accel/engine/loaded_model.h"
#include "model_io.h"
#include "vision_quantize.h"

namespace accel::engine {
namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string join_names(const std::vector<QuantType>& types) {
    std::string out;
    for (const auto& t : types) out += (out.empty() ? "" : ", ") + t.name;
    return out;
}

std::string file_type_name(uint32_t ftype) {
    switch (ftype) {
        case LLAMA_FTYPE_ALL_F32: return "F32";
        case LLAMA_FTYPE_MOSTLY_F16: return "F16";
        case LLAMA_FTYPE_MOSTLY_BF16: return "BF16";
        case LLAMA_FTYPE_MOSTLY_MXFP4_MOE: return "MXFP4_MOE";
        case LLAMA_FTYPE_MOSTLY_NVFP4: return "NVFP4";
        default: break;
    }
    for (const auto& t : quant_types()) {
        if (t.ftype == static_cast<int32_t>(ftype)) return t.name;
    }
    return "file type " + std::to_string(ftype);
}

// --- llama.cpp's log, read while a quantization runs -----------------------------------------------------------

// llama_model_quantize has no progress callback; its log says "[  i/  n] name ..." as it starts each tensor, and its
// dry run logs the planned size. This reads those lines and passes every line on to accel's own log routing.
class LogTap {
public:
    LogTap() {
        init_backend();
        llama_log_get(&prev_cb_, &prev_ud_);
        llama_log_set(&LogTap::callback, this);
    }
    ~LogTap() { llama_log_set(prev_cb_, prev_ud_); }
    LogTap(const LogTap&) = delete;
    LogTap& operator=(const LogTap&) = delete;

    void reset() {
        std::lock_guard lock(mutex_);
        quant_mib_ = -1;
        requires_imatrix_ = false;
        last_error_.clear();
    }
    double quant_mib() const { return quant_mib_; }
    bool requires_imatrix() const { return requires_imatrix_; }
    std::string last_error() const { return last_error_; }
    std::function<void(int32_t, int32_t)> on_tensor;

private:
    static void callback(ggml_log_level level, const char* text, void* user) {
        auto* self = static_cast<LogTap*>(user);
        try {
            self->read(level, text);
        } catch (...) {
            // Nothing may cross back into llama.cpp; a failing progress printer must not stop the quantization.
        }
        if (self->prev_cb_ != nullptr) self->prev_cb_(level, text, self->prev_ud_);
    }

    void read(ggml_log_level level, const char* text) {
        std::lock_guard lock(mutex_);
        int32_t i = 0;
        int32_t n = 0;
        if (text[0] == '[' && std::sscanf(text, "[%d/%d]", &i, &n) == 2) {
            if (on_tensor) on_tensor(i, n);
            return;
        }
        if (const char* p = std::strstr(text, "quant size  ="); p != nullptr) {
            double mib = 0;
            if (std::sscanf(p, "quant size  = %lf", &mib) == 1) quant_mib_ = mib;
        }
        if (std::strstr(text, "will require an imatrix") != nullptr) requires_imatrix_ = true;
        if (level == GGML_LOG_LEVEL_ERROR) {
            if (const char* p = std::strstr(text, "failed to quantize: "); p != nullptr) {
                std::string line(p + std::strlen("failed to quantize: "));
                while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
                last_error_ = line;
            }
        }
    }

    ggml_log_callback prev_cb_ = nullptr;
    void* prev_ud_ = nullptr;
    std::mutex mutex_;
    double quant_mib_ = -1;
    bool requires_imatrix_ = false;
    std::string last_error_;
};

// --- the temporary output, removed on a signal ----------------------------------------------------------------

// A signal handler may only use async-signal-safe calls, so the path lives in a fixed buffer.
char g_tmp_path[4096];
volatile sig_atomic_t g_tmp_active = 0;

extern "C" void remove_tmp_and_reraise(int sig) {
    if (g_tmp_active != 0) ::unlink(g_tmp_path);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

class SignalGuard {
public:
    SignalGuard() {
        struct sigaction sa {};
        sa.sa_handler = &remove_tmp_and_reraise;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < signals_.size(); ++i) ::sigaction(signals_[i], &sa, &old_[i]);
    }
    ~SignalGuard() {
        g_tmp_active = 0;
        for (size_t i = 0; i < signals_.size(); ++i) ::sigaction(signals_[i], &old_[i], nullptr);
    }
    SignalGuard(const SignalGuard&) = delete;
    SignalGuard& operator=(const SignalGuard&) = delete;

    static void arm(const std::filesystem::path& tmp) {
        g_tmp_active = 0;
        std::snprintf(g_tmp_path, sizeof(g_tmp_path), "%s", tmp.c_str());
        g_tmp_active = 1;
    }
    static void disarm() { g_tmp_active = 0; }

private:
    std::array<int, 3> signals_{SIGINT, SIGTERM, SIGHUP};
    std::array<struct sigaction, 3> old_{};
};

// llama.cpp reports a failed write only as "iostream error"; what the file system says now tells why.
std::string write_failure_hint(const std::filesystem::path& tmp) {
    std::error_code ec;
    const uintmax_t written = std::filesystem::file_size(tmp, ec);
    if (ec) return {};
    std::string hint = " (the output stopped at " + std::to_string(written) + " bytes";
    struct rlimit lim {};
    struct statvfs vfs {};
    if (::getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && written >= lim.rlim_cur) {
        hint += ", the file size limit (ulimit -f)";
    } else if (::statvfs(tmp.parent_path().c_str(), &vfs) == 0 &&
               static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize < 1024 * 1024) {
        hint += ", the disk is full";
    }
    return hint + ")";
}


// The input's bytes other than tensor data (header, metadata, alignment): the output carries about as many.
uint64_t metadata_bytes(const std::filesystem::path& path, int64_t& n_tensors) {
    gguf_init_params gp{.no_alloc = true, .ctx = nullptr};
    detail::GgufPtr ctx(gguf_init_from_file(path.c_str(), gp));
    if (!ctx) throw Error(ErrorKind::invalid_input, "cannot read the GGUF header of " + path.string());
    n_tensors = gguf_get_n_tensors(ctx.get());
    return gguf_get_data_offset(ctx.get());
}

struct ImatrixArgs {
    std::map<std::string, std::vector<float>> weights;
    std::vector<llama_model_imatrix_data> entries;  // ends with a null name, as llama.cpp reads it

    explicit ImatrixArgs(const std::filesystem::path& path) {
        if (path.empty()) return;
        weights = imatrix_weights(load_imatrix(path));
        for (const auto& [name, w] : weights) entries.push_back({name.c_str(), w.data(), w.size()});
        entries.push_back({nullptr, nullptr, 0});
    }
    ImatrixArgs(const ImatrixArgs&) = delete;  // entries point into weights
    ImatrixArgs& operator=(const ImatrixArgs&) = delete;
    const llama_model_imatrix_data* get() const { return entries.empty() ? nullptr : entries.data(); }
};

llama_model_quantize_params quantize_params(const QuantType& type, const ImatrixArgs& imatrix, int32_t n_threads,
                                            bool dry_run) {
    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.ftype = static_cast<llama_ftype>(type.ftype);
    qp.nthread = n_threads;
    qp.dry_run = dry_run;
    qp.imatrix = imatrix.get();
    return qp;
}

QuantizePlan make_plan(const QuantizeRequest& request, const ImatrixArgs& imatrix, LogTap& tap) {
    const auto& in = request.input;
    check_gguf_file(in);
    QuantizePlan plan;
    plan.input = in;
    plan.input_type = gguf_file_type(in);
    if (plan.input_type != "F32" && plan.input_type != "F16" && plan.input_type != "BF16") {
        throw Error(ErrorKind::invalid_input, in.string() + " is already quantized (" + plan.input_type +
                                                  "); quantize from its F32, F16 or BF16 original");
    }
    if (request.types.empty()) throw Error(ErrorKind::invalid_input, "no --type given for " + in.string());
    std::set<int32_t> seen;
    std::vector<QuantType> types;
    for (const auto& name : request.types) {
        const QuantType& t = parse_quant_type(name);
        if (!seen.insert(t.ftype).second) {
            throw Error(ErrorKind::invalid_input, "type " + t.name + " is given twice for " + in.string());
        }
        types.push_back(t);
    }
    const std::filesystem::path out_dir = request.out_dir.empty() ? in.parent_path() : request.out_dir;
    const std::filesystem::path dir = out_dir.empty() ? std::filesystem::path(".") : out_dir;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        throw Error(ErrorKind::invalid_input, "output folder does not exist: " + dir.string());
    }
    if (::access(dir.c_str(), W_OK) != 0) {
        throw Error(ErrorKind::invalid_input, "output folder is not writable: " + dir.string());
    }
    struct statvfs vfs {};
    if (::statvfs(dir.c_str(), &vfs) != 0) {
        throw Error(ErrorKind::io, "cannot read the free space of " + dir.string() + ": " + std::strerror(errno));
    }
    plan.free_bytes = static_cast<uint64_t>(vfs.f_bavail) * static_cast<uint64_t>(vfs.f_frsize);

    int64_t n_tensors = 0;
    const uint64_t meta = metadata_bytes(in, n_tensors);
    uint64_t total = 0;
    for (const auto& t : types) {
        QuantizePlanItem item{.type = t, .out = quantized_path(in, out_dir, t)};
        if (std::filesystem::equivalent(item.out, in, ec)) {
            throw Error(ErrorKind::invalid_input, "the " + t.name + " output would overwrite its input " + in.string());
        }
        // The dry run writes nothing; it reports each tensor's planned type and size and whether an imatrix is due.
        tap.reset();
        const llama_model_quantize_params qp = quantize_params(t, imatrix, request.n_threads, true);
        clear_backend_message();
        uint32_t rc = 0;
        {
            const PartialFile tmp(item.out);  // a dry run should write nothing; removed in case it did
            rc = llama_model_quantize(in.c_str(), tmp.path().c_str(), &qp);
        }
        if (rc != 0 || tap.quant_mib() < 0) {
            const std::string why = tap.last_error().empty() ? last_backend_message() : tap.last_error();
            throw Error(ErrorKind::invalid_input, "llama.cpp cannot quantize " + in.string() + " to " + t.name +
                                                      (why.empty() ? "" : ": " + why));
        }
        item.needs_imatrix = tap.requires_imatrix();
        if (item.needs_imatrix && imatrix.get() == nullptr) {
            throw Error(ErrorKind::invalid_input,
                        t.name + " needs an importance matrix for " + in.string() +
                            " (llama.cpp refuses it without one): make one with `accel imatrix --model " + in.string() +
                            " --out FILE` and pass --imatrix FILE");
        }
        // Rounded to 0.01 MiB in the log; each tensor is padded to the alignment in the file.
        item.estimated_bytes = static_cast<uint64_t>(std::ceil((tap.quant_mib() + 0.005) * 1024.0 * 1024.0)) + meta +
                               static_cast<uint64_t>(n_tensors) * GGUF_DEFAULT_ALIGNMENT;
        total += item.estimated_bytes;
        plan.items.push_back(std::move(item));
    }
    if (total > plan.free_bytes) {
        throw Error(ErrorKind::invalid_input,
                    "not enough disk space in " + dir.string() + " to quantize " + in.string() + ": the outputs need about " +
                        std::to_string(total) + " bytes (an estimate), " + std::to_string(plan.free_bytes) + " are free");
    }
    return plan;
}

}  // namespace

const std::vector<QuantType>& quant_types() {
    static const std::vector<QuantType> types = {
        {"Q1_0", LLAMA_FTYPE_MOSTLY_Q1_0},       {"Q2_0", LLAMA_FTYPE_MOSTLY_Q2_0},
        {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},       {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},
        {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},       {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},
        {"IQ2_XXS", LLAMA_FTYPE_MOSTLY_IQ2_XXS}, {"IQ2_XS", LLAMA_FTYPE_MOSTLY_IQ2_XS},
        {"IQ2_S", LLAMA_FTYPE_MOSTLY_IQ2_S},     {"IQ2_M", LLAMA_FTYPE_MOSTLY_IQ2_M},
        {"IQ1_S", LLAMA_FTYPE_MOSTLY_IQ1_S},     {"IQ1_M", LLAMA_FTYPE_MOSTLY_IQ1_M},
        {"TQ1_0", LLAMA_FTYPE_MOSTLY_TQ1_0},     {"TQ2_0", LLAMA_FTYPE_MOSTLY_TQ2_0},
        {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},       {"Q2_K_S", LLAMA_FTYPE_MOSTLY_Q2_K_S},
        {"IQ3_XXS", LLAMA_FTYPE_MOSTLY_IQ3_XXS}, {"IQ3_S", LLAMA_FTYPE_MOSTLY_IQ3_S},
        {"IQ3_M", LLAMA_FTYPE_MOSTLY_IQ3_M},     {"IQ3_XS", LLAMA_FTYPE_MOSTLY_IQ3_XS},
        {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S},   {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M},
        {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L},   {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL},
        {"IQ4_XS", LLAMA_FTYPE_MOSTLY_IQ4_XS},   {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
        {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M},   {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S},
        {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M},   {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},
        {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},       {"F16", LLAMA_FTYPE_MOSTLY_F16},
        {"BF16", LLAMA_FTYPE_MOSTLY_BF16},       {"F32", LLAMA_FTYPE_ALL_F32},
    };
    return types;
}

const QuantType& parse_quant_type(std::string_view name) {
    std::string key = upper(name);
    if (key == "Q3_K") key = "Q3_K_M";
    if (key == "Q4_K") key = "Q4_K_M";
    if (key == "Q5_K") key = "Q5_K_M";
    for (const auto& t : quant_types()) {
        if (t.name == key) return t;
    }
    throw Error(ErrorKind::invalid_input,
                "unknown quantization type '" + std::string(name) + "' (valid: " + join_names(quant_types()) + ")");
}

std::string gguf_file_type(const std::filesystem::path& path) {
    check_gguf_file(path);
    gguf_init_params gp{.no_alloc = true, .ctx = nullptr};
    detail::GgufPtr ctx(gguf_init_from_file(path.c_str(), gp));
    if (!ctx) throw Error(ErrorKind::invalid_input, "cannot read the GGUF header of " + path.string());
    if (const int64_t k = gguf_find_key(ctx.get(), "general.file_type"); k >= 0) {
        const gguf_type kt = gguf_get_kv_type(ctx.get(), k);
        if (kt == GGUF_TYPE_UINT32) return file_type_name(gguf_get_val_u32(ctx.get(), k));
        if (kt == GGUF_TYPE_INT32) return file_type_name(static_cast<uint32_t>(gguf_get_val_i32(ctx.get(), k)));
    }
    // No file type recorded: name the first non-float tensor type, else the widest float type present.
    bool f16 = false;
    bool bf16 = false;
    for (int64_t i = 0; i < gguf_get_n_tensors(ctx.get()); ++i) {
        const ggml_type t = gguf_get_tensor_type(ctx.get(), i);
        if (t == GGML_TYPE_F16) f16 = true;
        else if (t == GGML_TYPE_BF16) bf16 = true;
        else if (t != GGML_TYPE_F32) return upper(ggml_type_name(t));
    }
    return bf16 ? "BF16" : f16 ? "F16" : "F32";
}

std::filesystem::path quantized_path(const std::filesystem::path& input, const std::filesystem::path& out_dir,
                                     const QuantType& type) {
    std::string stem = input.filename().string();
    auto strip = [&stem](std::string_view suffix) {
        if (stem.size() > suffix.size() && upper(stem.substr(stem.size() - suffix.size())) == upper(suffix)) {
            stem.resize(stem.size() - suffix.size());
            return true;
        }
        return false;
    };
    strip(".gguf");
    for (std::string_view s : {"-f32", "-f16", "-bf16", "_f32", "_f16", "_bf16", ".f32", ".f16", ".bf16"}) {
        if (strip(s)) break;
    }
    const std::filesystem::path dir = out_dir.empty() ? input.parent_path() : out_dir;
    return dir / (stem + "-" + type.name + ".gguf");
}

QuantizePlan plan_quantize(const QuantizeRequest& request) {
    LogTap tap;
    const ImatrixArgs imatrix(request.imatrix);
    return make_plan(request, imatrix, tap);
}

std::vector<QuantizeOutput> quantize(const QuantizeRequest& request) {
    if (detail::is_vision_gguf(request.input)) return detail::quantize_vision(request);  // not llama.cpp's
    LogTap tap;
    const ImatrixArgs imatrix(request.imatrix);
    const QuantizePlan plan = make_plan(request, imatrix, tap);
    SignalGuard signals;
    std::vector<QuantizeOutput> outputs;
    const auto n_types = static_cast<int32_t>(plan.items.size());
    for (int32_t i = 0; i < n_types; ++i) {
        const QuantizePlanItem& item = plan.items[static_cast<size_t>(i)];
        QuantizeProgress progress{.type_index = i, .n_types = n_types, .type = item.type.name};
        if (request.on_progress) request.on_progress(progress);
        tap.on_tensor = [&](int32_t tensor, int32_t n_tensors) {
            progress.tensor = tensor;
            progress.n_tensors = n_tensors;
            if (request.on_progress) request.on_progress(progress);
        };
        PartialFile tmp(item.out);
        SignalGuard::arm(tmp.path());
        tap.reset();
        clear_backend_message();
        const llama_model_quantize_params qp = quantize_params(item.type, imatrix, request.n_threads, false);
        const auto t0 = std::chrono::steady_clock::now();
        const uint32_t rc = llama_model_quantize(plan.input.c_str(), tmp.path().c_str(), &qp);
        const auto t1 = std::chrono::steady_clock::now();
        tap.on_tensor = nullptr;
        if (rc != 0) {
            SignalGuard::disarm();
            const std::string why = tap.last_error().empty() ? last_backend_message() : tap.last_error();
            throw Error(ErrorKind::io, "quantizing " + plan.input.string() + " to " + item.type.name + " failed" +
                                           (why.empty() ? "" : ": " + why) + write_failure_hint(tmp.path()) +
                                           "; nothing was left in " + item.out.parent_path().string());
        }
        try {
            tmp.commit();
        } catch (const Error& e) {
            SignalGuard::disarm();
            throw Error(ErrorKind::io, "the " + item.type.name + " output of " + plan.input.string() + ": " + e.what());
        }
        SignalGuard::disarm();
        std::error_code ec;
        QuantizeOutput out{.type = item.type,
                           .path = item.out,
                           .file_bytes = std::filesystem::file_size(item.out, ec),
                           .estimated_bytes = item.estimated_bytes,
                           .elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0)};
        outputs.push_back(out);
        progress.tensor = progress.n_tensors;
        progress.done = true;
        if (request.on_progress) request.on_progress(progress);
    }
    return outputs;
}

}  // namespace accel::engine
