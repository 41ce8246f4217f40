// The text classes against transformers: decoders (llama, qwen2), the encoder (bert) with its classification head,
// and the encoder-decoder (t5). Shared helpers of every run are here too (hf_cases.h).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "accel/core/error.h"
#include "accel/engine/embedder.h"
#include "accel/engine/session.h"
#include "accel/engine/token_logits.h"
#include "accel/model/hf_convert.h"
#include "accel/model/safetensors_file.h"
#include "hf_cases.h"

namespace accel::bench::detail {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using model::HfMetric;

double cosine(const float* a, const float* b, size_t n) {
    double dot = 0, a2 = 0, b2 = 0;
    for (size_t i = 0; i < n; ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        a2 += static_cast<double>(a[i]) * a[i];
        b2 += static_cast<double>(b[i]) * b[i];
    }
    return dot / std::sqrt(a2 * b2);
}

engine::LoadedModel load_on(const fs::path& gguf, const std::string& device) {
    return engine::LoadedModel::load(gguf, {.device = device == "cpu" ? "" : device,
                                            .n_gpu_layers = device == "cpu" ? 0 : 999});
}

std::vector<float> embed_one(const engine::LoadedModel& m, const std::string& text, engine::Pooling pooling,
                             bool normalize, int32_t n_threads) {
    auto s = engine::Session::open(m, {.n_ctx = 512, .n_threads = n_threads, .type_k = model::KvType::f32,
                                       .type_v = model::KvType::f32, .flash_attn = model::FlashAttn::off,
                                       .embeddings = true, .pooling = pooling});
    return engine::embed(s, {text}, {.normalize = normalize}).at(0);
}

void negate_if_perturbed(const HfClass& c, std::vector<float>& v) {
    if (!perturbed(c)) return;
    for (auto& x : v) x = -x;
}

}  // namespace

std::string read_text(const fs::path& p) {
    std::ifstream f(p);
    if (!f) throw Error(ErrorKind::io, "cannot read " + p.string());
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<float> read_f32_tensor(const fs::path& file, const std::string& name) {
    const model::SafetensorsFile st = model::read_safetensors(file);
    for (const auto& t : st.tensors) {
        if (t.name != name) continue;
        if (t.dtype != "F32") throw Error(ErrorKind::invalid_input, fmt::format("{}: {} is {}, not F32", file.string(), name, t.dtype));
        const std::vector<uint8_t> raw = model::read_tensor_bytes(file, st.header_bytes, t);
        std::vector<float> out(t.n_elements);
        std::memcpy(out.data(), raw.data(), std::min(raw.size(), out.size() * sizeof(float)));
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

size_t argmax(const float* row, size_t n) { return static_cast<size_t>(std::max_element(row, row + n) - row); }

bool perturbed(const HfClass& c) {
    const char* p = std::getenv("ACCEL_CONFORM_PERTURB");
    return p != nullptr && std::string_view(p) == "hf:" + c.model_type;
}

void add_metric(ConformResult& r, const HfCase& c, HfMetric m, double value) {
    const auto limit = model::hf_limit(c.cls.model_type, c.type, m);
    if (!limit) return;
    r.metrics.push_back({std::string(model::to_string(m)), value, *limit, model::higher_is_better(m)});
}

double teacher_forced_top1(const std::vector<float>& got, const std::vector<float>& expected, size_t n_vocab,
                           size_t first_greedy, const std::vector<int32_t>& generated, const std::vector<double>& margins) {
    size_t n_checked = 0, n_agree = 0;
    for (size_t row = 0; row * n_vocab < expected.size(); ++row) {
        const float* e = expected.data() + row * n_vocab;
        const bool greedy = row >= first_greedy && row - first_greedy < generated.size();
        double margin = 0;
        if (greedy) {
            margin = margins.at(row - first_greedy);
        } else {
            std::vector<float> top(e, e + n_vocab);
            std::partial_sort(top.begin(), top.begin() + 2, top.end(), std::greater<>());
            margin = static_cast<double>(top[0]) - top[1];
        }
        if (margin <= model::hf_top1_epsilon) continue;
        const size_t want = greedy ? static_cast<size_t>(generated[row - first_greedy]) : argmax(e, n_vocab);
        ++n_checked;
        n_agree += argmax(got.data() + row * n_vocab, n_vocab) == want ? 1 : 0;
    }
    return n_checked == 0 ? 1.0 : static_cast<double>(n_agree) / static_cast<double>(n_checked);
}

void run_decoder(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    auto tokens = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
    const size_t n_prompt = tokens.size();
    tokens.insert(tokens.end(), generated.begin(), generated.end());
    const auto expected = read_f32_tensor(c.dir / "reference.safetensors", "logits");
    auto got = engine::token_logits(c.model, tokens, c.device, c.n_threads);
    r.loaded = true;
    negate_if_perturbed(c.cls, got.values);
    if (got.values.size() != expected.size()) {
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} logits, the reference {}", got.values.size(),
                                                          expected.size()));
    }
    add_metric(r, c, HfMetric::logits_rel,
               max_abs_diff(got.values.data(), expected.data(), expected.size()) / range_of(expected));
    // row n_prompt - 1 + k predicted generated[k]
    r.top1 = teacher_forced_top1(got.values, expected, got.n_vocab, n_prompt - 1, generated,
                                 ref.at("top1_margins").get<std::vector<double>>());
    add_metric(r, c, HfMetric::top1, *r.top1);
}

void run_encoder(const HfCase& c, ConformResult& r) {
    using engine::Pooling;
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    const auto text = ref.at("text").get<std::string>();
    const auto ids = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto st = c.dir / "reference.safetensors";
    const auto mean_ref = read_f32_tensor(st, "mean_pooled_normalized");
    const auto states = read_f32_tensor(st, "last_hidden_state");
    const size_t n_embd = mean_ref.size();
    if (states.size() != ids.size() * n_embd) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: last_hidden_state is not {} x {}", st.string(), ids.size(), n_embd));
    }
    const auto m = load_on(c.model, c.device);
    r.loaded = true;
    const auto got_ids = engine::tokenize(m, text, true);
    if (got_ids != ids) {
        size_t at = 0;
        while (at < std::min(got_ids.size(), ids.size()) && got_ids[at] == ids[at]) ++at;
        r.reason = fmt::format("tokenization differs from transformers' at position {} ({} ids, the reference {})", at,
                               got_ids.size(), ids.size());
    }
    auto mean = embed_one(m, text, Pooling::mean, true, c.n_threads);
    const auto first = embed_one(m, text, Pooling::cls, false, c.n_threads);
    const auto last = embed_one(m, text, Pooling::last, false, c.n_threads);
    negate_if_perturbed(c.cls, mean);
    if (mean.size() != n_embd || first.size() != n_embd || last.size() != n_embd) {
        throw Error(ErrorKind::invalid_input, fmt::format("accel's embedding has {} values, the reference {}", mean.size(), n_embd));
    }
    add_metric(r, c, HfMetric::embedding_max_abs, max_abs_diff(mean.data(), mean_ref.data(), n_embd));
    add_metric(r, c, HfMetric::embedding_cosine, cosine(mean.data(), mean_ref.data(), n_embd));
    const double state = std::max(max_abs_diff(first.data(), states.data(), n_embd),
                                  max_abs_diff(last.data(), states.data() + (ids.size() - 1) * n_embd, n_embd));
    add_metric(r, c, HfMetric::state_rel, state / range_of(states));
}

// BertForSequenceClassification: llama.cpp's pooling rank (pooler, tanh, classifier) against transformers' logits.
void run_classifier(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    const auto expected = read_f32_tensor(c.dir / "reference.safetensors", "logits");
    model::convert_hf(c.dir, c.model, {.type = c.type});
    const auto m = load_on(c.model, c.device);
    auto got = embed_one(m, ref.at("text").get<std::string>(), engine::Pooling::rank, false, c.n_threads);
    negate_if_perturbed(c.cls, got);
    if (got.size() != expected.size()) {
        throw Error(ErrorKind::invalid_input, fmt::format("{}: accel gave {} classification logits, transformers {}",
                                                          c.dir.string(), got.size(), expected.size()));
    }
    add_metric(r, c, HfMetric::class_logits_rel, max_abs_diff(got.data(), expected.data(), got.size()) / range_of(expected));
}

// T5: llama_encode over transformers' input ids, then the decoder from its start token over the reference's greedy
// ids (engine::seq2seq_logits); the encoder's output and every decoder row's logits.
void run_seq2seq(const HfCase& c, ConformResult& r) {
    const auto ref = json::parse(read_text(c.dir / "reference.json"));
    const auto ids = ref.at("input_ids").get<std::vector<int32_t>>();
    const auto generated = ref.at("generated_ids").get<std::vector<int32_t>>();
    const auto st = c.dir / "reference.safetensors";
    const auto expected = read_f32_tensor(st, "logits");
    const auto states = read_f32_tensor(st, "encoder_last_hidden_state");
    auto got = engine::seq2seq_logits(c.model, ids, generated, c.device, c.n_threads);
    r.loaded = true;
    negate_if_perturbed(c.cls, got.logits.values);
    if (got.decoder_start_token != ref.at("decoder_start_token_id").get<int32_t>()) {
        r.reason = fmt::format("decoder start token {} (transformers: {})", got.decoder_start_token,
                               ref.at("decoder_start_token_id").get<int32_t>());
    }
    if (got.logits.values.size() != expected.size() || got.encoder_states.size() != states.size()) {
        throw Error(ErrorKind::invalid_input, fmt::format("accel gave {} logits and {} encoder values, the reference {} "
                                                          "and {}", got.logits.values.size(), got.encoder_states.size(),
                                                          expected.size(), states.size()));
    }
    add_metric(r, c, HfMetric::logits_rel,
               max_abs_diff(got.logits.values.data(), expected.data(), expected.size()) / range_of(expected));
    add_metric(r, c, HfMetric::state_rel,
               max_abs_diff(got.encoder_states.data(), states.data(), states.size()) / range_of(states));
    // row 0 (after the start token) predicted generated[0]
    r.top1 = teacher_forced_top1(got.logits.values, expected, got.logits.n_vocab, 0, generated,
                                 ref.at("top1_margins").get<std::vector<double>>());
    add_metric(r, c, HfMetric::top1, *r.top1);
}

}  // namespace accel::bench::detail
