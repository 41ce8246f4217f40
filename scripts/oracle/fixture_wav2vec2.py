"""The `wav2vec2` fixture: a tiny random-weight Wav2Vec2ForCTC (wav2vec2-base layout: seven-layer conv feature
encoder with group norm, 320x downsampling, convolutional position embedding, post-norm transformer), its
Wav2Vec2Processor (Wav2Vec2FeatureExtractor: zero-mean unit-variance waveform; Wav2Vec2CTCTokenizer over a character
vocab.json written here: <pad> <s> </s> <unk>, "|" for the space, then the letters by English frequency and the
apostrophe, 32 tokens, as the English CTC checkpoints lay it out) and transformers' outputs on the whisper fixture's
synthetic waveform (fixture_whisper.waveform: 3 s at 16 kHz, a chirp, two tones, a 0.5 s silence).

reference.safetensors: waveform (48,000 samples), input_values (what the feature extractor gives), logits (frames x
32) and last_hidden_state (frames x 64, the encoder's output before the CTC head). reference.json: the greedy CTC ids
per frame and their collapsed decoding, and a transcript's ids through the tokenizer. Registered in make_fixtures.py.

`wav2vec2_stable`: the same on the other layout (wav2vec2-large-lv60's): a layer norm after every convolution,
convolution biases, pre-norm ("stable") blocks followed by the encoder's layer norm, an odd positional kernel (15:
no frame dropped) and mask_time_prob > 0, so that the checkpoint holds masked_spec_embed as the real ones do.
"""
from __future__ import annotations

import json
from pathlib import Path

LETTERS = "ETAONIHSRDLUMWCFGYPBVK'XJQZ"
TRANSCRIPT = "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG'S BACK"


def make_wav2vec2_stable(out: Path, torch, transformers):
    return make_wav2vec2(out, torch, transformers, stable=True)


def make_wav2vec2(out: Path, torch, transformers, stable: bool = False):
    import numpy as np
    import fixture_whisper as fw
    import make_fixtures as mf
    from safetensors.torch import save_file

    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", "|"] + list(LETTERS))}
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tok = transformers.Wav2Vec2CTCTokenizer(str(out / "vocab.json"), unk_token="<unk>", pad_token="<pad>",
                                            bos_token="<s>", eos_token="</s>", word_delimiter_token="|",
                                            do_lower_case=False)
    fe = transformers.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=fw.SAMPLE_RATE, padding_value=0.0,
                                               do_normalize=True, return_attention_mask=False)
    proc = transformers.Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok)
    proc.save_pretrained(out)

    cfg = transformers.Wav2Vec2Config(
        vocab_size=len(vocab), hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        hidden_act="gelu", feat_extract_norm="layer" if stable else "group", feat_extract_activation="gelu",
        conv_dim=(32,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_bias=stable,
        num_conv_pos_embeddings=15 if stable else 16, num_conv_pos_embedding_groups=4, do_stable_layer_norm=stable,
        apply_spec_augment=stable, mask_time_prob=0.05 if stable else 0.0, layerdrop=0.0, ctc_loss_reduction="mean",
        pad_token_id=vocab["<pad>"], bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"],
        layer_norm_eps=1e-5, attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.Wav2Vec2ForCTC(cfg).eval()
    mf.randomize(model, torch)
    model = mf.save_checkpoint(model, out, torch.float32, None, torch)

    wave = fw.waveform(np)
    values = proc(audio=wave, sampling_rate=fw.SAMPLE_RATE, return_tensors="pt").input_values
    with torch.no_grad():
        o = model(input_values=values, output_hidden_states=True)
    logits = o.logits[0].float().contiguous()
    ids = logits.argmax(dim=-1)
    save_file({"waveform": torch.from_numpy(wave).contiguous(), "input_values": values[0].float().contiguous(),
               "logits": logits, "last_hidden_state": o.hidden_states[-1][0].float().contiguous()},
              str(out / "reference.safetensors"))
    return {
        "kind": "ctc",
        "audio": "fixture_whisper.waveform: 3 s at 16 kHz (chirp 200->3000 Hz, 440 and 1234 Hz tones, silence "
                 "1.25-1.75 s)",
        "sampling_rate": fw.SAMPLE_RATE,
        "text": TRANSCRIPT,
        "input_ids": tok(TRANSCRIPT).input_ids,
        "greedy_ctc_ids": ids.tolist(),
        "greedy_ctc_text": proc.batch_decode(ids.view(1, -1))[0],
        "processor": "Wav2Vec2FeatureExtractor (do_normalize: zero mean, unit variance), Wav2Vec2CTCTokenizer",
        "tensors": {"waveform": "48,000 samples, f32", "input_values": "what the feature extractor gives",
                    "logits": "frames x vocab (frames = 149, 320x downsampling)",
                    "last_hidden_state": "frames x 64, the encoder's output (before dropout and lm_head)"},
        "weights": "random (seeded), not a trained model",
        "layout": "layer norms after every convolution, conv biases, stable (pre-norm) blocks, 15 positional taps"
                  if stable else "wav2vec2-base: group norm, post-norm blocks, 16 positional taps",
    }, "f32"
