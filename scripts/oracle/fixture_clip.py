"""The `clip` fixture: a tiny random-weight CLIPModel (both towers, quick_gelu), its CLIPImageProcessor, the vit
fixture's drawing of images (fixture_vit.draw) and fixed token ids (no tokenizer yet: accel's CLIP takes ids), with
transformers' outputs.

reference.safetensors: each image's pixel_values (3x32x32), and for the images x texts: image_embeds and text_embeds
(normalized, projection_dim 32) and logits_per_image. The texts are padded with the EOS id, as CLIP's tokenizer pads;
the causal mask makes the first EOS's state independent of the padding. Registered in make_fixtures.py's CLASSES.
"""
from __future__ import annotations

from pathlib import Path

IMAGES = {"shapes.png": (45, 38), "small.png": (20, 17)}
BOS, EOS, VOCAB = 62, 63, 64
TEXTS = [[BOS, 5, 17, 33, EOS, EOS, EOS, EOS], [BOS, 40, 2, EOS, EOS, EOS, EOS, EOS], [BOS, 9, 9, 21, 50, 11, 7, EOS]]


def make_clip(out: Path, torch, transformers):
    import fixture_vit
    import make_fixtures as mf
    from PIL import Image
    from safetensors.torch import save_file

    for name, (w, h) in IMAGES.items():
        fixture_vit.draw(w, h).save(out / name, format="PNG")
    proc = transformers.CLIPImageProcessor(
        do_resize=True, size={"shortest_edge": 32}, resample=3, do_center_crop=True,
        crop_size={"height": 32, "width": 32}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        do_convert_rgb=True)
    proc.save_pretrained(out)

    text = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                max_position_embeddings=16, hidden_act="quick_gelu", layer_norm_eps=1e-5, bos_token_id=BOS,
                eos_token_id=EOS, pad_token_id=EOS)
    vision = dict(image_size=32, patch_size=8, num_channels=3, hidden_size=64, intermediate_size=128,
                  num_hidden_layers=2, num_attention_heads=4, hidden_act="quick_gelu", layer_norm_eps=1e-5)
    cfg = transformers.CLIPConfig(text_config=text, vision_config=vision, projection_dim=32,
                                  logit_scale_init_value=2.6592, attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.CLIPModel(cfg).eval()
    mf.randomize(model, torch)
    with torch.no_grad():
        model.logit_scale.fill_(2.6592)  # ln(1/0.07), CLIP's init; randomize() would make it 0.1 * N(0, 1)
    model = mf.save_checkpoint(model, out, torch.float32, None, torch)

    pixels = torch.cat([proc(images=Image.open(out / n), return_tensors="pt").pixel_values for n in IMAGES])
    ids = torch.tensor(TEXTS)
    with torch.no_grad():
        o = model(input_ids=ids, pixel_values=pixels)
    tensors = {f"{n.replace('.', '_')}.pixel_values": pixels[i].contiguous() for i, n in enumerate(IMAGES)}
    tensors.update({"image_embeds": o.image_embeds.float().contiguous(),
                    "text_embeds": o.text_embeds.float().contiguous(),
                    "logits_per_image": o.logits_per_image.float().contiguous()})
    save_file(tensors, str(out / "reference.safetensors"))
    return {
        "kind": "image_text_similarity",
        "images": list(IMAGES),
        "input_ids": TEXTS,
        "processor": "CLIPImageProcessor (PIL resize, BICUBIC, shortest edge, center crop)",
        "tensors": {"<image>.pixel_values": "3x32x32", "image_embeds": "images x 32, L2-normalized",
                    "text_embeds": "texts x 32, L2-normalized (pooled at each text's first EOS)",
                    "logits_per_image": "images x texts, exp(logit_scale) * cosine"},
    }, "f32"
