"""Whisper fixture for make_fixtures.py: WhisperForConditionalGeneration (class dir whisper).

whisper.cpp fixes the vocabulary's layout (its special tokens sit at fixed ids past the BPE tokens; 51,864 tokens
mean an English-only model, 51,865 a multilingual one), so the vocabulary keeps its real size. The English-only
Whisper models (tiny.en ...) use GPT-2's byte-level BPE unchanged, so this is their layout, built from the pinned
llama.cpp's ggml-vocab-gpt-2.gguf (50,257 tokens, <|endoftext|> at 50256) and Whisper's 1,607 specials after it
(<|startoftranscript|> 50257, 99 languages, the task tokens, 1,501 timestamps): 51,864 tokens. (The multilingual
layout needs Whisper's own multilingual BPE, which no pinned file carries.) The token embedding is then the largest
tensor (51,864 x d_model), so d_model is 32 (not 64) to keep the fixture near 7 MB. The input is a synthetic waveform made here (a chirp and two
tones, 3 s at 16 kHz) and max_source_positions is 150, so the feature extractor's window is 3 s (300 frames).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

D_MODEL = 32
N_SOURCE = 150            # encoder positions: 2 * 150 = 300 mel frames = 3 s
N_TARGET = 64             # decoder positions
SAMPLE_RATE = 16000
CHUNK_S = 3
FORCED = ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
N_LANGUAGES = 99          # 51,864 (English-only) and 51,865 (multilingual) tokens have 99 (large-v3 adds "yue")
GPT2_PRE = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"


def whisper_specials() -> list[str]:
    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    langs = list(LANGUAGES)[:N_LANGUAGES]
    return (["<|startoftranscript|>"] + [f"<|{code}|>" for code in langs]
            + ["<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
               "<|notimestamps|>"] + [f"<|{i * 0.02:.2f}|>" for i in range(1501)])


def whisper_tokenizer(out: Path):
    """GPT-2's BPE from ggml-vocab-gpt-2.gguf, whole, and Whisper's specials after <|endoftext|> (50256)."""
    from make_fixtures import read_vocab
    from transformers import WhisperTokenizerFast

    v = read_vocab("gpt-2")
    tokens = list(v["tokens"])
    assert tokens[50256] == "<|endoftext|>" and len(tokens) == 50257, "unexpected ggml-vocab-gpt-2.gguf"
    vocab = {t: i for i, t in enumerate(tokens) if i != 50256}
    specials = ["<|endoftext|>"] + whisper_specials()
    added = [{"id": 50256 + k, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for k, s in enumerate(specials)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True}
    tj = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": list(v["merges"])},
    }
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    cfg = {
        "tokenizer_class": "WhisperTokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "model_max_length": 1024, "errors": "replace",
        "add_prefix_space": False, "clean_up_tokenization_spaces": True,
        "added_tokens_decoder": {str(a["id"]): {k: a[k] for k in a if k != "id"} for a in added},
    }
    (out / "tokenizer_config.json").write_text(json.dumps(cfg, ensure_ascii=False, separators=(",", ":")),
                                               encoding="utf-8")
    tok = WhisperTokenizerFast.from_pretrained(out)
    assert len(tok) == 50257 + len(specials) - 1 == 51864, len(tok)
    return tok


def waveform(np):
    """3 s at 16 kHz, deterministic: a 200 -> 3000 Hz chirp, 440 Hz and 1234 Hz tones, a 0.5 s silence."""
    t = np.arange(SAMPLE_RATE * CHUNK_S, dtype=np.float64) / SAMPLE_RATE
    f0, f1 = 200.0, 3000.0
    chirp = np.sin(2 * math.pi * (f0 * t + (f1 - f0) / (2 * CHUNK_S) * t * t))
    x = 0.4 * chirp + 0.2 * np.sin(2 * math.pi * 440 * t) + 0.1 * np.sin(2 * math.pi * 1234 * t)
    x[int(1.25 * SAMPLE_RATE):int(1.75 * SAMPLE_RATE)] = 0.0
    return x.astype(np.float32)


def make_whisper(out: Path, torch, transformers):
    import numpy as np
    from make_fixtures import N_GEN, randomize, save_checkpoint
    from safetensors.torch import save_file
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration

    tok = whisper_tokenizer(out)
    forced = tok.convert_tokens_to_ids(FORCED)
    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    cfg = WhisperConfig(
        vocab_size=len(tok), num_mel_bins=80, d_model=D_MODEL, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=4 * D_MODEL,
        decoder_ffn_dim=4 * D_MODEL, max_source_positions=N_SOURCE, max_target_positions=N_TARGET,
        decoder_start_token_id=forced[0], bos_token_id=eot, eos_token_id=eot, pad_token_id=eot,
        suppress_tokens=None, begin_suppress_tokens=None, scale_embedding=False, activation_function="gelu")
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg).eval()
    randomize(model, torch)
    model = save_checkpoint(model, out, torch.float16, None, torch)

    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=SAMPLE_RATE, chunk_length=CHUNK_S)
    fe.save_pretrained(out)
    wave = waveform(np)
    feats = fe(wave, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features.float()
    assert tuple(feats.shape) == (1, 80, 2 * N_SOURCE), feats.shape

    ids = torch.tensor([forced])
    margins = []
    with torch.no_grad():
        enc = model.model.encoder(feats).last_hidden_state
        seq = ids
        for _ in range(N_GEN):
            logits = model(encoder_outputs=(enc,), decoder_input_ids=seq).logits[0, -1]
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            seq = torch.cat([seq, top.indices[:1].view(1, 1)], dim=1)
        logits = model(encoder_outputs=(enc,), decoder_input_ids=seq).logits[0].float().contiguous()
    save_file({"audio": torch.from_numpy(wave.copy()), "input_features": feats[0].contiguous(), "encoder_last_hidden_state": enc[0].float().contiguous(),
               "logits": logits, "mel_filters": torch.from_numpy(np.ascontiguousarray(fe.mel_filters.T)).float()},
              str(out / "reference.safetensors"))
    return {
        "kind": "speech_seq2seq",
        "audio": f"synthetic: {CHUNK_S} s at {SAMPLE_RATE} Hz, chirp 200-3000 Hz + 440 Hz + 1234 Hz, silence 1.25-1.75 s",
        "input_ids": forced,
        "generated_ids": seq[0, len(forced):].tolist(),
        "top1_margins": margins,
        "tensors": {
            "audio": "the waveform the features were computed from [samples], f32 at 16000 Hz",
            "input_features": "WhisperFeatureExtractor's log-mel [n_mels, frames]",
            "encoder_last_hidden_state": "[n_source, d_model]",
            "logits": "rows: forced + generated ids (teacher forcing); row i predicts token i+1",
            "mel_filters": "the feature extractor's mel filter bank [n_mels, 1 + n_fft/2] (slaney)",
        },
    }, "float16"
