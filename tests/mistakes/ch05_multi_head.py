"""Chapter 05: splitting and merging heads, multi-head attention, its parameter count."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "05-multi-head"

MISTAKES = [
    Mistake(
        "split_heads",
        "split_reshape_without_transpose",
        "reshapes (..., n, d_model) straight to (..., n_heads, n, d_head), mixing the rows of different tokens",
        """def split_heads(X, n_heads):
    X = np.asarray(X)
    *batch, n, d_model = X.shape
    if d_model % n_heads:
        raise ValueError("d_model is not divisible by n_heads")
    return X.reshape(*batch, n_heads, n, d_model // n_heads)
""",
        ("reshape alone", "transpose"),
    ),
    Mistake(
        "split_heads",
        "split_interleaved_features",
        "gives head i the features i, i + n_heads, ... instead of a contiguous block",
        """def split_heads(X, n_heads):
    X = np.asarray(X)
    *batch, n, d_model = X.shape
    if d_model % n_heads:
        raise ValueError("d_model is not divisible by n_heads")
    X = X.reshape(*batch, n, d_model // n_heads, n_heads)
    return np.moveaxis(X, -1, -3)
""",
        ("interleaved", "contiguous"),
    ),
    Mistake(
        "split_heads",
        "split_only_2d",
        "works for a single sequence (n, d_model) only: transposes axes 0 and 1",
        """def split_heads(X, n_heads):
    X = np.asarray(X)
    n, d_model = X.shape[-2], X.shape[-1]
    if d_model % n_heads:
        raise ValueError("d_model is not divisible by n_heads")
    return X.reshape(n, n_heads, d_model // n_heads).transpose(1, 0, 2)
""",
        ("leading axes", "batch"),
    ),
    Mistake(
        "split_heads",
        "split_slices_drop_remainder",
        "slices d_model // n_heads columns per head without checking divisibility, silently dropping columns",
        """def split_heads(X, n_heads):
    X = np.asarray(X)
    d_head = X.shape[-1] // n_heads
    return np.stack([X[..., i * d_head : (i + 1) * d_head] for i in range(n_heads)], axis=-3)
""",
        ("valueerror", "divisible"),
    ),
    Mistake(
        "merge_heads",
        "merge_reshape_without_transpose",
        "reshapes (..., n_heads, n, d_head) straight to (..., n, d_model), mixing tokens",
        """def merge_heads(X):
    X = np.asarray(X)
    *batch, n_heads, n, d_head = X.shape
    return X.reshape(*batch, n, n_heads * d_head)
""",
        ("reshape alone", "transpose"),
    ),
    Mistake(
        "merge_heads",
        "merge_interleaved_features",
        "interleaves the heads' features instead of concatenating their blocks",
        """def merge_heads(X):
    X = np.asarray(X)
    *batch, n_heads, n, d_head = X.shape
    return np.moveaxis(X, -3, -1).reshape(*batch, n, n_heads * d_head)
""",
        ("interleaved", "contiguous"),
    ),
    Mistake(
        "merge_heads",
        "merge_stacks_along_tokens",
        "concatenates the heads along the token axis instead of the features",
        """def merge_heads(X):
    X = np.asarray(X)
    return np.concatenate(list(np.moveaxis(X, -3, 0)), axis=-2)
""",
        ("stacked", "features", "shape"),
    ),
    Mistake(
        "merge_heads",
        "merge_only_2d",
        "works for one sequence (n_heads, n, d_head) only: transposes axes 0 and 1",
        """def merge_heads(X):
    X = np.asarray(X)
    n_heads, n, d_head = X.shape[-3:]
    return X.transpose(1, 0, 2).reshape(n, n_heads * d_head)
""",
        ("leading axes", "shape"),
    ),
    Mistake(
        "multi_head_attention",
        "sqrt_d_model",
        "writes the attention inline and scales the scores by sqrt(d_model) instead of sqrt(d_head)",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    d_model = X_q.shape[-1]
    Q = split_heads(X_q @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(X_kv @ params["W_k"] + params.get("b_k", 0.0), n_heads)
    V = split_heads(X_kv @ params["W_v"] + params.get("b_v", 0.0), n_heads)
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(d_model)
    if mask is not None:
        scores = np.where(np.asarray(mask)[..., None, :, :], scores, -np.inf)
    weights = softmax(scores)
    output = merge_heads(weights @ V) @ params["W_o"] + params.get("b_o", 0.0)
    return output, weights
""",
        ("√d_model", "d_head"),
    ),
    Mistake(
        "multi_head_attention",
        "no_output_projection",
        "returns the merged heads without multiplying by W_o (and adding b_o)",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    Q = split_heads(X_q @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(X_kv @ params["W_k"] + params.get("b_k", 0.0), n_heads)
    V = split_heads(X_kv @ params["W_v"] + params.get("b_v", 0.0), n_heads)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads), weights
""",
        ("output projection", "w_o"),
    ),
    Mistake(
        "multi_head_attention",
        "ignores_biases",
        "ignores b_q, b_k, b_v and b_o even when params has them",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    Q = split_heads(X_q @ params["W_q"], n_heads)
    K = split_heads(X_kv @ params["W_k"], n_heads)
    V = split_heads(X_kv @ params["W_v"], n_heads)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ params["W_o"], weights
""",
        ("biases", "b_o"),
    ),
    Mistake(
        "multi_head_attention",
        "requires_biases",
        "reads params['b_q'] etc., which fails when the optional biases are absent",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    Q = split_heads(X_q @ params["W_q"] + params["b_q"], n_heads)
    K = split_heads(X_kv @ params["W_k"] + params["b_k"], n_heads)
    V = split_heads(X_kv @ params["W_v"] + params["b_v"], n_heads)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ params["W_o"] + params["b_o"], weights
""",
        ("optional", "params.get"),
    ),
    Mistake(
        "multi_head_attention",
        "mask_without_head_axis",
        "passes the mask on as it is, so a (batch, 1, n_k) mask lines up with the head axis",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    Q = split_heads(X_q @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(X_kv @ params["W_k"] + params.get("b_k", 0.0), n_heads)
    V = split_heads(X_kv @ params["W_v"] + params.get("b_v", 0.0), n_heads)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0), weights
""",
        ("head axis", "mask[..., none, :, :]"),
    ),
    Mistake(
        "multi_head_attention",
        "inline_reshape_without_transpose",
        "splits and merges the heads inline with a reshape alone",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    *batch, n_q, d_model = X_q.shape
    n_k, d_head = X_kv.shape[-2], d_model // n_heads
    Q = (X_q @ params["W_q"] + params.get("b_q", 0.0)).reshape(*batch, n_heads, n_q, d_head)
    K = (X_kv @ params["W_k"] + params.get("b_k", 0.0)).reshape(*batch, n_heads, n_k, d_head)
    V = (X_kv @ params["W_v"] + params.get("b_v", 0.0)).reshape(*batch, n_heads, n_k, d_head)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return heads.reshape(*batch, n_q, d_model) @ params["W_o"] + params.get("b_o", 0.0), weights
""",
        ("reshape alone", "transpose"),
    ),
    Mistake(
        "multi_head_attention",
        "averaged_weights",
        "returns the weights averaged over the heads, like PyTorch's default",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    Q = split_heads(X_q @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(X_kv @ params["W_k"] + params.get("b_k", 0.0), n_heads)
    V = split_heads(X_kv @ params["W_v"] + params.get("b_v", 0.0), n_heads)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0), weights.mean(axis=-3)
""",
        ("average", "every head"),
    ),
    Mistake(
        "mha_param_count",
        "three_matrices",
        "counts W_q, W_k, W_v and their biases but forgets the output projection",
        """def mha_param_count(d_model, n_heads, bias=True):
    return 3 * d_model * d_model + (3 * d_model if bias else 0)
""",
        ("output projection", "w_o"),
    ),
    Mistake(
        "mha_param_count",
        "no_biases",
        "never counts the biases, whatever `bias` says",
        """def mha_param_count(d_model, n_heads, bias=True):
    return 4 * d_model * d_model
""",
        ("biases",),
    ),
    Mistake(
        "mha_param_count",
        "grows_with_heads",
        "gives every head its own (d_model, d_model) matrices",
        """def mha_param_count(d_model, n_heads, bias=True):
    return n_heads * (4 * d_model * d_model + (4 * d_model if bias else 0))
""",
        ("number of heads", "share"),
    ),
    Mistake(
        "mha_param_count",
        "ignores_bias_flag",
        "always adds the biases, even for bias=False",
        """def mha_param_count(d_model, n_heads, bias=True):
    return 4 * d_model * d_model + 4 * d_model
""",
        ("bias=false",),
    ),
    Mistake(
        "multi_head_attention",
        "b_o_before_W_o",
        "adds b_o to the merged heads before the output projection: (merged + b_o) W_o",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    Q = split_heads(X_q @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(X_kv @ params["W_k"] + params.get("b_k", 0.0), n_heads)
    V = split_heads(X_kv @ params["W_v"] + params.get("b_v", 0.0), n_heads)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return (merge_heads(heads) + params.get("b_o", 0.0)) @ params["W_o"], weights
""",
        ("before the output projection",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "split_heads",
        "stack_of_slices",
        """def split_heads(X, n_heads):
    X = np.asarray(X)
    d_model = X.shape[-1]
    if d_model % n_heads != 0:
        raise ValueError("heads of unequal width")
    d_head = d_model // n_heads
    return np.stack([X[..., i * d_head : (i + 1) * d_head] for i in range(n_heads)], axis=-3)
""",
    ),
    Alternative(
        "split_heads",
        "reshape_moveaxis_float32",
        """def split_heads(X, n_heads):
    X = np.asarray(X, dtype=np.float32)
    if X.shape[-1] % n_heads:
        raise ValueError("n_heads must divide d_model")
    return np.moveaxis(X.reshape(X.shape[:-1] + (n_heads, -1)), -2, -3)
""",
    ),
    Alternative(
        "merge_heads",
        "concatenate",
        """def merge_heads(X):
    X = np.asarray(X)
    return np.concatenate([X[..., i, :, :] for i in range(X.shape[-3])], axis=-1)
""",
    ),
    Alternative(
        "merge_heads",
        "einsum_like_transpose",
        """def merge_heads(X):
    X = np.asarray(X)
    batch = X.shape[:-3]
    h, n, d = X.shape[-3:]
    return np.einsum("...hnd->...nhd", X).reshape(*batch, n, h * d)
""",
    ),
    Alternative(
        "multi_head_attention",
        "loop_over_heads",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    d_model = params["W_q"].shape[0]
    d_head = d_model // n_heads
    zero = np.zeros(d_model)
    b = {k: params.get(k, zero) for k in ("b_q", "b_k", "b_v", "b_o")}
    if mask is not None:
        mask = np.asarray(mask)
    heads, weights = [], []
    for i in range(n_heads):
        cols = slice(i * d_head, (i + 1) * d_head)
        q = X_q @ params["W_q"][:, cols] + b["b_q"][cols]
        k = X_kv @ params["W_k"][:, cols] + b["b_k"][cols]
        v = X_kv @ params["W_v"][:, cols] + b["b_v"][cols]
        out, w = scaled_dot_product_attention(q, k, v, mask)
        heads.append(out)
        weights.append(w)
    output = np.concatenate(heads, axis=-1) @ params["W_o"] + b["b_o"]
    return output, np.stack(weights, axis=-3)
""",
    ),
    Alternative(
        "multi_head_attention",
        "einsum_inline_softmax",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    d_model = X_q.shape[-1]
    d_head = d_model // n_heads
    W_q = params["W_q"].reshape(d_model, n_heads, d_head)
    W_k = params["W_k"].reshape(d_model, n_heads, d_head)
    W_v = params["W_v"].reshape(d_model, n_heads, d_head)
    W_o = params["W_o"].reshape(n_heads, d_head, d_model)
    b = {k: np.reshape(params.get(k, np.zeros(d_model)), (n_heads, 1, d_head)) for k in ("b_q", "b_k", "b_v")}
    Q = np.einsum("...nd,dhe->...hne", X_q, W_q) + b["b_q"]
    K = np.einsum("...nd,dhe->...hne", X_kv, W_k) + b["b_k"]
    V = np.einsum("...nd,dhe->...hne", X_kv, W_v) + b["b_v"]
    scores = np.einsum("...hqe,...hke->...hqk", Q, K) / math.sqrt(d_head)
    if mask is not None:
        scores = np.where(np.expand_dims(mask, -3), scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(top), top, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    heads = np.einsum("...hqk,...hke->...hqe", weights, V)
    output = np.einsum("...hqe,hed->...qd", heads, W_o) + params.get("b_o", 0.0)
    return output, weights
""",
    ),
    Alternative(
        "multi_head_attention",
        "float32_throughout",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    p = {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}
    X_q, X_kv = np.asarray(X_q, dtype=np.float32), np.asarray(X_kv, dtype=np.float32)
    zero = np.float32(0.0)
    Q = split_heads(X_q @ p["W_q"] + p.get("b_q", zero), n_heads)
    K = split_heads(X_kv @ p["W_k"] + p.get("b_k", zero), n_heads)
    V = split_heads(X_kv @ p["W_v"] + p.get("b_v", zero), n_heads)
    if mask is not None:
        mask = np.expand_dims(mask, axis=-3)
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    output = merge_heads(np.asarray(heads, dtype=np.float32)) @ p["W_o"] + p.get("b_o", zero)
    return output, np.asarray(weights, dtype=np.float32)
""",
    ),
    Alternative(
        "mha_param_count",
        "head_by_head",
        """def mha_param_count(d_model, n_heads, bias=True):
    d_head = d_model // n_heads
    per_head = 3 * d_model * d_head + (3 * d_head if bias else 0)
    return n_heads * per_head + d_model * d_model + (d_model if bias else 0)
""",
    ),
    Alternative(
        "mha_param_count",
        "sum_of_shapes",
        """def mha_param_count(d_model, n_heads, bias=True):
    shapes = [(d_model, d_model)] * 4 + ([(d_model,)] * 4 if bias else [])
    return sum(math.prod(s) for s in shapes)
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "split_heads",
        "split_heads_zeros",
        "zeros of shape (..., n_heads, n, d_head), after checking divisibility",
        """def split_heads(X, n_heads):
    *lead, n, d_model = X.shape
    if d_model % n_heads:
        raise ValueError("d_model must be divisible by n_heads")
    return np.zeros((*lead, n_heads, n, d_model // n_heads))
""",
    ),
    Degenerate(
        "split_heads",
        "split_heads_copies",
        "every head is a copy of the first d_head features",
        """def split_heads(X, n_heads):
    *lead, n, d_model = X.shape
    if d_model % n_heads:
        raise ValueError("d_model must be divisible by n_heads")
    first = X[..., None, :, : d_model // n_heads]
    return np.broadcast_to(first, (*lead, n_heads, n, d_model // n_heads)).copy()
""",
    ),
    Degenerate(
        "merge_heads",
        "merge_heads_zeros",
        "zeros of shape (..., n, n_heads * d_head)",
        """def merge_heads(X):
    *lead, h, n, d = X.shape
    return np.zeros((*lead, n, h * d))
""",
    ),
    Degenerate(
        "merge_heads",
        "merge_heads_first_head_tiled",
        "tiles the first head n_heads times",
        """def merge_heads(X):
    h = X.shape[-3]
    return np.concatenate([X[..., 0, :, :]] * h, axis=-1)
""",
    ),
    Degenerate(
        "multi_head_attention",
        "mha_zeros_uniform_weights",
        "zero output and uniform weights over the allowed keys (ignores every parameter)",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    n_q, n_k = X_q.shape[-2], X_kv.shape[-2]
    allowed = np.ones((n_q, n_k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    lead = np.broadcast_shapes(X_q.shape[:-2], X_kv.shape[:-2], allowed.shape[:-2])
    allowed = np.broadcast_to(allowed[..., None, :, :], lead + (n_heads, n_q, n_k)).astype(float)
    count = allowed.sum(axis=-1, keepdims=True)
    weights = np.divide(allowed, count, out=np.zeros_like(allowed), where=count > 0)
    return np.zeros(lead + (n_q, X_q.shape[-1])), weights
""",
    ),
    Degenerate(
        "multi_head_attention",
        "mha_identity_uniform_weights",
        "returns X_q as the output and uniform weights over the allowed keys",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    n_q, n_k = X_q.shape[-2], X_kv.shape[-2]
    allowed = np.ones((n_q, n_k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    lead = np.broadcast_shapes(X_q.shape[:-2], X_kv.shape[:-2], allowed.shape[:-2])
    allowed = np.broadcast_to(allowed[..., None, :, :], lead + (n_heads, n_q, n_k)).astype(float)
    count = allowed.sum(axis=-1, keepdims=True)
    weights = np.divide(allowed, count, out=np.zeros_like(allowed), where=count > 0)
    return np.broadcast_to(X_q, lead + X_q.shape[-2:]).copy(), weights
""",
    ),
    Degenerate(
        "multi_head_attention",
        "mha_uniform_attention_projected",
        "uniform attention over the allowed keys (ignores W_q and W_k), with the value and output projections",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    n_q, n_k = X_q.shape[-2], X_kv.shape[-2]
    d_model = X_q.shape[-1]
    allowed = np.ones((n_q, n_k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    lead = np.broadcast_shapes(X_q.shape[:-2], X_kv.shape[:-2], allowed.shape[:-2])
    allowed = np.broadcast_to(allowed[..., None, :, :], lead + (n_heads, n_q, n_k)).astype(float)
    count = allowed.sum(axis=-1, keepdims=True)
    weights = np.divide(allowed, count, out=np.zeros_like(allowed), where=count > 0)
    V = X_kv @ params["W_v"] + params.get("b_v", 0.0)
    V = V.reshape(V.shape[:-1] + (n_heads, d_model // n_heads)).swapaxes(-2, -3)
    heads = weights @ V
    merged = heads.swapaxes(-2, -3).reshape(lead + (n_q, d_model))
    return merged @ params["W_o"] + params.get("b_o", 0.0), weights
""",
    ),
    Degenerate(
        "mha_param_count",
        "mha_param_count_zero",
        "returns 0",
        "def mha_param_count(d_model, n_heads, bias=True):\n    return 0\n",
    ),
]

DEGENERATE += [
    Degenerate(
        "mha_param_count",
        "mha_param_count_ignores_bias",
        "4 d_model² + 4 d_model whatever `bias` says",
        "def mha_param_count(d_model, n_heads, bias=True):\n    return 4 * d_model * d_model + 4 * d_model\n",
    ),
    Degenerate(
        "mha_param_count",
        "mha_param_count_matrices_only",
        "4 d_model² whatever `bias` says",
        "def mha_param_count(d_model, n_heads, bias=True):\n    return 4 * d_model * d_model\n",
    ),
    Degenerate(
        "multi_head_attention",
        "mha_nan",
        "NaN arrays of the right shapes",
        """def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    lead = np.broadcast_shapes(X_q.shape[:-2], X_kv.shape[:-2], np.shape(mask)[:-2] if mask is not None else ())
    n_q, n_k = X_q.shape[-2], X_kv.shape[-2]
    return np.full(lead + (n_q, X_q.shape[-1]), np.nan), np.full(lead + (n_heads, n_q, n_k), np.nan)
""",
    ),
]
