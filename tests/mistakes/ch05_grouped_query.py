"""Chapter 05, exercise 5.5: grouped-query (and multi-query) attention."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "05-multi-head"

_HEAD = """def grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    if n_heads % n_kv_heads != 0:
        raise ValueError("n_kv_heads must divide n_heads")
    X_q, X_kv = np.asarray(X_q), np.asarray(X_kv)
    Q = split_heads(X_q @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(X_kv @ params["W_k"] + params.get("b_k", 0.0), n_kv_heads)
    V = split_heads(X_kv @ params["W_v"] + params.get("b_v", 0.0), n_kv_heads)
    group = n_heads // n_kv_heads
"""

_TAIL = """    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0), weights
"""

_MANUAL_TAIL = """    S = Q @ K.swapaxes(-1, -2) / np.sqrt(SCALE)
    if mask is not None:
        S = np.where(np.asarray(mask)[..., None, :, :], S, -np.inf)
    weights = softmax(S, axis=-1)
    return merge_heads(weights @ V) @ params["W_o"] + params.get("b_o", 0.0), weights
"""

_REPEAT = """    K = np.repeat(K, group, axis=-3)
    V = np.repeat(V, group, axis=-3)
"""

MISTAKES = [
    Mistake(
        "grouped_query_attention",
        "gqa_tile_heads",
        "repeats the key/value heads with np.tile: query head i gets key/value head i % n_kv_heads",
        _HEAD
        + """    K = np.tile(K, (1,) * (K.ndim - 3) + (group, 1, 1))
    V = np.tile(V, (1,) * (V.ndim - 3) + (group, 1, 1))
"""
        + _TAIL,
        ("i % n_kv_heads", "consecutive query heads"),
    ),
    Mistake(
        "grouped_query_attention",
        "gqa_modulo_index",
        "indexes the key/value head of query head i as i % n_kv_heads",
        _HEAD
        + """    idx = np.arange(n_heads) % n_kv_heads
    K = K[..., idx, :, :]
    V = V[..., idx, :, :]
"""
        + _TAIL,
        ("i % n_kv_heads", "consecutive query heads"),
    ),
    Mistake(
        "grouped_query_attention",
        "gqa_no_repeat",
        "never repeats the key/value heads and relies on broadcasting, which only works for 1 or n_heads of them",
        _HEAD + _TAIL,
        ("repeat",),
    ),
    Mistake(
        "grouped_query_attention",
        "gqa_scale_kv_width",
        "divides the scores by the square root of the key/value width n_kv_heads * d_head",
        _HEAD + _REPEAT + _MANUAL_TAIL.replace("SCALE", "n_kv_heads * K.shape[-1]"),
        ("width of one head",),
    ),
    Mistake(
        "grouped_query_attention",
        "gqa_scale_d_model",
        "divides the scores by the square root of d_model",
        _HEAD + _REPEAT + _MANUAL_TAIL.replace("SCALE", "X_q.shape[-1]"),
        ("√d_model", "√d_head"),
    ),
    Mistake(
        "grouped_query_attention",
        "gqa_no_output_projection",
        "forgets the output projection W_o",
        _HEAD
        + _REPEAT
        + """    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]
    heads, weights = scaled_dot_product_attention(Q, K, V, mask)
    return merge_heads(heads), weights
""",
        ("w_o",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "grouped_query_attention",
        "gqa_loop_over_heads",
        """def grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    if n_heads % n_kv_heads:
        raise ValueError("n_kv_heads must divide n_heads")
    d_model = np.shape(X_q)[-1]
    d_head = d_model // n_heads
    group = n_heads // n_kv_heads
    Q = np.asarray(X_q) @ params["W_q"] + params.get("b_q", 0.0)
    K = np.asarray(X_kv) @ params["W_k"] + params.get("b_k", 0.0)
    V = np.asarray(X_kv) @ params["W_v"] + params.get("b_v", 0.0)
    outs, ws = [], []
    for i in range(n_heads):
        kv = i // group
        q = Q[..., i * d_head : (i + 1) * d_head]
        k = K[..., kv * d_head : (kv + 1) * d_head]
        v = V[..., kv * d_head : (kv + 1) * d_head]
        o, w = scaled_dot_product_attention(q, k, v, mask)
        outs.append(o)
        ws.append(w)
    return np.concatenate(outs, axis=-1) @ params["W_o"] + params.get("b_o", 0.0), np.stack(ws, axis=-3)
""",
    ),
    Alternative(
        "grouped_query_attention",
        "gqa_group_axis",
        """def grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    # Queries reshaped to (..., n_kv_heads, group, n_q, d_head); K and V broadcast over the group axis.
    if n_heads % n_kv_heads:
        raise ValueError("n_kv_heads must divide n_heads")
    group = n_heads // n_kv_heads
    Q = split_heads(np.asarray(X_q) @ params["W_q"] + params.get("b_q", 0.0), n_heads)
    K = split_heads(np.asarray(X_kv) @ params["W_k"] + params.get("b_k", 0.0), n_kv_heads)
    V = split_heads(np.asarray(X_kv) @ params["W_v"] + params.get("b_v", 0.0), n_kv_heads)
    lead, (n_q, d_head) = Q.shape[:-3], Q.shape[-2:]
    Qg = Q.reshape(*lead, n_kv_heads, group, n_q, d_head)
    m = None if mask is None else np.asarray(mask)[..., None, None, :, :]
    heads, weights = scaled_dot_product_attention(Qg, K[..., :, None, :, :], V[..., :, None, :, :], m)
    heads = heads.reshape(*heads.shape[:-4], n_heads, n_q, d_head)
    weights = weights.reshape(*weights.shape[:-4], n_heads, *weights.shape[-2:])
    return merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0), weights
""",
    ),
    Alternative(
        "grouped_query_attention",
        "gqa_index_heads",
        _HEAD
        + """    idx = np.arange(n_heads) // group
    K, V = K[..., idx, :, :], V[..., idx, :, :]
"""
        + _TAIL,
    ),
]

DEGENERATE = [
    Degenerate(
        "grouped_query_attention",
        "gqa_zeros_uniform",
        "zero output and uniform weights of the right shapes",
        """def grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    if n_heads % n_kv_heads:
        raise ValueError("n_kv_heads must divide n_heads")
    X_q, X_kv = np.asarray(X_q), np.asarray(X_kv)
    lead = np.broadcast_shapes(X_q.shape[:-2], X_kv.shape[:-2])
    n_q, n_k = X_q.shape[-2], X_kv.shape[-2]
    w = np.full((*lead, n_heads, n_q, n_k), 1.0 / n_k)
    return np.zeros((*lead, n_q, X_q.shape[-1])), w
""",
    ),
    Degenerate(
        "grouped_query_attention",
        "gqa_returns_x_q",
        "X_q returned unchanged, with uniform weights",
        """def grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    if n_heads % n_kv_heads:
        raise ValueError("n_kv_heads must divide n_heads")
    X_q, X_kv = np.asarray(X_q), np.asarray(X_kv)
    lead = np.broadcast_shapes(X_q.shape[:-2], X_kv.shape[:-2])
    n_q, n_k = X_q.shape[-2], X_kv.shape[-2]
    return X_q, np.full((*lead, n_heads, n_q, n_k), 1.0 / n_k)
""",
    ),
]
