"""T5 fixtures for make_fixtures.py: T5ForConditionalGeneration (class dir t5) and T5EncoderModel (t5_encoder).

The pinned llama.cpp has no T5 vocab file (no models/ggml-vocab-t5.gguf), so the tokenizer is a tiny SentencePiece
unigram model trained here, with the sentencepiece package, on text that is our own (make_fixtures.TEXT and the
sentences below, written for this fixture), with T5's specials (pad 0, eos 1, unk 2, no bos), its default
normalization (nmt_nfkc: the model carries a precompiled_charsmap, as real T5 models do) and 8 extra ids, saved in
the Hugging Face T5 layout (spiece.model, tokenizer.json, tokenizer_config.json, added_tokens.json).
"""
from __future__ import annotations

import io
from pathlib import Path

# make_fixtures.py (TEXT, SEED, N_GEN, randomize, save_checkpoint) is imported inside the functions: it imports this
# module for its CLASSES table.

N_EXTRA_IDS = 8
N_PIECES = 320

# Our own sentences (written for this fixture; no third-party text).
CORPUS = [
    "The accel fixture trains a tiny unigram tokenizer on these sentences and nothing else.",
    "A quick test of numbers: 1, 2, 3, 10, 42, 100, 123, 456, 579, 2026 and 3.14.",
    "Encoders read the whole input; decoders write one token at a time, looking back at the encoder.",
    "Der kleine Fuchs springt über den Zaun, und der Hund schläft im Garten.",
    "Le renard brun saute par-dessus le chien paresseux, puis il court vers la forêt.",
    "狐狸跳过了懒狗。小狐狸很快。我们测试中文分词。",
    "Translate English to German: the weather is nice today.",
    "Summarize: a model with random weights tests numbers, not language.",
    "Plus and equals: 7 + 8 = 15, 20 - 5 = 15, 3 * 5 = 15!",
    "Brown foxes, lazy dogs, quick jumps; over and over again.",
    "Every fixture is small: a few hundred pieces, two layers, sixty-four dimensions, four heads.",
    "Relative position buckets let the attention see near tokens finely and far tokens coarsely.",
    "Die Gewichte sind zufällig, deshalb ist der erzeugte Text ohne Sinn, aber genau vergleichbar.",
    "Les poids sont aléatoires; on compare les logits, pas la qualité du texte.",
    "Teacher forcing feeds the reference's own tokens back, step by step, starting from the pad token.",
    "Zero, one, two, three, four, five, six, seven, eight, nine: 0 1 2 3 4 5 6 7 8 9.",
    "Question: which layer runs first? Answer: the encoder, then the decoder with cross-attention.",
    "我们的句子只用于训练这个小分词器。数字一二三四五。",
    "Questions, answers, commas, colons: and semicolons; brackets (round) and [square] ones too.",
    "Jumping, running, sleeping, writing, reading, testing, comparing and converting.",
]


def train_spiece(text: str) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    lines = [text] + CORPUS
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines * 4), model_writer=model, model_type="unigram", vocab_size=N_PIECES,
        hard_vocab_limit=False, character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        normalization_rule_name="nmt_nfkc", num_threads=1, minloglevel=2)
    return model.getvalue()


def t5_tokenizer(out: Path, text: str):
    from transformers import T5TokenizerFast

    (out / "spiece.model").write_bytes(train_spiece(text))
    # add_prefix_space=True: without it transformers 4.57 converts with Metaspace prepend_scheme "never", unlike
    # SentencePiece (add_dummy_prefix) and the T5 tokenizers on the hub ("always")
    tok = T5TokenizerFast(vocab_file=str(out / "spiece.model"), extra_ids=N_EXTRA_IDS, add_prefix_space=True,
                          from_slow=True)
    tok.save_pretrained(out)
    return tok


def t5_config(transformers, n_vocab: int):
    # T5 v1.1 / Flan-T5 layout: gated GELU (tanh), untied lm_head. Tied T5 (v1.0) rescales the decoder output by
    # d_model^-0.5 before lm_head in transformers, which llama.cpp's t5 graph does not do.
    return transformers.T5Config(
        vocab_size=n_vocab, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.0,
        layer_norm_epsilon=1e-6, feed_forward_proj="gated-gelu", tie_word_embeddings=False, pad_token_id=0,
        eos_token_id=1, decoder_start_token_id=0, attn_implementation="eager")


def make_t5(out: Path, torch, transformers):
    """T5ForConditionalGeneration (f16 weights): the encoder's last hidden state on the tokenized text, the reference's own greedy
    decoder ids from decoder_start_token_id with each step's top-1 margin, then the decoder logits of one
    teacher-forced pass over [decoder_start] + generated ids (row i predicts decoder token i+1)."""
    from safetensors.torch import save_file
    from make_fixtures import N_GEN as n_gen, SEED as seed, TEXT as text, randomize, save_checkpoint

    tok = t5_tokenizer(out, text)
    cfg = t5_config(transformers, len(tok) + 4)  # a few unused rows past the tokenizer, as real T5 (32128 > 32100)
    torch.manual_seed(seed)
    model = transformers.T5ForConditionalGeneration(cfg).eval()
    randomize(model, torch)
    model = save_checkpoint(model, out, torch.float16, None, torch)
    ids = tok(text, return_tensors="pt").input_ids
    dec = torch.tensor([[cfg.decoder_start_token_id]])
    margins = []
    with torch.no_grad():
        enc = model.get_encoder()(input_ids=ids).last_hidden_state
        for _ in range(n_gen):
            logits = model(encoder_outputs=(enc,), decoder_input_ids=dec).logits[0, -1]
            top = torch.topk(logits, 2)
            margins.append(float(top.values[0] - top.values[1]))
            dec = torch.cat([dec, top.indices[:1].view(1, 1)], dim=1)
        o = model(input_ids=ids, decoder_input_ids=dec)
    save_file({"logits": o.logits[0].float().contiguous(),
               "encoder_last_hidden_state": o.encoder_last_hidden_state[0].float().contiguous()},
              str(out / "reference.safetensors"))
    return {
        "kind": "seq2seq",
        "text": text,
        "input_ids": ids[0].tolist(),
        "decoder_start_token_id": cfg.decoder_start_token_id,
        "generated_ids": dec[0, 1:].tolist(),
        "top1_margins": margins,
        "tensors": {"logits": "rows: decoder_start + generated ids (teacher forcing); row i predicts decoder token i+1",
                    "encoder_last_hidden_state": "one row per input id (after the encoder's final RMS norm)"},
    }, "f16"


def make_t5_encoder(out: Path, torch, transformers):
    """T5EncoderModel (bf16 weights): the last hidden state on the tokenized text."""
    from safetensors.torch import save_file
    from make_fixtures import SEED as seed, TEXT as text, randomize, save_checkpoint

    tok = t5_tokenizer(out, text)
    cfg = t5_config(transformers, len(tok) + 4)
    torch.manual_seed(seed)
    model = transformers.T5EncoderModel(cfg).eval()
    randomize(model, torch)
    model = save_checkpoint(model, out, torch.bfloat16, None, torch)
    ids = tok(text, return_tensors="pt").input_ids
    with torch.no_grad():
        hidden = model(input_ids=ids).last_hidden_state[0].float().contiguous()
    save_file({"last_hidden_state": hidden}, str(out / "reference.safetensors"))
    return {
        "kind": "encoder",
        "text": text,
        "input_ids": ids[0].tolist(),
        "tensors": {"last_hidden_state": "one row per input id (after the encoder's final RMS norm)"},
    }, "bf16"
