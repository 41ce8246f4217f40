"""The `llava_next` fixture: a tiny random-weight LlavaNextForConditionalGeneration (LLaVA-NeXT / 1.6 "anyres":
the image is cut into 32-pixel tiles on the best of the grid pinpoints [[32,32],[32,64],[64,32]] (height, width),
plus one 32x32 view of the whole image; the tiles' features are unpadded to the image's aspect and a learned
image_newline ends each row), with its LlavaNextProcessor (LlavaNextImageProcessor + the llava fixture's tokenizer and
chat template) and transformers' outputs. The towers are the llava fixture's (fixture_llava: CLIP vision 32x32 patch 8,
Llama 64 wide); the image is vit's drawing at 70x36, wide, so that the 32x64 grid is chosen (two tiles).

reference.safetensors: pixel_values (views x 3x32x32: the whole image, then the tiles), image_sizes ((height, width)
of the original), and the logits over prompt (with the image ids) + generated ids (teacher forcing). reference.json:
the prompt, the processor's input_ids, the greedy ids with each step's top-1 margin. Registered in make_fixtures.py.
"""
from __future__ import annotations

from pathlib import Path

IMAGE = ("wide.png", 70, 36)
PINPOINTS = [[32, 32], [32, 64], [64, 32]]


def make_llava_next(out: Path, torch, transformers):
    import fixture_llava as fl
    import fixture_vit
    import make_fixtures as mf
    from PIL import Image

    name, w, h = IMAGE
    fixture_vit.draw(w, h).save(out / name, format="PNG")
    tok = fl.tokenizer(out)
    image_id = tok.convert_tokens_to_ids(fl.IMAGE_TOKEN)
    improc = transformers.LlavaNextImageProcessor(
        do_resize=True, size={"shortest_edge": 32}, image_grid_pinpoints=PINPOINTS, resample=3, do_center_crop=True,
        crop_size={"height": 32, "width": 32}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        do_pad=True, do_convert_rgb=True)
    proc = transformers.LlavaNextProcessor(image_processor=improc, tokenizer=tok, patch_size=8,
                                           vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                           chat_template=fl.CHAT_TEMPLATE, image_token=fl.IMAGE_TOKEN)
    proc.save_pretrained(out)

    cfg = transformers.LlavaNextConfig(vision_config=fl.vision_config(), text_config=fl.text_config(len(tok)),
                                       image_token_index=image_id, projector_hidden_act="gelu",
                                       vision_feature_select_strategy="default", vision_feature_layer=-2,
                                       image_grid_pinpoints=PINPOINTS, image_seq_length=16,
                                       pad_token_id=tok.pad_token_id, attn_implementation="eager")
    torch.manual_seed(mf.SEED)
    model = transformers.LlavaNextForConditionalGeneration(cfg).eval()
    mf.randomize(model, torch)
    model = mf.save_checkpoint(model, out, torch.float16, None, torch)

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": fl.QUESTION}]}]
    prompt = proc.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = dict(proc(images=Image.open(out / name), text=prompt, return_tensors="pt"))
    n_image = int((inputs["input_ids"] == image_id).sum())
    assert inputs["pixel_values"].shape[1] == 3, inputs["pixel_values"].shape  # whole image + two tiles
    ref = fl.multimodal_reference(model, inputs, prompt, out, torch,
                                  {"image_sizes": inputs["image_sizes"][0].contiguous()})
    ref.update({
        "images": [name],
        "image_token_id": image_id,
        "image_sizes": inputs["image_sizes"][0].tolist(),
        "n_image_ids": n_image,
        "image_grid_pinpoints": PINPOINTS,
        "processor": "LlavaNextProcessor: LlavaNextImageProcessor (anyres: best pinpoint, PIL resize BICUBIC, pad, "
                     "32x32 tiles + the whole image resized to 32x32), <image> expanded to n_image_ids ids",
        "tensors": {"pixel_values": "views x 3x32x32 (whole image first, then the tiles in row order)",
                    "image_sizes": "(height, width) of the original image, int64",
                    "logits": "rows: prompt (image ids included) + generated ids (teacher forcing); row i predicts "
                              "token i+1"},
        "weights": "random (seeded), not a trained model",
    })
    return ref, "f16"
