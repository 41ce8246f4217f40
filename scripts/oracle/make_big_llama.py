#!/usr/bin/env python3
"""A ~1 GB f16 random-weight LLaMA checkpoint for benchmarks/convert_speed.sh (never committed): hidden 2048, FFN
5504, 10 layers, the llama fixture's 2,048-piece tokenizer; about 506 M parameters in one model.safetensors.

    scripts/oracle/run.sh make_big_llama.py --out DIR --tokenizer tests/fixtures/hf/llama
"""
import argparse
import shutil
from pathlib import Path

import torch
import transformers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--tokenizer", required=True, type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = transformers.LlamaConfig(
        vocab_size=2048, hidden_size=2048, intermediate_size=5504, num_hidden_layers=10, num_attention_heads=16,
        num_key_value_heads=16, max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2, torch_dtype="float16")
    torch.manual_seed(1)
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(cfg)
    model = model.to_empty(device="cpu").to(torch.float16)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float32).to(torch.float16) * 0.02)
    model.save_pretrained(args.out, safe_serialization=True, max_shard_size="4GB")
    for f in ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copy(args.tokenizer / f, args.out / f)
    size = sum(f.stat().st_size for f in args.out.iterdir())
    print(f"{args.out}: {size / 1e9:.2f} GB, {sum(p.numel() for p in model.parameters()) / 1e6:.0f} M parameters")


if __name__ == "__main__":
    main()
