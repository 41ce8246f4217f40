"""The `vit` fixture: a tiny random-weight ViTForImageClassification, its ViTImageProcessor (the PIL one, not the
torchvision "fast" one), three images drawn here (nothing downloaded) and transformers' outputs on them.

Images: shapes.png (45x38 RGB, downscaled by the processor), shapes.jpg (the same pixels as a JPEG, quality 90) and
small.png (20x17, upscaled). reference.safetensors holds each image's pixel_values (3x32x32, f32, what the processor
gives) and logits, and the PNG's last hidden state (17 tokens: CLS + 16 patches, after the final layernorm), and
what CLIPImageProcessor (bicubic, shortest edge 24, center crop 20; clip_preprocessor_config.json) gives for each.
Registered in make_fixtures.py's CLASSES.
"""
from __future__ import annotations

from pathlib import Path

IMAGES = {"shapes.png": (45, 38), "shapes.jpg": (45, 38), "small.png": (20, 17)}
LABELS = ["tabby cat", "golden retriever", "red fox", "tree frog", "coffee mug"]


def draw(width: int, height: int):
    """A gradient with a filled circle, a rectangle and diagonal stripes: smooth areas and sharp edges, so that
    resampling and JPEG both show."""
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / max(width - 1, 1)
    g = 255 * y / max(height - 1, 1)
    b = 128 + 127 * np.sin((x + 2 * y) / 3.0)
    img = np.stack([r, g, b], axis=-1)
    circle = (x - width * 0.35) ** 2 + (y - height * 0.45) ** 2 < (min(width, height) * 0.25) ** 2
    img[circle] = [250, 240, 20]
    rect = (x > width * 0.6) & (x < width * 0.9) & (y > height * 0.2) & (y < height * 0.7)
    img[rect] = [30, 60, 200]
    stripes = ((x.astype(int) + y.astype(int)) // 3) % 2 == 0
    img[(y > height * 0.8) & stripes] = [0, 0, 0]
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), mode="RGB")


def make_vit(out: Path, torch, transformers):
    import make_fixtures as mf  # randomize, save_checkpoint, SEED (make_fixtures imports this module lazily)
    from PIL import Image
    from safetensors.torch import save_file

    for name, (w, h) in IMAGES.items():
        img = draw(w, h)
        if name.endswith(".jpg"):
            img.save(out / name, format="JPEG", quality=90)
        else:
            img.save(out / name, format="PNG")

    proc = transformers.ViTImageProcessor(
        do_resize=True, size={"height": 32, "width": 32}, resample=2, do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    proc.save_pretrained(out)

    cfg = transformers.ViTConfig(
        image_size=32, patch_size=8, num_channels=3, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, hidden_act="gelu", layer_norm_eps=1e-12, qkv_bias=True,
        id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)}, attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.ViTForImageClassification(cfg).eval()
    mf.randomize(model, torch)
    model = mf.save_checkpoint(model, out, torch.float32, None, torch)

    # CLIP's processor (bicubic, shortest edge, center crop), on the same images: media/ serves both
    clip = transformers.CLIPImageProcessor(
        do_resize=True, size={"shortest_edge": 24}, resample=3, do_center_crop=True,
        crop_size={"height": 20, "width": 20}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        do_convert_rgb=True)
    (out / "clip_preprocessor_config.json").write_text(clip.to_json_string(), encoding="utf-8")

    tensors = {}
    top1 = {}
    with torch.no_grad():
        for name in IMAGES:
            pv = proc(images=Image.open(out / name), return_tensors="pt").pixel_values
            o = model(pixel_values=pv, output_hidden_states=True)
            stem = name.replace(".", "_")
            tensors[f"{stem}.pixel_values"] = pv[0].float().contiguous()
            clip_pv = clip(images=Image.open(out / name), return_tensors="pt").pixel_values
            tensors[f"{stem}.clip_pixel_values"] = clip_pv[0].float().contiguous()
            tensors[f"{stem}.logits"] = o.logits[0].float().contiguous()
            if name == "shapes.png":
                hidden = model.vit.layernorm(o.hidden_states[-1])[0]
                tensors[f"{stem}.last_hidden_state"] = hidden.float().contiguous()
            top1[name] = LABELS[int(o.logits[0].argmax())]
    save_file(tensors, str(out / "reference.safetensors"))
    return {
        "kind": "image_classification",
        "images": list(IMAGES),
        "processor": "ViTImageProcessor (PIL resize, BILINEAR)",
        "top1": top1,
        "tensors": {"<image>.pixel_values": "3x32x32, what the processor gives", "<image>.logits": "one per label",
                    "shapes_png.last_hidden_state": "CLS + 16 patches after the final layernorm",
                    "<image>.clip_pixel_values": "3x20x20, CLIPImageProcessor of clip_preprocessor_config.json"},
    }, "f32"
