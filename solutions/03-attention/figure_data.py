"""Data for chapter 3's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the computations in step with the figure cells.
"""

import numpy as np

SCORES = np.array([2.0, 1.0, 0.5, -1.0])  # fig-softmax-temperature
TEMPERATURES = [4.0, 1.0, 0.25]
TOKENS = ["the", "cat", "sat", "on", "the", "mat"]  # fig-attention-heatmap
CLASSES = {"the": 0, "cat": 1, "mat": 1, "sat": 2, "on": 3}
WANTS = {"the": [0, 2, 0, 0], "cat": [1, 0, 2, 0], "sat": [0, 2, 0, 0.5], "on": [0, 2, 0, 0], "mat": [0, 0, 0, 2]}


def heatmap_weights(scaled_dot_product_attention):
    K = 2.0 * np.eye(4)[[CLASSES[t] for t in TOKENS]]  # (6, 4)
    Q = np.array([WANTS[t] for t in TOKENS], dtype=float)  # (6, 4)
    return scaled_dot_product_attention(Q, K, K)[1]  # (6, 6)


def saturation(softmax, softmax_jacobian) -> dict[str, np.ndarray]:
    """fig-softmax-saturation: the share of saturated rows (||J||_F < 1e-3) and the median gradient
    path to q·k (||J||_F times the scale, the chain rule), unscaled and scaled, by d_k."""
    rng = np.random.default_rng(1)
    out = {k: [] for k in ("saturated_unscaled", "median_unscaled", "saturated_scaled", "median_scaled")}
    for d_k in 2 ** np.arange(1, 11):
        q = rng.standard_normal((2000, d_k))
        K = rng.standard_normal((16, d_k))
        raw = q @ K.swapaxes(-1, -2)
        for label, scale in [("unscaled", 1.0), ("scaled", 1 / np.sqrt(d_k))]:
            p = softmax(scale * raw)
            jac_norm = np.linalg.norm(softmax_jacobian(p), axis=(-2, -1))
            out[f"saturated_{label}"].append(100 * (jac_norm < 1e-3).mean())
            out[f"median_{label}"].append(np.median(scale * jac_norm))
    return {k: np.array(v) for k, v in out.items()}


def make(ref):
    return {
        "fig_softmax_temperature": {"weights": np.array([ref.softmax(SCORES / t) for t in TEMPERATURES])},
        "fig_attention_heatmap": {"weights": heatmap_weights(ref.scaled_dot_product_attention)},
        "fig_softmax_saturation": saturation(ref.softmax, ref.softmax_jacobian),
    }
