"""Chapter 02: the Q/K/V projections and the raw score matrix."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "02-qkv"

MISTAKES = [
    Mistake(
        "project_qkv",
        "weights_on_the_left",
        "writes W @ X, as in texts where tokens are columns; here tokens are the rows of X",
        """def project_qkv(X, W_q, W_k, W_v):
    return W_q @ X, W_k @ X, W_v @ X
""",
        ("x @ w_q", "rows"),
    ),
    Mistake(
        "project_qkv",
        "pytorch_linear_transpose",
        "uses nn.Linear's convention X @ W.T, although W has shape (d_model, d_k)",
        """def project_qkv(X, W_q, W_k, W_v):
    return X @ W_q.T, X @ W_k.T, X @ W_v.T
""",
        ("nn.linear", "w_q.t", "x @ w_q"),
    ),
    Mistake(
        "project_qkv",
        "transposes_x",
        "computes X.T @ W, mixing tokens instead of features",
        """def project_qkv(X, W_q, W_k, W_v):
    return X.T @ W_q, X.T @ W_k, X.T @ W_v
""",
        ("x.t @", "x @ w_q"),
    ),
    Mistake(
        "project_qkv",
        "wrong_order",
        "returns (K, Q, V) instead of (Q, K, V)",
        """def project_qkv(X, W_q, W_k, W_v):
    Q = X @ W_q
    K = X @ W_k
    V = X @ W_v
    return K, Q, V
""",
        ("order",),
    ),
    Mistake(
        "project_qkv",
        "returns_list",
        "returns a list [Q, K, V] instead of the tuple (Q, K, V)",
        """def project_qkv(X, W_q, W_k, W_v):
    return [X @ W_q, X @ W_k, X @ W_v]
""",
        ("tuple",),
    ),
    Mistake(
        "project_qkv",
        "copy_paste_w_q",
        "a copy-paste slip: the keys are made with W_q too",
        """def project_qkv(X, W_q, W_k, W_v):
    Q = X @ W_q
    K = X @ W_q
    V = X @ W_v
    return Q, K, V
""",
        ("own matrix",),
    ),
    Mistake(
        "project_qkv",
        "flattens_batch",
        "flattens the batch axes into one list of tokens and never reshapes back",
        """def project_qkv(X, W_q, W_k, W_v):
    X = np.asarray(X).reshape(-1, np.shape(X)[-1])
    return X @ W_q, X @ W_k, X @ W_v
""",
        ("batch",),
    ),
    Mistake(
        "project_qkv",
        "einsum_without_ellipsis",
        "an einsum that only accepts a 2-D X",
        """def project_qkv(X, W_q, W_k, W_v):
    Q = np.einsum("nd,dk->nk", X, W_q)
    K = np.einsum("nd,dk->nk", X, W_k)
    V = np.einsum("nd,dk->nk", X, W_v)
    return Q, K, V
""",
        ("...", "batch"),
    ),
    Mistake(
        "attention_scores",
        "transpose_with_T",
        "uses K.T, which reverses every axis of a batched K",
        """def attention_scores(Q, K):
    return Q @ K.T
""",
        ("swapaxes", "k.t"),
    ),
    Mistake(
        "attention_scores",
        "k_q_transposed",
        "computes K Qᵀ, the transposed table (keys as rows)",
        """def attention_scores(Q, K):
    return K @ Q.swapaxes(-1, -2)
""",
        ("k qᵀ",),
    ),
    Mistake(
        "attention_scores",
        "scaled_already",
        "already divides by sqrt(d_k), which the spec leaves to chapter 3",
        """def attention_scores(Q, K):
    return Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])
""",
        ("√d_k", "raw"),
    ),
    Mistake(
        "attention_scores",
        "softmax_already",
        "already turns the scores into softmax weights",
        """def attention_scores(Q, K):
    S = Q @ K.swapaxes(-1, -2)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
""",
        ("softmax",),
    ),
    Mistake(
        "attention_scores",
        "np_dot_on_batches",
        "uses np.dot, which is not a batched matrix product for 3-D input",
        """def attention_scores(Q, K):
    return np.dot(Q, np.swapaxes(K, -1, -2))
""",
        ("np.dot",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "project_qkv",
        "fused_qkv_matrix",
        """def project_qkv(X, W_q, W_k, W_v):
    d_k = W_q.shape[1]
    W = np.concatenate([W_q, W_k, W_v], axis=1)
    QKV = X @ W
    return QKV[..., :d_k], QKV[..., d_k : 2 * d_k], QKV[..., 2 * d_k :]
""",
    ),
    Alternative(
        "project_qkv",
        "einsum_ellipsis",
        """def project_qkv(X, W_q, W_k, W_v):
    return tuple(np.einsum("...nd,de->...ne", X, W) for W in (W_q, W_k, W_v))
""",
    ),
    Alternative(
        "project_qkv",
        "tensordot_float32",
        """def project_qkv(X, W_q, W_k, W_v):
    X = np.asarray(X, dtype=np.float32)
    Q = np.tensordot(X, np.asarray(W_q, dtype=np.float32), axes=1)
    K = np.tensordot(X, np.asarray(W_k, dtype=np.float32), axes=1)
    V = np.tensordot(X, np.asarray(W_v, dtype=np.float32), axes=1)
    return (Q, K, V)
""",
    ),
    Alternative(
        "project_qkv",
        "loop_over_tokens",
        """def project_qkv(X, W_q, W_k, W_v):
    X = np.asarray(X)
    out = []
    for W in (W_q, W_k, W_v):
        Y = np.zeros(X.shape[:-1] + (W.shape[1],))
        for idx in np.ndindex(*X.shape[:-1]):
            for c in range(W.shape[1]):
                Y[idx + (c,)] = sum(X[idx + (d,)] * W[d, c] for d in range(W.shape[0]))
        out.append(Y)
    return tuple(out)
""",
    ),
    Alternative(
        "attention_scores",
        "einsum",
        """def attention_scores(Q, K):
    return np.einsum("...qd,...kd->...qk", Q, K)
""",
    ),
    Alternative(
        "attention_scores",
        "broadcast_multiply_sum",
        """def attention_scores(Q, K):
    Q, K = np.asarray(Q), np.asarray(K)
    return (Q[..., :, None, :] * K[..., None, :, :]).sum(axis=-1)
""",
    ),
    Alternative(
        "attention_scores",
        "loops_float32",
        """def attention_scores(Q, K):
    Q, K = np.asarray(Q, dtype=np.float32), np.asarray(K, dtype=np.float32)
    S = np.zeros(Q.shape[:-1] + (K.shape[-2],), dtype=np.float32)
    for idx in np.ndindex(*Q.shape[:-2]):
        for i in range(Q.shape[-2]):
            for j in range(K.shape[-2]):
                S[idx + (i, j)] = float(np.dot(Q[idx + (i,)], K[idx + (j,)]))
    return S
""",
    ),
    Alternative(
        "attention_scores",
        "matmul_moveaxis",
        """def attention_scores(Q, K):
    return np.matmul(Q, np.moveaxis(K, -1, -2))
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "project_qkv",
        "project_qkv_zeros",
        "returns three arrays of zeros of the right shapes",
        """def project_qkv(X, W_q, W_k, W_v):
    lead = np.shape(X)[:-1]
    return np.zeros(lead + (W_q.shape[1],)), np.zeros(lead + (W_k.shape[1],)), np.zeros(lead + (W_v.shape[1],))
""",
    ),
    Degenerate(
        "project_qkv",
        "project_qkv_identity",
        "returns X three times, ignoring the weight matrices",
        "def project_qkv(X, W_q, W_k, W_v):\n    return X, X, X\n",
    ),
    Degenerate(
        "attention_scores",
        "attention_scores_zeros",
        "returns zeros of shape (..., n_q, n_k)",
        """def attention_scores(Q, K):
    return np.zeros(np.broadcast_shapes(Q.shape[:-2], K.shape[:-2]) + (Q.shape[-2], K.shape[-2]))
""",
    ),
    Degenerate(
        "attention_scores",
        "attention_scores_ignores_keys",
        "scores every query against itself, ignoring K",
        "def attention_scores(Q, K):\n    return Q @ Q.swapaxes(-1, -2)\n",
    ),
]
