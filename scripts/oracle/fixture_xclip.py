"""The `xclip` fixture: a tiny random-weight XCLIPModel (X-CLIP: a CLIP vision tower per frame with cross-frame
message tokens, a multi-frame integration transformer, a video-specific prompt generator over the text embeddings,
and a CLIP text tower), its XCLIPProcessor (VideoMAEImageProcessor with CLIP's mean and std + CLIPTokenizerFast) and
transformers' outputs on a four-frame "video" drawn here: vit's drawing (fixture_vit.draw, 45x38) shifted right by 0,
4, 8 and 12 pixels (wrapping around), one PNG per frame.

Tokenizer: CLIP's byte-level BPE layout (the 256 byte characters, the same with "</w>", then merges, then
<|startoftext|> and <|endoftext|>), cut to no merges: 514 ids, every word spelled by characters. No pinned file
carries CLIP's merges, and this layout is what CLIPTokenizerFast reads; the EOS is the largest id, which X-CLIP's text
pooling (argmax of the ids) needs. Towers 64 wide (vision 32x32, patch 8, 2 layers; MIT 32 wide, 1 layer; text 2
layers), prompt generator 1 layer, projections to 32, logit scale ln(1/0.07).

reference.safetensors: pixel_values (4 frames x 3x32x32), video_embeds (1 x 32), text_embeds (1 x texts x 32; the
prompt generator makes them per video), logits_per_video (1 x texts). reference.json: the texts, input_ids and
attention_mask (padded with <|endoftext|>). Registered in make_fixtures.py.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

FRAMES = [f"frame{i}.png" for i in range(4)]
SHIFT = 4
TEXTS = ["a yellow circle moves right", "a blue square", "stripes"]
CLIP_MEAN, CLIP_STD = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]


def clip_tokenizer(out: Path, transformers):
    from transformers.models.clip.tokenization_clip import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    (out / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}, ensure_ascii=False),
                                    encoding="utf-8")
    (out / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    tok = transformers.CLIPTokenizerFast(vocab_file=str(out / "vocab.json"), merges_file=str(out / "merges.txt"),
                                         unk_token="<|endoftext|>", bos_token="<|startoftext|>",
                                         eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=32)
    for f in ("vocab.json", "merges.txt"):
        (out / f).unlink()  # the processor saves them again, with the tokenizer's config
    return tok


def make_xclip(out: Path, torch, transformers):
    import numpy as np
    import fixture_vit
    import make_fixtures as mf
    from PIL import Image
    from safetensors.torch import save_file

    base = np.asarray(fixture_vit.draw(45, 38))
    for i, name in enumerate(FRAMES):
        Image.fromarray(np.roll(base, SHIFT * i, axis=1)).save(out / name, format="PNG")
    tok = clip_tokenizer(out, transformers)
    improc = transformers.VideoMAEImageProcessor(
        do_resize=True, size={"shortest_edge": 32}, resample=2, do_center_crop=True,
        crop_size={"height": 32, "width": 32}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        image_mean=CLIP_MEAN, image_std=CLIP_STD)
    proc = transformers.XCLIPProcessor(image_processor=improc, tokenizer=tok)
    proc.save_pretrained(out)

    eos = tok.eos_token_id
    text = dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=32, hidden_act="quick_gelu", layer_norm_eps=1e-5,
                bos_token_id=tok.bos_token_id, eos_token_id=eos, pad_token_id=eos)
    vision = dict(image_size=32, patch_size=8, num_channels=3, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, mit_hidden_size=32, mit_intermediate_size=64,
                  mit_num_hidden_layers=1, mit_num_attention_heads=4, num_frames=len(FRAMES),
                  hidden_act="quick_gelu", layer_norm_eps=1e-5, drop_path_rate=0.0)
    cfg = transformers.XCLIPConfig(text_config=text, vision_config=vision, projection_dim=32, prompt_layers=1,
                                   prompt_alpha=0.1, prompt_hidden_act="quick_gelu", prompt_num_attention_heads=4,
                                   logit_scale_init_value=math.log(1 / 0.07), attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.XCLIPModel(cfg).eval()
    mf.randomize(model, torch)
    # X-CLIP's init; randomize() would make it 0.1 * N(0, 1). The prompt generator's alpha (init 0.1 everywhere)
    # keeps randomize's 0.1 * N(0, 1) per channel.
    with torch.no_grad():
        model.logit_scale.fill_(math.log(1 / 0.07))
    model = mf.save_checkpoint(model, out, torch.float32, None, torch)

    video = [Image.open(out / n) for n in FRAMES]
    # XCLIPProcessor.__call__ of transformers 4.57 passes `videos` to no processor (it returns the text's ids
    # only), so its two parts are called one by one, as X-CLIP's model card did before
    enc = proc.tokenizer(TEXTS, padding=True, return_tensors="pt")
    pixels = proc.image_processor([video], return_tensors="pt").pixel_values
    assert tuple(pixels.shape) == (1, len(FRAMES), 3, 32, 32), pixels.shape
    with torch.no_grad():
        o = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask, pixel_values=pixels)
    save_file({"pixel_values": pixels[0].float().contiguous(),
               "video_embeds": o.video_embeds.float().contiguous(), "text_embeds": o.text_embeds.float().contiguous(),
               "logits_per_video": o.logits_per_video.float().contiguous()}, str(out / "reference.safetensors"))
    return {
        "kind": "video_text_similarity",
        "frames": FRAMES,
        "texts": TEXTS,
        "input_ids": enc.input_ids.tolist(),
        "attention_mask": enc.attention_mask.tolist(),
        "processor": "XCLIPProcessor's parts: VideoMAEImageProcessor (PIL resize BILINEAR, shortest edge 32, center crop 32, "
                     "CLIP mean/std), CLIPTokenizerFast (no merges: characters)",
        "tensors": {"pixel_values": "frames x 3x32x32", "video_embeds": "1 x 32, L2-normalized",
                    "text_embeds": "1 x texts x 32 (after the video-specific prompt), L2-normalized",
                    "logits_per_video": "1 x texts, exp(logit_scale) * cosine"},
        "weights": "random (seeded), not a trained model",
    }, "f32"
