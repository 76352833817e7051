"""Data for chapter 8's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the computations in step with the figure cells.
The Pre-LN/Post-LN gradients of section 8.4 are computed here only (by hand, checked
against PyTorch in tests/test_reference_torch_ch08.py).
"""

import numpy as np


def drifting_tokens():
    """The 2000 tokens of sections 8.1 and 8.3: a random offset and scale per token."""
    rng = np.random.default_rng(0)
    n_tokens, d_model = 2000, 64
    offset = rng.normal(scale=1.5, size=(n_tokens, 1))
    scale = rng.lognormal(sigma=0.75, size=(n_tokens, 1))
    return offset + scale * rng.standard_normal((n_tokens, d_model))  # (2000, 64)


def batch_dependence(layer_norm, batch_norm) -> dict[str, np.ndarray]:
    """fig-batch-dependence: one token in 200 batches, and real tokens next to more and more padding."""
    rng = np.random.default_rng(1)
    d = 32
    feature_mean = rng.normal(size=d)
    feature_scale = rng.lognormal(sigma=0.5, size=d)
    pool = feature_mean + feature_scale * rng.standard_normal((1000, d))  # (1000, 32)
    ones, zeros = np.ones(d), np.zeros(d)
    token = pool[0]
    bn_token = []
    for _ in range(200):
        batch = np.vstack([token, pool[rng.choice(np.arange(1, 1000), size=7, replace=False)]])  # (8, 32)
        bn_token.append(batch_norm(batch, ones, zeros)[0, :12])
    real = feature_mean + feature_scale * rng.standard_normal((4, 16, d))  # (4, 16, 32)
    change_bn, change_ln = [], []
    for n_pad in np.arange(0, 49, 4):
        padded = np.concatenate([real, np.zeros((4, n_pad, d))], axis=1)
        change_bn.append(np.abs(batch_norm(padded, ones, zeros)[:, :16] - batch_norm(real, ones, zeros)).mean())
        change_ln.append(np.abs(layer_norm(padded, ones, zeros)[:, :16] - layer_norm(real, ones, zeros)).mean())
    return {
        "bn_token": np.array(bn_token),  # (200, 12)
        "ln_token": layer_norm(token, ones, zeros)[:12],  # (12,)
        "change_bn": np.array(change_bn),  # (13,)
        "change_ln": np.array(change_ln),  # (13,)
    }


def ln_backward(g, x_hat, sigma):
    """Backpropagation through layer norm with gamma = 1, beta = 0, for x_hat = (x - mu) / sigma."""
    return (g - g.mean(-1, keepdims=True) - x_hat * (g * x_hat).mean(-1, keepdims=True)) / sigma


def weight_gradient_norms(layer_norm, x, params, readout, pre_ln, eps=1e-5):
    """||dloss/dW_1|| of every layer of an FFN stack, Pre-LN or Post-LN; loss = sum(output * readout) / n."""
    d = x.shape[-1]
    ones, zeros = np.ones(d), np.zeros(d)

    def ln(v):
        return layer_norm(v, ones, zeros), np.sqrt(v.var(-1, keepdims=True) + eps)

    caches = []
    for W_1, W_2 in params:
        if pre_ln:  # x + F(LN(x))
            u, sigma = ln(x)
            a = u @ W_1
            x = x + np.maximum(a, 0) @ W_2
            caches.append((u, a, u, sigma))
        else:  # LN(x + F(x))
            u, a = x, x @ W_1
            x, sigma = ln(x + np.maximum(a, 0) @ W_2)
            caches.append((u, a, x, sigma))
    g = readout / len(x)
    if pre_ln:
        x_hat, sigma = ln(x)
        g = ln_backward(g, x_hat, sigma)  # through the final layer norm
    norms = []
    for (W_1, W_2), (u, a, x_hat, sigma) in zip(params[::-1], caches[::-1], strict=True):
        if not pre_ln:
            g = ln_backward(g, x_hat, sigma)
        da = (g @ W_2.T) * (a > 0)
        norms.append(np.linalg.norm(u.T @ da))
        du = da @ W_1.T
        g = g + (ln_backward(du, x_hat, sigma) if pre_ln else du)
    return np.array(norms[::-1])  # (L,) from the first layer to the last


def random_stack(seed, depth, n=64, d=32, d_ff=128):
    rng = np.random.default_rng(seed)
    s = np.sqrt(2 / (d + d_ff))  # Xavier initialisation
    params = [(rng.normal(scale=s, size=(d, d_ff)), rng.normal(scale=s, size=(d_ff, d))) for _ in range(depth)]
    return rng.standard_normal((n, d)), params, rng.standard_normal((n, d))


def pre_post_ln(layer_norm) -> dict[str, np.ndarray]:
    """fig-pre-post-ln: gradient norms by layer (12 layers) and of the last layer by depth."""
    out = {}
    for pre_ln, name in [(False, "post"), (True, "pre")]:
        out[f"{name}_by_layer"] = np.mean(
            [weight_gradient_norms(layer_norm, *random_stack(seed, 12), pre_ln) for seed in range(5)], axis=0
        )
        out[f"{name}_last"] = np.array(
            [
                np.mean([weight_gradient_norms(layer_norm, *random_stack(seed, L), pre_ln)[-1] for seed in range(5)])
                for L in 2 ** np.arange(7)
            ]
        )
    return out


def make(ref):
    X = drifting_tokens()
    ones, zeros = np.ones(X.shape[-1]), np.zeros(X.shape[-1])
    Y_ln = ref.layer_norm(X, ones, zeros)
    Y_rms = ref.rms_norm(X, ones)
    return {
        "fig_layer_norm_statistics": {"mean": Y_ln.mean(-1), "std": Y_ln.std(-1)},
        "fig_batch_dependence": batch_dependence(ref.layer_norm, ref.batch_norm),
        "fig_rms_keeps_the_mean": {"ln_mean": Y_ln.mean(-1), "rms_mean": Y_rms.mean(-1)},
        "fig_pre_post_ln": pre_post_ln(ref.layer_norm),
    }
