"""Data for chapter 6's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the computations in step with the figure cells.
"""

import numpy as np


def permutation_equivariance(ref) -> dict[str, np.ndarray]:
    """fig-permutation-equivariance: one attention head on two word orders, and on reordered sequences."""
    rng = np.random.default_rng(0)
    d = 8
    W_q, W_k, W_v = (rng.normal(size=(d, d)) / np.sqrt(d) for _ in range(3))

    def attend(X):  # one head of self-attention, no positions
        out, _ = ref.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v)
        return out

    embedding = {w: rng.normal(size=d) for w in ("dog", "bites", "man")}
    sentences = [["dog", "bites", "man"], ["man", "bites", "dog"]]
    outputs = np.array([attend(np.array([embedding[w] for w in s])) for s in sentences])  # (2, 3, 8)
    X_seq = rng.normal(size=(10, d))
    P_seq = ref.sinusoidal_positional_encoding(10, d)
    gap_plain, gap_pos = [], []
    for _ in range(200):
        perm = rng.permutation(10)
        gap_plain.append(np.abs(attend(X_seq[perm]) - attend(X_seq)[perm]).max())
        gap_pos.append(np.abs(attend(X_seq[perm] + P_seq) - attend(X_seq + P_seq)[perm]).max())
    return {"outputs": outputs, "gap_plain": np.array(gap_plain), "gap_pos": np.array(gap_pos)}


def rope_scores(ref) -> np.ndarray:
    """fig-rope-relative: a random q and k at every pair of positions 0..39, rotated by RoPE."""
    rng = np.random.default_rng(6)
    q, k = rng.normal(size=16), rng.normal(size=16)
    return ref.rope(np.tile(q, (40, 1))) @ ref.rope(np.tile(k, (40, 1))).swapaxes(-1, -2)  # (40, 40)


def make(ref):
    return {
        "fig_permutation_equivariance": permutation_equivariance(ref),
        "fig_sinusoids": {
            "table": ref.sinusoidal_positional_encoding(100, 64),  # fig-sinusoid-matrix
            "pe_rope": ref.sinusoidal_positional_encoding(40, 16),  # fig-rope-relative
            "rope_scores": rope_scores(ref),  # fig-rope-relative
        },
    }
