// LLaVA and LLaVA-Next (multimodal_generator.h): a LLaVA projector's images go through accel's graph
// (graphs/llava_vision.h) and the prompt's text through llama.cpp's tokenizer, as libmtmd would split it; any other
// projector through libmtmd (its tokenizer and clip.cpp). llama.cpp decodes the text tokens and the image embeddings.
#include "accel/engine/multimodal_generator.h"

#include <gguf.h>
#include <llama.h>
#include <mtmd-helper.h>
#include <mtmd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/core.h>

#include "accel/core/error.h"
#include "accel/engine/backend.h"
#include "graphs/llava_vision.h"
#include "model_io.h"

namespace accel::engine {
namespace {

namespace fs = std::filesystem;

struct MtmdFree {
    void operator()(mtmd_context* c) const { mtmd_free(c); }
};
struct ChunksFree {
    void operator()(mtmd_input_chunks* c) const { mtmd_input_chunks_free(c); }
};
struct BitmapFree {
    void operator()(mtmd_bitmap* b) const { mtmd_bitmap_free(b); }
};
struct SamplerFree {
    void operator()(llama_sampler* s) const { llama_sampler_free(s); }
};
using ChunksPtr = std::unique_ptr<mtmd_input_chunks, ChunksFree>;
using BitmapPtr = std::unique_ptr<mtmd_bitmap, BitmapFree>;

// libmtmd logs through its own callback: send it where llama.cpp's goes (backend.cpp routes that to accel's log).
void route_mtmd_log() {
    static std::once_flag once;
    std::call_once(once, [] {
        ggml_log_callback cb = nullptr;
        void* ud = nullptr;
        llama_log_get(&cb, &ud);
        mtmd_helper_log_set(cb, ud);
    });
}

// What the projector file says about itself, read before libmtmd sees it: its kind and its output width (the
// bias of the MLP projector's last layer).
struct MmprojInfo {
    std::string arch;
    bool vision = false;
    int64_t n_out = 0;  // 0: not readable from the tensors (another projector type)
    bool llava = false; // LLaVA's: projector type "mlp" with a CLS token and at most one feature layer
};

MmprojInfo read_mmproj(const fs::path& mmproj) {
    std::error_code ec;
    if (!fs::is_regular_file(mmproj, ec))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no such projector file (--mmproj)", mmproj.string()));
    gguf_init_params gp{.no_alloc = true, .ctx = nullptr};
    detail::GgufPtr g(gguf_init_from_file(mmproj.c_str(), gp));
    if (!g) throw Error(ErrorKind::invalid_input, fmt::format("{}: not a readable GGUF file (--mmproj)", mmproj.string()));
    MmprojInfo info;
    if (const int64_t k = gguf_find_key(g.get(), "general.architecture"); k >= 0 && gguf_get_kv_type(g.get(), k) == GGUF_TYPE_STRING)
        info.arch = gguf_get_val_str(g.get(), k);
    if (const int64_t k = gguf_find_key(g.get(), "clip.has_vision_encoder"); k >= 0 && gguf_get_kv_type(g.get(), k) == GGUF_TYPE_BOOL)
        info.vision = gguf_get_val_bool(g.get(), k);
    else
        info.vision = gguf_find_key(g.get(), "clip.vision.embedding_length") >= 0;
    std::string projector;
    if (const int64_t k = gguf_find_key(g.get(), "clip.projector_type"); k >= 0 && gguf_get_kv_type(g.get(), k) == GGUF_TYPE_STRING)
        projector = gguf_get_val_str(g.get(), k);
    const int64_t fl = gguf_find_key(g.get(), "clip.vision.feature_layer");
    info.llava = projector == "mlp" && gguf_find_tensor(g.get(), "v.class_embd") >= 0 &&
                 (fl < 0 || (gguf_get_kv_type(g.get(), fl) == GGUF_TYPE_ARRAY && gguf_get_arr_n(g.get(), fl) == 1));
    // the width is in the tensor infos; their shapes need the ggml context gguf_init can make
    ggml_context* meta = nullptr;
    gguf_init_params gm{.no_alloc = true, .ctx = &meta};
    detail::GgufPtr g2(gguf_init_from_file(mmproj.c_str(), gm));
    if (g2 && meta != nullptr) {
        for (const char* name : {"mm.2.bias", "mm.0.bias"}) {
            if (const ggml_tensor* t = ggml_get_tensor(meta, name)) {
                info.n_out = t->ne[0];
                break;
            }
        }
        ggml_free(meta);
    }
    return info;
}

int32_t threads_or_all(int32_t n) {
    return n > 0 ? n : static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
}

std::vector<llama_token> tokenize_text(const llama_vocab* vocab, const std::string& text) {
    if (text.empty()) return {};
    std::vector<llama_token> ids(text.size() + 2);
    int32_t n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(),
                               static_cast<int32_t>(ids.size()), false, true);
    if (n < 0) {
        ids.resize(static_cast<size_t>(-n));
        n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(), -n, false, true);
    }
    if (n < 0) throw Error(ErrorKind::invalid_input, "llama.cpp could not tokenize the prompt");
    ids.resize(static_cast<size_t>(n));
    return ids;
}

// One piece of a prompt on accel's image side: text tokens, or an image (preprocessed, then embedded).
struct Part {
    std::vector<llama_token> ids;
    bool is_image = false;
    graphs::LlavaImage image;
    std::vector<float> embd;
};

}  // namespace

struct MultimodalGenerator::Impl {
    detail::ModelPtr model;
    detail::ContextPtr ctx;
    std::unique_ptr<mtmd_context, MtmdFree> mtmd;
    std::unique_ptr<llama_sampler, SamplerFree> sampler;
    ChunksPtr chunks;
    std::vector<std::vector<float>> embd;  // per chunk: the image's embeddings (empty for text chunks)
    std::unique_ptr<graphs::LlavaVision> vision;  // a LLaVA projector on accel's graph (then no libmtmd)
    std::vector<Part> parts;                       // the prompt, on accel's image side
    llama_pos n_past = 0;
    int32_t n_batch = 0;
    bool prefilled = false;

    void clear() {
        llama_memory_clear(llama_get_memory(ctx.get()), true);
        n_past = 0;
        prefilled = false;
        embd.clear();
        chunks.reset();
        parts.clear();
    }

    // One decode of n rows: token ids, or embeddings (n x n_embd) when `e` is set; logits for every row when asked.
    void decode(const int32_t* ids, const float* e, int32_t n, bool all_logits) {
        const int32_t n_embd = llama_model_n_embd_inp(model.get());
        for (int32_t start = 0; start < n; start += n_batch) {
            const int32_t m = std::min(n_batch, n - start);
            detail::BatchPtr b(new llama_batch(llama_batch_init(m, e != nullptr ? n_embd : 0, 1)));
            for (int32_t i = 0; i < m; ++i) {
                if (e != nullptr) {
                    std::memcpy(b->embd + size_t(i) * n_embd, e + size_t(start + i) * n_embd, sizeof(float) * n_embd);
                } else {
                    b->token[i] = ids[start + i];
                }
                b->pos[i] = n_past + i;
                b->n_seq_id[i] = 1;
                b->seq_id[i][0] = 0;
                b->logits[i] = all_logits || start + i == n - 1;
            }
            b->n_tokens = m;
            clear_backend_message();
            if (llama_decode(ctx.get(), *b) != 0)
                throw Error(ErrorKind::backend, fmt::format("llama_decode failed at position {}: {}", n_past,
                                                            last_backend_message()));
            n_past += m;
        }
    }

    std::vector<float> encode(const mtmd_input_chunk* chunk) {
        if (mtmd_encode_chunk(mtmd.get(), chunk) != 0)
            throw Error(ErrorKind::backend, "libmtmd could not encode an image: " + last_backend_message());
        const size_t n = mtmd_input_chunk_get_n_tokens(chunk) * size_t(llama_model_n_embd_inp(model.get()));
        const float* out = mtmd_get_output_embd(mtmd.get());
        return {out, out + n};
    }

    // The prompt split at the markers as libmtmd splits it: each text tokenized without specials, BOS first (EOS
    // last) when the vocabulary adds them, an image part per marker.
    MultimodalPrompt split(const std::string& prompt, std::span<const media::Image> images) {
        const std::string marker = mtmd_default_marker();
        const llama_vocab* vocab = llama_model_get_vocab(model.get());
        std::vector<std::string> texts;
        size_t at = 0;
        for (size_t f = prompt.find(marker); f != std::string::npos; f = prompt.find(marker, at)) {
            texts.push_back(prompt.substr(at, f - at));
            at = f + marker.size();
        }
        texts.push_back(prompt.substr(at));
        if (texts.size() - 1 != images.size())
            throw Error(ErrorKind::invalid_input, fmt::format("the prompt has {} image markers ({}) and {} images",
                                                              texts.size() - 1, marker, images.size()));
        MultimodalPrompt p;
        for (size_t i = 0; i < texts.size(); ++i) {
            if (i > 0) {
                Part im{.ids = {}, .is_image = true, .image = vision->preprocess(images[i - 1]), .embd = {}};
                p.n_image_tokens += static_cast<int32_t>(vision->n_embeddings(im.image.height, im.image.width));
                ++p.n_images;
                parts.push_back(std::move(im));
            }
            auto ids = tokenize_text(vocab, texts[i]);
            if (i == 0 && llama_vocab_get_add_bos(vocab)) ids.insert(ids.begin(), llama_vocab_bos(vocab));
            if (i + 1 == texts.size() && llama_vocab_get_add_eos(vocab)) ids.push_back(llama_vocab_eos(vocab));
            if (ids.empty()) continue;
            p.n_text_tokens += static_cast<int32_t>(ids.size());
            parts.push_back({.ids = std::move(ids), .is_image = false, .image = {}, .embd = {}});
        }
        return p;
    }

    // Teacher forcing over ids; the k-th run of image ids takes embed(k) (n_embd-wide rows).
    TokenLogits forced(const std::vector<int32_t>& ids, int32_t image_token_id, size_t n_images,
                       const std::function<std::vector<float>(size_t)>& embed) {
        clear();
        const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model.get()));
        const auto n_embd = static_cast<size_t>(llama_model_n_embd_inp(model.get()));
        TokenLogits out{.n_vocab = static_cast<uint32_t>(n_vocab)};
        size_t next_image = 0;
        for (size_t i = 0; i < ids.size();) {
            size_t j = i;
            const bool image = ids[i] == image_token_id;
            while (j < ids.size() && (ids[j] == image_token_id) == image) ++j;
            const auto n = static_cast<int32_t>(j - i);
            if (n > n_batch) throw Error(ErrorKind::invalid_input, "a run of ids longer than the context's batch");
            if (!image) {
                decode(ids.data() + i, nullptr, n, true);
            } else {
                if (next_image >= n_images)
                    throw Error(ErrorKind::invalid_input,
                                fmt::format("more image runs in the ids than images ({})", n_images));
                const std::vector<float> e = embed(next_image++);
                if (e.size() != size_t(n) * n_embd)
                    throw Error(ErrorKind::invalid_input, fmt::format("image {} makes {} embeddings; the ids hold {} "
                                                                      "image ids for it", next_image, e.size() / n_embd, n));
                decode(nullptr, e.data(), n, true);
            }
            for (int32_t r = 0; r < n; ++r) {  // the rows of the last decode
                const float* row = llama_get_logits_ith(ctx.get(), r);
                out.values.insert(out.values.end(), row, row + n_vocab);
            }
            out.n_rows += static_cast<uint32_t>(n);
            i = j;
        }
        if (next_image != n_images)
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{} images but {} image runs in the ids", n_images, next_image));
        return out;
    }

    ChunksPtr tokenize(const std::string& text, std::span<const media::Image> images, bool add_special) {
        std::vector<BitmapPtr> bitmaps;
        std::vector<const mtmd_bitmap*> raw;
        for (const auto& im : images) {
            bitmaps.emplace_back(mtmd_bitmap_init(im.width, im.height, im.rgb.data()));
            if (!bitmaps.back()) throw Error(ErrorKind::invalid_input, "libmtmd refused an image");
            raw.push_back(bitmaps.back().get());
        }
        ChunksPtr out(mtmd_input_chunks_init());
        const mtmd_input_text in{.text = text.c_str(), .text_len = text.size(), .add_special = add_special,
                                 .parse_special = true};
        const int32_t rc = mtmd_tokenize(mtmd.get(), out.get(), &in, raw.data(), raw.size());
        if (rc == 1)
            throw Error(ErrorKind::invalid_input, fmt::format("the prompt has a different number of image markers ({}) "
                                                              "than images ({})", image_marker(), images.size()));
        if (rc != 0) throw Error(ErrorKind::invalid_input, "libmtmd could not preprocess an image: " + last_backend_message());
        return out;
    }
};

MultimodalGenerator::MultimodalGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MultimodalGenerator::MultimodalGenerator(MultimodalGenerator&&) noexcept = default;
MultimodalGenerator& MultimodalGenerator::operator=(MultimodalGenerator&&) noexcept = default;
MultimodalGenerator::~MultimodalGenerator() = default;

std::string MultimodalGenerator::image_marker() { return mtmd_default_marker(); }

std::string MultimodalGenerator::llava_prompt(const std::string& text, size_t n_images) {
    const std::string marker = image_marker();
    if (text.find(marker) != std::string::npos) return "USER: " + text + " ASSISTANT:";
    std::string markers;
    for (size_t i = 0; i < n_images; ++i) markers += marker;
    return fmt::format("USER: {}\n{} ASSISTANT:", markers, text);
}

MultimodalGenerator MultimodalGenerator::load(const fs::path& model, const fs::path& mmproj,
                                              const MultimodalParams& params) {
    init_backend();
    route_mtmd_log();
    const MmprojInfo info = read_mmproj(mmproj);
    if (info.arch != "clip" || !info.vision)
        throw Error(ErrorKind::invalid_input, fmt::format("{}: not a vision projector (general.architecture '{}', "
                                                          "expected 'clip' with a vision encoder; see accel convert "
                                                          "--mmproj-out)", mmproj.string(), info.arch));
    std::error_code ec;
    if (!fs::is_regular_file(model, ec))
        throw Error(ErrorKind::invalid_input, fmt::format("{}: no such model file", model.string()));
    auto impl = std::make_unique<Impl>();
    ggml_backend_dev_t devs[2] = {detail::find_device(params.device.empty() ? "cpu" : params.device), nullptr};
    llama_model_params mp = llama_model_default_params();
    mp.progress_callback = detail::quiet_progress;
    mp.devices = devs;
    clear_backend_message();
    impl->model.reset(llama_model_load_from_file(model.c_str(), mp));
    if (!impl->model)
        throw Error(ErrorKind::invalid_input, fmt::format("llama.cpp could not load {}: {}", model.string(), last_backend_message()));
    const int32_t n_embd = llama_model_n_embd_inp(impl->model.get());
    if (info.n_out != 0 && info.n_out != n_embd)
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{} does not belong to {}: the projector gives {}-wide embeddings, the model takes {}",
                                mmproj.string(), model.string(), info.n_out, n_embd));
    const int32_t n_threads = threads_or_all(params.n_threads);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = std::min<uint32_t>(params.n_ctx, static_cast<uint32_t>(llama_model_n_ctx_train(impl->model.get())));
    cp.n_batch = cp.n_ctx;
    cp.n_ubatch = std::min<uint32_t>(cp.n_ctx, 512);
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    if (params.reference) {
        cp.type_k = GGML_TYPE_F32;
        cp.type_v = GGML_TYPE_F32;
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    impl->ctx.reset(llama_init_from_model(impl->model.get(), cp));
    if (!impl->ctx) throw Error(ErrorKind::backend, "llama.cpp could not create a context: " + last_backend_message());
    impl->n_batch = static_cast<int32_t>(cp.n_batch);
    impl->sampler.reset(llama_sampler_init_greedy());
    if (info.llava && !params.libmtmd_vision) {
        impl->vision = std::make_unique<graphs::LlavaVision>(mmproj, params.device, n_threads);
        if (static_cast<int32_t>(impl->vision->n_out()) != n_embd)
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{} does not belong to {}: the projector gives {}-wide embeddings, the model takes {}",
                                    mmproj.string(), model.string(), impl->vision->n_out(), n_embd));
        return MultimodalGenerator(std::move(impl));
    }
    mtmd_context_params mc = mtmd_context_params_default();
    mc.use_gpu = devs[0] != nullptr && ggml_backend_dev_type(devs[0]) != GGML_BACKEND_DEVICE_TYPE_CPU;
    mc.device = mc.use_gpu ? devs[0] : nullptr;
    mc.print_timings = false;
    mc.n_threads = n_threads;
    mc.warmup = false;
    clear_backend_message();
    impl->mtmd.reset(mtmd_init_from_file(mmproj.c_str(), impl->model.get(), mc));
    if (!impl->mtmd)
        throw Error(ErrorKind::invalid_input, fmt::format("libmtmd could not load {} for {}: {}", mmproj.string(),
                                                          model.string(), last_backend_message()));
    return MultimodalGenerator(std::move(impl));
}

int32_t MultimodalGenerator::n_embd() const { return llama_model_n_embd_inp(impl_->model.get()); }

std::string MultimodalGenerator::vision_runtime() const { return impl_->vision ? "accel" : "libmtmd"; }

MultimodalPrompt MultimodalGenerator::prepare(const std::string& prompt, std::span<const media::Image> images) {
    impl_->clear();
    MultimodalPrompt p;
    if (impl_->vision) {
        p = impl_->split(prompt, images);
    } else {
        impl_->chunks = impl_->tokenize(prompt, images, true);
    }
    for (size_t i = 0; impl_->chunks && i < mtmd_input_chunks_size(impl_->chunks.get()); ++i) {
        const mtmd_input_chunk* c = mtmd_input_chunks_get(impl_->chunks.get(), i);
        const auto n = static_cast<int32_t>(mtmd_input_chunk_get_n_tokens(c));
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            p.n_text_tokens += n;
        } else {
            p.n_image_tokens += n;
            ++p.n_images;
        }
    }
    if (p.n_text_tokens + p.n_image_tokens >= static_cast<int32_t>(llama_n_ctx(impl_->ctx.get())))
        throw Error(ErrorKind::invalid_input, fmt::format("the prompt and its images take {} positions; the context "
                                                          "holds {}", p.n_text_tokens + p.n_image_tokens,
                                                          llama_n_ctx(impl_->ctx.get())));
    return p;
}

void MultimodalGenerator::encode_images() {
    Impl& m = *impl_;
    if (m.vision) {
        for (auto& part : m.parts)
            if (part.is_image) part.embd = m.vision->embed(part.image);
        return;
    }
    if (!m.chunks) throw Error(ErrorKind::internal, "encode_images before prepare");
    m.embd.assign(mtmd_input_chunks_size(m.chunks.get()), {});
    for (size_t i = 0; i < m.embd.size(); ++i) {
        const mtmd_input_chunk* c = mtmd_input_chunks_get(m.chunks.get(), i);
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_IMAGE) m.embd[i] = m.encode(c);
    }
}

void MultimodalGenerator::prefill() {
    Impl& m = *impl_;
    if (m.vision) {
        if (m.parts.empty() || m.parts.back().is_image)
            throw Error(ErrorKind::invalid_input, "the prompt must end with text after its last image (the next token is "
                                                  "predicted from a text token)");
        if (std::any_of(m.parts.begin(), m.parts.end(), [](const Part& p) { return p.is_image && p.embd.empty(); }))
            encode_images();
        const auto n_embd = static_cast<size_t>(llama_model_n_embd_inp(m.model.get()));
        for (const auto& part : m.parts) {
            if (part.is_image) {
                m.decode(nullptr, part.embd.data(), static_cast<int32_t>(part.embd.size() / n_embd), false);
            } else {
                m.decode(part.ids.data(), nullptr, static_cast<int32_t>(part.ids.size()), false);
            }
        }
        m.prefilled = true;
        return;
    }
    if (!m.chunks) throw Error(ErrorKind::internal, "prefill before prepare");
    const size_t n_chunks = mtmd_input_chunks_size(m.chunks.get());
    if (n_chunks == 0 ||
        mtmd_input_chunk_get_type(mtmd_input_chunks_get(m.chunks.get(), n_chunks - 1)) != MTMD_INPUT_CHUNK_TYPE_TEXT)
        throw Error(ErrorKind::invalid_input, "the prompt must end with text after its last image (the next token is "
                                              "predicted from a text token)");
    if (m.embd.empty()) encode_images();
    for (size_t i = 0; i < m.embd.size(); ++i) {
        const mtmd_input_chunk* c = mtmd_input_chunks_get(m.chunks.get(), i);
        if (mtmd_input_chunk_get_type(c) == MTMD_INPUT_CHUNK_TYPE_TEXT) {
            size_t n = 0;
            const llama_token* ids = mtmd_input_chunk_get_tokens_text(c, &n);
            m.decode(ids, nullptr, static_cast<int32_t>(n), false);
        } else {
            clear_backend_message();
            llama_pos next = 0;
            if (mtmd_helper_decode_image_chunk(m.mtmd.get(), m.ctx.get(), c, m.embd[i].data(), m.n_past, 0, m.n_batch,
                                               &next, nullptr, nullptr) != 0)
                throw Error(ErrorKind::backend, "llama_decode failed on the image embeddings: " + last_backend_message());
            m.n_past = next;
        }
    }
    m.prefilled = true;
}

std::optional<std::string> MultimodalGenerator::next() {
    Impl& m = *impl_;
    if (!m.prefilled) throw Error(ErrorKind::internal, "next before prefill");
    const llama_vocab* vocab = llama_model_get_vocab(m.model.get());
    const llama_token t = llama_sampler_sample(m.sampler.get(), m.ctx.get(), -1);
    if (llama_vocab_is_eog(vocab, t) || m.n_past + 1 >= static_cast<llama_pos>(llama_n_ctx(m.ctx.get()))) return std::nullopt;
    char buf[256];
    const int32_t n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
    std::string piece = n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
    m.decode(&t, nullptr, 1, false);
    return piece;
}

TokenLogits MultimodalGenerator::forced_logits(const std::vector<int32_t>& ids, int32_t image_token_id,
                                               std::span<const media::Image> images) {
    Impl& m = *impl_;
    return m.forced(ids, image_token_id, images.size(), [&](size_t k) {
        if (m.vision) return m.vision->embed(m.vision->preprocess(images[k]));
        const ChunksPtr chunks = m.tokenize(image_marker(), images.subspan(k, 1), false);
        std::vector<float> e;
        for (size_t c = 0; c < mtmd_input_chunks_size(chunks.get()); ++c) {
            const mtmd_input_chunk* chunk = mtmd_input_chunks_get(chunks.get(), c);
            if (mtmd_input_chunk_get_type(chunk) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
            const auto part = m.encode(chunk);
            e.insert(e.end(), part.begin(), part.end());
        }
        return e;
    });
}

TokenLogits MultimodalGenerator::forced_logits(const std::vector<int32_t>& ids, int32_t image_token_id,
                                               std::span<const ProcessedImage> images) {
    Impl& m = *impl_;
    if (!m.vision)
        throw Error(ErrorKind::invalid_input, "preprocessed images need accel's own image side (a LLaVA projector, "
                                              "libmtmd_vision off)");
    return m.forced(ids, image_token_id, images.size(), [&](size_t k) {
        return m.vision->embed({.views = images[k].views, .height = images[k].height, .width = images[k].width});
    });
}

}  // namespace accel::engine
