#include "accel/bench/conformance.h"
#include "accel/bench/point_runner.h"
#include "accel/bench/provenance.h"
#include "accel/bench/hf_conformance.h"
#include "conform_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/core/log.h"
#include "accel/core/paths.h"
#include "accel/core/sha256.h"
#include "accel/core/text.h"
#include "accel/core/units.h"
#include "accel/hw/device.h"
#include "accel/model/classifier.h"
#include "accel/model/hf_convert.h"

namespace accel::bench {
namespace {

using engine::ConformanceArch;
using engine::WeightType;
using nlohmann::json;

double nmse(const std::vector<float>& ref, const std::vector<float>& out) {
    double err = 0, norm = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double d = static_cast<double>(ref[i]) - out[i];
        err += d * d;
        norm += static_cast<double>(ref[i]) * ref[i];
    }
    return err / norm;
}

double top1_agreement(const std::vector<float>& ref, const std::vector<float>& out, uint32_t n_rows, uint32_t row_len) {
    uint32_t same = 0;
    for (uint32_t r = 0; r < n_rows; ++r) {
        const auto a = ref.begin() + static_cast<std::ptrdiff_t>(r) * row_len;
        const auto b = out.begin() + static_cast<std::ptrdiff_t>(r) * row_len;
        if (std::max_element(a, a + row_len) - a == std::max_element(b, b + row_len) - b) ++same;
    }
    return n_rows == 0 ? 0.0 : static_cast<double>(same) / n_rows;
}

struct CasePaths {
    std::filesystem::path dir, f32, typed, round_trip, result, stage, log;
};

// The case itself, in the child process. Errors become the result; crashes are seen by the parent.
ConformResult run_case_body(const ConformanceArch& a, const std::string& device, WeightType type,
                            const ConformOptions& opts, const CasePaths& p) {
    ConformResult r;
    r.arch = a.id();
    r.llama_arch = a.arch;
    r.device = device;
    r.type = engine::to_string(type);
    r.output_kind = a.embeddings ? "embeddings" : "logits";
    r.reference = conform_self_reference;
    const auto stage = [&](const char* s) {
        r.stage = s;
        detail::write_stage({.stage = p.stage}, s);
    };
    std::error_code ec;
    try {
        stage("build");
        if (!std::filesystem::exists(p.f32, ec)) engine::build_conformance_model(a, opts.seed, opts.vocab_dir, p.f32);
    } catch (const Error& e) {
        r.status = ConformStatus::unsupported;
        r.reason = std::string("llama.cpp cannot build or save it: ") + e.what();
        return r;
    }
    engine::ForwardOptions fo{.device = "cpu", .token_seed = opts.seed, .n_threads = opts.n_threads};
    engine::ForwardRun ref;
    try {
        stage("reference");
        ref = engine::conformance_forward(a, p.f32, fo);
    } catch (const Error& e) {
        r.status = ConformStatus::unsupported;
        r.reason = std::string("llama.cpp cannot run it on the CPU in f32 (the reference): ") + e.what();
        return r;
    }
    try {
        if (type != WeightType::f32) {
            stage("quantize");
            if (!std::filesystem::exists(p.typed, ec)) {
                engine::quantize_conformance_model(p.f32, p.typed, type, opts.n_threads);
            }
        }
        stage("run");
        // Test-only: a planted crash, to show that one case's abort is contained and recorded.
        if (const char* crash = std::getenv("ACCEL_CONFORM_CRASH"); crash != nullptr && a.id() == crash) std::abort();
        fo.device = device;
        engine::ForwardRun run = engine::conformance_forward(a, p.typed, fo, p.round_trip);
        r.loaded = true;
        r.load_ms = run.first.load_ms;
        stage("compare");
        if (const char* perturb = std::getenv("ACCEL_CONFORM_PERTURB"); perturb != nullptr && a.id() == perturb) {
            for (auto& v : run.first.values) v = -v;
        }
        if (run.first.values.size() != ref.first.values.size()) {
            r.status = ConformStatus::fail;
            r.reason = fmt::format("the output has {} values, the reference {}", run.first.values.size(),
                                   ref.first.values.size());
            return r;
        }
        r.nmse = nmse(ref.first.values, run.first.values);
        r.top1 = top1_agreement(ref.first.values, run.first.values, run.first.n_rows, run.first.row_len);
        double max_abs = 0;
        bool identical = run.reloaded && run.reloaded->values.size() == run.first.values.size();
        if (run.reloaded && identical) {
            identical = std::memcmp(run.reloaded->values.data(), run.first.values.data(),
                                    run.first.values.size() * sizeof(float)) == 0;
            for (size_t i = 0; i < run.first.values.size(); ++i) {
                max_abs = std::max(max_abs, std::fabs(static_cast<double>(run.reloaded->values[i]) - run.first.values[i]));
            }
        }
        // The perturbation is applied after the round trip was measured, so undo it for that comparison.
        if (const char* perturb = std::getenv("ACCEL_CONFORM_PERTURB"); perturb != nullptr && a.id() == perturb && run.reloaded) {
            identical = true;
            max_abs = 0;
            for (size_t i = 0; i < run.first.values.size(); ++i) {
                const double d = std::fabs(static_cast<double>(run.reloaded->values[i]) + run.first.values[i]);
                max_abs = std::max(max_abs, d);
                if (run.reloaded->values[i] != -run.first.values[i]) identical = false;
            }
        }
        r.round_trip_identical = identical;
        r.round_trip_max_abs = max_abs;
        const ConformThreshold t = conform_threshold(type);
        std::vector<std::string> why;
        if (!(*r.nmse <= t.max_nmse)) why.push_back(fmt::format("nmse {:.3g} > {:.3g}", *r.nmse, t.max_nmse));
        if (!(*r.top1 >= t.min_top1)) why.push_back(fmt::format("top-1 agreement {:.3f} < {:.3f}", *r.top1, t.min_top1));
        if (!identical) why.push_back(fmt::format("save/reload changed the output (max abs diff {:.3g})", max_abs));
        r.stage = "done";
        r.status = why.empty() ? ConformStatus::pass : ConformStatus::fail;
        for (const auto& w : why) r.reason += (r.reason.empty() ? "" : "; ") + w;
    } catch (const Error& e) {
        r.status = ConformStatus::fail;
        r.reason = e.what();
    }
    return r;
}

ConformResult run_case(const ConformanceArch& a, const std::string& device, WeightType type, const ConformOptions& opts,
                       const std::filesystem::path& model_dir) {
    CasePaths p;
    p.dir = model_dir / fmt::format("{}-s{}", a.id(), opts.seed);
    paths::ensure_dir(p.dir);
    const std::string type_name = engine::to_string(type);
    p.f32 = p.dir / "model-f32.gguf";
    p.typed = type == WeightType::f32 ? p.f32 : p.dir / ("model-" + type_name + ".gguf");
    const std::string tag = fmt::format("{}-{}-{}", device, type_name, ::getpid());
    p.round_trip = p.dir / ("round-trip-" + tag + ".gguf");
    p.result = p.dir / ("result-" + tag + ".json");
    p.stage = p.dir / ("stage-" + tag);
    p.log = p.dir / ("stderr-" + tag + ".log");

    ConformResult r;
    r.arch = a.id();
    r.llama_arch = a.arch;
    r.device = device;
    r.type = type_name;
    r.output_kind = a.embeddings ? "embeddings" : "logits";
    r.reference = conform_self_reference;
    const auto t0 = std::chrono::steady_clock::now();
    if (!a.unsupported.empty()) {
        r.status = ConformStatus::unsupported;
        r.stage = "build";
        r.reason = a.unsupported;
        return r;
    }
    const detail::ChildFiles files{.result = p.result, .stage = p.stage, .log = p.log};
    auto outcome = detail::run_in_child(r, files, opts.timeout_s, [&] { return run_case_body(a, device, type, opts, p); });
    const pid_t pid = outcome.pid;
    r = std::move(outcome.result);
    // An abort while llama.cpp builds, saves or first loads the f32 model on the CPU means that llama.cpp
    // cannot handle this architecture at this commit; later, it is this device or type that fails.
    if (outcome.died && (r.stage == "build" || r.stage == "reference")) r.status = ConformStatus::unsupported;
    std::error_code ec;
    std::filesystem::remove(p.round_trip, ec);
    // A child killed on its timeout leaves its temporaries behind.
    for (const auto& f : {p.result, p.round_trip, p.f32, p.typed}) remove_partial_files(f, pid);
    if (std::filesystem::exists(p.typed, ec) && (r.stage != "build")) {
        r.model_path = p.typed;
        r.model_bytes = static_cast<int64_t>(std::filesystem::file_size(p.typed, ec));
    }
    r.wall_ms = ms_since(t0);
    return r;
}

}  // namespace

std::string_view to_string(ConformStatus s) {
    switch (s) {
        case ConformStatus::pass: return "pass";
        case ConformStatus::fail: return "fail";
        case ConformStatus::unsupported: return "unsupported";
        case ConformStatus::not_yet: return "not yet";
    }
    return "fail";
}

ConformStatus parse_conform_status(std::string_view text) {
    for (const auto s : {ConformStatus::pass, ConformStatus::unsupported, ConformStatus::not_yet}) {
        if (text == to_string(s)) return s;
    }
    return ConformStatus::fail;
}

ConformThreshold conform_threshold(WeightType type) {
    switch (type) {
        case WeightType::f32: return {.max_nmse = 1e-4, .min_top1 = 0.95};
        case WeightType::f16: return {.max_nmse = 1e-3, .min_top1 = 0.90};
        case WeightType::q8_0: return {.max_nmse = 5e-3, .min_top1 = 0.80};
        case WeightType::q4_0: return {.max_nmse = 1e-1, .min_top1 = 0.50};
    }
    return {};
}

std::vector<ConformanceArch> select_architectures(const std::vector<std::string>& names) {
    const auto all = engine::conformance_architectures();
    if (names.empty() || (names.size() == 1 && names[0] == "all")) return all;
    std::vector<ConformanceArch> out;
    for (const auto& n : names) {
        bool found = false;
        for (const auto& a : all) {
            if (a.id() == n || a.arch == n) {
                found = true;
                if (std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.id() == a.id(); })) out.push_back(a);
            }
        }
        if (!found && find_hf_class(n) == nullptr) {
            throw Error(ErrorKind::invalid_input,
                        "unknown architecture '" + n + "' for --arch (see `accel conform --list` for llama.cpp's names "
                        "and the Hugging Face model types)");
        }
    }
    return out;
}

std::vector<ConformResult> run_conformance(const ConformOptions& opts) {
    const auto archs = select_architectures(opts.archs);
    std::vector<std::string> devices;
    // Listed in a child: the cases run in forked children, which cannot use CUDA once this process has.
    std::vector<std::string> available;
    for (const auto& d : probe_devices()) available.push_back(d.id);
    if (opts.devices.empty() || (opts.devices.size() == 1 && opts.devices[0] == "all")) {
        devices = available;
    } else {
        for (const auto& want : opts.devices) {
            const std::string w = lower(want);
            const bool ok = std::find(available.begin(), available.end(), w) != available.end();
            if (!ok) {
                std::string list;
                for (const auto& d : available) list += (list.empty() ? "" : ", ") + d;
                throw Error(ErrorKind::invalid_input, "unknown device '" + want + "' for --device: this build has " + list);
            }
            devices.push_back(w);
        }
    }
    const auto model_dir = opts.model_dir.empty() ? paths::cache_dir() / "models" / "conform" : opts.model_dir;
    paths::ensure_dir(model_dir);
    std::vector<ConformResult> out;
    for (const auto& a : archs) {
        for (const auto& dev : devices) {
            for (const auto type : opts.types) {
                out.push_back(run_case(a, dev, type, opts, model_dir));
                if (opts.on_result) opts.on_result(out.back());
            }
        }
    }
    if (opts.against_transformers) {
        for (auto& r : detail::run_hf_cases(opts.archs, devices, opts, model_dir)) out.push_back(std::move(r));
    }
    return out;
}

std::string store_conformance(const std::vector<ConformResult>& results, const store::WriterOptions& writer,
                              const std::string& command_line, uint64_t seed) {
    store::RunRecord run;
    run.command = command_line;
    run.tags = {"conform"};
    run.extra_json = json{{"seed", seed}}.dump();
    auto w = begin_run(writer, std::move(run), current_provenance());

    std::set<std::string> models_done;
    std::vector<store::ResultRecord> rows;
    std::vector<store::FailureRecord> failures;
    for (const auto& r : results) {
        store::ModelRecord m;
        std::string sha;
        std::error_code ec;
        if (!r.model_path.empty() && std::filesystem::exists(r.model_path, ec)) sha = sha256_file(r.model_path);
        m.id = sha.empty() ? fmt::format("conform:{}:{}:s{}", r.arch, r.type, seed) : sha;
        if (!sha.empty()) m.sha256 = sha;
        m.path = r.model_path.string();
        m.name = fmt::format("accel conform {} {} seed {} (random weights)", r.arch, r.type, seed);
        m.architecture = r.arch;
        // The compatibility view's family column names the reference: "conform: accel cpu f32" or
        // "conform: transformers <version>".
        const std::string reference = r.reference.empty() ? std::string(conform_self_reference) : r.reference;
        m.family = "conform: " + reference;
        if (against_transformers(r)) {
            if (sha.empty()) m.id = fmt::format("conform-hf:{}:{}", r.arch, r.type);
            m.name = fmt::format("Hugging Face class {} {} against {}", r.arch, r.type, r.reference);
        }
        m.file_type = r.type;
        if (r.model_bytes > 0) m.size_bytes = r.model_bytes;
        if (models_done.insert(m.id).second) w.add_model(m);
        json evidence = detail::to_json(r);
        evidence["reference"] = reference;
        if (r.metrics.empty() && r.type != "-") {
            evidence["threshold"] = {{"max_nmse", conform_threshold(engine::parse_weight_type(r.type)).max_nmse},
                                     {"min_top1", conform_threshold(engine::parse_weight_type(r.type)).min_top1}};
        }
        evidence["wall_ms"] = r.wall_ms;
        evidence["seed"] = seed;
        if (r.nmse || !r.metrics.empty()) {
            store::ResultRecord rr;
            rr.model_id = m.id;
            rr.model_sha256 = m.sha256;
            rr.model_name = m.name;
            rr.scenario = "conform";
            rr.device = r.device;
            rr.valid = r.status == ConformStatus::pass;
            rr.extra_json = evidence.dump();
            rows.push_back(std::move(rr));
        } else {
            store::FailureRecord f;
            f.model_id = m.id;
            f.scenario = "conform";
            f.device = r.device;
            f.stage = r.status == ConformStatus::unsupported ? "unsupported"
                      : r.status == ConformStatus::not_yet   ? "not yet"
                                                             : r.stage;
            f.reason = r.reason;
            f.params_json = evidence.dump();
            failures.push_back(std::move(f));
        }
    }
    if (!rows.empty()) w.add_results(std::move(rows));
    if (!failures.empty()) w.add_failures(std::move(failures));
    w.finish();
    return w.run_id();
}

const std::vector<std::string>& coverage_key_types() {
    static const std::vector<std::string> k = {"bert",   "clap", "clip", "detr",     "llama",   "llava", "llava_next",
                                               "qwen2", "t5",   "vit",  "wav2vec2", "whisper", "xclip"};
    return k;
}

std::vector<std::string> knowledge_table_archs() {
    std::set<std::string> s;
    for (const auto& t : model::known_model_types()) {
        if (!t.llama_cpp_arch.empty()) s.insert(t.llama_cpp_arch);
    }
    return {s.begin(), s.end()};
}

std::vector<std::string> coverage_architectures() {
    std::set<std::string> buildable;
    for (const auto& a : select_architectures({})) buildable.insert(a.arch);
    std::vector<std::string> out;
    for (const auto& a : knowledge_table_archs()) {
        if (buildable.count(a) != 0) out.push_back(a);
    }
    return out;
}

ConformTally tally(const std::vector<ConformResult>& results) {
    ConformTally t;
    for (const auto& r : results) {
        switch (r.status) {
            case ConformStatus::pass: ++t.n_pass; break;
            case ConformStatus::fail: ++t.n_fail; break;
            case ConformStatus::unsupported: ++t.n_unsupported; break;
            case ConformStatus::not_yet: ++t.n_not_yet; break;
        }
    }
    return t;
}

Coverage compute_coverage(const std::vector<ConformResult>& results) {
    // Per Hugging Face class, against transformers: fail if a case failed, pass if one passed, else not yet.
    std::map<std::string, std::pair<std::string, std::string>> hf_status;  // model_type -> status, reason
    for (const auto& r : results) {
        if (!against_transformers(r)) continue;
        auto& [status, reason] = hf_status[r.arch];
        if (r.status == ConformStatus::fail) {
            if (status != "fail") reason = r.type + ": " + r.reason;
            status = "fail";
        } else if (r.status == ConformStatus::pass && status != "fail") {
            status = "pass";
        } else if (r.status != ConformStatus::pass && status.empty()) {
            status = "not yet";
            reason = r.reason;
        }
    }
    const auto convertible = model::convertible_model_types();
    // Per llama.cpp architecture: passed anywhere, else the best status seen.
    std::map<std::string, std::string> arch_status;
    for (const auto& r : results) {
        if (against_transformers(r)) continue;
        auto& s = arch_status[r.llama_arch];
        if (r.status == ConformStatus::pass) {
            s = "runnable";
        } else if (s != "runnable") {
            s = r.status == ConformStatus::fail ? "failed" : (s.empty() ? "unsupported" : s);
        }
    }
    Coverage c;
    std::map<std::pair<std::string, std::string>, CoverageGroup> groups;
    for (const auto& t : model::known_model_types()) {
        auto& g = groups[{t.family, t.subfamily}];
        g.family = t.family;
        g.subfamily = t.subfamily;
        ++g.n_types;
        ++c.n_types;
        std::string status = "no llama.cpp architecture";
        if (!t.llama_cpp_arch.empty()) {
            ++g.n_mapped;
            ++c.n_mapped;
            const auto it = arch_status.find(t.llama_cpp_arch);
            status = it == arch_status.end() ? "not run" : it->second;
            if (status == "runnable") {
                ++g.n_runnable;
                ++c.n_runnable;
            }
        }
        const bool converts = std::binary_search(convertible.begin(), convertible.end(), t.model_type);
        g.n_convertible += converts ? 1 : 0;
        c.n_convertible += converts ? 1 : 0;
        const auto hf = hf_status.find(t.model_type);
        const bool hf_pass = hf != hf_status.end() && hf->second.first == "pass";
        g.n_transformers_pass += hf_pass ? 1 : 0;
        c.n_transformers_pass += hf_pass ? 1 : 0;
        const auto& keys = coverage_key_types();
        if (std::find(keys.begin(), keys.end(), t.model_type) != keys.end()) {
            CoverageType k{t.model_type, t.family, t.subfamily, t.llama_cpp_arch, status};
            k.convertible = converts;
            k.transformers = hf == hf_status.end() ? "not run" : hf->second.first;
            k.transformers_reason = hf == hf_status.end() ? "not in this run (--arch)" : hf->second.second;
            if (const auto* cls = find_hf_class(t.model_type); hf == hf_status.end() && cls != nullptr && !cls->not_yet.empty()) {
                k.transformers = "not yet";  // a class with no case says why, run or not
                k.transformers_reason = cls->not_yet;
            }
            c.key_types.push_back(std::move(k));
        }
    }
    for (auto& [k, g] : groups) c.groups.push_back(g);
    std::sort(c.key_types.begin(), c.key_types.end(), [](const auto& x, const auto& y) { return x.model_type < y.model_type; });
    return c;
}

}  // namespace accel::bench
