#!/usr/bin/env python3
"""The converter cross-check: accel convert and the pinned llama.cpp's convert_hf_to_gguf.py on the same fixture
must give the same tensors (names, types, shapes, bytes) and metadata, except the intended differences that
docs/convert.md lists.

    scripts/oracle/run.sh crosscheck.py --accel build/ci/src/cli/accel [--fixtures tests/fixtures/hf] [--types f32,f16,bf16,q8_0]

convert_hf_to_gguf.py recognises a BPE pre-tokenizer by hashing the tokenization of a fixed text, which only works
with the full vocabulary; for the fixtures' cut vocabularies this script answers from tokenizer.json's pre-tokenizer
regex instead, as accel does (and "default" for BERT's WordPiece, which llama.cpp gives no pre-tokenizer).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

INTENDED = ["general.name", "general.size_label", "tokenizer.ggml.add_sep_token"]
# Per fixture (docs/convert.md): BertForSequenceClassification keeps its pooler as `cls` and says pooling "rank",
# which the pinned converter drops and leaves unset (its file would compute classifier(CLS state)).
# Architectures the pinned converter does not convert to the same file, so there is nothing to cross-check.
NOT_BOTH = {
    "WhisperForConditionalGeneration": "accel writes whisper.cpp's file, not GGUF; docs/whisper.md",
    "ViTForImageClassification": "accel's own vit GGUF: the pinned converter has no ViT classifier",
    "CLIPModel": "accel's own clip_model GGUF: the pinned converter writes CLIP only as a multimodal projector",
    "Wav2Vec2ForCTC": "accel's own wav2vec2 GGUF: the pinned converter has no Wav2Vec2",
    "DetrForObjectDetection": "accel's own detr GGUF: the pinned converter has no DETR",
    "LlavaNextForConditionalGeneration": "the pinned converter does not take LLaVA-Next (accel's text part is LLaVA's)",
}
INTENDED_BY_FIXTURE = {"bert_cls": {"keys": ["bert.pooling_type"], "tensors": ["cls.weight", "cls.bias"]}}
PRE_BY_REGEX = {
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+": "qwen2",
}

PATCH = r'''
import json, runpy, sys
from pathlib import Path
sys.argv = ["convert_hf_to_gguf.py"] + ARGS
sys.path.insert(0, SRC)
import conversion.base as base
orig = base.TextModel.get_vocab_base_pre
def get_vocab_base_pre(self, tokenizer):
    try:
        return orig(self, tokenizer)
    except NotImplementedError:
        tj = json.loads((Path(self.dir_model) / "tokenizer.json").read_text())
        if tj.get("pre_tokenizer", {}).get("type") == "BertPreTokenizer":
            return "default"  # WordPiece: llama.cpp reads no pre-tokenizer; accel writes "default"
        for step in tj.get("pre_tokenizer", {}).get("pretokenizers", []):
            rx = step.get("pattern", {}).get("Regex")
            if rx in PRE:
                return PRE[rx]
        raise
base.TextModel.get_vocab_base_pre = get_vocab_base_pre
runpy.run_path(SRC + "/convert_hf_to_gguf.py", run_name="__main__")
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", required=True)
    ap.add_argument("--fixtures", default="tests/fixtures/hf")
    ap.add_argument("--types", default="f32,f16,bf16,q8_0")
    args = ap.parse_args()
    src = os.environ["ACCEL_LLAMA_SRC"]
    here = Path(__file__).parent
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for fixture in sorted(p for p in Path(args.fixtures).iterdir() if (p / "config.json").exists()):
            archs = json.loads((fixture / "config.json").read_text()).get("architectures", [])
            why = next((NOT_BOTH[a] for a in archs if a in NOT_BOTH), None)
            if why:
                print(f"{fixture.name}: skipped ({why})")
                continue
            for t in args.types.split(","):
                ours, theirs = Path(tmp) / f"{fixture.name}-{t}-accel.gguf", Path(tmp) / f"{fixture.name}-{t}-ref.gguf"
                conv = subprocess.run([args.accel, "convert", str(fixture), "--out", str(ours), "--type", t],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                if conv.returncode == 2 and "is not one accel converts" in conv.stderr:
                    print(f"{fixture.name}: skipped (accel does not convert it yet)")
                    break
                conv.check_returncode()
                code = PATCH.replace("ARGS", json.dumps([str(fixture), "--outtype", t, "--outfile", str(theirs)]))
                code = code.replace("SRC", json.dumps(src)).replace("PRE", json.dumps(PRE_BY_REGEX))
                subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
                cmd = [sys.executable, str(here / "compare_gguf.py"), str(ours), str(theirs)]
                extra = INTENDED_BY_FIXTURE.get(fixture.name, {})
                for k in INTENDED + extra.get("keys", []):
                    cmd += ["--ignore", k]
                for name in extra.get("tensors", []):
                    cmd += ["--ignore-tensor", name]
                r = subprocess.run(cmd, capture_output=True, text=True)
                print(f"{fixture.name} {t}: {r.stdout.strip().splitlines()[-1]}")
                if r.returncode != 0:
                    print(r.stdout)
                    failed += 1
    print(f"crosscheck: {failed} mismatching conversions")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
