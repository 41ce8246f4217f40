"""The `clip` fixture: a tiny random-weight CLIPModel (both towers, quick_gelu), its CLIPImageProcessor, the vit
fixture's drawing of images (fixture_vit.draw), a tiny CLIP BPE tokenizer (vocab.json and merges.txt written here, the
byte-level "</w>" form of openai/clip-vit-base-patch32's, 64 ids) and its ids for TEXT_STRINGS (checked equal to
TEXTS, so the reference tensors do not depend on the tokenizer), with transformers' outputs.

reference.safetensors: each image's pixel_values (3x32x32), and for the images x texts: image_embeds and text_embeds
(normalized, projection_dim 32) and logits_per_image. The texts are padded with the EOS id, as CLIP's tokenizer pads;
the causal mask makes the first EOS's state independent of the padding. Registered in make_fixtures.py's CLASSES.
"""
from __future__ import annotations

from pathlib import Path

IMAGES = {"shapes.png": (45, 38), "small.png": (20, 17)}
BOS, EOS, VOCAB = 62, 63, 64
TEXTS = [[BOS, 5, 17, 33, EOS, EOS, EOS, EOS], [BOS, 40, 2, EOS, EOS, EOS, EOS, EOS], [BOS, 9, 9, 21, 50, 11, 7, EOS]]
# Case, runs of whitespace, a partial merge ("circ" "les</w>") and punctuation; CLIPTokenizer pads with EOS to 8.
TEXT_STRINGS = ["A red cat", "  Blue\tSQUARE ", "Two  TWO green circles!"]
FIXED = {5: "a</w>", 17: "red</w>", 33: "cat</w>", 40: "blue</w>", 2: "square</w>", 9: "two</w>", 21: "green</w>",
         50: "circ", 11: "les</w>", 7: "!</w>"}
MERGES = ["e d</w>", "r ed</w>", "a t</w>", "c at</w>", "u e</w>", "l ue</w>", "b lue</w>", "r e</w>", "a re</w>", "s q",
          "sq u", "squ are</w>", "t w", "tw o</w>", "e n</w>", "e en</w>", "r een</w>", "g reen</w>", "c i", "ci r",
          "cir c", "l e", "le s</w>"]
FILL = "fhkmpvxyz0123456789"


def write_tokenizer(out: Path, transformers):
    """vocab.json (every merge's parts and result, FIXED at their ids, single characters to fill 62 ids, the two
    specials), merges.txt and the tokenizer config; returns CLIPTokenizer's ids of TEXT_STRINGS, padded to 8."""
    import json

    needed = {"a</w>", "!</w>"} | {x for m in MERGES for x in (*m.split(" "), m.replace(" ", ""))}
    needed = sorted(needed - set(FIXED.values())) + list(FILL)
    vocab, free = dict(FIXED), iter(i for i in range(BOS) if i not in FIXED)
    for tok in needed[: BOS - len(FIXED)]:
        vocab[next(free)] = tok
    vocab.update({BOS: "<|startoftext|>", EOS: "<|endoftext|>"})
    (out / "vocab.json").write_text(json.dumps({t: i for i, t in sorted(vocab.items())}, indent=1) + "\n")
    (out / "merges.txt").write_text("#version: 0.2\n" + "\n".join(MERGES) + "\n")
    tok = transformers.CLIPTokenizer(str(out / "vocab.json"), str(out / "merges.txt"), model_max_length=16)
    tok.save_pretrained(out)
    ids = tok(TEXT_STRINGS, padding="max_length", max_length=8)["input_ids"]
    fast = transformers.CLIPTokenizerFast.from_pretrained(out)(TEXT_STRINGS, padding="max_length", max_length=8)
    assert ids == fast["input_ids"] == TEXTS, (ids, fast["input_ids"])
    return ids


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
    write_tokenizer(out, transformers)

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
        "texts": TEXT_STRINGS,
        "input_ids": TEXTS,
        "processor": "CLIPImageProcessor (PIL resize, BICUBIC, shortest edge, center crop)",
        "tensors": {"<image>.pixel_values": "3x32x32", "image_embeds": "images x 32, L2-normalized",
                    "text_embeds": "texts x 32, L2-normalized (pooled at each text's first EOS)",
                    "logits_per_image": "images x texts, exp(logit_scale) * cosine"},
    }, "f32"
