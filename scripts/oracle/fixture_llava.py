"""The `llava` fixture: a tiny random-weight LlavaForConditionalGeneration (LLaVA-1.5 layout: CLIP vision tower,
two-layer GELU projector, Llama text model), its LlavaProcessor (CLIPImageProcessor + the llama fixture's
SentencePiece cut, here 1,024 pieces, plus `<image>` and `<pad>`), a chat template, and transformers' outputs on the
vit fixture's drawing (fixture_vit.draw, 45x38) with a short prompt.

The vision tower sees 32x32 pixels in 8-pixel patches: 16 patches + CLS; vision_feature_layer -2 and the "default"
strategy (CLS dropped) give 16 image features, so the processor expands `<image>` into 16 ids (image_seq_length 16).
reference.safetensors: the image's pixel_values (3x32x32) and the logits over prompt (with the 16 image ids) +
generated ids (teacher forcing, as make_fixtures.causal_lm_reference). reference.json: the prompt, the processor's
input_ids, the greedy ids and each step's top-1 margin. Registered in make_fixtures.py's CLASSES.
"""
from __future__ import annotations

from pathlib import Path

IMAGE = ("shapes.png", 45, 38)
N_PIECES = 1024
IMAGE_TOKEN, PAD_TOKEN = "<image>", "<pad>"
QUESTION = "What is in the picture?"  # the greedy steps' top-1 margins all > 0.05, in llava and llava_next
CHAT_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'user' %}{{ 'USER: ' }}{% for c in m['content'] %}"
                 "{% if c['type'] == 'image' %}{{ '<image>\n' }}{% else %}{{ c['text'] }}{% endif %}{% endfor %}"
                 "{{ ' ' }}{% else %}{{ 'ASSISTANT: ' }}{% for c in m['content'] %}{{ c['text'] }}{% endfor %}"
                 "{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")


def tokenizer(out: Path):
    """The llama fixture's SentencePiece cut (make_fixtures.spm_tokenizer) with `<image>` and `<pad>` added after
    it (ids N_PIECES and N_PIECES + 1: 1024 and 1025), as llava-hf's checkpoints add them after LLaMA's 32,000 pieces."""
    import make_fixtures as mf
    from transformers import AutoTokenizer

    tok = mf.spm_tokenizer(out, N_PIECES, CHAT_TEMPLATE)
    tok.add_special_tokens({"pad_token": PAD_TOKEN, "additional_special_tokens": [IMAGE_TOKEN]})
    tok.save_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert (tok.pad_token_id, tok.convert_tokens_to_ids(IMAGE_TOKEN)) == (N_PIECES, N_PIECES + 1)
    return tok


def clip_image_processor(transformers, size: int = 32):
    return transformers.CLIPImageProcessor(
        do_resize=True, size={"shortest_edge": size}, resample=3, do_center_crop=True,
        crop_size={"height": size, "width": size}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        do_convert_rgb=True)


def vision_config(size: int = 32):
    return dict(model_type="clip_vision_model", image_size=size, patch_size=8, num_channels=3, hidden_size=64,
                intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, hidden_act="quick_gelu",
                layer_norm_eps=1e-5, projection_dim=64)


def text_config(n_vocab: int):
    return dict(model_type="llama", vocab_size=n_vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
                rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)


def multimodal_reference(model, inputs: dict, prompt: str, out: Path, torch, extra: dict):
    """Greedy generation over the processor's inputs (the image's features replace its `<image>` ids), each step's
    top-1 margin, then the logits of one forward pass over prompt + generated ids (teacher forcing)."""
    from safetensors.torch import save_file

    ids = inputs["input_ids"]
    n_prompt = ids.shape[1]
    rest = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
    seq, margins, logits = __import__("make_fixtures").greedy(model, ids, torch, **rest)
    tensors = {"pixel_values": inputs["pixel_values"][0].float().contiguous(), "logits": logits}
    tensors.update(extra)
    save_file(tensors, str(out / "reference.safetensors"))
    return {
        "kind": "image_text_to_text",
        "prompt": prompt,
        "input_ids": ids[0].tolist(),
        "generated_ids": seq[0, n_prompt:].tolist(),
        "top1_margins": margins,
    }


def make_llava(out: Path, torch, transformers):
    import fixture_vit
    import make_fixtures as mf
    from PIL import Image

    name, w, h = IMAGE
    fixture_vit.draw(w, h).save(out / name, format="PNG")
    tok = tokenizer(out)
    image_id = tok.convert_tokens_to_ids(IMAGE_TOKEN)
    n_vocab = len(tok)
    proc = transformers.LlavaProcessor(image_processor=clip_image_processor(transformers), tokenizer=tok,
                                       patch_size=8, vision_feature_select_strategy="default",
                                       num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE,
                                       image_token=IMAGE_TOKEN)
    proc.save_pretrained(out)

    cfg = transformers.LlavaConfig(vision_config=vision_config(), text_config=text_config(n_vocab),
                                   image_token_index=image_id, projector_hidden_act="gelu",
                                   vision_feature_select_strategy="default", vision_feature_layer=-2,
                                   image_seq_length=16, pad_token_id=tok.pad_token_id, attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.LlavaForConditionalGeneration(cfg).eval()
    mf.randomize(model, torch)
    model = mf.save_checkpoint(model, out, torch.float16, None, torch)

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": QUESTION}]}]
    prompt = proc.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = proc(images=Image.open(out / name), text=prompt, return_tensors="pt")
    assert int((inputs["input_ids"] == image_id).sum()) == 16
    ref = multimodal_reference(model, dict(inputs), prompt, out, torch, {})
    ref.update({
        "images": [name],
        "image_token_id": image_id,
        "processor": "LlavaProcessor: CLIPImageProcessor (PIL resize, BICUBIC, shortest edge 32, center crop 32), "
                     "<image> expanded to 16 ids",
        "tensors": {"pixel_values": "3x32x32, what the processor gives",
                    "logits": "rows: prompt (image ids included) + generated ids (teacher forcing); row i predicts "
                              "token i+1"},
        "weights": "random (seeded), not a trained model",
    })
    return ref, "f16"
