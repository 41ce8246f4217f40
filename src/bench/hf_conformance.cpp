#include "accel/bench/hf_conformance.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/core/paths.h"
#include "accel/core/units.h"
#include "accel/engine/embedder.h"
#include "accel/engine/session.h"
#include "accel/engine/token_logits.h"
#include "accel/model/hf_convert.h"
#include "accel/model/hf_limits.h"
#include "accel/model/safetensors_file.h"
#include "conform_child.h"

namespace accel::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using model::ConvertType;
using model::HfMetric;

std::string read_text(const fs::path& p) {
    std::ifstream f(p);
    if (!f) throw Error(ErrorKind::io, "cannot read " + p.string());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// An F32 tensor of a reference.safetensors (the oracle writes every reference in f32).
std::vector<float> read_f32_tensor(const fs::path& file, const std::string& name) {
    const model::SafetensorsFile st = model::read_safetensors(file);
    for (const auto& t : st.tensors) {
        if (t.name != name) continue;
        if (t.dtype != "F32") throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is {}, not F32", file.string(), name, t.dtype));
        std::vector<float> out(t.n_elements);
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "rb"), std::fclose);
        if (!f || std::fseek(f.get(), static_cast<long>(8 + st.header_bytes + t.begin), SEEK_SET) != 0 ||
            std::fread(out.data(), sizeof(float), out.size(), f.get()) != out.size()) {
            throw Error(ErrorKind::io, fmt::format("cannot read {} from {}", name, file.string()));
        }
        return out;
    }
    throw Error(ErrorKind::invalid_input, fmt::format("{} has no tensor {}", file.string(), name));
}

double range_of(const std::vector<float>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return static_cast<double>(*hi) - *lo;
}

double max_abs_diff(const float* a, const float* b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
    return m;
}

double cosine(const float* a, const float* b, size_t n) {
    double dot = 0, a2 = 0, b2 = 0;
    for (size_t i = 0; i < n; ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        a2 += static_cast<double>(a[i]) * a[i];
        b2 += static_cast<double>(b[i]) * b[i];
    }
    return dot / std::sqrt(a2 * b2);
}

size_t argmax(const float* row, size_t n) { return static_cast<size_t>(std::max_element(row, row + n) - row); }

bool perturbed(const HfClass& c) {
    const char* p = std::getenv("ACCEL_CONFORM_PERTURB");
    return p != nullptr && std::string_view(p) == "hf:" + c.model_type;
}

// Adds the figure with its limit from the one table; a metric the table has no limit for is not recorded.
void add_metric(ConformResult& r, const HfClass& c, ConvertType t, HfMetric m, double value) {
    const auto limit = model::hf_limit(c.model_type, t, m);
    if (!limit) return;
    r.metrics.push_back({std::string(model::to_string(m)), value, *limit, model::higher_is_better(m)});
}

// Logits over prompt + the reference's greedy ids; top-1 wherever the reference's margin exceeds epsilon.
void run_decoder(const HfClass& c, const fs::path& dir, const fs::path& gguf, const std::string& device, ConvertType t,
                 int32_t n_threads, ConformResult& r) {
    const auto ref = json::parse(read_text(dir / "reference.json"));
    auto tokens = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
    const auto margins = ref.at("top1_margins").get<std::vector<double>>();
    const size_t n_prompt = tokens.size();
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    const auto expected = read_f32_tensor(dir / "reference.safetensors", "logits");
    auto got = engine::token_logits(gguf, tokens, device, n_threads);
    r.loaded = true;
    if (perturbed(c)) {
        for (auto& v : got.values) v = -v;
    }
    if (got.values.size() != expected.size()) {
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} logits, the reference {}", got.values.size(),
                                                          expected.size()));
    }
    const size_t n_vocab = got.n_vocab;
    add_metric(r, c, t, HfMetric::logits_rel,
               max_abs_diff(got.values.data(), expected.data(), expected.size()) / range_of(expected));
    size_t n_checked = 0, n_agree = 0;
    for (size_t row = 0; row < tokens.size(); ++row) {
        const float* e = expected.data() + row * n_vocab;
        std::vector<float> top(e, e + n_vocab);
        std::partial_sort(top.begin(), top.begin() + 2, top.end(), std::greater<>());
        // the greedy steps: row n_prompt - 1 + k predicted generated[k]; their margins are stored with them
        const bool greedy = row + 1 >= n_prompt && row + 1 - n_prompt < generated.size();
        const double margin = greedy ? margins[row + 1 - n_prompt] : static_cast<double>(top[0]) - top[1];
        if (margin <= model::hf_top1_epsilon) continue;
        const size_t want = greedy ? static_cast<size_t>(generated[row + 1 - n_prompt]) : argmax(e, n_vocab);
        ++n_checked;
        n_agree += argmax(got.values.data() + row * n_vocab, n_vocab) == want ? 1 : 0;
    }
    r.top1 = n_checked == 0 ? 1.0 : static_cast<double>(n_agree) / static_cast<double>(n_checked);
    add_metric(r, c, t, HfMetric::top1, *r.top1);
}

std::vector<float> embed_one(const engine::LoadedModel& m, const std::string& text, engine::Pooling pooling,
                             bool normalize, int32_t n_threads) {
    auto s = engine::Session::open(m, {.n_ctx = 512, .n_threads = n_threads, .type_k = model::KvType::f32,
                                       .type_v = model::KvType::f32, .flash_attn = model::FlashAttn::off,
                                       .embeddings = true, .pooling = pooling});
    return engine::embed(s, {text}, {.normalize = normalize}).at(0);
}

// llama.cpp tokenizes the reference text itself; the sentence embedding and the first and last token states.
void run_encoder(const HfClass& c, const fs::path& dir, const fs::path& gguf, const std::string& device, ConvertType t,
                 int32_t n_threads, ConformResult& r) {
    using engine::Pooling;
    const auto ref = json::parse(read_text(dir / "reference.json"));
    const auto text = ref.at("text").get<std::string>();
    const auto ids = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto st = dir / "reference.safetensors";
    const auto mean_ref = read_f32_tensor(st, "mean_pooled_normalized");
    const auto states = read_f32_tensor(st, "last_hidden_state");
    const size_t n_embd = mean_ref.size();
    if (states.size() != ids.size() * n_embd) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: last_hidden_state is not {} x {}", st.string(), ids.size(), n_embd));
    }
    const auto m = engine::LoadedModel::load(gguf, {.device = device == "cpu" ? "" : device,
                                                    .n_gpu_layers = device == "cpu" ? 0 : 999});
    r.loaded = true;
    const auto got_ids = engine::tokenize(m, text, true);
    if (got_ids != ids) {
        size_t at = 0;
        while (at < std::min(got_ids.size(), ids.size()) && got_ids[at] == ids[at]) ++at;
        r.reason = fmt::format("tokenization differs from transformers' at position {} ({} ids, the reference {})", at,
                               got_ids.size(), ids.size());
    }
    auto mean = embed_one(m, text, Pooling::mean, true, n_threads);
    const auto first = embed_one(m, text, Pooling::cls, false, n_threads);
    const auto last = embed_one(m, text, Pooling::last, false, n_threads);
    if (perturbed(c)) {
        for (auto& v : mean) v = -v;
    }
    if (mean.size() != n_embd || first.size() != n_embd || last.size() != n_embd) {
        throw Error(ErrorKind::invalid_input, fmt::format("accel's embedding has {} values, the reference {}", mean.size(), n_embd));
    }
    add_metric(r, c, t, HfMetric::embedding_max_abs, max_abs_diff(mean.data(), mean_ref.data(), n_embd));
    add_metric(r, c, t, HfMetric::embedding_cosine, cosine(mean.data(), mean_ref.data(), n_embd));
    const double state = std::max(max_abs_diff(first.data(), states.data(), n_embd),
                                  max_abs_diff(last.data(), states.data() + (ids.size() - 1) * n_embd, n_embd));
    add_metric(r, c, t, HfMetric::state_rel, state / range_of(states));
}

// BertForSequenceClassification: llama.cpp's pooling rank (pooler, tanh, classifier) against transformers' logits.
void run_classifier(const HfClass& c, const fs::path& dir, const fs::path& gguf, const std::string& device,
                    ConvertType t, int32_t n_threads, ConformResult& r) {
    const auto ref = json::parse(read_text(dir / "reference.json"));
    const auto expected = read_f32_tensor(dir / "reference.safetensors", "logits");
    model::convert_hf(dir, gguf, {.type = t});
    const auto m = engine::LoadedModel::load(gguf, {.device = device == "cpu" ? "" : device,
                                                    .n_gpu_layers = device == "cpu" ? 0 : 999});
    auto got = embed_one(m, ref.at("text").get<std::string>(), engine::Pooling::rank, false, n_threads);
    if (perturbed(c)) {
        for (auto& v : got) v = -v;
    }
    if (got.size() != expected.size()) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: accel gave {} classification logits, transformers {}",
                                                          dir.string(), got.size(), expected.size()));
    }
    add_metric(r, c, t, HfMetric::class_logits_rel, max_abs_diff(got.data(), expected.data(), got.size()) / range_of(expected));
}

std::optional<ConvertType> convert_type(engine::WeightType w) {
    switch (w) {
        case engine::WeightType::f32: return ConvertType::f32;
        case engine::WeightType::f16: return ConvertType::f16;
        case engine::WeightType::q8_0: return ConvertType::q8_0;
        case engine::WeightType::q4_0: return std::nullopt;
    }
    return std::nullopt;
}

ConformResult base_result(const HfClass& c, const std::string& device, engine::WeightType type) {
    ConformResult r;
    r.arch = c.model_type;
    r.device = device;
    r.type = engine::to_string(type);
    r.output_kind = c.run == HfRun::decoder_logits ? "logits" : c.run == HfRun::encoder_embeddings ? "embeddings" : "";
    r.status = ConformStatus::not_yet;
    r.stage = "start";
    r.reference = "none";  // until a fixture names its transformers version
    return r;
}

ConformResult run_hf_case(const HfClass& c, const std::string& device, engine::WeightType type,
                          const ConformOptions& opts, const fs::path& model_dir) {
    ConformResult r = base_result(c, device, type);
    const auto t0 = std::chrono::steady_clock::now();
    if (c.run == HfRun::none) {
        r.reason = c.not_yet;
        return r;
    }
    std::error_code ec;
    const fs::path dir = opts.hf_fixtures / c.fixture;
    if (opts.hf_fixtures.empty() || !fs::is_regular_file(dir / "reference.json", ec)) {
        r.reason = opts.hf_fixtures.empty()
                       ? "no Hugging Face fixtures: pass --hf-fixtures DIR (tests/fixtures/hf of accel's source tree)"
                       : fmt::format("no fixture {} (reference.json)", dir.string());
        return r;
    }
    r.reference = hf_fixture_reference(dir);
    const auto ct = convert_type(type);
    if (!ct) {
        r.reason = "against transformers q4_0 gets a divergence report (KL, top-1), not a pass/fail: not written yet";
        return r;
    }
    const fs::path work = model_dir / ("hf-" + c.model_type);
    paths::ensure_dir(work);
    const std::string tag = fmt::format("{}-{}-{}", device, r.type, ::getpid());
    const fs::path gguf = work / fmt::format("model-{}.gguf", r.type);
    const detail::ChildFiles files{.result = work / ("result-" + tag + ".json"), .stage = work / ("stage-" + tag),
                                   .log = work / ("stderr-" + tag + ".log")};
    r.status = ConformStatus::fail;
    auto outcome = detail::run_in_child(r, files, opts.timeout_s, [&] {
        ConformResult cr = r;
        try {
            detail::write_stage(files, "convert");
            cr.stage = "convert";
            const auto conv = model::convert_hf(dir, gguf, {.type = *ct});
            cr.llama_arch = conv.arch;
            detail::write_stage(files, "run");
            cr.stage = "run";
            if (const char* crash = std::getenv("ACCEL_CONFORM_CRASH"); crash != nullptr && "hf:" + c.model_type == crash) {
                std::abort();
            }
            if (c.run == HfRun::decoder_logits) {
                run_decoder(c, dir, gguf, device, *ct, opts.n_threads, cr);
            } else {
                run_encoder(c, dir, gguf, device, *ct, opts.n_threads, cr);
                if (!c.head_fixture.empty() && fs::is_directory(opts.hf_fixtures / c.head_fixture, ec)) {
                    run_classifier(c, opts.hf_fixtures / c.head_fixture, work / fmt::format("model-head-{}.gguf", r.type),
                                   device, *ct, opts.n_threads, cr);
                }
            }
            cr.stage = "done";
            std::vector<std::string> why;
            if (!cr.reason.empty()) why.push_back(cr.reason);
            for (const auto& m : cr.metrics) {
                const bool ok = m.higher_is_better ? m.value >= m.limit : m.value <= m.limit;
                if (!ok) why.push_back(fmt::format("{} {:.3g} {} {:.3g}", m.name, m.value, m.higher_is_better ? "<" : ">", m.limit));
            }
            cr.reason.clear();
            for (const auto& w : why) cr.reason += (cr.reason.empty() ? "" : "; ") + w;
            cr.status = why.empty() ? ConformStatus::pass : ConformStatus::fail;
        } catch (const Error& e) {
            cr.status = ConformStatus::fail;
            cr.reason = e.what();
        }
        return cr;
    });
    r = std::move(outcome.result);
    if (fs::exists(gguf, ec)) {
        r.model_path = gguf;
        r.model_bytes = static_cast<int64_t>(fs::file_size(gguf, ec));
    }
    r.wall_ms = ms_since(t0);
    return r;
}

}  // namespace

const std::vector<HfClass>& hf_classes() {
    static const std::vector<HfClass> classes = {
        {"bert", "bert", HfRun::encoder_embeddings, "", "bert_cls"},
        {"clap", "", HfRun::none, "audio-text (CLAP): no converter or engine in accel yet"},
        {"clip", "", HfRun::none, "vision-text (CLIP): no converter or engine in accel yet"},
        {"detr", "", HfRun::none, "object detection (DETR): no converter or engine in accel yet"},
        {"llama", "llama", HfRun::decoder_logits, ""},
        {"llava", "", HfRun::none, "vision-language: converting the vision tower and projector for libmtmd is not done yet"},
        {"llava_next", "", HfRun::none,
         "vision-language: converting the vision tower and projector for libmtmd is not done yet"},
        {"qwen2", "qwen2", HfRun::decoder_logits, ""},
        // T5 SLOT (issue 19): the T5 converter, fixture (scripts/oracle/fixture_t5.py) and the engine's
        // encoder-decoder logits land from another branch. To wire it: add HfRun::encoder_decoder_logits, a
        // run_encoder_decoder() beside run_decoder() above, fixture "t5", and t5 rows in model::hf_limits().
        {"t5", "", HfRun::none, "encoder-decoder (T5): its converter, fixture and engine case are not wired in yet"},
        {"vit", "", HfRun::none, "image classification (ViT): no converter or engine in accel yet"},
        {"wav2vec2", "", HfRun::none, "speech encoder (Wav2Vec2, CTC): no converter or engine in accel yet"},
        {"whisper", "", HfRun::none, "speech-to-text (Whisper, whisper.cpp): its converter and fixture are not made yet"},
        {"xclip", "", HfRun::none, "video-text (X-CLIP): no converter or engine in accel yet"},
    };
    return classes;
}

const HfClass* find_hf_class(std::string_view model_type) {
    for (const auto& c : hf_classes()) {
        if (c.model_type == model_type) return &c;
    }
    return nullptr;
}

std::string hf_fixture_reference(const fs::path& fixture_dir) {
    std::error_code ec;
    if (fs::is_regular_file(fixture_dir / "reference.json", ec)) {
        const auto j = json::parse(read_text(fixture_dir / "reference.json"), nullptr, false);
        if (j.is_object() && j.contains("reference") && j["reference"].is_string()) return j["reference"];
    }
    const fs::path versions = fixture_dir.parent_path() / "VERSIONS";
    if (fs::is_regular_file(versions, ec)) {
        std::istringstream in(read_text(versions));
        for (std::string line; std::getline(in, line);) {
            if (line.rfind("transformers ", 0) == 0) return line;
        }
    }
    throw Error(ErrorKind::invalid_input, fmt::format("{}: neither reference.json nor ../VERSIONS names the transformers "
                                                      "version of the reference", fixture_dir.string()));
}

namespace detail {

std::vector<ConformResult> run_hf_cases(const std::vector<std::string>& names, const std::vector<std::string>& devices,
                                        const ConformOptions& opts, const fs::path& model_dir) {
    const bool all = names.empty() || (names.size() == 1 && names[0] == "all");
    std::vector<ConformResult> out;
    for (const auto& c : hf_classes()) {
        if (!all && std::find(names.begin(), names.end(), c.model_type) == names.end()) continue;
        if (c.run == HfRun::none) {  // one row says why, whatever the devices and types
            out.push_back(base_result(c, "-", engine::WeightType::f32));
            out.back().type = "-";
            out.back().reason = c.not_yet;
            if (opts.on_result) opts.on_result(out.back());
            continue;
        }
        for (const auto& dev : devices) {
            for (const auto type : opts.types) {
                out.push_back(run_hf_case(c, dev, type, opts, model_dir));
                if (opts.on_result) opts.on_result(out.back());
            }
        }
    }
    return out;
}

}  // namespace detail
}  // namespace accel::bench
