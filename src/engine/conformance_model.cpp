// The conformance suite's models: every llama.cpp architecture built from synthetic metadata, and one forward
// pass. This file and synthetic_model.cpp are the only users of llama.cpp's internal headers (llama-arch.h for the
// list of architectures and the hyperparameter key names, llama-model-saver.h for saving what llama.cpp built):
// the public API has neither. The metadata and the MoE tables are llama.cpp's own tests/test-llama-archs.cpp at the
// pinned commit, copied so that accel builds exactly the models llama.cpp tests.
#include "accel/engine/conformance_model.h"

#include <ggml-backend.h>
#include <ggml.h>
#include <gguf.h>
#include <llama.h>
#include <llama-arch.h>
#include <llama-model-saver.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

#include "accel/core/error.h"
#include "accel/core/partial_file.h"
#include "accel/core/units.h"
#include "accel/engine/backend.h"
#include "deterministic_rng.h"
#include "model_io.h"

namespace accel::engine {
namespace {

using detail::ContextPtr;
using detail::find_device;
using detail::GgufPtr;
using detail::ModelPtr;
using detail::quiet_progress;
using detail::save_model;

uint32_t vocab_size(const gguf_context* vocab) {
    const int64_t key = gguf_find_key(vocab, "tokenizer.ggml.tokens");
    return key < 0 ? 0 : static_cast<uint32_t>(gguf_get_arr_n(vocab, key));
}

// A vocab file also holds its own general.* and <arch>.* keys; only the tokenizer may be copied.
void copy_tokenizer(gguf_context* dst, const gguf_context* vocab) {
    GgufPtr tmp(gguf_init_empty());
    gguf_set_kv(tmp.get(), vocab);
    for (int64_t i = gguf_get_n_kv(tmp.get()) - 1; i >= 0; --i) {
        const std::string key = gguf_get_key(tmp.get(), i);
        if (key.rfind("tokenizer.", 0) != 0) gguf_remove_key(tmp.get(), key.c_str());
    }
    gguf_set_kv(dst, tmp.get());
}

// Architectures with multi-head latent attention; the fixture gives them MLA key/value sizes and a small width.
bool uses_mla_fixture(llm_arch arch) {
    return arch == LLM_ARCH_DEEPSEEK2 || arch == LLM_ARCH_DEEPSEEK32 || arch == LLM_ARCH_GLM_DSA ||
           arch == LLM_ARCH_DOTS3NOTE || arch == LLM_ARCH_KIMI_LINEAR || arch == LLM_ARCH_BAILINGMOE3 ||
           arch == LLM_ARCH_KIMI_K3 || arch == LLM_ARCH_MISTRAL4 || arch == LLM_ARCH_HY_V4;
}

GgufPtr get_gguf_ctx(const llm_arch arch, const bool moe, const gguf_context* vocab) {
    GgufPtr ret(gguf_init_empty());
    llama_model_saver ms(arch, ret.get());
    const uint32_t n_ctx = 256;

    uint32_t n_vocab = vocab != nullptr ? vocab_size(vocab) : 128;
    uint32_t n_embd  = 256;
    uint32_t n_head  = 2;
    uint32_t n_ff    = 384;
    uint32_t n_layer = 2;
    if (arch == LLM_ARCH_LLAMA4) {
        n_layer = 4; // hparams.n_no_rope_layer_step is hard-coded to 4
    } else if (arch == LLM_ARCH_GEMMA4) {
        n_embd = 128;
        n_head = 2;
        n_ff   = 192;
        n_layer = 5; // need at least 5 for swa_pattern (every 5th is full_attention)
    } else if (arch == LLM_ARCH_GEMMA3N) {
        n_embd = 64;
        n_head = 1;
        n_ff   = 96;
        n_layer = 22; // hparams.n_layer_kv_from_start = 20 is hardcoded
    } else if (arch == LLM_ARCH_DEEPSEEK4) {
        // head size 64 so that GPU flash attention kernels support the model
        n_embd  = 512;
        n_head  = 8;
        n_ff    = 1024;
        n_layer = 4;
    } else if (arch == LLM_ARCH_STEP35 || arch == LLM_ARCH_LAGUNA) {
        n_embd = 160; // exercise per-head tensor split granularity with head size 80
    } else if (arch == LLM_ARCH_QWEN3 || arch == LLM_ARCH_MUSE_GLIMMER || arch == LLM_ARCH_AFMOE) {
        n_head = 4;
    } else if (uses_mla_fixture(arch)) {
        n_embd = 128;
        n_head = 1;
        n_ff   = 192;
    } else if (arch == LLM_ARCH_NEMOTRON_H || arch == LLM_ARCH_NEMOTRON_H_MOE) {
        n_layer = 3;
    } else if (arch == LLM_ARCH_CHAMELEON) {
        n_vocab = 10240;
    } else if (arch == LLM_ARCH_QWEN3TTS) {
        //n_vocab = 4096; // must be >= the hard-coded codec head size (3072)
        n_vocab = 3072; // TODO: should be 4096, but user code cannot get `n_vocab_out` yet [TAG_LLAMA_N_VOCAB_OUT]
    } else if (arch == LLM_ARCH_HRM_TEXT) {
        n_layer = 8; // 1 layer per stack x 2 h-cycles x (3 l-cycles + 1) cache slots
    }

    uint32_t n_head_kv = n_head;
    if (arch == LLM_ARCH_QWEN3) {
        n_head_kv = 1; // MQA coverage
    } else if (arch == LLM_ARCH_MUSE_GLIMMER || arch == LLM_ARCH_AFMOE) {
        n_head_kv = 2; // GQA coverage
    }
    const uint32_t n_embd_head = n_embd / n_head;

    ms.add_kv(LLM_KV_GENERAL_ARCHITECTURE,      llm_arch_name(arch));
    ms.add_kv(LLM_KV_VOCAB_SIZE,                n_vocab);
    ms.add_kv(LLM_KV_CONTEXT_LENGTH,            n_ctx);
    ms.add_kv(LLM_KV_EMBEDDING_LENGTH,          n_embd);
    ms.add_kv(LLM_KV_FEATURES_LENGTH,           n_embd);
    ms.add_kv(LLM_KV_BLOCK_COUNT,               n_layer);
    ms.add_kv(LLM_KV_LEADING_DENSE_BLOCK_COUNT, uint32_t(1));

    if (arch == LLM_ARCH_NEMOTRON_H || arch == LLM_ARCH_NEMOTRON_H_MOE) {
        std::vector<uint32_t> n_ff_per_layer;
        n_ff_per_layer.reserve(n_layer);
        for (uint32_t il = 0; il < n_layer; il++) {
            n_ff_per_layer.push_back(il <= 1 ? 0 : n_ff);
        }
        ms.add_kv(LLM_KV_FEED_FORWARD_LENGTH, n_ff_per_layer);
    } else {
        ms.add_kv(LLM_KV_FEED_FORWARD_LENGTH, n_ff);
    }

    ms.add_kv(LLM_KV_USE_PARALLEL_RESIDUAL,   false);
    ms.add_kv(LLM_KV_LOGIT_SCALE,             1.0f);
    ms.add_kv(LLM_KV_TIME_MIX_EXTRA_DIM,      uint32_t(64));
    ms.add_kv(LLM_KV_TIME_DECAY_EXTRA_DIM,    uint32_t(128));
    ms.add_kv(LLM_KV_FULL_ATTENTION_INTERVAL, uint32_t(2));

    if (arch == LLM_ARCH_PLAMO2 || arch == LLM_ARCH_JAMBA || arch == LLM_ARCH_NEMOTRON_H || arch == LLM_ARCH_NEMOTRON_H_MOE ||
            arch == LLM_ARCH_GRANITE_HYBRID || arch == LLM_ARCH_LFM2 || arch == LLM_ARCH_LFM2MOE || arch == LLM_ARCH_KIMI_LINEAR ||
            arch == LLM_ARCH_BAILINGMOE3 || arch == LLM_ARCH_KIMI_K3) {
        GGML_ASSERT(n_layer >= 2);
        std::vector<uint32_t> n_head_per_layer;
        n_head_per_layer.reserve(n_layer);
        for (uint32_t il = 0; il < n_layer; il++) {
            n_head_per_layer.push_back(il == 1 ? 0 : n_head);
        }
        ms.add_kv(LLM_KV_ATTENTION_HEAD_COUNT, n_head_per_layer);
        ms.add_kv(LLM_KV_ATTENTION_HEAD_COUNT_KV, n_head_per_layer);
    } else {
        ms.add_kv(LLM_KV_ATTENTION_HEAD_COUNT, n_head);
        ms.add_kv(LLM_KV_ATTENTION_HEAD_COUNT_KV, arch == LLM_ARCH_DEEPSEEK4 ? uint32_t(1) : n_head_kv);
    }

    ms.add_kv(LLM_KV_ATTENTION_MAX_ALIBI_BIAS, 8.0f);
    if (arch == LLM_ARCH_DEEPSEEK4) {
        ms.add_kv(LLM_KV_ATTENTION_KEY_LENGTH,   n_embd_head);
        ms.add_kv(LLM_KV_ATTENTION_VALUE_LENGTH, n_embd_head);
        ms.add_kv(LLM_KV_ROPE_DIMENSION_COUNT,   n_embd_head/2);
    } else if (uses_mla_fixture(arch)) {
        ms.add_kv(LLM_KV_ATTENTION_KEY_LENGTH,       uint32_t(576));
        ms.add_kv(LLM_KV_ATTENTION_VALUE_LENGTH,     uint32_t(512));
        ms.add_kv(LLM_KV_ROPE_DIMENSION_COUNT,       uint32_t(64));
        ms.add_kv(LLM_KV_ATTENTION_KEY_LENGTH_MLA,   uint32_t(192));
        ms.add_kv(LLM_KV_ATTENTION_VALUE_LENGTH_MLA, uint32_t(128));
        if (arch == LLM_ARCH_DOTS3NOTE) {
            // SWA layers reuse the same MLA geometry as the full layers in this fixture
            ms.add_kv(LLM_KV_ATTENTION_KV_LORA_RANK_SWA,     uint32_t(512));
            ms.add_kv(LLM_KV_ATTENTION_KEY_LENGTH_SWA,       uint32_t(576));
            ms.add_kv(LLM_KV_ATTENTION_VALUE_LENGTH_SWA,     uint32_t(512));
            ms.add_kv(LLM_KV_ATTENTION_KEY_LENGTH_MLA_SWA,   uint32_t(192));
            ms.add_kv(LLM_KV_ATTENTION_VALUE_LENGTH_MLA_SWA, uint32_t(128));
            ms.add_kv(LLM_KV_ROPE_FREQ_BASE_SWA,             10000.0f);
            // indexer on the full-attention layers (inverse of the swa pattern)
            std::vector<uint32_t> indexer_types;
            indexer_types.reserve(n_layer);
            for (uint32_t il = 0; il < n_layer; il++) {
                indexer_types.push_back(il % 2 ? 0 : 1);
            }
            ms.add_kv(LLM_KV_ATTENTION_INDEXER_TYPES, indexer_types);
        }
    } else if (arch == LLM_ARCH_MINIMAX_M3) {
        // partial rotary: n_rot must not exceed the indexer key length (64)
        ms.add_kv(LLM_KV_ROPE_DIMENSION_COUNT,       uint32_t(64));
    }
    ms.add_kv(LLM_KV_ATTENTION_CLAMP_KQV,              1.0f);
    ms.add_kv(LLM_KV_ATTENTION_LAYERNORM_EPS,          1e-5f);
    ms.add_kv(LLM_KV_ATTENTION_LAYERNORM_RMS_EPS,      1e-5f);
    ms.add_kv(LLM_KV_ATTENTION_GROUPNORM_EPS,          1e-5f);
    ms.add_kv(LLM_KV_ATTENTION_GROUPNORM_GROUPS,       uint32_t(8));
    ms.add_kv(LLM_KV_ATTENTION_Q_LORA_RANK,            arch == LLM_ARCH_DEEPSEEK4 ? uint32_t(64) : uint32_t(512));
    ms.add_kv(LLM_KV_ATTENTION_KV_LORA_RANK,           uint32_t(512));
    ms.add_kv(LLM_KV_ATTENTION_RELATIVE_BUCKETS_COUNT, uint32_t(8));
    ms.add_kv(LLM_KV_ATTENTION_SLIDING_WINDOW,         n_ctx/8);

    if (arch == LLM_ARCH_GEMMA4) {
        ms.add_kv(LLM_KV_EMBEDDING_LENGTH_PER_LAYER,      n_embd/2);
        ms.add_kv(LLM_KV_ATTENTION_SHARED_KV_LAYERS,      uint32_t(0));
        ms.add_kv(LLM_KV_ATTENTION_KEY_LENGTH_SWA,        n_embd_head);
        ms.add_kv(LLM_KV_ATTENTION_VALUE_LENGTH_SWA,      n_embd_head);
        ms.add_kv(LLM_KV_ROPE_FREQ_BASE_SWA,              10000.0f);
        // SWA pattern: every 5th layer is full attention (matches E2B layer_types)
        ms.add_kv(LLM_KV_ATTENTION_SLIDING_WINDOW_PATTERN, uint32_t(5));
    } else if (arch == LLM_ARCH_COHERE2MOE || arch == LLM_ARCH_MIMO2 || arch == LLM_ARCH_STEP35 || arch == LLM_ARCH_SPARK2_5 ||
            arch == LLM_ARCH_MUSE_GLIMMER || arch == LLM_ARCH_GRANITE_SWA || arch == LLM_ARCH_DOTS3NOTE ||
            arch == LLM_ARCH_MAPLE) {
        std::vector<uint32_t> pattern;
        pattern.reserve(n_layer);
        for (uint32_t il = 0; il < n_layer; il++) {
            pattern.push_back(il % 2);
        }
        ms.add_kv(LLM_KV_ATTENTION_SLIDING_WINDOW_PATTERN, pattern);
    } else {
        ms.add_kv(LLM_KV_ATTENTION_SLIDING_WINDOW_PATTERN, uint32_t(2));
    }

    // MSA requires one indexer head per GQA (KV) head, unlike the DSA archs where the
    // indexer head count is independent of the main attention head count.
    if (arch == LLM_ARCH_QWEN4EXP) {
        ms.add_kv(LLM_KV_HYPER_CONNECTION_COUNT,    uint32_t(4));
        ms.add_kv(LLM_KV_HYPER_CONNECTION_LOW_RANK, uint32_t(8));
        // without this the QSA layers fall back to dense and go uncovered
        ms.add_kv(LLM_KV_ATTENTION_COMPRESS_RATIOS, std::vector<uint32_t>(n_layer, 4));

        // has_cell_ext() needs ple_n_heads here: the indexer cache serializes no ext without it
        const uint32_t ple_ngram_size      = 3;
        const uint32_t ple_heads_per_ngram = 2;
        const uint32_t ple_n_heads         = (ple_ngram_size - 1)*ple_heads_per_ngram;
        GGML_ASSERT(n_embd % ple_n_heads == 0);
        const uint32_t ple_head_dim = n_embd/ple_n_heads;

        std::vector<uint64_t> ple_head_offsets(ple_n_heads);
        std::vector<uint64_t> ple_head_vocab_sizes(ple_n_heads, n_vocab);
        for (uint32_t h = 0; h < ple_n_heads; h++) {
            ple_head_offsets[h] = uint64_t(h)*n_vocab;
        }

        // the PLE history lives in the recurrent cache, so it must sit on a linear attention layer
        ms.add_kv(LLM_KV_PLE_LAYERS,                  std::vector<uint32_t>({ 0 }));
        ms.add_kv(LLM_KV_PLE_NGRAM_SIZE,              ple_ngram_size);
        ms.add_kv(LLM_KV_PLE_HEADS_PER_NGRAM,         ple_heads_per_ngram);
        ms.add_kv(LLM_KV_PLE_CONV_KERNEL,             uint32_t(4));
        ms.add_kv(LLM_KV_PLE_EOS_TOKEN_ID,            uint32_t(0));
        ms.add_kv(LLM_KV_EMBEDDING_LENGTH_PER_LAYER,  ple_head_dim);
        ms.add_kv(LLM_KV_PLE_LAYER_MULTIPLIERS,       std::vector<uint64_t>({ 1, 3, 5 }));
        ms.add_kv(LLM_KV_PLE_HEAD_OFFSETS,            ple_head_offsets);
        ms.add_kv(LLM_KV_PLE_HEAD_VOCAB_SIZES,        ple_head_vocab_sizes);
    }

    // minimax-m3 keeps one indexer head per GQA head; the rest use a fixed 64 to match the fused
    ms.add_kv(LLM_KV_ATTENTION_INDEXER_HEAD_COUNT,   arch == LLM_ARCH_MINIMAX_M3 ? n_head : uint32_t(64));
    // qwen4exp ropes indexer keys with the main rotary width, so its head can't be < n_rot
    ms.add_kv(LLM_KV_ATTENTION_INDEXER_KEY_LENGTH,
              arch == LLM_ARCH_QWEN4EXP ? n_embd_head : uint32_t(128));

    // note: using a realistic top-k here makes the results unstable and hard to match between CPU and GPU
    //       a large value makes things deterministic since all data is selected by the indexer
    //ms.add_kv(LLM_KV_ATTENTION_INDEXER_TOP_K,        uint32_t(8));
    ms.add_kv(LLM_KV_ATTENTION_INDEXER_TOP_K,        uint32_t(131072));

    ms.add_kv(LLM_KV_ATTENTION_INDEXER_BLOCK_SIZE,   uint32_t(4));
    ms.add_kv(LLM_KV_ATTENTION_INDEXER_LOCAL_BLOCKS, uint32_t(1));
    ms.add_kv(LLM_KV_ROPE_DIMENSION_SECTIONS, std::vector<uint32_t>({n_embd_head/4, n_embd_head/4, n_embd_head/4, n_embd_head/4}));

    if (arch == LLM_ARCH_HY_V4) {
        ms.add_kv(LLM_KV_HYPER_CONNECTION_COUNT,     uint32_t(4));
        ms.add_kv(LLM_KV_HYPER_CONNECTION_EPSILON,   1.0e-6f);
        ms.add_kv(LLM_KV_HYPER_CONNECTION_MAGNITUDE, 2.0f);
        ms.add_kv(LLM_KV_SWIGLU_CLAMP_EXP,           10.0f);
        ms.add_kv(LLM_KV_EXPERT_WEIGHTS_SCALE,       1.0f);
        ms.add_kv(LLM_KV_EXPERT_WEIGHTS_NORM,        true);
        // layer 0 must own an indexer, the odd layers share it
        std::vector<uint32_t> indexer_types;
        indexer_types.reserve(n_layer);
        for (uint32_t il = 0; il < n_layer; il++) {
            indexer_types.push_back(il % 2 ? 0 : 1);
        }
        ms.add_kv(LLM_KV_ATTENTION_INDEXER_TYPES, indexer_types);
    }

    if (arch == LLM_ARCH_DEEPSEEK4) {
        ms.add_kv(LLM_KV_ATTENTION_OUTPUT_GROUP_COUNT,          uint32_t(8));
        ms.add_kv(LLM_KV_ATTENTION_OUTPUT_LORA_RANK,            uint32_t(32));
        ms.add_kv(LLM_KV_ATTENTION_COMPRESS_RATIOS,             std::vector<uint32_t>({0, 0, 4, 128}));
        ms.add_kv(LLM_KV_ATTENTION_COMPRESS_ROPE_FREQ_BASE,     160000.0f);
        ms.add_kv(LLM_KV_HYPER_CONNECTION_COUNT,                uint32_t(4));
        ms.add_kv(LLM_KV_HYPER_CONNECTION_SINKHORN_ITERATIONS,  uint32_t(2));
        ms.add_kv(LLM_KV_HYPER_CONNECTION_EPSILON,              1.0e-6f);
        ms.add_kv(LLM_KV_HASH_LAYER_COUNT,                      uint32_t(0));
        ms.add_kv(LLM_KV_SWIGLU_CLAMP_EXP,                      10.0f);
        ms.add_kv(LLM_KV_EXPERT_WEIGHTS_SCALE,                  1.0f);
        ms.add_kv(LLM_KV_EXPERT_WEIGHTS_NORM,                   true);
    }

    if (arch == LLM_ARCH_HRM_TEXT) {
        // 8 cache slots alias 2 physical blocks: 1 low-stack layer + 1 high-stack layer
        ms.add_kv(LLM_KV_HRM_LAYERS_PER_STACK, uint32_t(1));
        ms.add_kv(LLM_KV_HRM_H_CYCLES,         uint32_t(2));
        ms.add_kv(LLM_KV_HRM_L_CYCLES,         uint32_t(3));
    }

    if (arch == LLM_ARCH_MAPLE) {
        ms.add_kv(LLM_KV_SWIGLU_CLAMP_EXP, 7.0f);
    }

    // dummy tokenizer: token ids are derived from fixed-size chunks and detokenized as hex ids
    if (vocab != nullptr) {
        copy_tokenizer(ret.get(), vocab);
    } else {
        std::vector<std::string> tokenizer_list(n_vocab);
        std::vector<float>       tokenizer_scores(n_vocab, 0.0f);

        ms.add_kv(LLM_KV_TOKENIZER_MODEL,         "test");
        for (uint32_t i = 0; i < n_vocab; i++) {
            tokenizer_list[i] = "tok_" + std::to_string(i);
        }
        ms.add_kv(LLM_KV_TOKENIZER_LIST,   tokenizer_list);
        ms.add_kv(LLM_KV_TOKENIZER_SCORES, tokenizer_scores);
    }

    // ms.add_kv(LLM_KV_DENSE_2_FEAT_OUT,     n_embd);
    // ms.add_kv(LLM_KV_DENSE_3_FEAT_IN,      n_embd);

    if (moe) {
        ms.add_kv(LLM_KV_EXPERT_FEED_FORWARD_LENGTH, n_ff);
        ms.add_kv(LLM_KV_EXPERT_SHARED_FEED_FORWARD_LENGTH, n_ff / 2);  // distinct from n_ff so a saver key-clobber surfaces on reload
        ms.add_kv(LLM_KV_EXPERT_LATENT_LENGTH,       n_ff);
        ms.add_kv(LLM_KV_INTERLEAVE_MOE_LAYER_STEP,  uint32_t(2));
        ms.add_kv(LLM_KV_EXPERT_COUNT,               uint32_t(2));
        ms.add_kv(LLM_KV_EXPERT_USED_COUNT,          uint32_t(2));
        ms.add_kv(LLM_KV_EXPERT_SHARED_COUNT,        uint32_t(1));
        ms.add_kv(LLM_KV_EXPERT_GATING_FUNC,         arch == LLM_ARCH_DEEPSEEK4 ? uint32_t(4) : uint32_t(2)); // sqrtsoftplus : sigmoid
        ms.add_kv(LLM_KV_EXPERT_GROUP_SCALE,         1.0f);
        ms.add_kv(LLM_KV_EXPERTS_PER_GROUP,          uint32_t(1));
    }

    ms.add_kv(LLM_KV_POSNET_EMBEDDING_LENGTH,   n_embd);
    ms.add_kv(LLM_KV_POSNET_BLOCK_COUNT,        n_layer);
    ms.add_kv(LLM_KV_CONVNEXT_EMBEDDING_LENGTH, n_embd);
    ms.add_kv(LLM_KV_CONVNEXT_BLOCK_COUNT,      n_layer);
    ms.add_kv(LLM_KV_XIELU_ALPHA_N,             1.0f);
    ms.add_kv(LLM_KV_XIELU_ALPHA_P,             1.0f);
    ms.add_kv(LLM_KV_XIELU_BETA,                1.0f);
    ms.add_kv(LLM_KV_XIELU_EPS,                 1.0e-7f);
    ms.add_kv(LLM_KV_SSM_INNER_SIZE,            arch == LLM_ARCH_QWEN3NEXT || arch == LLM_ARCH_QWEN35 || arch == LLM_ARCH_QWEN35MOE || arch == LLM_ARCH_QWEN4EXP ? 256 : 2*n_embd);
    ms.add_kv(LLM_KV_SSM_CONV_KERNEL,           uint32_t(4));
    ms.add_kv(LLM_KV_SSM_STATE_SIZE,            uint32_t(128));
    ms.add_kv(LLM_KV_SSM_TIME_STEP_RANK,        n_head);
    ms.add_kv(LLM_KV_SSM_GROUP_COUNT,           arch == LLM_ARCH_PLAMO2 ? 0 : uint32_t(2));
    ms.add_kv(LLM_KV_KDA_HEAD_DIM,              uint32_t(128));
    ms.add_kv(LLM_KV_KDA_SAFE_GATE,             true);
    ms.add_kv(LLM_KV_KDA_GATE_LOWER_BOUND,      -5.0f);
    if (arch == LLM_ARCH_BAILINGMOE3) {
        ms.add_kv(LLM_KV_SWIGLU_CLAMP_EXP,   std::vector<float>({0.0f, 4.0f}));
        ms.add_kv(LLM_KV_SWIGLU_CLAMP_SHEXP, std::vector<float>({0.0f, 5.0f}));
    }
    ms.add_kv(LLM_KV_WKV_HEAD_SIZE,               n_embd/n_head);
    ms.add_kv(LLM_KV_SHORTCONV_L_CACHE,           uint32_t(3));
    ms.add_kv(LLM_KV_RESIDUAL_SCALE,              3.5565588200778455f);
    ms.add_kv(LLM_KV_ATTN_RES_BLOCK_SIZE,         uint32_t(12));
    ms.add_kv(LLM_KV_ACTIVATION_SITU_BETA,        4.0f);
    ms.add_kv(LLM_KV_ACTIVATION_SITU_LINEAR_BETA, 25.0f);
    ms.add_kv(LLM_KV_KDA_GATE_LOWER_BOUND,        -5.0f);

    for (uint32_t il = 0; il < n_layer; il++) {
        ggml_tensor t;
        memset(&t, 0, sizeof(ggml_tensor));
        t.type = GGML_TYPE_F16;
        ggml_format_name(&t, "conv%" PRIu32 "d.weight", il);
        gguf_add_tensor(ms.gguf_ctx, &t);
        ggml_format_name(&t, "posnet.%" PRIu32 ".conv1.weight", il);
        gguf_add_tensor(ms.gguf_ctx, &t);
        ggml_format_name(&t, "posnet.%" PRIu32 ".conv2.weight", il);
        gguf_add_tensor(ms.gguf_ctx, &t);
        ggml_format_name(&t, "convnext.%" PRIu32 ".dw.weight", il);
        gguf_add_tensor(ms.gguf_ctx, &t);
    }
    return ret;
}

bool moe_mandatory(const llm_arch arch) {
    switch (arch) {
        case LLM_ARCH_LLAMA4:
        case LLM_ARCH_COHERE2MOE:
        case LLM_ARCH_GROK:
        case LLM_ARCH_QWEN2MOE:
        case LLM_ARCH_QWEN3MOE:
        case LLM_ARCH_QWEN3NEXT:
        case LLM_ARCH_QWEN3VLMOE:
        case LLM_ARCH_QWEN35MOE:
        case LLM_ARCH_QWEN4EXP:
        case LLM_ARCH_PHIMOE:
        case LLM_ARCH_DBRX:
        case LLM_ARCH_OLMOE:
        case LLM_ARCH_ARCTIC:
        case LLM_ARCH_DEEPSEEK:
        case LLM_ARCH_DEEPSEEK2:
        case LLM_ARCH_DEEPSEEK32:
        case LLM_ARCH_DOTS3NOTE:
        case LLM_ARCH_DEEPSEEK4:
        case LLM_ARCH_GLM4_MOE:
        case LLM_ARCH_GLM_DSA:
        case LLM_ARCH_EXAONE_MOE:
        case LLM_ARCH_BAILINGMOE:
        case LLM_ARCH_BAILINGMOE2:
        case LLM_ARCH_BAILINGMOE3:
        case LLM_ARCH_DOTS1:
        case LLM_ARCH_AFMOE:
        case LLM_ARCH_ERNIE4_5:
        case LLM_ARCH_ERNIE4_5_MOE:
        case LLM_ARCH_HUNYUAN_MOE:
        case LLM_ARCH_HY_V3:
        case LLM_ARCH_HY_V4:
        case LLM_ARCH_OPENAI_MOE:
        case LLM_ARCH_LFM2MOE:
        case LLM_ARCH_SMALLTHINKER:
        case LLM_ARCH_LLADA_MOE:
        case LLM_ARCH_GROVEMOE:
        case LLM_ARCH_MINIMAX_01:
        case LLM_ARCH_MINIMAX_M2:
        case LLM_ARCH_MINIMAX_M3:
        case LLM_ARCH_RND1:
        case LLM_ARCH_PADDLEOCR:
        case LLM_ARCH_MIMO2:
        case LLM_ARCH_KIMI_LINEAR:
        case LLM_ARCH_KIMI_K3:
        case LLM_ARCH_STEP35:
        case LLM_ARCH_MISTRAL4:
        case LLM_ARCH_MELLUM:
        case LLM_ARCH_LAGUNA:
        case LLM_ARCH_MAPLE:
            return true;
        default:
            return false;
    }
}

bool moe_implemented(const llm_arch arch) {
    if (moe_mandatory(arch)) {
        return true;
    }
    switch (arch) {
        case LLM_ARCH_LLAMA:
        case LLM_ARCH_REFACT:
        case LLM_ARCH_MINICPM:
        case LLM_ARCH_GRANITE:
        case LLM_ARCH_GRANITE_MOE:
        case LLM_ARCH_MISTRAL3:
        case LLM_ARCH_LLAMA_EMBED:
            return true;
        default:
            return false;
    }
}


// Why test-llama-archs.cpp leaves an architecture out, in its words; "" when it tests it. The BERT family is left
// out there for want of a vocab; accel gives those a real one (bert-bge), so they are tried.
std::string unsupported_reason(const llm_arch arch) {
    switch (arch) {
        case LLM_ARCH_CLIP:
        case LLM_ARCH_GPTJ: return "llama.cpp has no usable implementation of this architecture";
        case LLM_ARCH_CHAMELEON: return "only half-implemented in llama.cpp (to be removed upstream)";
        case LLM_ARCH_WAVTOKENIZER_DEC: return "llama.cpp's own test skips it (the CUDA backend crashes)";
        case LLM_ARCH_GEMMA4:
        case LLM_ARCH_GEMMA4_ASSISTANT: return "ISWA KV cache initialisation needs more fixture parameters";
        case LLM_ARCH_EAGLE3:
        case LLM_ARCH_DFLASH: return "a draft-model architecture: it needs a target model";
        case LLM_ARCH_GRANITE_SWITCH: return "needs an adapter fixture";
        case LLM_ARCH_RWKV6:
        case LLM_ARCH_RWKV6QWEN2:
        case LLM_ARCH_RWKV7:
        case LLM_ARCH_ARWKV7: return "RWKV models hang indefinitely in llama.cpp's own test at this commit";
        case LLM_ARCH_PLM: return "tensor shapes cannot be derived from the synthetic metadata";
        case LLM_ARCH_DEEPSEEK2OCR: return "llama.cpp's own test skips it (needs the vision side)";
        default: break;
    }
    if (!llama_model_saver_supports_arch(arch)) {
        return "llama.cpp at this commit cannot save it (llama_model_saver_supports_arch is false; "
               "llama_model_saver would GGML_ASSERT)";
    }
    return "";
}

bool is_encoder(const llm_arch arch) {
    switch (arch) {
        case LLM_ARCH_BERT:
        case LLM_ARCH_MODERN_BERT:
        case LLM_ARCH_NOMIC_BERT:
        case LLM_ARCH_NOMIC_BERT_MOE:
        case LLM_ARCH_NEO_BERT:
        case LLM_ARCH_JINA_BERT_V2:
        case LLM_ARCH_JINA_BERT_V3:
        case LLM_ARCH_EUROBERT:
        case LLM_ARCH_LLAMA_EMBED:
        case LLM_ARCH_GEMMA_EMBEDDING:
        case LLM_ARCH_T5ENCODER: return true;
        default: return false;
    }
}

bool needs_real_vocab(const llm_arch arch) {
    return is_encoder(arch) && arch != LLM_ARCH_LLAMA_EMBED && arch != LLM_ARCH_GEMMA_EMBEDDING &&
           arch != LLM_ARCH_T5ENCODER;
}

using detail::fnv1a;
using detail::Rng;

struct FillParams {
    uint64_t seed = 1;
    float stdev = 0.1f;
    const ggml_tensor* token_embd = nullptr;
    bool bad_type = false;  // set instead of throwing: this runs inside llama.cpp
};

void fill_tensor(ggml_tensor* t, void* user) {
    auto* p = static_cast<FillParams*>(user);
    if (std::strcmp(t->name, "token_embd.weight") == 0) p->token_embd = t;
    // Mamba's A must be negative (state decay), as in test-llama-archs.cpp.
    const bool negative = std::strstr(t->name, "ssm_a") != nullptr;
    const auto n = static_cast<size_t>(ggml_nelements(t));
    Rng rng{p->seed ^ fnv1a(t->name)};
    std::vector<float> data(n);
    for (auto& v : data) {
        const auto x = static_cast<float>(p->stdev * rng.normal());
        v = negative ? -std::fabs(x) : x;
    }
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_set(t, data.data(), 0, ggml_nbytes(t));
    } else if (t->type == GGML_TYPE_F16) {
        std::vector<ggml_fp16_t> half(n);
        for (size_t i = 0; i < n; ++i) half[i] = ggml_fp32_to_fp16(data[i]);
        ggml_backend_tensor_set(t, half.data(), 0, ggml_nbytes(t));
    } else {
        p->bad_type = true;
    }
}

std::vector<llama_token> prompt(uint64_t seed, uint32_t n_tokens, uint32_t n_vocab) {
    Rng rng{seed};
    std::vector<llama_token> out(n_tokens);
    for (auto& t : out) t = static_cast<llama_token>(rng.next() % n_vocab);
    return out;
}

struct Loaded {
    ModelPtr model;
    ContextPtr ctx;
};

Loaded load(const ConformanceArch& a, const std::filesystem::path& path, ggml_backend_dev_t dev, int32_t n_threads) {
    llama_model_params mp = llama_model_default_params();
    mp.progress_callback = quiet_progress;
    ggml_backend_dev_t devs[2] = {dev, nullptr};
    mp.devices = devs;
    mp.split_mode = LLAMA_SPLIT_MODE_LAYER;
    clear_backend_message();
    Loaded l;
    l.model.reset(llama_model_load_from_file(path.c_str(), mp));
    if (!l.model) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::internal, "llama.cpp could not load " + path.string() + (why.empty() ? "" : ": " + why));
    }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 0;
    cp.n_threads = n_threads;
    cp.n_threads_batch = n_threads;
    if (a.embeddings) {
        cp.embeddings = true;
        cp.pooling_type = LLAMA_POOLING_TYPE_NONE;
    } else if (!a.encode) {
        cp.n_ubatch = 64;
    }
    l.ctx.reset(llama_init_from_model(l.model.get(), cp));
    if (!l.ctx) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::internal, "llama.cpp could not create a context for " + path.string() +
                                             (why.empty() ? "" : ": " + why));
    }
    return l;
}

ForwardOutput forward(const ConformanceArch& a, Loaded& l, const ForwardOptions& opts) {
    const uint32_t n_vocab = static_cast<uint32_t>(llama_vocab_n_tokens(llama_model_get_vocab(l.model.get())));
    const uint32_t n_tokens = std::min(opts.n_tokens, llama_n_ctx(l.ctx.get()));
    const auto tokens = prompt(opts.token_seed, n_tokens, n_vocab);
    llama_batch batch = llama_batch_init(static_cast<int32_t>(n_tokens), 0, 1);
    for (uint32_t i = 0; i < n_tokens; ++i) {
        batch.token[i] = tokens[i];
        batch.pos[i] = static_cast<llama_pos>(i);
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = static_cast<int32_t>(n_tokens);
    clear_backend_message();
    int rc = 0;
    if (a.embeddings || a.encode) rc = llama_encode(l.ctx.get(), batch);
    if (rc == 0 && !a.embeddings) rc = llama_decode(l.ctx.get(), batch);
    llama_batch_free(batch);
    if (rc != 0) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::internal, "the forward pass failed (code " + std::to_string(rc) + ")" +
                                             (why.empty() ? "" : ": " + why));
    }
    ForwardOutput out;
    out.n_rows = n_tokens;
    out.row_len = a.embeddings ? static_cast<uint32_t>(llama_model_n_embd(l.model.get())) : n_vocab;
    out.values.reserve(static_cast<size_t>(out.n_rows) * out.row_len);
    for (uint32_t i = 0; i < n_tokens; ++i) {
        const float* row = a.embeddings ? llama_get_embeddings_ith(l.ctx.get(), static_cast<int32_t>(i))
                                        : llama_get_logits_ith(l.ctx.get(), static_cast<int32_t>(i));
        if (row == nullptr) throw Error(ErrorKind::internal, "llama.cpp returned no output for token " + std::to_string(i));
        out.values.insert(out.values.end(), row, row + out.row_len);
    }
    return out;
}

}  // namespace

std::vector<ConformanceArch> conformance_architectures() {
    std::vector<ConformanceArch> out;
    for (const llm_arch arch : llm_arch_all()) {
        if (arch == LLM_ARCH_UNKNOWN) continue;
        for (const bool moe : {false, true}) {
            if (moe && !moe_implemented(arch)) continue;
            if (!moe && moe_mandatory(arch)) continue;
            ConformanceArch a;
            a.arch = llm_arch_name(arch);
            a.moe = moe;
            a.embeddings = is_encoder(arch);
            a.encode = arch == LLM_ARCH_T5 || arch == LLM_ARCH_DREAM || arch == LLM_ARCH_LLADA ||
                       arch == LLM_ARCH_LLADA_MOE || arch == LLM_ARCH_RND1;
            a.vocab = needs_real_vocab(arch) ? "bert-bge" : "";
            a.unsupported = unsupported_reason(arch);
            out.push_back(std::move(a));
        }
    }
    return out;
}

void build_conformance_model(const ConformanceArch& a, uint64_t seed, const std::filesystem::path& vocab_dir,
                             const std::filesystem::path& out) {
    init_backend();
    const llm_arch arch = llm_arch_from_string(a.arch);
    if (arch == LLM_ARCH_UNKNOWN) throw Error(ErrorKind::invalid_input, "unknown llama.cpp architecture '" + a.arch + "'");
    if (!a.unsupported.empty()) throw Error(ErrorKind::invalid_input, a.id() + " is unsupported: " + a.unsupported);
    GgufPtr vocab;
    if (!a.vocab.empty()) {
        const auto path = vocab_dir / ("ggml-vocab-" + a.vocab + ".gguf");
        gguf_init_params gp{.no_alloc = true, .ctx = nullptr};
        vocab.reset(gguf_init_from_file(path.c_str(), gp));
        if (!vocab || vocab_size(vocab.get()) == 0) {
            throw Error(ErrorKind::invalid_input, "cannot read the tokenizer " + path.string() +
                                                      " (set ACCEL_VOCAB_DIR to llama.cpp's models/ folder)");
        }
    }
    GgufPtr meta = get_gguf_ctx(arch, a.moe, vocab.get());
    if (arch == LLM_ARCH_BAILINGMOE3) gguf_remove_key(meta.get(), "bailingmoe3.kda.safe_gate");

    llama_model_params mp = llama_model_default_params();
    mp.progress_callback = quiet_progress;
    ggml_backend_dev_t cpu_only[2] = {ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU), nullptr};
    mp.devices = cpu_only;
    FillParams fill{.seed = seed};
    clear_backend_message();
    ModelPtr model(llama_model_init_from_user(meta.get(), fill_tensor, &fill, mp));
    if (!model) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::internal, "llama.cpp could not build " + a.id() + (why.empty() ? "" : ": " + why));
    }
    if (fill.bad_type) throw Error(ErrorKind::internal, "llama.cpp created a tensor that is neither F32 nor F16");
    PartialFile tmp(out);
    save_model(model.get(), fill.token_embd, {}, tmp.path());
    std::error_code ec;
    if (!std::filesystem::exists(tmp.path(), ec)) throw Error(ErrorKind::io, "llama.cpp did not write " + tmp.path().string());
    tmp.commit();
}

void quantize_conformance_model(const std::filesystem::path& f32, const std::filesystem::path& out, WeightType type,
                                int32_t n_threads) {
    init_backend();
    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.nthread = n_threads;
    switch (type) {
        case WeightType::f32: qp.ftype = LLAMA_FTYPE_ALL_F32; break;
        case WeightType::f16: qp.ftype = LLAMA_FTYPE_MOSTLY_F16; break;
        case WeightType::q8_0: qp.ftype = LLAMA_FTYPE_MOSTLY_Q8_0; break;
        case WeightType::q4_0: qp.ftype = LLAMA_FTYPE_MOSTLY_Q4_0; break;
    }
    qp.pure = true;
    PartialFile tmp(out);
    clear_backend_message();
    if (llama_model_quantize(f32.c_str(), tmp.path().c_str(), &qp) != 0) {
        const std::string why = last_backend_message();
        throw Error(ErrorKind::io, "converting " + f32.string() + " to " + to_string(type) + " failed" +
                                       (why.empty() ? "" : ": " + why));
    }
    tmp.commit();
}

ForwardRun conformance_forward(const ConformanceArch& a, const std::filesystem::path& model, const ForwardOptions& opts,
                               const std::filesystem::path& round_trip_path) {
    init_backend();
    ggml_backend_dev_t dev = find_device(opts.device);
    ForwardRun run;
    {
        const auto t0 = std::chrono::steady_clock::now();
        Loaded l = load(a, model, dev, opts.n_threads);
        run.first.load_ms = ms_since(t0);
        const double load_ms = run.first.load_ms;
        run.first = forward(a, l, opts);
        run.first.load_ms = load_ms;
        if (round_trip_path.empty()) return run;
        const PartialFile tmp(round_trip_path);  // a scratch file: never committed, removed on the way out
        save_model(l.model.get(), nullptr, model, tmp.path());
        l = Loaded{};
        const auto t1 = std::chrono::steady_clock::now();
        Loaded r = load(a, tmp.path(), dev, opts.n_threads);
        const double reload_ms = ms_since(t1);
        run.reloaded = forward(a, r, opts);
        run.reloaded->load_ms = reload_ms;
    }
    return run;
}

}  // namespace accel::engine
