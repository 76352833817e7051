"""The data chapter 11's figures fall back on until the student's functions work.

`release` calls `make(ref)` with the freshly loaded reference module and writes each
entry to book/11-encoder-decoder/<name>.npz. Everything here is computed by the
reference on the shipped model, translator.npz: the three masks of the first figure,
the greedy translations of the held-out numbers, and the cross-attention weights of
one translation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parent / "translator.npz"
EXAMPLE = 749458  # a held-out number whose cross-attention map is shown
MAX_NEW = 12  # at most 10 words and <eos>, with room to spare


def load(arrays) -> dict:
    """Flat keys ("decoder.1.cross_attn.W_q") -> the nested params of seq2seq_forward."""
    params: dict = {"encoder": [], "decoder": []}
    for key in arrays.files:
        if key == "n_heads":
            params[key] = int(arrays[key])
        elif key.startswith(("encoder.", "decoder.")):
            stack, i, *rest = key.split(".")
            while len(params[stack]) <= int(i):
                params[stack].append({})
            layer = params[stack][int(i)]
            if len(rest) == 2:
                layer.setdefault(rest[0], {})[rest[1]] = arrays[key]
            else:
                layer[rest[0]] = arrays[key]
        elif key in ("src_emb", "tgt_emb", "W_out", "b_out") or key.endswith(("_gamma", "_beta")):
            params[key] = arrays[key]
    return params


def cross_attention_weights(ref, params, src, tgt) -> np.ndarray:
    """(n_layers, n_heads, n_tgt, n_src): the weights of every cross-attention call of ref.seq2seq_forward."""
    original = ref.multi_head_attention
    cross = [layer["cross_attn"] for layer in params["decoder"]]
    seen = []

    def recording(X_q, X_kv, p, n_heads, mask=None):
        output, weights = original(X_q, X_kv, p, n_heads, mask)
        if any(p is c for c in cross):
            seen.append(weights)
        return output, weights

    ref.multi_head_attention = recording  # the reference's decoder_layer looks it up at call time
    try:
        ref.seq2seq_forward(src, tgt, params)
    finally:
        ref.multi_head_attention = original
    return np.stack(seen)


def make(ref) -> dict[str, dict[str, np.ndarray]]:
    arrays = np.load(MODEL)
    params = load(arrays)
    bos, eos, pad = int(arrays["bos_id"]), int(arrays["eos_id"]), int(arrays["pad_id"])
    src_all, lengths = arrays["heldout_src"], arrays["heldout_src_lengths"]
    translations = np.full((len(src_all), MAX_NEW), pad, dtype=np.int64)
    n_new = np.zeros(len(src_all), dtype=np.int64)
    for row, (src, n) in enumerate(zip(src_all, lengths, strict=True)):
        out = ref.greedy_translate(params, src[:n], bos, eos, MAX_NEW)
        translations[row, : len(out)], n_new[row] = out, len(out)
    enc_mask, dec_mask, cross_mask = ref.seq2seq_masks(np.array([3]), np.array([4]), 4, 5)
    row = int(np.flatnonzero(arrays["heldout_numbers"] == EXAMPLE)[0])
    src = src_all[row, : lengths[row]]
    tgt = np.concatenate([[bos], translations[row, : n_new[row]]])
    return {
        "fig_three_masks": {"enc_mask": enc_mask, "dec_mask": dec_mask, "cross_mask": cross_mask},
        "demo_translations": {"translations": translations, "lengths": n_new},
        "fig_cross_attention": {
            "src": src,
            "tgt": tgt,
            "weights": cross_attention_weights(ref, params, src, tgt).astype(np.float32),
        },
    }
