#!/usr/bin/env python3
"""accel against PyTorch eager (transformers) on the CPU, side by side in one run (issues 20, 21, 23).

For each model: transformers builds it from a realistic configuration with RANDOM WEIGHTS (seeded; meaningless for
quality, speed only) and saves it with its processor; `accel convert` turns that checkpoint into a GGUF, so both sides
run the same weights; `accel infer --json` on one input is compared with transformers' output on the same input (a
sanity check that both compute the same function, not a conformance test: that is `accel conform`); then, per batch,
PyTorch eager is timed here (torch.set_num_threads = accel's threads, torch.inference_mode, warm-up, repetitions,
percentiles) and accel through its own measured-point pipeline (`accel bench --scenario vision|audio --json`), back
to back, the order alternating from one batch to the next.

| model | transformers class | accel bench scenario | what one timed repetition is, on both sides |
|---|---|---|---|
| vit | ViTForImageClassification, ViT-B/16 at 224 px, 1000 labels | vision | one forward pass over the batch |
| clip | CLIPModel, ViT-B/32 image tower + text tower (vocabulary 49408) | vision (image tower) | image features (tower + projection) of the batch |
| detr | DetrForObjectDetection, ResNet-50 (transformers' backbone), 100 queries, 91 labels | vision | one forward pass over the batch at the processor's size (800 x 1066 for a 4:3 image) |
| wav2vec2 | Wav2Vec2ForCTC, wav2vec2-base, character vocabulary | audio (batch 1 only) | feature extractor + forward pass + greedy CTC decoding of a 10 s clip |
| clap | ClapModel, HTSAT-unfused audio tower (Swin 2-2-6-2, 64 mels, 48 kHz) + RoBERTa-base text tower | audio (batch 1 only) | the audio tower on a 10 s clip's log-mel (features outside, as accel) |
| xclip | XCLIPModel, X-CLIP-B/32 with 8 frames | vision (clips per pass) | the video tower (frames' ViT with message tokens, MIT, projection) over the batch of clips |

Preprocessing of images, frames and CLAP's log-mel is outside the timed pass on both sides (accel times it apart).

    scripts/oracle/run.sh ../../benchmarks/torch_side_by_side.py --accel build/release/src/cli/accel \\
        [--threads N] [--models vit,clip,detr,wav2vec2,clap,xclip] [--batches 1,8] [--types f32,f16] [--warmup 1] [--reps 5] \\
        [--min-duration 5] [--out DIR] [--work DIR] [--seed 1] [--tiny]

--tiny builds small shapes of the same architectures (tests/oracle's oracle_torch_side_by_side_test): it proves the
program end to end in a minute; its figures mean nothing.

Prints one row per model x batch x accel weight type: accel ms (p50 per repetition), torch ms (p50), the speedup
torch/accel, and whether the goal is met (batch 1: accel at least 1.5x PyTorch eager; batch 8: at least on par).
Writes DIR/raw.json (every sample of both sides, the effective settings, versions, the sanity checks) and
DIR/README.md (the table). Exit 0; 3 when a sanity check failed; 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import transformers
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "hf"
SOURCE_WIDTH = 640  # accel bench -p for the vision points: a 640 x 480 synthetic image, as the default suite
CLIP_SECONDS = 10
GOALS = {1: 1.5, 8: 1.0}  # speedup torch/accel to reach, per batch (issues 20, 21, 23)
TINY = False  # --tiny: small shapes of the same architectures (the oracle test: proves the pipeline, not speed)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def source_image(seed: int) -> Image.Image:
    """A deterministic 640 x 480 picture (gradients and a ripple, as accel bench's source image) for the checks."""
    y, x = np.mgrid[0:480, 0:SOURCE_WIDTH].astype(np.float64)
    r = np.sin(x * 0.05 + (seed % 1000) / 100.0) * np.cos(y * 0.03)
    rgb = np.stack([255.0 * x / (SOURCE_WIDTH - 1), 255.0 * y / 479, 127.5 + 127.0 * r], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def speech_like(seconds: float, seed: int, rate: int = 16000) -> np.ndarray:
    """A speech-like clip (harmonics on a gliding pitch, syllable envelope, pauses, noise), as accel's."""
    t = np.arange(int(seconds * rate)) / float(rate)
    pitch = 120.0 + 40.0 * np.sin(2 * np.pi * 0.7 * t)
    phase = np.cumsum(2 * np.pi * pitch / float(rate))
    v = sum(np.sin(k * phase) / k for k in range(1, 9))
    env = np.maximum(0.0, np.sin(2 * np.pi * 4.0 * t)) * (np.fmod(t, 3.0) < 2.4)
    noise = np.random.default_rng(seed).uniform(-0.01, 0.01, t.shape)
    return (0.25 * v * env + noise).astype(np.float32)


# ---- the models: each builds its checkpoint, its torch inputs and forward, and its sanity check ----

def build_vit(out: Path):
    side, n = (32, 10) if TINY else (224, 1000)
    shape = dict(patch_size=8, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128) \
        if TINY else dict(patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                          intermediate_size=3072)
    cfg = transformers.ViTConfig(image_size=side, **shape, id2label={i: f"label_{i}" for i in range(n)},
                                 label2id={f"label_{i}": i for i in range(n)})
    model = transformers.ViTForImageClassification(cfg).eval()
    proc = transformers.ViTImageProcessor(size={"height": side, "width": side})
    return model, proc


def build_clip(out: Path):
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(FIXTURES / "clip" / f, out / f)  # the fixture's byte-level vocabulary; ids stay below 49408
    tok = transformers.CLIPTokenizer.from_pretrained(out)
    ids = dict(max_position_embeddings=77, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
               pad_token_id=tok.pad_token_id)
    if TINY:
        text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                    num_attention_heads=4, **ids)
        vision = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      image_size=32, patch_size=8)
        improc = transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    else:
        text = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                    num_attention_heads=8, **ids)
        vision = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                      image_size=224, patch_size=32)
        improc = transformers.CLIPImageProcessor()
    model = transformers.CLIPModel(transformers.CLIPConfig(text_config=text, vision_config=vision,
                                                           projection_dim=16 if TINY else 512)).eval()
    return model, transformers.CLIPProcessor(image_processor=improc, tokenizer=tok)


def build_detr(out: Path):
    resnet = dict(embedding_size=16, hidden_sizes=[8, 16, 32, 32], depths=[1, 1, 1, 1], layer_type="basic") if TINY \
        else dict(embedding_size=64, hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 6, 3], layer_type="bottleneck")
    backbone = transformers.ResNetConfig(num_channels=3, **resnet, hidden_act="relu", downsample_in_first_stage=False,
                                         out_features=["stage4"])
    labels = {i: f"label_{i}" for i in range(3 if TINY else 91)}
    shape = dict(num_queries=8, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                 decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128) if TINY else \
        dict(num_queries=100, d_model=256, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
             decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048)
    cfg = transformers.DetrConfig(use_timm_backbone=False, use_pretrained_backbone=False, backbone=None,
                                  backbone_config=backbone, **shape, position_embedding_type="sine",
                                  auxiliary_loss=False, id2label=labels, label2id={v: k for k, v in labels.items()})
    proc = transformers.DetrImageProcessor(size={"shortest_edge": 64, "longest_edge": 96}) if TINY \
        else transformers.DetrImageProcessor()
    return transformers.DetrForObjectDetection(cfg).eval(), proc


def build_wav2vec2(out: Path):
    for f in ("vocab.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json"):
        shutil.copy(FIXTURES / "wav2vec2" / f, out / f)  # a 32-character CTC vocabulary, as wav2vec2-base-960h
    tiny = dict(conv_dim=[32] * 7, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4) if TINY else {}
    cfg = transformers.Wav2Vec2Config(vocab_size=32, pad_token_id=0, apply_spec_augment=False, **tiny)  # -base
    proc = transformers.Wav2Vec2Processor.from_pretrained(out)
    return transformers.Wav2Vec2ForCTC(cfg).eval(), proc


CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def build_xclip(out: Path):
    """X-CLIP-B/32 with 8 frames (microsoft/xclip-base-patch32's shapes), the CLIP fixture's byte-level vocabulary."""
    for f in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(FIXTURES / "clip" / f, out / f)  # ids stay below 49408; <|endoftext|> is the largest (pooling)
    tok = transformers.CLIPTokenizer.from_pretrained(out)
    ids = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    if TINY:
        text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                    num_attention_heads=4, max_position_embeddings=77, **ids)
        vision = dict(image_size=32, patch_size=8, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                      num_attention_heads=4, mit_hidden_size=32, mit_intermediate_size=64, mit_num_hidden_layers=1,
                      mit_num_attention_heads=4, num_frames=4)
        side, shape = 32, dict(projection_dim=32, prompt_layers=1, prompt_num_attention_heads=4)  # = MIT width
    else:
        text = dict(vocab_size=49408, **ids)  # XCLIPTextConfig's defaults: 512 wide, 12 layers
        vision = dict(num_frames=8)  # XCLIPVisionConfig's defaults: ViT-B/32 at 224, MIT 512 wide, one layer
        side, shape = 224, {}
    cfg = transformers.XCLIPConfig(text_config=text, vision_config=vision, **shape)
    improc = transformers.VideoMAEImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side},
                                                 image_mean=CLIP_MEAN, image_std=CLIP_STD)
    return transformers.XCLIPModel(cfg).eval(), transformers.XCLIPProcessor(image_processor=improc, tokenizer=tok)


def build_clap(out: Path):
    """CLAP HTSAT-unfused (laion/clap-htsat-unfused's shapes: Swin depths 2-2-6-2 over 64 mels, a RoBERTa-base text
    tower), with the CLAP fixture's small RoBERTa vocabulary and rand_trunc features (accel keeps the first
    max_length_s, which rand_trunc draws among; the clips here are never longer)."""
    for f in ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(FIXTURES / "clap" / f, out / f)
    tok = transformers.RobertaTokenizerFast.from_pretrained(out)
    ids = dict(pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1)
    if TINY:
        audio = dict(window_size=4, num_mel_bins=16, spec_size=32, patch_size=4, patch_stride=[4, 4], hidden_size=32,
                     depths=[2, 2], num_attention_heads=[2, 4], patch_embeds_hidden_size=16, mlp_ratio=2.0)
        text = dict(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=64, max_position_embeddings=34, **ids)
        fe = dict(feature_size=16, sampling_rate=16000, hop_length=800, max_length_s=3, frequency_min=0,
                  frequency_max=8000)
        proj = 16
    else:
        audio = {}  # ClapAudioConfig's defaults: HTSAT, window 8, 64 mels, spec 256, 768 wide, 527 classes
        text = dict(vocab_size=50265, max_position_embeddings=514, **ids)  # ClapTextConfig: RoBERTa-base
        fe = dict(feature_size=64, sampling_rate=48000, hop_length=480, max_length_s=CLIP_SECONDS, frequency_min=50,
                  frequency_max=14000)
        proj = 512
    cfg = transformers.ClapConfig(text_config=text, audio_config=dict(audio, enable_fusion=False), projection_dim=proj)
    extractor = transformers.ClapFeatureExtractor(**fe, fft_window_size=1024, truncation="rand_trunc",
                                                  padding="repeatpad")
    return transformers.ClapModel(cfg).eval(), transformers.ClapProcessor(feature_extractor=extractor, tokenizer=tok)


def xclip_video_embeds(model, pixels):
    """XCLIPModel.forward's video side (the frames' tower, projection, MIT), what accel's embed_video computes:
    get_video_features itself fails in the pinned transformers (it reads pooler_output from the MIT's tuple)."""
    b, n, c, h, w = pixels.shape
    pooled = model.vision_model(pixel_values=pixels.reshape(-1, c, h, w), return_dict=True).pooler_output
    return model.mit(model.visual_projection(pooled).view(b, n, -1), return_dict=True).pooler_output


def video_frames(n: int, seed: int) -> list:
    """A clip's frames for X-CLIP: the source image drawn with n phases (accel bench samples its synthetic clip)."""
    return [source_image(seed + i) for i in range(n)]


def vision_inputs(proc, batch: int, seed: int, detr: bool):
    images = [source_image(seed + i) for i in range(batch)]
    enc = proc(images=images, return_tensors="pt")
    return {"pixel_values": enc["pixel_values"], **({"pixel_mask": enc["pixel_mask"]} if detr else {})}


def torch_step(name: str, model, proc, batch: int, seed: int):
    """What one timed repetition does on the torch side (see the table in the module's doc)."""
    if name == "wav2vec2":
        clip = speech_like(CLIP_SECONDS, seed)

        def step():
            iv = proc(clip, sampling_rate=16000, return_tensors="pt").input_values
            ids = model(iv).logits.argmax(-1)
            return proc.batch_decode(ids)
        return step
    if name == "clap":
        rate = proc.feature_extractor.sampling_rate
        seconds = min(CLIP_SECONDS, proc.feature_extractor.nb_max_samples / rate)
        features = proc(audio=speech_like(seconds, seed, rate), sampling_rate=rate, return_tensors="pt")
        return lambda: model.get_audio_features(input_features=features.input_features)  # the audio tower alone
    if name == "xclip":
        n = model.config.vision_config.num_frames
        videos = [video_frames(n, seed + 100 * b) for b in range(batch)]
        pixels = proc.image_processor(videos, return_tensors="pt").pixel_values
        return lambda: xclip_video_embeds(model, pixels)
    inputs = vision_inputs(proc, batch, seed, name == "detr")
    if name == "clip":
        return lambda: model.get_image_features(**inputs)
    return lambda: model(**inputs)


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a - b)) / max(np.ptp(b), 1e-12))


def sanity(name: str, accel: str, gguf: Path, model, proc, work: Path, wtype: str, threads: int) -> dict:
    """accel infer --json against transformers on one input. Limits: relative to the reference's range, 1e-3 for
    f32 weights and 3e-2 for f16; wav2vec2's greedy transcript 99% alike (f32: a frame may flip where random
    weights leave two characters nearly tied) or 90% (f16)."""
    limit = 1e-3 if wtype == "f32" else 3e-2
    image = work / "check.png"
    source_image(7).save(image)
    base = [accel, "infer", "--model", str(gguf), "--json", "-t", str(threads)]
    with torch.inference_mode():
        if name == "vit":
            got = json.loads(run(base + ["--image", str(image), "--top", "1000"]))["results"][0]["top"]
            logits = model(**proc(images=[Image.open(image)], return_tensors="pt")).logits[0].numpy()
            ours = np.zeros_like(logits)
            for row in got:
                ours[row["id"]] = row["logit"]
            d = rel_diff(ours, logits)
            return {"what": "1000 logits of one image", "max_rel_diff": d, "limit": limit, "ok": d <= limit}
        if name == "clip":
            texts = ["a red cat", "two blue squares"]  # words of the fixture's vocabulary
            got = json.loads(run(base + ["--image", str(image), "--text", texts[0], "--text", texts[1]]))
            enc = proc(text=texts, images=[Image.open(image)], return_tensors="pt", padding=True)
            ref = model(**enc).logits_per_image[0].numpy()
            ours = np.array(got["results"][0]["logits"])
            d = float(np.max(np.abs(ours - ref)) / max(np.abs(ref).max(), 1e-12))  # two values: relative to size
            return {"what": "logits_per_image, one image x two texts", "accel": ours.tolist(),
                    "reference": ref.tolist(), "max_rel_diff": d, "limit": limit, "ok": d <= limit}
        if name == "detr":
            got = json.loads(run(base + ["--image", str(image), "--threshold", "0"]))["results"][0]["detections"]
            img = Image.open(image)
            out = model(**proc(images=[img], return_tensors="pt"))
            ref = proc.post_process_object_detection(out, threshold=0.0, target_sizes=[(img.height, img.width)])[0]
            scores = np.array([d["score"] for d in got])
            boxes = np.array([d["box"] for d in got])
            rs = ref["scores"].numpy()
            ds = float(np.max(np.abs(scores - rs)) / max(np.abs(rs).max(), 1e-12)) if scores.shape == rs.shape \
                else math.inf  # relative to the best score: random weights give scores of nearly one value
            db = rel_diff(boxes, ref["boxes"].numpy())
            return {"what": f"scores and boxes of {len(rs)} queries, one image", "max_rel_diff": max(ds, db),
                    "scores_rel_diff": ds, "boxes_rel_diff": db, "limit": limit, "ok": max(ds, db) <= limit}
        if name == "xclip":
            texts = ["a red cat", "two blue squares"]  # words of the CLIP fixture's vocabulary
            frames = video_frames(model.config.vision_config.num_frames, 7)
            folder = work / "frames"
            folder.mkdir(exist_ok=True)
            for i, f in enumerate(frames):
                f.save(folder / f"frame{i:02d}.png")
            got = json.loads(run(base + ["--video", str(folder), "--text", texts[0], "--text", texts[1]]))
            video = [Image.open(folder / f"frame{i:02d}.png") for i in range(len(frames))]
            enc = proc.tokenizer(texts, padding=True, return_tensors="pt")
            pixels = proc.image_processor([video], return_tensors="pt").pixel_values
            ref = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                        pixel_values=pixels).logits_per_video[0].numpy()
            ours = np.array([t["logit"] for t in got["texts"]])
            d = float(np.max(np.abs(ours - ref)) / max(np.abs(ref).max(), 1e-12))
            return {"what": f"logits_per_video, {len(frames)} frames x two texts", "accel": ours.tolist(),
                    "reference": ref.tolist(), "max_rel_diff": d, "limit": limit, "ok": d <= limit}
        if name == "clap":
            texts = ["a dog barks in the rain", "silence"]  # words of the CLAP fixture's vocabulary
            rate = proc.feature_extractor.sampling_rate
            wave_ = speech_like(min(CLIP_SECONDS, proc.feature_extractor.nb_max_samples / rate), 7, rate)
            wav = work / "check.wav"
            write_wav(wav, wave_, rate)
            got = json.loads(run(base + ["--audio", str(wav), "--text", texts[0], "--text", texts[1]]))
            wave_ = as_written(wave_)
            enc = proc(text=texts, audio=wave_, sampling_rate=rate, return_tensors="pt", padding=True)
            ref = model(**enc).logits_per_audio[0].numpy()
            ours = np.array([t["logit"] for t in got["texts"]])
            d = float(np.max(np.abs(ours - ref)) / max(np.abs(ref).max(), 1e-12))
            return {"what": "logits_per_audio, one clip x two texts", "accel": ours.tolist(),
                    "reference": ref.tolist(), "max_rel_diff": d, "limit": limit, "ok": d <= limit}
        clip = speech_like(CLIP_SECONDS, 7)
        wav = work / "check.wav"
        write_wav(wav, clip)
        got = json.loads(run(base + ["--audio", str(wav)]))["transcript"]
        clip = as_written(clip)  # what accel reads: random weights leave frames near-tied, so 16-bit rounding flips some
        ids = model(proc(clip, sampling_rate=16000, return_tensors="pt").input_values).logits.argmax(-1)
        want = proc.batch_decode(ids)[0]
        import difflib
        alike = difflib.SequenceMatcher(None, got, want).ratio() if (got or want) else 1.0
        need = 0.99 if wtype == "f32" else 0.9
        return {"what": f"greedy CTC transcript of a {CLIP_SECONDS} s clip ({len(want)} characters)",
                "alike": alike, "limit": need, "ok": alike >= need}


@contextlib.contextmanager
def ggml_f16_arithmetic(model):
    """transformers computing as ggml's CPU matmul does with f16 weights: every Linear's weight AND its input rounded
    to f16 (ggml converts the activations to the weights' type), products summed in f32. Convolutions are left in
    f32, so this reproduces ggml's rounding only where a model's error comes from its Linear layers."""
    saved, hooks = [], []
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            saved.append((m, m.weight.data))
            m.weight.data = m.weight.data.half().float()
            hooks.append(m.register_forward_pre_hook(lambda _, args: (args[0].half().float(),) + args[1:]))
    try:
        yield
    finally:
        for h in hooks:
            h.remove()
        for m, w in saved:
            m.weight.data = w


def checked(name: str, accel: str, gguf: Path, model, proc, work: Path, wtype: str, threads: int) -> dict:
    """sanity() against transformers in f32; with f16 weights also against transformers with ggml's f16 arithmetic
    (ggml_f16_arithmetic), reported beside it. A check that fails against f32 but passes against the f16 arithmetic is
    ok with `judged_against` saying so: accel computes the model as ggml's f16 kernels define it, and the difference
    from f32 is that rounding of the activations (random weights can amplify it: docs/benchmarks.md, X-CLIP)."""
    c = sanity(name, accel, gguf, model, proc, work, wtype, threads)
    c["judged_against"] = "transformers f32"
    if wtype != "f16":
        return c
    with ggml_f16_arithmetic(model):
        e = sanity(name, accel, gguf, model, proc, work, wtype, threads)
    c["f16_arithmetic"] = {k: e[k] for k in ("max_rel_diff", "alike", "ok") if k in e}
    if not c["ok"] and e["ok"]:
        c["ok"] = True
        c["judged_against"] = "transformers with ggml's f16 arithmetic (Linear weights and inputs rounded to f16)"
    return c


def as_written(clip: np.ndarray) -> np.ndarray:
    """The clip as write_wav stores it and accel reads it back (16-bit, full scale 32768)."""
    return (np.clip(clip, -1, 1) * 32767).astype("<i2").astype(np.float32) / 32768


def write_wav(path: Path, clip: np.ndarray, rate: int = 16000) -> None:
    import wave
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(clip, -1, 1) * 32767).astype("<i2").tobytes())


MODELS = {
    # name: (builder, accel bench scenario, accel bench -p, batches it takes)
    "vit": (build_vit, "vision", SOURCE_WIDTH, None),
    "clip": (build_clip, "vision", SOURCE_WIDTH, None),
    "detr": (build_detr, "vision", SOURCE_WIDTH, None),
    "wav2vec2": (build_wav2vec2, "audio", CLIP_SECONDS, [1]),
    "clap": (build_clap, "audio", CLIP_SECONDS, [1]),
    "xclip": (build_xclip, "vision", SOURCE_WIDTH, None),
}


def run(cmd: list[str]) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"torch_side_by_side: {' '.join(cmd[:3])} ... failed ({p.returncode}): {p.stderr.strip()}")
    return p.stdout


# ---- timing ----

def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def summary_ms(ns: list[int]) -> dict:
    ms = [x / 1e6 for x in ns]
    return {"n": len(ms), "mean": statistics.fmean(ms), "p50": pct(ms, 50), "p90": pct(ms, 90), "p99": pct(ms, 99),
            "min": min(ms), "max": max(ms)}


def time_torch(step, warmup: int, reps: int, min_s: float) -> list[int]:
    """accel bench's rules: warm-up passes untimed, then at least `reps` and at least `min_s` seconds of passes."""
    with torch.inference_mode():
        for _ in range(warmup):
            step()
        samples, total = [], 0
        while len(samples) < reps or total < min_s * 1e9:
            t0 = time.perf_counter_ns()
            step()
            samples.append(time.perf_counter_ns() - t0)
            total += samples[-1]
    return samples


def time_accel(accel: str, gguf: Path, scenario: str, p: int, batch: int, a) -> dict:
    cmd = [accel, "bench", "-m", str(gguf), "--scenario", scenario, "-p", str(p), "-t", str(a.threads),
           "-r", str(a.reps), "--min-duration", str(a.min_duration), "--warmup", str(a.warmup), "--seed", str(a.seed),
           "--no-store", "--json"]
    if scenario == "vision":
        cmd += ["--embed-batch", str(batch)]
    doc = json.loads(run(cmd))
    points = [r for r in doc.get("results", []) if isinstance(r, dict)]
    if not points:
        raise SystemExit(f"torch_side_by_side: accel bench gave no point for {gguf.name} b{batch}: {doc}")
    point = points[0]
    samples = point.get("samples_ns") or point.get("measurement", {}).get("samples_ns")
    if not samples:
        raise SystemExit(f"torch_side_by_side: no samples_ns in accel bench's point: {list(point)}")
    return {"command": " ".join(cmd), "samples_ns": samples, "point": point}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accel", required=True, help="the accel binary (a release build)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="threads on both sides (default: all)")
    ap.add_argument("--models", default="vit,clip,detr,wav2vec2,clap,xclip")
    ap.add_argument("--batches", default="1,8", help="images per pass (wav2vec2: batch 1 only)")
    ap.add_argument("--types", default="f32,f16", help="accel's weight types (torch runs f32)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-duration", type=float, default=5.0, help="seconds of timed passes at least, per side")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", help="keep the checkpoints and GGUFs here (default: a temporary folder, removed)")
    ap.add_argument("--out", help="write raw.json and README.md here")
    ap.add_argument("--tiny", action="store_true", help="small shapes (the oracle test: the pipeline, not speed)")
    a = ap.parse_args()
    global TINY
    TINY = a.tiny
    models = a.models.split(",")
    batches = [int(b) for b in a.batches.split(",")]
    types = a.types.split(",")
    bad = [m for m in models if m not in MODELS] + [t for t in types if t not in ("f32", "f16", "q8_0")]
    if bad or a.threads < 1 or not Path(a.accel).is_file() or any(b < 1 for b in batches):
        print(f"torch_side_by_side: bad argument(s) {bad or ''} (models: {', '.join(MODELS)}; types f32, f16, "
              f"q8_0; --accel must be a file; threads and batches at least 1)", file=sys.stderr)
        return 2
    accel = str(Path(a.accel).resolve())
    torch.set_num_threads(a.threads)
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="torch-sbs-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rows, checks = [], {}
    for name in models:
        build, scenario, p, only = MODELS[name]
        hf = work / name / "hf"
        hf.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(a.seed)
        model, proc = build(hf)
        if name == "clap":  # accel bench refuses clips past the window the model hears (max_length_s)
            fe = proc.feature_extractor
            p = int(min(CLIP_SECONDS, fe.nb_max_samples // fe.sampling_rate))
        model.save_pretrained(hf, safe_serialization=True)
        proc.save_pretrained(hf)
        n_params = sum(t.numel() for t in model.parameters())
        log(f"{name}: {n_params / 1e6:.1f}M parameters (random weights), attention {model.config._attn_implementation}")
        ggufs = {}
        for t in types:
            ggufs[t] = work / name / f"{name}-{t}.gguf"
            t0 = time.time()
            run([accel, "convert", str(hf), "--out", str(ggufs[t]), "--type", t])
            checks[f"{name} {t}"] = checked(name, accel, ggufs[t], model, proc, work / name, t, a.threads)
            log(f"{name} {t}: converted in {time.time() - t0:.0f} s; check {checks[f'{name} {t}']}")
        for i, b in enumerate(only or batches):
            step = torch_step(name, model, proc, b, a.seed)
            accel_runs = {}
            torch_ns = None
            sides = ["torch", "accel"] if i % 2 else ["accel", "torch"]  # alternate the order between batches
            for side in sides:
                if side == "torch":
                    torch_ns = time_torch(step, a.warmup, a.reps, a.min_duration)
                else:
                    for t in types:
                        accel_runs[t] = time_accel(accel, ggufs[t], scenario, p, b, a)
                time.sleep(1)  # let the other side's idle threads stop spinning
            tq = summary_ms(torch_ns)
            for t in types:
                aq = summary_ms(accel_runs[t]["samples_ns"])
                speedup = tq["p50"] / aq["p50"]
                goal = GOALS.get(b)
                rows.append({"model": name, "batch": b, "accel_type": t, "accel_ms": aq, "torch_ms": tq,
                             "speedup_torch_over_accel": speedup, "goal": goal,
                             "goal_met": None if goal is None else speedup >= goal,
                             "torch_samples_ns": torch_ns, "accel_samples_ns": accel_runs[t]["samples_ns"],
                             "accel_command": accel_runs[t]["command"], "accel_point": accel_runs[t]["point"],
                             "order": sides, "n_params": n_params,
                             "torch_attn_implementation": model.config._attn_implementation})
                log(f"{name} b{b} {t}: accel {aq['p50']:.1f} ms, torch {tq['p50']:.1f} ms, x{speedup:.2f}")
        del model
    table = render(rows, checks, a)
    print(table)
    doc = {"schema_version": 1, "tool": "benchmarks/torch_side_by_side.py", "weights": "random (seeded): speed only",
           "tiny": TINY,
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "seconds": time.time() - started,
           "settings": {"threads": a.threads, "warmup": a.warmup, "reps": a.reps, "min_duration_s": a.min_duration,
                        "seed": a.seed, "types": types, "batches": batches, "source_width": SOURCE_WIDTH,
                        "clip_seconds": CLIP_SECONDS},
           "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "python": platform.python_version(), "accel": json.loads(run([accel, "version", "--json"]))},
           "machine": {"cpu_count": os.cpu_count(), "load_average": os.getloadavg(), "platform": platform.platform()},
           "sanity": checks, "rows": rows}
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "raw.json").write_text(json.dumps(doc, indent=1))
        (out / "README.md").write_text(f"# accel against PyTorch eager, {doc['date']}\n\n{table}\n")
        log(f"raw data: {out / 'raw.json'}")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    log(f"total {time.time() - started:.0f} s")
    return 0 if all(c["ok"] for c in checks.values()) else 3


def render(rows: list[dict], checks: dict, a) -> str:
    lines = ["| model | batch | accel type | accel ms (p50) | torch ms (p50) | speedup torch/accel | goal | met |",
             "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        goal = "" if r["goal"] is None else f"{r['goal']:.1f}x"
        met = "" if r["goal_met"] is None else ("yes" if r["goal_met"] else "NO")
        lines.append(f"| {r['model']} | {r['batch']} | {r['accel_type']} | {r['accel_ms']['p50']:.1f} | "
                     f"{r['torch_ms']['p50']:.1f} | {r['speedup_torch_over_accel']:.2f} | {goal} | {met} |")
    lines.append("")
    lines.append(f"threads {a.threads} on both sides; warm-up {a.warmup}, at least {a.reps} repetitions and "
                 f"{a.min_duration:g} s per side; torch {torch.__version__} eager (f32, inference_mode), transformers "
                 f"{transformers.__version__}; RANDOM WEIGHTS (speed only).")
    lines.append("Sanity (accel infer against transformers on one input): " + "; ".join(
        f"{k} {'ok' if c['ok'] else 'FAILED'} ({c.get('max_rel_diff', c.get('alike')):.2g} against {c['limit']:g}"
        + (f"; f16 arithmetic {c['f16_arithmetic'].get('max_rel_diff', c['f16_arithmetic'].get('alike')):.2g}"
           if "f16_arithmetic" in c else "") + ")"
        for k, c in checks.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
