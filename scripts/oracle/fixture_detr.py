"""The `detr` fixture: a tiny random-weight DetrForObjectDetection with transformers' own ResNet backbone
(use_timm_backbone=False, use_pretrained_backbone=False: nothing to download; a ResNetConfig of four basic stages,
8-32 channels, 32x downsampling, batch norms frozen as DETR freezes them), sine position embedding, 2 + 2 layers
64 wide, 8 queries, 3 labels; its DetrImageProcessor and transformers' outputs on a batch of two drawings (vit's
fixture_vit.draw at 45x38 and 30x40, portrait), so that the processor pads to a common size and pixel_mask matters.

Weights: make_fixtures.randomize, then every conv kernel is rescaled to N(0, 1/(in x kh x kw)) (randomize's fan-in
is the last dimension only, which for a 3x3 kernel blows activations up through the backbone); the frozen batch
norms' statistics are drawn too (weight 1 + N(0, 0.1), bias and running_mean N(0, 0.1), running_var 1 + |N(0, 0.1)|),
so that folding them is tested; the 8 object queries are N(0, 1). reference.safetensors: pixel_values (2 x 3 x H x W, padded), pixel_mask (2 x H x W,
int64), logits (2 x 8 x 4: 3 labels + "no object") and pred_boxes (2 x 8 x 4, normalized cx, cy, w, h).
Registered in make_fixtures.py; make_detr_timm (`detr_timm`) below is the timm-backbone variant.
"""
from __future__ import annotations

import math
from pathlib import Path

IMAGES = {"shapes.png": (45, 38), "portrait.png": (30, 40)}
LABELS = ["circle", "rectangle", "stripes"]


def make_detr(out: Path, torch, transformers):
    backbone = transformers.ResNetConfig(num_channels=3, embedding_size=16, hidden_sizes=[8, 16, 32, 32],
                                         depths=[1, 1, 1, 1], layer_type="basic", hidden_act="relu",
                                         downsample_in_first_stage=False, out_features=["stage4"])
    return make(out, torch, transformers, dict(use_timm_backbone=False, backbone=None, backbone_config=backbone))


def make_detr_timm(out: Path, torch, transformers):
    """The `detr_timm` fixture: the same DETR with timm's ResNet (use_timm_backbone=True, the layout and parameter
    names of the published facebook/detr-resnet-50 and -101: backbone.conv_encoder.model.conv1, bn1, layer1.0.conv1,
    ..., downsample.0/.1), timm's resnet50 shrunk through backbone_kwargs (bottleneck blocks, 1/2/1/1 of them,
    timm's fixed 64-wide stem, stage outputs 8-32 channels; timm puts the stride on the 3x3). Needs timm
    (requirements-timm.txt)."""
    import timm

    kwargs = {"layers": [1, 2, 1, 1], "channels": [2, 4, 8, 8], "out_indices": [1, 2, 3, 4], "in_chans": 3}
    ref, dtype = make(out, torch, transformers, dict(use_timm_backbone=True, backbone="resnet50",
                                                      backbone_config=None, backbone_kwargs=kwargs, dilation=False))
    ref["backbone"] = f"timm {timm.__version__} resnet50, backbone_kwargs {kwargs}"
    return ref, dtype


def make(out: Path, torch, transformers, backbone_args: dict):
    import fixture_vit
    import make_fixtures as mf
    from PIL import Image
    from safetensors.torch import save_file

    for name, (w, h) in IMAGES.items():
        fixture_vit.draw(w, h).save(out / name, format="PNG")
    proc = transformers.DetrImageProcessor(
        format="coco_detection", do_resize=True, size={"shortest_edge": 64, "longest_edge": 96}, resample=2,
        do_rescale=True, rescale_factor=1 / 255, do_normalize=True, do_pad=True, do_convert_annotations=True)
    proc.save_pretrained(out)

    cfg = transformers.DetrConfig(
        use_pretrained_backbone=False, **backbone_args,
        num_channels=3, num_queries=8, d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128, activation_function="relu",
        position_embedding_type="sine", auxiliary_loss=False, dropout=0.0, attention_dropout=0.0,
        activation_dropout=0.0, encoder_layerdrop=0.0, decoder_layerdrop=0.0,
        id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)}, attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.DetrForObjectDetection(cfg).eval()
    mf.randomize(model, torch)
    g = torch.Generator().manual_seed(mf.SEED + 1)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            if p.dim() == 4:
                p.mul_(math.sqrt(p.shape[-1] / (p.shape[1] * p.shape[2] * p.shape[3])))
        for name, b in sorted(model.named_buffers()):
            if name.endswith("running_var"):
                b.copy_(1 + 0.1 * torch.randn(b.shape, generator=g).abs())
            elif name.endswith("running_mean") or name.endswith(".bias"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith(".weight"):
                b.copy_(1 + 0.1 * torch.randn(b.shape, generator=g))
        # N(0, 1) object queries (randomize's N(0, 1/64) leaves the 8 queries' outputs nearly equal)
        model.model.query_position_embeddings.weight.copy_(torch.randn((8, 64), generator=g))
    model = mf.save_checkpoint(model, out, torch.float32, None, torch)

    enc = proc(images=[Image.open(out / n) for n in IMAGES], return_tensors="pt")
    with torch.no_grad():
        o = model(pixel_values=enc.pixel_values, pixel_mask=enc.pixel_mask)
    save_file({"pixel_values": enc.pixel_values.float().contiguous(), "pixel_mask": enc.pixel_mask.contiguous(),
               "logits": o.logits.float().contiguous(), "pred_boxes": o.pred_boxes.float().contiguous()},
              str(out / "reference.safetensors"))
    return {
        "kind": "object_detection",
        "images": list(IMAGES),
        "processor": "DetrImageProcessor (PIL resize BILINEAR, shortest edge 64, longest 96; padded to the batch's "
                     "largest, pixel_mask 1 on the image)",
        "top_label": [[LABELS[i] if i < len(LABELS) else "no object" for i in row.tolist()]
                      for row in o.logits.argmax(-1)],
        "tensors": {"pixel_values": "images x 3 x H x W, padded", "pixel_mask": "images x H x W, int64",
                    "logits": "images x 8 queries x (3 labels + no object)",
                    "pred_boxes": "images x 8 queries x (cx, cy, w, h), normalized to the unpadded image"},
        "weights": "random (seeded), not a trained model",
    }, "f32"
