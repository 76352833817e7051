"""Chapter 12's figure data, computed from the reference at release time.

The figures and demos of ``backprop.ipynb`` call the student's functions; until those
work they fall back to ``backprop_figures.npz``, which ``make`` computes here with the
course's reference (``ref``), with exactly the inputs the notebook's cells use.
"""

from __future__ import annotations

import numpy as np


def _layer_norm_jacobians(ref) -> dict[str, np.ndarray]:
    x_typical = np.array([0.8, -1.1, 0.3, 1.4, -0.6, -0.2, 0.9, -1.5])
    x_dominated = x_typical.copy()
    x_dominated[0] = 12.0
    out = {}
    for name, x in (("typical", x_typical), ("dominated", x_dominated)):
        rows = [ref.layer_norm_backward(x, np.ones(8), np.eye(8)[j])[0] for j in range(8)]
        out[f"ln_jacobian_{name}"] = np.array(rows)
    return out


def _cat_sat(ref) -> dict[str, np.ndarray]:
    X = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 2.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0]])
    G = np.zeros((3, 4))
    G[0, 0] = 1.0
    grad_Q, grad_K, grad_V = ref.attention_backward(X, X, X, G)
    return {"cat_grad_Q": grad_Q, "cat_grad_K": grad_K, "cat_grad_V": grad_V}


def _scale(ref) -> dict[str, np.ndarray]:
    widths, n, d_v, trials = [4, 16, 64, 256, 1024], 16, 16, 20
    out = {}
    for scaled in (True, False):
        q_rows, k_rows = [], []
        for d_k in widths:
            q_norms, k_norms = [], []
            for trial in range(trials):
                g = np.random.default_rng(1000 * d_k + trial)
                Q, K = g.normal(size=(n, d_k)), g.normal(size=(n, d_k))
                V, G = g.normal(size=(n, d_v)), g.normal(size=(n, d_v))
                factor = 1.0 if scaled else np.sqrt(d_k)
                grad_Q, grad_K, _ = ref.attention_backward(factor * Q, K, V, G)
                q_norms.append(np.linalg.norm(factor * grad_Q, axis=-1))
                k_norms.append(np.linalg.norm(grad_K, axis=-1))
            q_rows.append(np.percentile(np.concatenate(q_norms), [10, 50, 90]))
            k_rows.append(np.percentile(np.concatenate(k_norms), [10, 50, 90]))
        tag = "scaled" if scaled else "unscaled"
        out[f"scale_Q_{tag}"], out[f"scale_K_{tag}"] = np.array(q_rows), np.array(k_rows)
    return out


def _block(ref) -> dict[str, np.ndarray]:
    g = np.random.default_rng(12)
    n, d, d_ff = 4, 6, 12
    x, G = g.normal(size=(n, d)), g.normal(size=(n, d))
    p = {name: g.normal(scale=d**-0.5, size=(d, d)) for name in ("W_q", "W_k", "W_v", "W_o")}
    p.update(gamma_1=1 + 0.2 * g.normal(size=d), beta_1=0.1 * g.normal(size=d))
    p.update(gamma_2=1 + 0.2 * g.normal(size=d), beta_2=0.1 * g.normal(size=d))
    p.update(W_1=g.normal(scale=d**-0.5, size=(d, d_ff)), b_1=0.1 * g.normal(size=d_ff))
    p.update(W_2=g.normal(scale=d_ff**-0.5, size=(d_ff, d)), b_2=0.1 * g.normal(size=d))
    mask = ref.causal_mask(n)

    def forward(x, W_q):
        h = ref.layer_norm(x, p["gamma_1"], p["beta_1"])
        Q, K, V = h @ W_q, h @ p["W_k"], h @ p["W_v"]
        heads, _ = ref.scaled_dot_product_attention(Q, K, V, mask)
        x1 = x + heads @ p["W_o"]
        h2 = ref.layer_norm(x1, p["gamma_2"], p["beta_2"])
        return x1 + ref.feed_forward(h2, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), (h, Q, K, V, heads, x1, h2)

    _, (h, Q, K, V, heads, x1, h2) = forward(x, p["W_q"])
    ffn = ref.feed_forward_backward(h2, p["W_1"], p["b_1"], p["W_2"], p["b_2"], G)
    grad_x1 = G + ref.layer_norm_backward(x1, p["gamma_2"], ffn["x"])[0]
    grad_heads = ref.linear_backward(heads, p["W_o"], grad_x1)[0]
    grad_Q, grad_K, grad_V = ref.attention_backward(Q, K, V, grad_heads, mask)
    from_q, grad_W_q, _ = ref.linear_backward(h, p["W_q"], grad_Q)
    grad_h = from_q + ref.linear_backward(h, p["W_k"], grad_K)[0] + ref.linear_backward(h, p["W_v"], grad_V)[0]
    grad_x = grad_x1 + ref.layer_norm_backward(x, p["gamma_1"], grad_h)[0]
    check_x = ref.numerical_gradient(lambda a: np.sum(forward(a, p["W_q"])[0] * G), x)
    check_W_q = ref.numerical_gradient(lambda a: np.sum(forward(x, a)[0] * G), p["W_q"])

    def relative_error(a, b):
        return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max())

    return {
        "block_error_x": np.array(relative_error(grad_x, check_x)),
        "block_error_W_q": np.array(relative_error(grad_W_q, check_W_q)),
    }


def make(ref) -> dict[str, dict[str, np.ndarray]]:
    """{file name: {array name: array}} for the files shipped next to the notebook."""
    return {"backprop_figures.npz": {**_layer_norm_jacobians(ref), **_cat_sat(ref), **_scale(ref), **_block(ref)}}
