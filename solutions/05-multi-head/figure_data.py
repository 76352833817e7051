"""Data for chapter 5's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the construction in step with fig-heads-patterns.
"""

import numpy as np


def toy_heads():
    """The hand-written three-head layer of fig-heads-patterns: (X, W_q, W_k), 3 heads of width 5."""
    tokens = ["the", "cat", "sat", "on", "the", "mat"]
    words = ["the", "cat", "sat", "on", "mat"]
    word_class = {"the": 0, "cat": 1, "mat": 1, "sat": 2, "on": 3}
    n, d_model, d_head = len(tokens), 15, 5
    X = np.zeros((n, d_model))
    for p, t in enumerate(tokens):
        X[p, word_class[t]] = 1.0
        X[p, 4 + p] = 1.0
        X[p, 10 + words.index(t)] = 1.0
    s = 3.0
    W_q, W_k = np.zeros((d_model, d_model)), np.zeros((d_model, d_model))
    for p in range(n):
        W_q[4 + p, max(p - 1, 0)] = s
        if p < d_head:
            W_k[4 + p, p] = s
    for c, target in {0: 1, 1: 2, 2: 1, 3: 1}.items():
        W_q[c, d_head + target] = s
        W_k[target, d_head + target] = s
    for w in range(len(words)):
        W_q[10 + w, 2 * d_head + w] = s
        W_k[10 + w, 2 * d_head + w] = s
    return X, W_q, W_k


def make(ref):
    X, W_q, W_k = toy_heads()
    params = {"W_q": W_q, "W_k": W_k, "W_v": np.eye(15), "W_o": np.eye(15)}
    return {
        "fig_heads": {
            "three_heads": ref.multi_head_attention(X, X, params, 3)[1],  # (3, 6, 6) fig-heads-patterns
            "one_head": ref.multi_head_attention(X, X, params, 1)[1][0],  # (6, 6) fig-one-head-blurs
        },
        "fig_split_heads": {"right": ref.split_heads(np.arange(24).reshape(4, 6), 2)},  # (2, 4, 3)
    }
