"""Chapter 12: backward passes (numerical gradient, linear, feed-forward, softmax, layer norm, attention, embedding)."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "12-backprop"

_LN_HEAD = """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    x, gamma, grad_y = np.asarray(x), np.asarray(gamma), np.asarray(grad_y)
    d = x.shape[-1]
    c = x - x.mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt((c**2).mean(axis=-1, keepdims=True) + eps)
    xh = c * inv
    g = grad_y * gamma
"""

_ATT_HEAD = """def attention_backward(Q, K, V, grad_out, mask=None):
    s = 1.0 / np.sqrt(Q.shape[-1])
    scores = Q @ K.swapaxes(-1, -2) * s
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    P = softmax(scores, axis=-1)
    grad_V = P.swapaxes(-1, -2) @ grad_out
    grad_P = grad_out @ V.swapaxes(-1, -2)
"""

MISTAKES = [
    # -- numerical_gradient ---------------------------------------------------
    Mistake(
        "numerical_gradient",
        "one_sided_difference",
        "uses the one-sided difference (f(x + eps) - f(x)) / eps, accurate only to order eps",
        """def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    f0 = f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - f0) / eps
        x[i] = old
    return grad
""",
        ("one-sided",),
    ),
    Mistake(
        "numerical_gradient",
        "divides_by_eps",
        "divides the central difference by eps instead of 2 eps",
        """def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / eps
    return grad
""",
        ("2·eps",),
    ),
    Mistake(
        "numerical_gradient",
        "all_entries_at_once",
        "moves every entry at once, so every entry gets the same directional derivative",
        """def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    slope = (f(x + eps) - f(x - eps)) / (2 * eps)
    return np.full(x.shape, slope)
""",
        ("on its own", "one at a time", "at once"),
    ),
    Mistake(
        "numerical_gradient",
        "steps_in_float32",
        "copies x without converting it, so a float32 x is stepped in float32 where x + 1e-6 rounds",
        """def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad
""",
        ("float32", "float64"),
    ),
    Mistake(
        "numerical_gradient",
        "never_restores",
        "steps each entry up and down but never puts it back, so later entries see a drifted x",
        """def numerical_gradient(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        up = f(x)
        x[i] -= 2 * eps
        down = f(x)
        grad[i] = (up - down) / (2 * eps)
    return grad
""",
        ("put each entry back", "restore"),
    ),
    # -- linear_backward ------------------------------------------------------
    Mistake(
        "linear_backward",
        "grad_W_transposed",
        "computes grad_yᵀ x, the transpose of the weight gradient",
        """def linear_backward(x, W, grad_y):
    xr = x.reshape(-1, x.shape[-1])
    gr = grad_y.reshape(-1, grad_y.shape[-1])
    return grad_y @ W.T, gr.T @ xr, gr.sum(axis=0)
""",
        ("transpose", "wᵀ"),
    ),
    Mistake(
        "linear_backward",
        "no_batch_sum",
        "x.swapaxes(-1, -2) @ grad_y: sums over the positions of a sequence but keeps one grad_W per sequence",
        """def linear_backward(x, W, grad_y):
    return grad_y @ W.swapaxes(-1, -2), x.swapaxes(-1, -2) @ grad_y, grad_y.sum(axis=-2)
""",
        ("every leading axis", "batch"),
    ),
    Mistake(
        "linear_backward",
        "averages_over_positions",
        "averages the weight and bias gradients over the positions instead of summing them",
        """def linear_backward(x, W, grad_y):
    xr = x.reshape(-1, x.shape[-1])
    gr = grad_y.reshape(-1, grad_y.shape[-1])
    return grad_y @ W.T, xr.T @ gr / len(xr), gr.mean(axis=0)
""",
        ("sum over", "sums the contributions", "averag"),
    ),
    Mistake(
        "linear_backward",
        "grad_b_over_features",
        "sums grad_y over the last axis (the features) for the bias",
        """def linear_backward(x, W, grad_y):
    xr = x.reshape(-1, x.shape[-1])
    gr = grad_y.reshape(-1, grad_y.shape[-1])
    return grad_y @ W.T, xr.T @ gr, grad_y.sum(axis=-1)
""",
        ("features",),
    ),
    Mistake(
        "linear_backward",
        "grad_b_first_axis_only",
        "sums the bias gradient over axis 0 only, right for 2-D inputs, wrong for batches",
        """def linear_backward(x, W, grad_y):
    xr = x.reshape(-1, x.shape[-1])
    gr = grad_y.reshape(-1, grad_y.shape[-1])
    return grad_y @ W.T, xr.T @ gr, grad_y.sum(axis=0)
""",
        ("every leading axis", "first axis"),
    ),
    # -- feed_forward_backward ------------------------------------------------
    Mistake(
        "feed_forward_backward",
        "relu_prime_at_zero_is_one",
        "gates with a >= 0, so a unit exactly at the kink passes gradient (ReLU'(0) = 1)",
        """def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    a = x @ W_1 + b_1
    h = np.maximum(0.0, a)
    grad_h, grad_W_2, grad_b_2 = linear_backward(h, W_2, grad_y)
    grad_a = grad_h * (a >= 0)
    grad_x, grad_W_1, grad_b_1 = linear_backward(x, W_1, grad_a)
    return {"x": grad_x, "W_1": grad_W_1, "b_1": grad_b_1, "W_2": grad_W_2, "b_2": grad_b_2}
""",
        ("relu'(0)", "a >= 0"),
    ),
    Mistake(
        "feed_forward_backward",
        "no_relu_gate",
        "backpropagates through the ReLU as if it were the identity",
        """def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    h = np.maximum(0.0, x @ W_1 + b_1)
    grad_h, grad_W_2, grad_b_2 = linear_backward(h, W_2, grad_y)
    grad_x, grad_W_1, grad_b_1 = linear_backward(x, W_1, grad_h)
    return {"x": grad_x, "W_1": grad_W_1, "b_1": grad_b_1, "W_2": grad_W_2, "b_2": grad_b_2}
""",
        ("gate",),
    ),
    Mistake(
        "feed_forward_backward",
        "W_2_from_preactivation",
        "uses the pre-activation x W_1 + b_1, not relu of it, as W_2's input",
        """def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    a = x @ W_1 + b_1
    grad_h, grad_W_2, grad_b_2 = linear_backward(a, W_2, grad_y)
    grad_a = np.where(a > 0, grad_h, 0.0)
    grad_x, grad_W_1, grad_b_1 = linear_backward(x, W_1, grad_a)
    return {"x": grad_x, "W_1": grad_W_1, "b_1": grad_b_1, "W_2": grad_W_2, "b_2": grad_b_2}
""",
        ("pre-activation",),
    ),
    # -- softmax_backward -----------------------------------------------------
    Mistake(
        "softmax_backward",
        "diagonal_only",
        "returns p * grad_p, as if each probability depended on its own logit only",
        """def softmax_backward(p, grad_p, axis=-1):
    return p * grad_p
""",
        ("diagonal",),
    ),
    Mistake(
        "softmax_backward",
        "diagonal_p_one_minus_p",
        "multiplies grad_p by the Jacobian's diagonal p(1 - p) and drops the off-diagonal terms",
        """def softmax_backward(p, grad_p, axis=-1):
    return p * (1 - p) * grad_p
""",
        ("diagonal",),
    ),
    Mistake(
        "softmax_backward",
        "ignores_axis",
        "always takes the weighted sum over the last axis",
        """def softmax_backward(p, grad_p, axis=-1):
    return p * (grad_p - np.sum(grad_p * p, axis=-1, keepdims=True))
""",
        ("axis",),
    ),
    Mistake(
        "softmax_backward",
        "missing_p_factor",
        "returns grad_p - sum(grad_p * p), without the factor p",
        """def softmax_backward(p, grad_p, axis=-1):
    return grad_p - np.sum(grad_p * p, axis=axis, keepdims=True)
""",
        ("factor p",),
    ),
    Mistake(
        "softmax_backward",
        "unweighted_sum",
        "subtracts sum(grad_p) instead of the probability-weighted sum(grad_p * p)",
        """def softmax_backward(p, grad_p, axis=-1):
    return p * (grad_p - np.sum(grad_p, axis=axis, keepdims=True))
""",
        ("without the weights",),
    ),
    # -- layer_norm_backward --------------------------------------------------
    Mistake(
        "layer_norm_backward",
        "drops_mean_path",
        "forgets the path through the mean: grad_x = (g - x_hat mean(g x_hat)) / sigma",
        _LN_HEAD
        + """    grad_x = inv * (g - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("path through the mean",),
    ),
    Mistake(
        "layer_norm_backward",
        "drops_variance_path",
        "forgets the path through the variance: grad_x = (g - mean(g)) / sigma",
        _LN_HEAD
        + """    grad_x = inv * (g - g.mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("path through the variance",),
    ),
    Mistake(
        "layer_norm_backward",
        "forgets_gamma",
        "backpropagates grad_y into x_hat without multiplying by gamma",
        _LN_HEAD
        + """    g = grad_y
    grad_x = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("gamma is missing",),
    ),
    Mistake(
        "layer_norm_backward",
        "grad_gamma_uses_x",
        "grad_gamma = sum(grad_y * x), with the raw input instead of x_hat",
        _LN_HEAD
        + """    grad_x = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * x).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("x_hat",),
    ),
    Mistake(
        "layer_norm_backward",
        "variance_from_moments",
        "computes the variance as mean(x²) - mean(x)², which cancels catastrophically for large x",
        """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    d = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    var = (x * x).mean(axis=-1, keepdims=True) - mu * mu
    inv = 1.0 / np.sqrt(var + eps)
    xh = (x - mu) * inv
    g = grad_y * gamma
    grad_x = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("mean(x²)", "centred"),
    ),
    Mistake(
        "layer_norm_backward",
        "eps_outside_sqrt",
        "divides by sqrt(var) + eps instead of sqrt(var + eps)",
        """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    d = x.shape[-1]
    c = x - x.mean(axis=-1, keepdims=True)
    inv = 1.0 / (np.sqrt((c**2).mean(axis=-1, keepdims=True)) + eps)
    xh = c * inv
    g = grad_y * gamma
    grad_x = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("outside the square root",),
    ),
    Mistake(
        "layer_norm_backward",
        "params_not_summed_over_batch",
        "sums grad_gamma and grad_beta over axis 0 only",
        _LN_HEAD
        + """    grad_x = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).sum(axis=0), grad_y.sum(axis=0)
""",
        ("every leading axis", "summed over the leading axes"),
    ),
    Mistake(
        "layer_norm_backward",
        "unbiased_variance",
        "normalises with the unbiased variance (ddof=1) instead of the layer norm's biased one",
        """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    d = x.shape[-1]
    c = x - x.mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(np.var(x, axis=-1, ddof=1, keepdims=True) + eps)
    xh = c * inv
    g = grad_y * gamma
    grad_x = inv * (g - g.mean(axis=-1, keepdims=True) - xh * (g * xh).mean(axis=-1, keepdims=True))
    return grad_x, (grad_y * xh).reshape(-1, d).sum(0), grad_y.reshape(-1, d).sum(0)
""",
        ("biased",),
    ),
    # -- attention_backward ---------------------------------------------------
    Mistake(
        "attention_backward",
        "no_scale_in_backward",
        "forgets the 1/sqrt(d_k) when backpropagating into Q and K",
        _ATT_HEAD
        + """    grad_S = softmax_backward(P, grad_P)
    return grad_S @ K, grad_S.swapaxes(-1, -2) @ Q, grad_V
""",
        ("1/sqrt(d_k)",),
    ),
    Mistake(
        "attention_backward",
        "grad_V_without_transpose",
        "grad_V = P @ grad_out instead of Pᵀ @ grad_out",
        _ATT_HEAD
        + """    grad_S = softmax_backward(P, grad_P)
    return grad_S @ K * s, grad_S.swapaxes(-1, -2) @ Q * s, P @ grad_out
""",
        ("pᵀ", "transpose"),
    ),
    Mistake(
        "attention_backward",
        "softmax_backward_diagonal",
        "backpropagates through the softmax with p * grad_p, ignoring the other entries of each row",
        _ATT_HEAD
        + """    grad_S = P * grad_P
    return grad_S @ K * s, grad_S.swapaxes(-1, -2) @ Q * s, grad_V
""",
        ("other entries", "every other score"),
    ),
    Mistake(
        "attention_backward",
        "grad_K_without_transpose",
        "grad_K = dL/dS @ Q instead of (dL/dS)ᵀ @ Q",
        _ATT_HEAD
        + """    grad_S = softmax_backward(P, grad_P)
    return grad_S @ K * s, grad_S @ Q * s, grad_V
""",
        ("(dl/ds)ᵀ", "transpose"),
    ),
    Mistake(
        "attention_backward",
        "ignores_mask",
        "recomputes the weights without the mask",
        """def attention_backward(Q, K, V, grad_out, mask=None):
    s = 1.0 / np.sqrt(Q.shape[-1])
    P = softmax(Q @ K.swapaxes(-1, -2) * s, axis=-1)
    grad_S = softmax_backward(P, grad_out @ V.swapaxes(-1, -2))
    return grad_S @ K * s, grad_S.swapaxes(-1, -2) @ Q * s, P.swapaxes(-1, -2) @ grad_out
""",
        ("mask",),
    ),
    Mistake(
        "attention_backward",
        "weights_recomputed_unscaled",
        "recomputes the weights from Q Kᵀ without the 1/sqrt(d_k) (but scales the gradients)",
        """def attention_backward(Q, K, V, grad_out, mask=None):
    s = 1.0 / np.sqrt(Q.shape[-1])
    scores = Q @ K.swapaxes(-1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    P = softmax(scores, axis=-1)
    grad_S = softmax_backward(P, grad_out @ V.swapaxes(-1, -2))
    return grad_S @ K * s, grad_S.swapaxes(-1, -2) @ Q * s, P.swapaxes(-1, -2) @ grad_out
""",
        ("without the 1/sqrt(d_k) scale",),
    ),
    # -- embedding_backward ---------------------------------------------------
    Mistake(
        "embedding_backward",
        "fancy_index_overwrites",
        "grad[ids] = grad_out: a repeated id keeps only its last occurrence",
        """def embedding_backward(ids, grad_out, vocab_size):
    d = grad_out.shape[-1]
    grad = np.zeros((vocab_size, d))
    grad[np.ravel(ids)] = grad_out.reshape(-1, d)
    return grad
""",
        ("last occurrence", "np.add.at"),
    ),
    Mistake(
        "embedding_backward",
        "fancy_index_plus_equals",
        "grad[ids] += grad_out: numpy buffers the fancy index, so a repeated id is added once",
        """def embedding_backward(ids, grad_out, vocab_size):
    d = grad_out.shape[-1]
    grad = np.zeros((vocab_size, d))
    grad[np.ravel(ids)] += grad_out.reshape(-1, d)
    return grad
""",
        ("last occurrence", "np.add.at"),
    ),
    Mistake(
        "embedding_backward",
        "averages_repeats",
        "averages the gradients of a repeated id instead of adding them",
        """def embedding_backward(ids, grad_out, vocab_size):
    d = grad_out.shape[-1]
    ids = np.ravel(ids)
    grad = np.zeros((vocab_size, d))
    np.add.at(grad, ids, grad_out.reshape(-1, d))
    counts = np.bincount(ids, minlength=vocab_size)[:, None]
    return grad / np.maximum(counts, 1)
""",
        ("averag",),
    ),
    Mistake(
        "linear_backward",
        "finite_differences_instead_of_backprop",
        "computes the gradients with its own numerical_gradient instead of the backward rule: right on tiny inputs, "
        "far too slow on a layer of realistic size",
        """def linear_backward(x, W, grad_y):
    x, W, grad_y = (np.asarray(a, dtype=float) for a in (x, W, grad_y))
    grad_x = numerical_gradient(lambda v: np.sum((v @ W) * grad_y), x)
    grad_W = numerical_gradient(lambda v: np.sum((x @ v) * grad_y), W)
    grad_b = grad_y.reshape(-1, grad_y.shape[-1]).sum(axis=0)
    return grad_x, grad_W, grad_b
""",
        ("did not finish in time", "too slow"),
    ),
]

ALTERNATIVES = [
    Alternative(
        "numerical_gradient",
        "unit_vectors_flat_index",
        """def numerical_gradient(f, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty(x.size)
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        grad[k] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad.reshape(x.shape)
""",
    ),
    Alternative(
        "numerical_gradient",
        "nditer_readwrite_copy",
        """def numerical_gradient(f, x, eps=1e-6):
    work = x.astype(np.float64, copy=True)
    grad = np.zeros_like(work)
    it = np.nditer(work, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        keep = work[i]
        work[i] = keep + eps
        hi = f(work)
        work[i] = keep - eps
        lo = f(work)
        work[i] = keep
        grad[i] = (hi - lo) / (2 * eps)
        it.iternext()
    return grad
""",
    ),
    Alternative(
        "linear_backward",
        "einsum",
        """def linear_backward(x, W, grad_y):
    grad_x = np.einsum("...o,io->...i", grad_y, W)
    grad_W = np.einsum("ni,no->io", x.reshape(-1, W.shape[0]), grad_y.reshape(-1, W.shape[1]))
    grad_b = grad_y.sum(axis=tuple(range(grad_y.ndim - 1)))
    return grad_x, grad_W, grad_b
""",
    ),
    Alternative(
        "linear_backward",
        "tensordot_float32",
        """def linear_backward(x, W, grad_y):
    axes = list(range(x.ndim - 1))
    grad_W = np.tensordot(x, grad_y, axes=(axes, axes))
    return np.matmul(grad_y, W.T), grad_W, np.sum(grad_y, axis=tuple(axes))
""",
    ),
    Alternative(
        "feed_forward_backward",
        "inline_without_linear_backward",
        """def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    d, f = W_1.shape
    a = x @ W_1 + b_1
    h = a * (a > 0)
    gh = grad_y @ W_2.T
    ga = gh * (h > 0)
    rows_x, rows_h = x.reshape(-1, d), h.reshape(-1, f)
    rows_g, rows_ga = grad_y.reshape(-1, grad_y.shape[-1]), ga.reshape(-1, f)
    return {
        "x": ga @ W_1.T,
        "W_1": rows_x.T @ rows_ga,
        "b_1": rows_ga.sum(0),
        "W_2": rows_h.T @ rows_g,
        "b_2": rows_g.sum(0),
    }
""",
    ),
    Alternative(
        "softmax_backward",
        "explicit_jacobian",
        """def softmax_backward(p, grad_p, axis=-1):
    p, g = np.moveaxis(p, axis, -1), np.moveaxis(grad_p, axis, -1)
    n = p.shape[-1]
    jac = p[..., :, None] * np.eye(n) - p[..., :, None] * p[..., None, :]
    grad_z = np.einsum("...i,...ij->...j", g, jac)
    return np.moveaxis(grad_z, -1, axis)
""",
    ),
    Alternative(
        "layer_norm_backward",
        "staged_through_var_and_mean",
        """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    d = x.shape[-1]
    mu = np.mean(x, axis=-1, keepdims=True)
    xc = x - mu
    var = np.mean(xc**2, axis=-1, keepdims=True)
    std = np.sqrt(var + eps)
    xh = xc / std
    dxh = grad_y * gamma
    dvar = np.sum(dxh * xc, axis=-1, keepdims=True) * -0.5 * std**-3
    dmu = -np.sum(dxh / std, axis=-1, keepdims=True) - 2.0 * dvar * np.mean(xc, axis=-1, keepdims=True)
    dx = dxh / std + dvar * 2.0 * xc / d + dmu / d
    lead = tuple(range(x.ndim - 1))
    return dx, np.sum(grad_y * xh, axis=lead), np.sum(grad_y, axis=lead)
""",
    ),
    Alternative(
        "attention_backward",
        "own_softmax_einsum",
        """def attention_backward(Q, K, V, grad_out, mask=None):
    d_k = Q.shape[-1]
    S = np.einsum("...qd,...kd->...qk", Q, K) / math.sqrt(d_k)
    if mask is not None:
        S = np.where(mask, S, -np.inf)
    top = np.max(S, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(S - top)
    tot = e.sum(axis=-1, keepdims=True)
    P = np.divide(e, tot, out=np.zeros_like(e), where=tot > 0)
    dP = np.einsum("...qv,...kv->...qk", grad_out, V)
    dS = P * (dP - (P * dP).sum(axis=-1, keepdims=True))
    dQ = np.einsum("...qk,...kd->...qd", dS, K) / math.sqrt(d_k)
    dK = np.einsum("...qk,...qd->...kd", dS, Q) / math.sqrt(d_k)
    dV = np.einsum("...qk,...qv->...kv", P, grad_out)
    return dQ, dK, dV
""",
    ),
    Alternative(
        "embedding_backward",
        "one_hot_matmul",
        """def embedding_backward(ids, grad_out, vocab_size):
    d = grad_out.shape[-1]
    hot = np.eye(vocab_size)[np.ravel(ids)]
    return hot.T @ grad_out.reshape(-1, d)
""",
    ),
    Alternative(
        "embedding_backward",
        "python_loop",
        """def embedding_backward(ids, grad_out, vocab_size):
    flat_ids = np.asarray(ids).reshape(-1)
    rows = np.asarray(grad_out).reshape(len(flat_ids), -1)
    grad = np.zeros((vocab_size, rows.shape[1]))
    for token, row in zip(flat_ids, rows):
        grad[token] = grad[token] + row
    return grad
""",
    ),
]

DEGENERATE = [
    Degenerate(
        "numerical_gradient",
        "zeros_in_numerical_gradient",
        "zeros of the shape of x",
        """def numerical_gradient(f, x, eps=1e-6):
    return np.zeros(np.shape(x))
""",
    ),
    Degenerate(
        "numerical_gradient",
        "returns_x",
        "returns x unchanged",
        """def numerical_gradient(f, x, eps=1e-6):
    return np.array(x, dtype=float)
""",
    ),
    Degenerate(
        "linear_backward",
        "zeros_in_linear_backward",
        "zeros of the right shapes",
        """def linear_backward(x, W, grad_y):
    return np.zeros(np.shape(x)), np.zeros(np.shape(W)), np.zeros(np.shape(W)[1])
""",
    ),
    Degenerate(
        "linear_backward",
        "arguments_returned",
        "returns its arguments (x, W) and the upstream gradient's first row",
        """def linear_backward(x, W, grad_y):
    return np.array(x, dtype=float), np.array(W, dtype=float), np.reshape(grad_y, (-1, np.shape(grad_y)[-1]))[0]
""",
    ),
    Degenerate(
        "feed_forward_backward",
        "zeros_in_feed_forward_backward",
        "a dict of zeros of the right shapes",
        """def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    names = ("x", "W_1", "b_1", "W_2", "b_2")
    return {k: np.zeros(np.shape(a)) for k, a in zip(names, (x, W_1, b_1, W_2, b_2))}
""",
    ),
    Degenerate(
        "feed_forward_backward",
        "upstream_unchanged_in_feed_forward_backward",
        "passes grad_y through unchanged as grad_x, zero parameter gradients",
        """def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    return {
        "x": np.array(grad_y, dtype=float),
        "W_1": np.zeros(np.shape(W_1)),
        "b_1": np.zeros(np.shape(b_1)),
        "W_2": np.zeros(np.shape(W_2)),
        "b_2": np.zeros(np.shape(b_2)),
    }
""",
    ),
    Degenerate(
        "softmax_backward",
        "upstream_unchanged_in_softmax_backward",
        "returns grad_p unchanged",
        """def softmax_backward(p, grad_p, axis=-1):
    return np.array(grad_p, dtype=float)
""",
    ),
    Degenerate(
        "softmax_backward",
        "zeros_in_softmax_backward",
        "zeros of the shape of p",
        """def softmax_backward(p, grad_p, axis=-1):
    return np.zeros(np.shape(p))
""",
    ),
    Degenerate(
        "layer_norm_backward",
        "upstream_unchanged_in_layer_norm_backward",
        "returns grad_y as grad_x, zero parameter gradients",
        """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    return np.array(grad_y, dtype=float), np.zeros(np.shape(gamma)), np.zeros(np.shape(gamma))
""",
    ),
    Degenerate(
        "layer_norm_backward",
        "zeros_in_layer_norm_backward",
        "zeros of the right shapes",
        """def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    return np.zeros(np.shape(x)), np.zeros(np.shape(gamma)), np.zeros(np.shape(gamma))
""",
    ),
    Degenerate(
        "attention_backward",
        "zeros_in_attention_backward",
        "zeros of the shapes of Q, K and V",
        """def attention_backward(Q, K, V, grad_out, mask=None):
    return np.zeros(np.shape(Q)), np.zeros(np.shape(K)), np.zeros(np.shape(V))
""",
    ),
    Degenerate(
        "attention_backward",
        "uniform_weights_ignores_Q_K",
        "pretends the weights are uniform: grad_V from uniform weights, zero gradients for Q and K",
        """def attention_backward(Q, K, V, grad_out, mask=None):
    n_k = np.shape(K)[-2]
    grad_V = np.repeat(np.sum(grad_out, axis=-2, keepdims=True) / n_k, n_k, axis=-2)
    return np.zeros(np.shape(Q)), np.zeros(np.shape(K)), grad_V
""",
    ),
    Degenerate(
        "embedding_backward",
        "zeros_in_embedding_backward",
        "zeros of shape (vocab_size, d)",
        """def embedding_backward(ids, grad_out, vocab_size):
    return np.zeros((vocab_size, np.shape(grad_out)[-1]))
""",
    ),
    Degenerate(
        "embedding_backward",
        "ignores_ids",
        "ignores the ids: spreads the total upstream gradient evenly over every row",
        """def embedding_backward(ids, grad_out, vocab_size):
    d = np.shape(grad_out)[-1]
    total = np.reshape(grad_out, (-1, d)).sum(axis=0)
    return np.tile(total / vocab_size, (vocab_size, 1))
""",
    ),
]
