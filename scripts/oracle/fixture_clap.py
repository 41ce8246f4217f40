"""The `clap` fixture: a tiny random-weight ClapModel (HTSAT audio tower: a two-stage Swin transformer over the log-mel
spectrogram folded into a square image; RoBERTa text tower; two-layer ReLU projections), its ClapProcessor
(ClapFeatureExtractor + RobertaTokenizerFast) and transformers' outputs on the whisper fixture's synthetic waveform
(fixture_whisper.waveform, 3 s at 16 kHz) and three texts.

Audio: 16 kHz, hop 800, FFT 1024, 16 mel bins to 8 kHz, max_length_s 3 (the waveform's length: no random crop, no
padding; truncation "rand_trunc" without fusion, so nothing random is drawn): 61 frames x 16 bins, which the model
stretches to 64 x 16 (bicubic) and folds to 32 x 32 (spec_size 32, freq_ratio 2); patch 4, window 4, depths [2, 2],
16 -> 32 wide. Two blocks per stage so that the shifted windows run: stage 0's second block rolls its 8 x 8 grid by 2
and masks the pairs the roll brought together (stage 1's 4 x 4 grid is one window, which transformers never shifts:
ClapAudioLayer.set_shift_and_window_size); the script checks that exactly that block shifted. Text: GPT-2's
byte-level BPE from the pinned llama.cpp's ggml-vocab-gpt-2.gguf cut to its first 1,000 tokens (the 256 bytes and the
most frequent merges) and the merges among them, laid out as RoBERTa's (<s> <pad> </s> <unk> first, <mask> last:
1,005 ids); 2 layers 32 wide. Projections to 16; logit scales ln(1/0.07). Weights: random, from WEIGHT_SEED (below).

reference.safetensors: input_features (1 x 61 x 16), audio_embeds (1 x 16), text_embeds (3 x 16), both normalized,
logits_per_audio (1 x 3), and audio_embeds_unshifted (1 x 16): the same model run with every block's shift_size set to
0, which tells how far from the reference a graph that skipped the shift would land. reference.json: the texts, their
input_ids and attention_mask (padded with <pad>), the shifted blocks.
Registered in make_fixtures.py.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

N_TOKENS = 1000
# The weights' seed: the first from make_fixtures.SEED (1234) whose three texts' logits spread over at least
# MIN_COSINE_SPREAD of cosine. A random RoBERTa tower gives the texts nearly one direction (cosines 0.9-0.99 between
# them), and the conformance metric divides the logits' error by their range: with SEED itself (depths [2, 2]) the
# logits spread over 0.58 (cosines within 0.04), so f16's rounding of the embeddings alone exceeded the table's 1e-2.
WEIGHT_SEED = 1235
MIN_COSINE_SPREAD = 0.1
TEXTS = ["a chirp and two tones", "a dog barks in the rain", "silence"]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def roberta_tokenizer(out: Path, transformers):
    from make_fixtures import read_vocab

    v = read_vocab("gpt-2")
    tokens = list(v["tokens"])[:N_TOKENS]
    vocab = {t: i for i, t in enumerate(SPECIALS)}
    vocab.update({t: len(SPECIALS) + i for i, t in enumerate(tokens)})
    vocab["<mask>"] = len(vocab)
    merges = [m for m in v["merges"] if all(p in vocab for p in m.split(" ")) and m.replace(" ", "") in vocab]
    added = [{"id": vocab[s], "content": s, "single_word": False, "lstrip": s == "<mask>", "rstrip": False,
              "normalized": False, "special": True} for s in SPECIALS + ["<mask>"]]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tj = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": byte_level, "decoder": byte_level,
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True,
                           "add_prefix_space": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    tok = transformers.RobertaTokenizerFast(tokenizer_file=str(out / "tokenizer.json"), bos_token="<s>",
                                            eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>",
                                            pad_token="<pad>", mask_token="<mask>", add_prefix_space=False,
                                            model_max_length=32)
    (out / "tokenizer.json").unlink()  # the processor saves it again, with its config
    return tok


def make_clap(out: Path, torch, transformers):
    import numpy as np
    import fixture_whisper as fw
    import make_fixtures as mf
    from safetensors.torch import save_file

    tok = roberta_tokenizer(out, transformers)
    fe = transformers.ClapFeatureExtractor(feature_size=16, sampling_rate=fw.SAMPLE_RATE, hop_length=800,
                                           max_length_s=fw.CHUNK_S, fft_window_size=1024, frequency_min=0,
                                           frequency_max=8000, truncation="rand_trunc", padding="repeatpad")
    proc = transformers.ClapProcessor(feature_extractor=fe, tokenizer=tok)
    proc.save_pretrained(out)

    audio = dict(window_size=4, num_mel_bins=16, spec_size=32, patch_size=4, patch_stride=[4, 4], hidden_size=32,
                 depths=[2, 2], num_attention_heads=[2, 4], patch_embeds_hidden_size=16, enable_fusion=False,
                 hidden_act="gelu", mlp_ratio=2.0, num_classes=4, layer_norm_eps=1e-5)
    text = dict(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=64, max_position_embeddings=34, type_vocab_size=1, pad_token_id=1,
                bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)
    cfg = transformers.ClapConfig(text_config=text, audio_config=audio, projection_dim=16,
                                  projection_hidden_act="relu", attn_implementation="eager")
    torch.manual_seed(WEIGHT_SEED)
    model = transformers.ClapModel(cfg).eval()
    mf.randomize(model, torch, WEIGHT_SEED)
    with torch.no_grad():  # CLAP's init, ln(1/0.07); randomize() would make them 0.1 * N(0, 1)
        model.logit_scale_a.fill_(math.log(1 / 0.07))
        model.logit_scale_t.fill_(math.log(1 / 0.07))
    model = mf.save_checkpoint(model, out, torch.float32, None, torch)

    enc = proc(text=TEXTS, audio=fw.waveform(np), sampling_rate=fw.SAMPLE_RATE, padding=True, return_tensors="pt")
    assert not bool(enc["is_longer"].any())
    with torch.no_grad():
        o = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, input_features=enc.input_features,
                  is_longer=enc.is_longer)
    spread = float(o.logits_per_audio.max() - o.logits_per_audio.min()) / math.exp(model.logit_scale_a.item())
    assert spread >= MIN_COSINE_SPREAD, f"the texts' cosines spread over {spread:.3f} only: choose another WEIGHT_SEED"
    # set_shift_and_window_size runs in each block's forward: after it, shift_size is what the block used
    blocks = [(s, i, b) for s, stage in enumerate(model.audio_model.audio_encoder.layers)
              for i, b in enumerate(stage.blocks)]
    shifted = [[s, i, int(b.shift_size)] for s, i, b in blocks if b.shift_size > 0]
    assert shifted == [[0, 1, 2]], shifted
    for _, _, b in blocks:
        b.shift_size = 0
    with torch.no_grad():
        unshifted = model.get_audio_features(input_features=enc.input_features, is_longer=enc.is_longer)
    save_file({"input_features": enc.input_features[0, 0].float().contiguous(),
               "audio_embeds": o.audio_embeds.float().contiguous(), "text_embeds": o.text_embeds.float().contiguous(),
               "logits_per_audio": o.logits_per_audio.float().contiguous(),
               "audio_embeds_unshifted": unshifted.float().contiguous()}, str(out / "reference.safetensors"))
    return {
        "kind": "audio_text_similarity",
        "audio": "fixture_whisper.waveform: 3 s at 16 kHz (chirp 200->3000 Hz, 440 and 1234 Hz tones, silence "
                 "1.25-1.75 s)",
        "sampling_rate": fw.SAMPLE_RATE,
        "texts": TEXTS,
        "input_ids": enc.input_ids.tolist(),
        "attention_mask": enc.attention_mask.tolist(),
        "shifted_blocks": shifted,
        "processor": "ClapFeatureExtractor (hop 800, FFT 1024, 16 mel bins 0-8 kHz, rand_trunc without fusion: the "
                     "waveform is exactly max_length_s), RobertaTokenizerFast",
        "tensors": {"input_features": "61 frames x 16 mel bins (log-mel, dB)",
                    "audio_embeds": "1 x 16, L2-normalized", "text_embeds": "texts x 16, L2-normalized",
                    "logits_per_audio": "1 x texts, exp(logit_scale_a) * cosine",
                    "audio_embeds_unshifted": "1 x 16, L2-normalized: the same model with every block's shift_size "
                                              "set to 0 (what skipping the shifted windows gives)"},
        "shifted_blocks_note": "[stage, block, shift] of each block that shifted (transformers' shift_size after "
                               "set_shift_and_window_size): stage 0's 8 x 8 grid, window 4; stage 1's 4 x 4 grid is "
                               "one window and never shifts",
        "weights": "random (seeded), not a trained model",
        "seed": WEIGHT_SEED,
    }, "f32"
