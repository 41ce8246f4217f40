#!/usr/bin/env python3
"""Writes the hand-made seed corpus: one malformed file per reader check, plus small valid files.

Run from anywhere: python3 fuzz/make_seeds.py. The output is committed; tests/model reads it.
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
U32, U64 = "<I", "<Q"


def s(text):
    b = text.encode()
    return struct.pack(U64, len(b)) + b


def header(n_tensors, n_kv, version=3):
    return b"GGUF" + struct.pack(U32, version) + struct.pack(U64, n_tensors) + struct.pack(U64, n_kv)


def kv_str(k, v):
    return s(k) + struct.pack(U32, 8) + s(v)


def kv_u32(k, v):
    return s(k) + struct.pack(U32, 4) + struct.pack(U32, v)


def tensor(name, dims, typ, offset):
    out = s(name) + struct.pack(U32, len(dims))
    for d in dims:
        out += struct.pack(U64, d)
    return out + struct.pack(U32, typ) + struct.pack(U64, offset)


def data(buf, n, align=32):
    buf += b"\0" * ((-len(buf)) % align)
    return buf + b"\x01" * n


def valid(version=3):
    b = header(2, 2, version) + kv_str("general.architecture", "llama") + kv_u32("general.alignment", 32)
    b += tensor("a", [8], 0, 0) + tensor("b", [4, 2], 0, 32)
    return data(b, 64)


def gguf_seeds():
    good = valid()
    seeds = {
        "good_v3.gguf": good,
        "good_v2.gguf": valid(2),
        "bad_magic.gguf": b"GGUX" + good[4:],
        "bad_version.gguf": header(0, 0, 1),
        "bad_truncated_header.gguf": good[:20],
        "bad_truncated_kv.gguf": good[:100],
        "bad_truncated_tensor_info.gguf": good[:150],
        "bad_tensor_count_cap.gguf": header(2**64 - 1, 0),
        "bad_tensor_count_remaining.gguf": header(1_000_000, 0),
        "bad_kv_count_cap.gguf": header(0, 2**40),
        "bad_kv_count_remaining.gguf": header(0, 1_000_000),
        "bad_key_length.gguf": header(0, 1) + struct.pack(U64, 2**64 - 1) + b"x" * 16,
        "bad_empty_key.gguf": header(0, 1) + kv_str("", "v"),
        "bad_string_length.gguf": header(0, 1) + s("k") + struct.pack(U32, 8) + struct.pack(U64, 2**40) + b"abc",
        "bad_value_type.gguf": header(0, 1) + s("k") + struct.pack(U32, 13) + struct.pack(U32, 0),
        "bad_bool.gguf": header(0, 1) + s("k") + struct.pack(U32, 7) + b"\x02",
        "bad_array_elem_type.gguf": header(0, 1) + s("k") + struct.pack("<IIQ", 9, 99, 1) + b"\0" * 4,
        "bad_array_nested.gguf": header(0, 1) + s("k") + struct.pack("<IIQ", 9, 9, 1) + b"\0" * 4,
        "bad_array_count.gguf": header(0, 1) + s("k") + struct.pack("<IIQ", 9, 4, 2**40) + b"\0" * 4,
        "bad_array_string_elem.gguf": header(0, 1) + s("k") + struct.pack("<IIQ", 9, 8, 3) + s("a") + s("b")
        + struct.pack(U64, 500) + b"cccc",
        "bad_key_type.gguf": header(0, 1) + kv_str("general.alignment", "32"),
        "bad_array_declared_type.gguf": header(0, 1) + s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 5, 1)
        + struct.pack("<i", 7),
        "bad_duplicate_key.gguf": header(0, 2) + kv_u32("x", 1) + kv_u32("x", 2),
        "bad_alignment_zero.gguf": header(0, 1) + kv_u32("general.alignment", 0),
        "bad_alignment_not_pow2.gguf": header(0, 1) + kv_u32("general.alignment", 33),
        "bad_n_dims.gguf": data(header(1, 0) + tensor("w", [1, 1, 1, 1, 1], 0, 0), 64),
        "bad_dim_int64.gguf": data(header(1, 0) + tensor("w", [2**63], 0, 0), 64),
        "bad_elements_overflow.gguf": data(header(1, 0) + tensor("w", [2**32, 2**32], 0, 0), 64),
        "bad_bytes_overflow.gguf": data(header(1, 0) + tensor("w", [2**31, 2**31], 0, 0), 64),
        "bad_ggml_type.gguf": data(header(1, 0) + tensor("w", [8], 4, 0), 64),
        "bad_block_size.gguf": data(header(1, 0) + tensor("w", [10], 8, 0), 64),
        "bad_offset_unaligned.gguf": data(header(1, 0) + tensor("w", [8], 0, 3), 64),
        "bad_offset_outside.gguf": data(header(1, 0) + tensor("w", [8], 0, 2**20), 64),
        "bad_data_truncated.gguf": data(header(1, 0) + tensor("w", [64], 0, 0), 64),
        "bad_offset_overlap.gguf": data(header(2, 0) + tensor("a", [16], 0, 0) + tensor("b", [8], 0, 32), 128),
        "bad_offset_order.gguf": data(header(2, 0) + tensor("a", [8], 0, 32) + tensor("b", [8], 0, 0), 128),
        "bad_duplicate_tensor.gguf": data(header(2, 0) + tensor("a", [8], 0, 0) + tensor("a", [8], 0, 32), 128),
        "bad_tensor_name_long.gguf": data(header(1, 0) + tensor("n" * 64, [8], 0, 0), 64),
        "bad_data_section_missing.gguf": header(1, 0) + tensor("a", [8], 0, 0),
    }
    return seeds


def st(header_obj, data_len, raw_header=None, pad=True):
    h = raw_header if raw_header is not None else json.dumps(header_obj).encode()
    if pad:
        h += b" " * ((-len(h)) % 8)
    return struct.pack(U64, len(h)) + h + b"\0" * data_len


def safetensors_seeds():
    t = {"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
         "b": {"dtype": "F16", "shape": [4], "data_offsets": [16, 24]}}
    return {
        "good.safetensors": st(dict(t, __metadata__={"format": "pt"}), 24),
        "bad_header_length.safetensors": struct.pack(U64, 2**40) + b"{}",
        "bad_header_over_limit.safetensors": struct.pack(U64, 100_000_001) + b"{}" * 8,
        "bad_truncated.safetensors": b"\x10\0\0",
        "bad_not_object.safetensors": st(None, 0, raw_header=b"[1, 2, 3]"),
        "bad_json.safetensors": st(None, 0, raw_header=b'{"a": '),
        "bad_utf8.safetensors": st(None, 0, raw_header=b'{"\xff\xfe": {}}'),
        "bad_duplicate_key.safetensors": st(None, 16, raw_header=b'{"a": {"dtype": "F32", "shape": [4], '
                                            b'"data_offsets": [0, 16]}, "a": {"dtype": "F32", "shape": [4], '
                                            b'"data_offsets": [0, 16]}}'),
        "bad_dtype.safetensors": st({"a": {"dtype": "Q4", "shape": [4], "data_offsets": [0, 16]}}, 16),
        "bad_shape_span.safetensors": st({"a": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}}, 16),
        "bad_hole.safetensors": st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, 24),
        "bad_overlap.safetensors": st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                       "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, 16),
        "bad_file_length.safetensors": st(t, 100),
        "bad_offsets.safetensors": st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}, 16),
        "bad_negative_shape.safetensors": st({"a": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, 16),
        "bad_shape_overflow.safetensors": st({"a": {"dtype": "F32", "shape": [2**62, 2**62],
                                                    "data_offsets": [0, 16]}}, 16),
    }


def write(sub, seeds):
    out = os.path.join(ROOT, "corpus", sub)
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    write("gguf", gguf_seeds())
    write("safetensors", safetensors_seeds())
