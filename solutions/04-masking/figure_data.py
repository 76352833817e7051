"""Data for chapter 4's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the inputs in step with the figure cells.
"""

import numpy as np

TOKENS = ["the", "cat", "sat", "on", "the", "mat"]
FEATURES = {"the": [1, 0, 0, 0, 0], "cat": [0, 1, 0, 0, 1], "sat": [0, 0, 1, 0, 0], "on": [0, 0, 0, 1, 0]}
FEATURES["mat"] = [0, 1, 0, 0, 0]
W_K = np.array([[0, 0, 0, 0, 1], [1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 1, 0, 0, 0]], dtype=float)
W_Q = np.array([[2, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 2, 0, 1, 0], [2, -1, 0, 0, 0], [0, 0, 2, 0, 0]], dtype=float)


def make(ref):
    X = np.array([FEATURES[t] for t in TOKENS], dtype=float)  # (6, 5), as in fig-causal-mask
    S = 2 * (X @ W_Q) @ (X @ W_K).swapaxes(-1, -2)  # (6, 6) scores
    causal = ref.causal_mask(6)
    return {
        "fig_masks": {
            "causal": causal,  # fig-causal-mask and fig-padding-mask: (6, 6)
            "padding": ref.padding_mask(np.array([6, 3, 2]), 6),  # fig-padding-mask: (3, 1, 6)
            "causal_weights": ref.softmax(np.where(causal, S, -np.inf)),  # fig-causal-mask: (6, 6)
        }
    }
