#!/usr/bin/env python3
"""Tiny random-weight Hugging Face checkpoints and their transformers reference outputs.

For each class it writes tests/fixtures/hf/<class>/: the checkpoint in the exact Hugging Face layout (config.json,
model.safetensors or shards with model.safetensors.index.json, tokenizer files) and the references computed by
transformers on fixed inputs (reference.json: input ids, greedy ids and each step's top-1 margin; reference.safetensors:
logits or hidden states in f32). Nothing is downloaded: the tokenizers are rebuilt from the pinned llama.cpp's
models/ggml-vocab-*.gguf, cut to a small vocabulary so that each fixture stays near 1 MB.

Run through scripts/oracle/run.sh (the environment of scripts/bootstrap.sh --oracle):
    scripts/oracle/run.sh make_fixtures.py --out tests/fixtures/hf [--classes llama,qwen2]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
from pathlib import Path

SEED = 1234
TEXT = "The quick brown fox jumps over the lazy dog. Der Fuchs springt, 狐狸跳, 123 + 456 = 579!"
N_GEN = 8
FORMAT_VERSION = 1


def vocab_dir() -> Path:
    src = os.environ.get("ACCEL_LLAMA_SRC")
    if not src:
        sys.exit("make_fixtures: set ACCEL_LLAMA_SRC to the pinned llama.cpp source (run.sh does)")
    return Path(src) / "models"


def read_vocab(name: str) -> dict:
    import gguf  # the pinned llama.cpp's gguf-py (run.sh puts it on PYTHONPATH)

    r = gguf.GGUFReader(str(vocab_dir() / f"ggml-vocab-{name}.gguf"))
    out = {}
    for key, field in r.fields.items():
        if key.startswith("tokenizer."):
            out[key.removeprefix("tokenizer.ggml.").removeprefix("tokenizer.")] = field.contents()
    return out


# ---------------------------------------------------------------- tokenizers, rebuilt from llama.cpp's vocab files

def spm_tokenizer(out: Path, n_pieces: int, chat_template: str):
    """LLaMA's SentencePiece (BPE with byte fallback) from ggml-vocab-llama-spm.gguf, cut to n_pieces pieces: the
    single characters of the Latin scripts (LLaMA keeps them at the end of its vocabulary), then the first pieces by
    id (specials, bytes, the most frequent merges), in their original order and with their original scores."""
    from sentencepiece import sentencepiece_model_pb2 as pb
    from transformers import LlamaTokenizerFast

    v = read_vocab("llama-spm")
    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.BPE
    m.trainer_spec.vocab_size = n_pieces
    m.trainer_spec.byte_fallback = True
    m.trainer_spec.split_digits = True
    m.trainer_spec.unk_id, m.trainer_spec.bos_id, m.trainer_spec.eos_id, m.trainer_spec.pad_id = 0, 1, 2, -1
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = True
    kinds = {1: pb.ModelProto.SentencePiece.NORMAL, 2: pb.ModelProto.SentencePiece.UNKNOWN,
             3: pb.ModelProto.SentencePiece.CONTROL, 4: pb.ModelProto.SentencePiece.USER_DEFINED,
             5: pb.ModelProto.SentencePiece.UNUSED, 6: pb.ModelProto.SentencePiece.BYTE}
    chars = [i for i, t in enumerate(v["tokens"]) if len(t) == 1 and ord(t) < 0x250 or t == "\u2581"]
    first = [i for i in range(len(v["tokens"])) if i not in set(chars)][: n_pieces - len(chars)]
    for i in sorted(first + chars):
        p = m.pieces.add()
        p.piece, p.score, p.type = v["tokens"][i], float(v["scores"][i]), kinds[int(v["token_type"][i])]
    model_file = out / "tokenizer.model"
    model_file.write_bytes(m.SerializeToString())
    tok = LlamaTokenizerFast(vocab_file=str(model_file), legacy=True, add_bos_token=True, add_eos_token=False,
                             from_slow=True)
    tok.chat_template = chat_template
    tok.save_pretrained(out)
    return tok


QWEN2_PRE = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
             "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def qwen2_tokenizer(out: Path, n_tokens: int):
    """Qwen2's byte-level BPE from ggml-vocab-qwen2.gguf: the first n_tokens tokens, the merges among them, and the
    three special tokens renumbered after them."""
    from transformers import AutoTokenizer

    v = read_vocab("qwen2")
    tokens = v["tokens"]
    vocab = {tokens[i]: i for i in range(n_tokens)}
    merges = []
    for m in v["merges"]:
        a, b = m.split(" ")
        if a in vocab and b in vocab and (a + b) in vocab:
            merges.append(m)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    added = [{"id": n_tokens + k, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for k, s in enumerate(specials)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
    tj = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PRE}, "behavior": "Isolated", "invert": False},
            byte_level]},
        "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    (out / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False, indent=1), encoding="utf-8")
    cfg = {
        "tokenizer_class": "Qwen2Tokenizer", "bos_token": None, "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>", "unk_token": None, "errors": "replace", "model_max_length": 32768,
        "clean_up_tokenization_spaces": False, "split_special_tokens": False, "add_prefix_space": False,
        "added_tokens_decoder": {str(a["id"]): {k: a[k] for k in a if k != "id"} for a in added},
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "chat_template": v["chat_template"],
    }
    (out / "tokenizer_config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=1), encoding="utf-8")
    return AutoTokenizer.from_pretrained(out)


def wordpiece_tokenizer(out: Path, n_first: int):
    """BERT's WordPiece (uncased) from ggml-vocab-bert-bge.gguf: the first n_first tokens (specials, single
    characters, the most frequent words) and the "##" continuation characters of the Latin scripts. llama.cpp stores
    words with a leading U+2581 and continuations without "##"; this undoes that."""
    from transformers import BertTokenizerFast

    v = read_vocab("bert-bge")
    words = []
    for t, kind in zip(v["tokens"], v["token_type"]):
        if int(kind) in (2, 3):
            words.append(t)
        elif t.startswith("\u2581"):
            words.append(t[1:])
        else:
            words.append("##" + t)
    keep = words[:n_first] + [w for w in words[n_first:] if w.startswith("##") and len(w) == 3 and ord(w[2]) < 0x250]
    (out / "vocab.txt").write_text("".join(w + "\n" for w in keep), encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(out / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(out)
    return tok, len(keep)


# ---------------------------------------------------------------- weights and references

def randomize(model, torch, seed: int = SEED):
    """Weights with unit-scale activations (HF's default init, std 0.02, gives near-tied logits everywhere):
    matrices N(0, 1/fan_in), norms 1 + N(0, 0.1), biases N(0, 0.1). Norms are matched case-insensitively: BERT
    names them "LayerNorm" (until Dec 2026 the match was case-sensitive and BERT's gains were N(0, 0.1)).
    `seed`: SEED unless a fixture says why not (clap: fixture_clap.WEIGHT_SEED)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() >= 2:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
            elif "norm" in name.lower() and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))


def greedy(model, ids, torch, **inputs):
    """N_GEN greedy steps from `ids` (the other model inputs, such as pixel_values, in `inputs`): the sequence with
    the generated ids, each step's top-1 margin, and the f32 logits of one forward pass over all of it."""
    seq, margins = ids, []
    with torch.no_grad():
        for _ in range(N_GEN):
            logits = model(input_ids=seq, **inputs).logits[0, -1]
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            seq = torch.cat([seq, top.indices[:1].view(1, 1)], dim=1)
        logits = model(input_ids=seq, **inputs).logits[0].float().contiguous()
    return seq, margins, logits


def causal_lm_reference(model, tok, out: Path, torch):
    """Greedy generation by transformers (the reference's own ids, each step's top-1 margin), then the logits of
    one forward pass over prompt + generated ids (what a teacher-forced comparison needs)."""
    from safetensors.torch import save_file

    ids = tok(TEXT, return_tensors="pt").input_ids
    n_prompt = ids.shape[1]
    seq, margins, logits = greedy(model, ids, torch)
    save_file({"logits": logits}, str(out / "reference.safetensors"))
    return {
        "kind": "causal_lm",
        "text": TEXT,
        "input_ids": ids[0].tolist(),
        "generated_ids": seq[0, n_prompt:].tolist(),
        "top1_margins": margins,
        "tensors": {"logits": "rows: prompt + generated ids (teacher forcing); row i predicts token i+1"},
    }


def save_checkpoint(model, out: Path, dtype, shard_bytes: int | None, torch):
    """Saves the weights in `dtype` and returns the model as transformers loads it back from `out`, in f32: the
    reference must be what anyone gets from the checkpoint on disk. Casting the model in memory back to f32 is not
    that: model.to(f16) also rounds non-persistent buffers such as the rotary embedding's inv_freq, which loading
    recomputes in f32 (that alone put a position-dependent 7e-4 of the logits' range into the first fixtures)."""
    model.to(dtype)
    kwargs = {"safe_serialization": True}
    if shard_bytes:
        kwargs["max_shard_size"] = shard_bytes
    model.save_pretrained(out, **kwargs)
    loaded = type(model).from_pretrained(out, dtype=torch.float32, attn_implementation="eager").eval()
    return loaded


def make_llama(out: Path, torch, transformers):
    tok = spm_tokenizer(out, 2048, "{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + "
                        "m['content'] + ' [/INST]' }}{% else %}{{ ' ' + m['content'] + eos_token }}{% endif %}"
                        "{% endfor %}")
    cfg = transformers.LlamaConfig(
        vocab_size=2048, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, attn_implementation="eager")
    torch.manual_seed(SEED)
    model = transformers.LlamaForCausalLM(cfg).eval()
    randomize(model, torch)
    model = save_checkpoint(model, out, torch.float16, None, torch)
    return causal_lm_reference(model, tok, out, torch), "f16"


def make_qwen2(out: Path, torch, transformers):
    tok = qwen2_tokenizer(out, 2048)
    cfg = transformers.Qwen2Config(
        vocab_size=2064, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=True, bos_token_id=2048, eos_token_id=2050, use_sliding_window=False,
        attn_implementation="eager")
    torch.manual_seed(SEED)
    model = transformers.Qwen2ForCausalLM(cfg).eval()
    randomize(model, torch)
    # bf16 weights in two shards with model.safetensors.index.json, as Qwen2 checkpoints ship
    model = save_checkpoint(model, out, torch.bfloat16, 200_000, torch)
    return causal_lm_reference(model, tok, out, torch), "bf16"


def make_bert(out: Path, torch, transformers, classifier: bool = False):
    """BertModel: last hidden states, the pooler's output, and the mean-pooled L2-normalized sentence embedding
    (what sentence-transformers' all-MiniLM-style models give). With `classifier`, BertForSequenceClassification
    with three named labels, and its logits: classifier(tanh(dense(CLS state)))."""
    from safetensors.torch import save_file

    tok, n_vocab = wordpiece_tokenizer(out, 3000)
    labels = {"id2label": {0: "negative", 1: "neutral", 2: "positive"},
              "label2id": {"negative": 0, "neutral": 1, "positive": 2}} if classifier else {}
    cfg = transformers.BertConfig(
        vocab_size=n_vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=128, type_vocab_size=2, layer_norm_eps=1e-12, attn_implementation="eager", **labels)
    torch.manual_seed(SEED)
    model = (transformers.BertForSequenceClassification if classifier else transformers.BertModel)(cfg).eval()
    randomize(model, torch)
    model = save_checkpoint(model, out, torch.float32, None, torch)
    enc = tok(TEXT, return_tensors="pt")
    with torch.no_grad():
        o = model.bert(**enc) if classifier else model(**enc)
        logits = model(**enc).logits[0].float().contiguous() if classifier else None
    hidden = o.last_hidden_state[0].float().contiguous()
    mean = hidden.mean(dim=0)
    tensors = {"last_hidden_state": hidden, "pooler_output": o.pooler_output[0].float().contiguous(),
               "mean_pooled_normalized": (mean / mean.norm()).contiguous()}
    described = {"last_hidden_state": "one row per input id", "pooler_output": "tanh(dense(CLS state))",
                 "mean_pooled_normalized": "mean over tokens, L2-normalized"}
    if classifier:
        tensors["logits"] = logits
        described["logits"] = "classifier(pooler_output), one per label"
    save_file(tensors, str(out / "reference.safetensors"))
    return {
        "kind": "sequence_classification" if classifier else "encoder",
        "text": TEXT,
        "input_ids": enc.input_ids[0].tolist(),
        "tensors": described,
    }, "f32"


def make_bert_cls(out: Path, torch, transformers):
    return make_bert(out, torch, transformers, classifier=True)


from fixture_t5 import make_t5, make_t5_encoder  # noqa: E402  (scripts/oracle/fixture_t5.py)
from fixture_whisper import make_whisper  # noqa: E402  (scripts/oracle/fixture_whisper.py)

CLASSES = {"llama": make_llama, "qwen2": make_qwen2, "bert": make_bert, "t5": make_t5, "t5_encoder": make_t5_encoder}
CLASSES["vit"] = lambda out, torch, transformers: __import__("fixture_vit").make_vit(out, torch, transformers)
CLASSES["clip"] = lambda out, torch, transformers: __import__("fixture_clip").make_clip(out, torch, transformers)
CLASSES["bert_cls"] = make_bert_cls
CLASSES["whisper"] = make_whisper
CLASSES["llava"] = lambda out, torch, transformers: __import__("fixture_llava").make_llava(out, torch, transformers)
CLASSES["llava_next"] = lambda out, torch, transformers: __import__("fixture_llava_next").make_llava_next(out, torch, transformers)
CLASSES["wav2vec2"] = lambda out, torch, transformers: __import__("fixture_wav2vec2").make_wav2vec2(out, torch, transformers)
CLASSES["wav2vec2_stable"] = lambda out, torch, transformers: __import__("fixture_wav2vec2").make_wav2vec2_stable(
    out, torch, transformers)
CLASSES["detr"] = lambda out, torch, transformers: __import__("fixture_detr").make_detr(out, torch, transformers)
CLASSES["detr_timm"] = lambda out, torch, transformers: __import__("fixture_detr").make_detr_timm(out, torch, transformers)
CLASSES["clap"] = lambda out, torch, transformers: __import__("fixture_clap").make_clap(out, torch, transformers)
CLASSES["xclip"] = lambda out, torch, transformers: __import__("fixture_xclip").make_xclip(out, torch, transformers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--classes", default=",".join(CLASSES))
    args = ap.parse_args()

    import numpy
    import safetensors
    import tokenizers
    import torch
    import transformers

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    versions = {
        "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__, "numpy": numpy.__version__,
        "llama.cpp vocab": os.path.basename(os.environ.get("ACCEL_LLAMA_SRC", "")),
    }
    for name in args.classes.split(","):
        if name not in CLASSES:
            sys.exit(f"make_fixtures: unknown class '{name}' (known: {', '.join(CLASSES)})")
        out = args.out / name
        out.mkdir(parents=True, exist_ok=True)
        for f in out.iterdir():
            f.unlink()
        ref, dtype = CLASSES[name](out, torch, transformers)
        ref.update({"format_version": FORMAT_VERSION, "class": name, "seed": ref.get("seed", SEED),
                    "weights_dtype": dtype, "reference": f"transformers {transformers.__version__}",
                    "versions": versions})
        (out / "reference.json").write_text(json.dumps(ref, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        size = sum(f.stat().st_size for f in out.iterdir())
        print(f"{name}: {size / 1e6:.2f} MB in {out}")
    (args.out / "VERSIONS").write_text("".join(f"{k} {v}\n" for k, v in versions.items()), encoding="utf-8")


if __name__ == "__main__":
    main()
