#!/usr/bin/env python3
"""A random-weight LLaVA-1.5 checkpoint of realistic vision size for benchmarks/mtmd_parity (speed only: the weights
are random). CLIP ViT-B/16 at 224 px (196 patches, 12 blocks, feature layer -2) and a small LLaMA (512 wide, 8
layers); the tokenizer files come from the committed llava fixture (1026 tokens).

    ~/.cache/accel/oracle/venv/bin/python benchmarks/mtmd_parity_model.py OUT_DIR
"""
import shutil
import sys
from pathlib import Path

import torch
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration

out = Path(sys.argv[1])
fixture = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hf" / "llava"
torch.manual_seed(1)
vision = CLIPVisionConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                          image_size=224, patch_size=16, projection_dim=512)
text = LlamaConfig(hidden_size=512, intermediate_size=1536, num_hidden_layers=8, num_attention_heads=8,
                   num_key_value_heads=8, vocab_size=1026, max_position_embeddings=2048)
cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=1025, pad_token_id=1024,
                  image_seq_length=196, vision_feature_layer=-2)
model = LlavaForConditionalGeneration(cfg).eval()
model.save_pretrained(out, safe_serialization=True)
for f in fixture.iterdir():
    if f.name.startswith(("tokenizer", "special_tokens", "added_tokens", "chat_template", "preprocessor")):
        shutil.copy(f, out / f.name)
pre = (out / "preprocessor_config.json").read_text().replace('"height": 32', '"height": 224')
pre = pre.replace('"width": 32', '"width": 224').replace('"shortest_edge": 32', '"shortest_edge": 224')
(out / "preprocessor_config.json").write_text(pre)
print(out)
