"""Chapter 03: softmax, scaled dot-product attention, the softmax Jacobian."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "03-attention"

MISTAKES = [
    Mistake(
        "softmax",
        "no_max_subtraction",
        "exponentiates the raw logits: overflows to inf/inf = NaN for logits of 1e4",
        """def softmax(x, axis=-1):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)
""",
        ("overflow", "subtract", "max", "nan", "stab"),
    ),
    Mistake(
        "softmax",
        "ignores_axis",
        "always normalises over the last axis, whatever `axis` says",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    s = e.sum(axis=-1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)
""",
        ("axis",),
    ),
    Mistake(
        "softmax",
        "nan_on_all_masked",
        "stable for finite logits, but an all -inf slice gives NaN (0/0, inf - inf)",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
        ("-inf", "nan", "masked", "zeros"),
    ),
    Mistake(
        "softmax",
        "global_normalisation",
        "divides by the sum over the whole array instead of along the axis",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x))
    return e / e.sum()
""",
        ("sum to", "axis", "normalis"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "no_scaling",
        "forgets to divide the scores by sqrt(d_k)",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("√d_k", "sqrt", "scal"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "divides_by_d_k",
        "divides the scores by d_k instead of sqrt(d_k)",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / Q.shape[-1]
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("√d_k", "sqrt", "d_k"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "transpose_with_T",
        "uses K.T, which reverses every axis of a batched K",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.T / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("swapaxes", ".t", "batch"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "softmax_over_queries",
        "normalises the weights over the query axis instead of the key axis",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-2)
    return weights @ V, weights
""",
        ("axis", "sum to", "key"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "mask_with_zero",
        "masks by setting blocked scores to 0 instead of -inf, so blocked keys still get weight",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("-inf", "0 instead", "zero"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "mask_after_softmax",
        "zeroes blocked weights after the softmax without renormalising",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    weights = softmax(scores, axis=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ V, weights
""",
        ("after", "renormalis", "before the softmax"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "inverted_mask",
        "treats True as 'blocked' (PyTorch's convention) instead of 'may attend'",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("true = may attend", "inverted", "polarity", "opposite"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "nan_on_fully_masked_row",
        "uses a softmax that turns an all -inf row into NaN",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ V, weights
""",
        ("nan", "fully", "masked"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "hard_argmax",
        "puts all the weight on the best key (argmax) instead of a softmax",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = (scores == scores.max(axis=-1, keepdims=True)).astype(float)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ V, weights
""",
        ("argmax", "softmax", "one-hot", "hard"),
    ),
    Mistake(
        "softmax_jacobian",
        "sign_flipped",
        "computes p pᵀ - diag(p): the right terms with the wrong sign",
        """def softmax_jacobian(p):
    p = np.asarray(p, dtype=float)
    return p[..., :, None] * p[..., None, :] - p[..., :, None] * np.eye(p.shape[-1])
""",
        ("sign",),
    ),
    Mistake(
        "softmax_jacobian",
        "diagonal_only",
        "keeps only diag(p), forgetting that every output depends on every input",
        """def softmax_jacobian(p):
    p = np.asarray(p, dtype=float)
    return p[..., :, None] * np.eye(p.shape[-1])
""",
        ("diag", "off-diagonal", "p pᵀ", "outer"),
    ),
    Mistake(
        "softmax_jacobian",
        "diag_p_squared",
        "uses diag(p - p²), the diagonal of the Jacobian only",
        """def softmax_jacobian(p):
    p = np.asarray(p, dtype=float)
    return (p - p**2)[..., :, None] * np.eye(p.shape[-1])
""",
        ("off-diagonal", "diag", "outer"),
    ),
    Mistake(
        "softmax_jacobian",
        "unbatched_outer",
        "uses np.outer, which flattens batched input",
        """def softmax_jacobian(p):
    p = np.asarray(p, dtype=float)
    return np.diag(p.ravel()) - np.outer(p, p)
""",
        ("batch", "outer", "shape"),
    ),
]

ALTERNATIVES = [
    Alternative(
        "softmax",
        "log_sum_exp",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isneginf(m), 0.0, m)
    with np.errstate(divide="ignore"):
        lse = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    out = np.exp(x - np.where(np.isneginf(lse), 0.0, lse))
    return np.where(np.isneginf(lse), 0.0, out)
""",
    ),
    Alternative(
        "softmax",
        "float32_moveaxis",
        """def softmax(x, axis=-1):
    x = np.moveaxis(np.asarray(x, dtype=np.float32), axis, -1)
    out = np.zeros_like(x)
    m = x.max(axis=-1, keepdims=True)
    ok = np.isfinite(m[..., 0])
    e = np.exp(x[ok] - m[ok])
    out[ok] = e / e.sum(axis=-1, keepdims=True)
    return np.moveaxis(out, -1, axis)
""",
    ),
    Alternative(
        "scaled_dot_product_attention",
        "einsum_own_softmax",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    d_k = Q.shape[-1]
    scores = np.einsum("...qd,...kd->...qk", Q, K) / math.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total == 0, 1.0, total)
    return np.einsum("...qk,...kv->...qv", weights, V), weights
""",
    ),
    Alternative(
        "scaled_dot_product_attention",
        "loops_over_rows",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    Q, K, V = np.asarray(Q), np.asarray(K), np.asarray(V)
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    n_q, n_k = Q.shape[-2], K.shape[-2]
    if mask is None:
        mask = np.ones((n_q, n_k), dtype=bool)
    mask = np.broadcast_to(mask, batch + (n_q, n_k))
    Qb = np.broadcast_to(Q, batch + Q.shape[-2:])
    Kb = np.broadcast_to(K, batch + K.shape[-2:])
    Vb = np.broadcast_to(V, batch + V.shape[-2:])
    weights = np.zeros(batch + (n_q, n_k))
    out = np.zeros(batch + (n_q, V.shape[-1]))
    for idx in np.ndindex(*batch):
        for i in range(n_q):
            row = [float(Qb[idx][i] @ Kb[idx][j]) / math.sqrt(Q.shape[-1]) for j in range(n_k)]
            allowed = [j for j in range(n_k) if mask[idx][i, j]]
            if not allowed:
                continue
            top = max(row[j] for j in allowed)
            z = sum(math.exp(row[j] - top) for j in allowed)
            for j in allowed:
                weights[idx][i, j] = math.exp(row[j] - top) / z
            out[idx][i] = weights[idx][i] @ Vb[idx]
    return out, weights
""",
    ),
    Alternative(
        "softmax_jacobian",
        "einsum",
        """def softmax_jacobian(p):
    p = np.asarray(p)
    eye = np.eye(p.shape[-1], dtype=p.dtype)
    return np.einsum("...i,ij->...ij", p, eye) - np.einsum("...i,...j->...ij", p, p)
""",
    ),
]

# More mistakes and alternatives found while writing the chapter.
MISTAKES += [
    Mistake(
        "softmax",
        "divide_by_max",
        "divides by the largest exponential, not the sum",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    top = e.max(axis=axis, keepdims=True)
    return np.divide(e, top, out=np.zeros_like(e), where=top > 0)
""",
        ("sum",),
    ),
    Mistake(
        "softmax",
        "global_max_shift",
        "subtracts the max of the whole array, not of each slice (underflow)",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    m = np.max(x[np.isfinite(x)]) if np.isfinite(x).any() else 0.0
    e = np.exp(x - m)
    s = e.sum(axis=axis, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)
""",
        ("each slice", "underflow"),
    ),
    Mistake(
        "softmax",
        "nan_to_num_after",
        "fixes the all -inf slice by nan_to_num after the fact (warns)",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return np.nan_to_num(e / e.sum(axis=axis, keepdims=True))
""",
        ("warning", "-inf"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "naive_inline_softmax",
        "writes its own softmax without the max",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores)
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ V, weights
""",
        ("overflow", "maximum", "nan"),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "swapped_return",
        "returns (weights, output)",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights, weights @ V
""",
        ("(weights, output)",),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "sqrt_n_k",
        "divides by sqrt(n_k)",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(K.shape[-2])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("n_k",),
    ),
    Mistake(
        "scaled_dot_product_attention",
        "mask_multiplies_scores",
        "multiplies the scores by the mask (0, not -inf)",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores * mask
    weights = softmax(scores, axis=-1)
    return weights @ V, weights
""",
        ("-inf", "0 instead"),
    ),
    Mistake(
        "softmax_jacobian",
        "outer_only",
        "returns -p pᵀ only",
        """def softmax_jacobian(p):
    p = np.asarray(p, dtype=float)
    return -p[..., :, None] * p[..., None, :]
""",
        ("diag(p)",),
    ),
    Mistake(
        "softmax_jacobian",
        "plus_outer",
        "adds the outer product",
        """def softmax_jacobian(p):
    p = np.asarray(p, dtype=float)
    return p[..., :, None] * np.eye(p.shape[-1]) + p[..., :, None] * p[..., None, :]
""",
        ("subtracted", "sign", "sum to 0"),
    ),
]
ALTERNATIVES += [
    Alternative(
        "softmax",
        "errstate_nan_to_num",
        """def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return np.nan_to_num(e / e.sum(axis=axis, keepdims=True), nan=0.0)
""",
    ),
    Alternative(
        "scaled_dot_product_attention",
        "float32_throughout",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    Q, K, V = (np.asarray(a, dtype=np.float32) for a in (Q, K, V))
    scale = np.float32(1.0 / math.sqrt(Q.shape[-1]))
    scores = np.einsum("...qd,...kd->...qk", Q, K) * scale
    if mask is not None:
        scores = np.where(mask, scores, np.float32(-np.inf))
    weights = softmax(scores.astype(np.float32))
    weights = np.asarray(weights, dtype=np.float32)
    return np.einsum("...qk,...kv->...qv", weights, V), weights
""",
    ),
    Alternative(
        "scaled_dot_product_attention",
        "masked_fill_inplace",
        """def scaled_dot_product_attention(Q, K, V, mask=None):
    d_k = K.shape[-1]
    scores = np.matmul(Q, np.swapaxes(K, -1, -2)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores + np.zeros(np.broadcast_shapes(scores.shape, np.shape(mask)))
        scores[~np.broadcast_to(mask, scores.shape)] = -np.inf
    weights = softmax(scores)
    return np.matmul(weights, V), weights
""",
    ),
    Alternative(
        "softmax_jacobian",
        "loops",
        """def softmax_jacobian(p):
    p = np.asarray(p)
    n = p.shape[-1]
    J = np.zeros(p.shape + (n,))
    for idx in np.ndindex(*p.shape[:-1]):
        for i in range(n):
            for j in range(n):
                J[idx + (i, j)] = p[idx + (i,)] * ((1.0 if i == j else 0.0) - p[idx + (j,)])
    return J
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
_UNIFORM_WEIGHTS = """    n_q, n_k = Q.shape[-2], K.shape[-2]
    allowed = np.ones((n_q, n_k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    shape = np.broadcast_shapes(Q.shape[:-2] + (n_q, n_k), K.shape[:-2] + (n_q, n_k), allowed.shape)
    allowed = np.broadcast_to(allowed, shape).astype(float)
    count = allowed.sum(axis=-1, keepdims=True)
    weights = np.divide(allowed, count, out=np.zeros_like(allowed), where=count > 0)
"""
DEGENERATE = [
    Degenerate(
        "softmax",
        "softmax_uniform",
        "returns uniform weights along the axis, ignoring the logits",
        "def softmax(x, axis=-1):\n    x = np.asarray(x, dtype=float)\n    return np.ones_like(x) / x.shape[axis]\n",
    ),
    Degenerate(
        "softmax",
        "softmax_zeros",
        "returns zeros of the right shape",
        "def softmax(x, axis=-1):\n    return np.zeros(np.shape(x))\n",
    ),
    Degenerate(
        "softmax", "softmax_identity", "returns the logits unchanged", "def softmax(x, axis=-1):\n    return x\n"
    ),
    Degenerate(
        "scaled_dot_product_attention",
        "sdpa_uniform_weights",
        "uniform weights over the allowed keys (ignores Q and K), output = weights @ V",
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        + _UNIFORM_WEIGHTS
        + "    return weights @ V, weights\n",
    ),
    Degenerate(
        "scaled_dot_product_attention",
        "sdpa_zeros_uniform_weights",
        "zero output and uniform weights over the allowed keys",
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        + _UNIFORM_WEIGHTS
        + "    return np.zeros(weights.shape[:-1] + (V.shape[-1],)), weights\n",
    ),
    Degenerate(
        "scaled_dot_product_attention",
        "sdpa_nan",
        "NaN arrays of the right shapes",
        "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
        + _UNIFORM_WEIGHTS
        + "    return np.full(weights.shape[:-1] + (V.shape[-1],), np.nan), np.full(weights.shape, np.nan)\n",
    ),
    Degenerate(
        "softmax_jacobian",
        "softmax_jacobian_zeros",
        "returns zeros of shape (..., n, n)",
        "def softmax_jacobian(p):\n    p = np.asarray(p)\n    return np.zeros(p.shape + (p.shape[-1],))\n",
    ),
    Degenerate(
        "softmax_jacobian",
        "softmax_jacobian_identity",
        "returns the identity matrix for every vector",
        """def softmax_jacobian(p):
    p = np.asarray(p)
    return np.broadcast_to(np.eye(p.shape[-1]), p.shape + (p.shape[-1],)).copy()
""",
    ),
]
