"""The course's reference solutions, generated from the solution cells of solutions/*/*.ipynb.

DO NOT EDIT: change the notebooks, then run `make release`. Used by the hidden tests
(through autograder.hidden.ref) and by the project's own test suite.
"""

import collections  # noqa: F401
import functools  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import re  # noqa: F401

import numpy as np  # noqa: F401


# --- 01-tokens/tokens.ipynb: tokenize ---

def tokenize(text):
    """Split a text into lowercase word and punctuation tokens.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of str
        The tokens from left to right: each maximal run of word characters
        (letters, digits, "_") is one token, each other non-whitespace character
        is a token of its own, and everything is lowercase. Whitespace separates
        tokens and never appears in them.

    Notes
    -----
    The text is not modified (strings never are); the result is a new list.
    """
    return re.findall(r"\w+|[^\w\s]", text.lower())


# --- 01-tokens/tokens.ipynb: build_vocab ---

def build_vocab(corpus, min_freq=1):
    """Build a vocabulary {token: id} from a list of texts.

    Parameters
    ----------
    corpus : list of str
        The training texts, each tokenized with `tokenize`.
    min_freq : int, default 1
        A token gets an id only if it occurs at least `min_freq` times in the
        whole corpus.

    Returns
    -------
    dict of str to int
        "<pad>" -> 0, "<unk>" -> 1, then the kept tokens with ids 2, 3, ... in
        order of decreasing count, ties in Python string order.

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    The result is a new dictionary; `corpus` is left as it is.
    """
    counts = collections.Counter(tok for text in corpus for tok in tokenize(text))
    vocab = {"<pad>": 0, "<unk>": 1}
    for tok, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if count >= min_freq:
            vocab[tok] = len(vocab)
    return vocab


# --- 01-tokens/tokens.ipynb: encode ---

def encode(text, vocab):
    """Turn a text into an array of token ids.

    Parameters
    ----------
    text : str
        The text to encode; it is tokenized with `tokenize`.
    vocab : dict of str to int
        A vocabulary that contains "<unk>".

    Returns
    -------
    ndarray of int64, shape (n,)
        The id of each of the n tokens; a token missing from `vocab` gets
        vocab["<unk>"].

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    The result always has dtype int64, also for an empty text.
    """
    unk = vocab["<unk>"]
    return np.array([vocab.get(tok, unk) for tok in tokenize(text)], dtype=np.int64)  # (n,)


# --- 01-tokens/tokens.ipynb: decode ---

def decode(ids, vocab):
    """Turn token ids back into text.

    Parameters
    ----------
    ids : ndarray of int, shape (n,)
        Token ids; every one is an id of `vocab`.
    vocab : dict of str to int
        The vocabulary that produced the ids.

    Returns
    -------
    str
        The tokens joined by single spaces, with every "<pad>" left out.

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    id_to_token = {i: tok for tok, i in vocab.items()}
    tokens = [id_to_token[int(i)] for i in np.asarray(ids)]
    return " ".join(tok for tok in tokens if tok != "<pad>")


# --- 01-tokens/tokens.ipynb: one_hot ---

def one_hot(ids, vocab_size):
    """One-hot vectors of token ids.

    Parameters
    ----------
    ids : ndarray of int, shape (...)
        Token ids, each in [0, vocab_size).
    vocab_size : int
        The number of tokens in the vocabulary, V.

    Returns
    -------
    ndarray of float, shape (..., vocab_size)
        out[..., j] is 1.0 where j == ids[...] and 0.0 elsewhere.

    Raises
    ------
    ValueError
        If an id is negative or >= vocab_size.

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    Raises `ValueError` when an id is negative or not smaller than `vocab_size`.
    """
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"token ids must lie in [0, {vocab_size}), got values from {ids.min()} to {ids.max()}")
    return (ids[..., None] == np.arange(vocab_size)).astype(np.float64)  # (..., vocab_size)


# --- 01-tokens/tokens.ipynb: embed ---

def embed(ids, E):
    """Look up the embedding of every token id.

    Parameters
    ----------
    ids : ndarray of int, shape (...)
        Token ids, each in [0, vocab_size).
    E : ndarray, shape (vocab_size, d_model)
        The embedding matrix: row i is the embedding of token i.

    Returns
    -------
    ndarray, shape (..., d_model)
        E[ids[...]], the same as one_hot(ids, vocab_size) @ E.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    return np.asarray(E)[np.asarray(ids)]  # (..., d_model) row ids[...] of E


# --- 01-tokens/tokens.ipynb: cosine_similarity ---

def cosine_similarity(a, b):
    """Cosine similarity of vectors along the last axis.

    Parameters
    ----------
    a : ndarray, shape (..., d)
    b : ndarray, shape (..., d)
        Broadcastable against `a` (all axes but the last).

    Returns
    -------
    ndarray or float, shape (...)
        a·b / (|a| |b|) for each pair of vectors, in [-1, 1]; 0.0 where either
        vector is all zeros.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    dot = (a * b).sum(axis=-1)  # (...)
    norms = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)  # (...)
    return np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)  # (...)


# --- 01-tokens/tokens.ipynb: bpe_merges ---

def bpe_merges(corpus, num_merges):
    """Learn byte-pair-encoding merges from a corpus.

    Parameters
    ----------
    corpus : list of str
        The training texts; their words are the tokens of `tokenize`.
    num_merges : int
        The largest number of merges to learn.

    Returns
    -------
    list of tuple of (str, str)
        The merged pairs in the order they were learned; shorter than num_merges
        if no pair was left to merge.

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    Returns a list of pairs of strings; `corpus` is left as it is.
    """
    counts = collections.Counter(tok for text in corpus for tok in tokenize(text))
    words = {tuple(word) + ("</w>",): count for word, count in counts.items()}
    merges = []
    for _ in range(num_merges):
        pair_counts = collections.Counter()
        for word, count in words.items():
            for i in range(len(word) - 1):
                pair_counts[word[i], word[i + 1]] += count  # every adjacent position, overlaps included
        if not pair_counts:
            break
        best = min(pair_counts, key=lambda p: (-pair_counts[p], p))
        merges.append(best)
        merged = {}
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = count
        words = merged
    return merges


# --- 01-tokens/tokens.ipynb: bpe_encode ---

def bpe_encode(text, merges):
    """Cut a text into BPE symbols by applying the learned merges in order.

    Parameters
    ----------
    text : str
        The text to encode; its words are the tokens of `tokenize`.
    merges : list of pairs of str
        The merges in the order they were learned (the result of `bpe_merges`).

    Returns
    -------
    list of str
        The symbols of every word, word after word; each word starts as its
        characters plus "</w>". An empty text gives [].

    Neither argument is modified.
    """
    symbols = []
    for token in tokenize(text):
        word = list(token) + ["</w>"]  # characters, then the end-of-word symbol
        for pair in merges:
            x, y = tuple(pair)
            merged, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == x and word[i + 1] == y:
                    merged.append(x + y)  # join the pair, then continue after it
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        symbols.extend(word)
    return symbols


# --- 02-qkv/qkv.ipynb: project_qkv ---

def project_qkv(X, W_q, W_k, W_v):
    """Project token embeddings into queries, keys and values.

    Parameters
    ----------
    X : ndarray, shape (..., n, d_model)
        Token embeddings, one row per token, with any leading batch axes.
    W_q : ndarray, shape (d_model, d_k)
        Query weights.
    W_k : ndarray, shape (d_model, d_k)
        Key weights.
    W_v : ndarray, shape (d_model, d_v)
        Value weights.

    Returns
    -------
    Q : ndarray, shape (..., n, d_k)
        Queries, X @ W_q.
    K : ndarray, shape (..., n, d_k)
        Keys, X @ W_k.
    V : ndarray, shape (..., n, d_v)
        Values, X @ W_v.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    X = np.asarray(X)
    Q = X @ W_q  # (..., n, d_k)
    K = X @ W_k  # (..., n, d_k)
    V = X @ W_v  # (..., n, d_v)
    return Q, K, V


# --- 02-qkv/qkv.ipynb: attention_scores ---

def attention_scores(Q, K):
    """Raw (unscaled) attention scores: the dot product of every query with every key.

    Parameters
    ----------
    Q : ndarray, shape (..., n_q, d_k)
        Queries.
    K : ndarray, shape (..., n_k, d_k)
        Keys.

    Returns
    -------
    ndarray, shape (..., n_q, n_k)
        Entry [..., i, j] is the dot product of query i with key j, Q Kᵀ.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    Q, K = np.asarray(Q), np.asarray(K)
    return Q @ K.swapaxes(-1, -2)  # (..., n_q, n_k)


# --- 03-attention/attention.ipynb: softmax ---

def softmax(x, axis=-1):
    """Numerically stable softmax along one axis.

    Parameters
    ----------
    x : ndarray, shape (..., n, ...)
        Logits. Entries are finite or -inf (a masked entry).
    axis : int, default -1
        The axis along which the weights sum to one.

    Returns
    -------
    ndarray, same shape as x
        Non-negative weights. Every slice along `axis` sums to 1, except a slice
        whose entries are all -inf, which gives all zeros (no nan, no warning).

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)  # (..., 1, ...) largest logit of each slice
    m = np.where(np.isfinite(m), m, 0.0)  # (..., 1, ...) an all -inf slice: avoid -inf - (-inf)
    e = np.exp(x - m)  # (..., n, ...) every exponent <= 0 (or -inf)
    total = e.sum(axis=axis, keepdims=True)  # (..., 1, ...) >= 1, or 0 for an all -inf slice
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)  # (..., n, ...)


# --- 03-attention/attention.ipynb: scaled_dot_product_attention ---

def scaled_dot_product_attention(Q, K, V, mask=None):
    """Scaled dot-product attention: softmax(Q Kᵀ / sqrt(d_k)) V.

    Parameters
    ----------
    Q : ndarray, shape (..., n_q, d_k)
        Queries.
    K : ndarray, shape (..., n_k, d_k)
        Keys.
    V : ndarray, shape (..., n_k, d_v)
        Values.
    mask : ndarray of bool, broadcastable to (..., n_q, n_k), optional
        True where a query may attend to a key. A query whose row has no True
        entry gets all-zero weights and a zero output. None means no mask.

    Returns
    -------
    output : ndarray, shape (..., n_q, d_v)
        For every query, the weighted average of the value rows.
    weights : ndarray, shape (..., n_q, n_k)
        Attention weights: each row sums to 1 (or is all 0 when fully masked).

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    Q, K, V = np.asarray(Q), np.asarray(K), np.asarray(V)
    d_k = Q.shape[-1]
    scores = Q @ K.swapaxes(-1, -2) / np.sqrt(d_k)  # (..., n_q, n_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., n_q, n_k) blocked keys at -inf
    weights = softmax(scores, axis=-1)  # (..., n_q, n_k) rows sum to 1, or 0 if fully masked
    output = weights @ V  # (..., n_q, d_v)
    return output, weights


# --- 03-attention/attention.ipynb: softmax_jacobian ---

def softmax_jacobian(p):
    """Jacobian of the softmax, written in terms of its output p = softmax(z).

    Parameters
    ----------
    p : ndarray, shape (..., n)
        Probability vectors (each sums to 1 along the last axis).

    Returns
    -------
    ndarray, shape (..., n, n)
        J[..., i, j] = d p_i / d z_j = p_i (delta_ij - p_j), that is
        diag(p) - p pᵀ for every vector of the batch.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    p = np.asarray(p, dtype=float)
    n = p.shape[-1]
    diag = p[..., :, None] * np.eye(n)  # (..., n, n) p on the diagonal
    outer = p[..., :, None] * p[..., None, :]  # (..., n, n) p_i p_j
    return diag - outer  # (..., n, n)


# --- 04-masking/masking.ipynb: causal_mask ---

def causal_mask(n):
    """Causal (look-back) mask: query i may attend to key j exactly when j <= i.

    Parameters
    ----------
    n : int
        Sequence length (number of queries and of keys), n >= 1.

    Returns
    -------
    ndarray of bool, shape (n, n)
        True on and below the diagonal (may attend), False above it.

    Notes
    -----
    The result has dtype bool (True = may attend).
    """
    return np.tril(np.ones((n, n), dtype=bool))  # (n, n)


# --- 04-masking/masking.ipynb: padding_mask ---

def padding_mask(lengths, max_len):
    """Padding mask: True for the real (non-padding) key positions of each sequence.

    Parameters
    ----------
    lengths : array_like of int, shape (batch,)
        The length of each sequence, 0 <= lengths[b] <= max_len.
    max_len : int
        The padded length of every sequence (the number of keys).

    Returns
    -------
    ndarray of bool, shape (batch, 1, max_len)
        mask[b, 0, j] is True exactly when j < lengths[b]. The axis of size 1
        broadcasts over the queries.

    Notes
    -----
    The result has dtype bool (True = may attend).
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    lengths = np.asarray(lengths)
    positions = np.arange(max_len)  # (max_len,)
    mask = positions[None, :] < lengths[:, None]  # (batch, max_len)
    return mask[:, None, :]  # (batch, 1, max_len)


# --- 04-masking/masking.ipynb: additive_mask ---

def additive_mask(mask):
    """Turn a boolean mask into the additive mask M of softmax(Q Kᵀ / sqrt(d_k) + M).

    Parameters
    ----------
    mask : ndarray of bool, any shape, e.g. (..., n_q, n_k)
        True where a query may attend to a key.

    Returns
    -------
    ndarray of float, same shape as mask
        0.0 where mask is True, -inf where it is False.

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    mask = np.asarray(mask, dtype=bool)
    return np.where(mask, 0.0, -np.inf)  # same shape as mask


# --- 04-masking/masking.ipynb: decode_mask ---

def decode_mask(n_q, n_k):
    """Causal mask of the last n_q queries of a sequence of n_k tokens (KV-cache decoding).

    Parameters
    ----------
    n_q : int
        Number of new queries, the last n_q tokens of the sequence; 0 <= n_q <= n_k.
    n_k : int
        Number of keys: the cached tokens plus the new ones.

    Returns
    -------
    ndarray of bool, shape (n_q, n_k)
        mask[i, j] is True when j <= n_k - n_q + i (query i is the token at
        position n_k - n_q + i and may attend to itself and the tokens before it).

    Raises
    ------
    ValueError
        Unless 0 <= n_q <= n_k.
    """
    if not 0 <= n_q <= n_k:
        raise ValueError(f"need 0 <= n_q <= n_k, got n_q = {n_q}, n_k = {n_k}")
    positions = np.arange(n_q)[:, None] + (n_k - n_q)  # (n_q, 1) absolute position of each query
    return np.arange(n_k)[None, :] <= positions  # (n_q, n_k)


# --- 05-multi-head/multi_head.ipynb: split_heads ---

def split_heads(X, n_heads):
    """View the last axis of X as n_heads blocks and make the heads a batch axis.

    Parameters
    ----------
    X : ndarray, shape (..., n, d_model)
        A batch of sequences of vectors (for example the projected queries).
    n_heads : int
        Number of heads; must divide d_model.

    Returns
    -------
    ndarray, shape (..., n_heads, n, d_head)
        With d_head = d_model // n_heads. Head i holds features
        i * d_head ... (i + 1) * d_head - 1 of every token.

    Raises
    ------
    ValueError
        If d_model is not divisible by n_heads.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    Raises `ValueError` when `d_model % n_heads != 0`.
    """
    X = np.asarray(X)
    *batch, n, d_model = X.shape
    if d_model % n_heads != 0:
        raise ValueError(f"d_model = {d_model} is not divisible by n_heads = {n_heads}")
    X = X.reshape(*batch, n, n_heads, d_model // n_heads)  # (..., n, n_heads, d_head) each row cut into blocks
    return X.swapaxes(-2, -3)  # (..., n_heads, n, d_head)


# --- 05-multi-head/multi_head.ipynb: merge_heads ---

def merge_heads(X):
    """Concatenate the heads along the features: the inverse of split_heads.

    Parameters
    ----------
    X : ndarray, shape (..., n_heads, n, d_head)
        One sequence of vectors per head.

    Returns
    -------
    ndarray, shape (..., n, n_heads * d_head)
        Row t holds token t's vector from head 0, then from head 1, and so on.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    X = np.asarray(X)
    *batch, n_heads, n, d_head = X.shape
    X = X.swapaxes(-2, -3)  # (..., n, n_heads, d_head) heads back next to each other
    return X.reshape(*batch, n, n_heads * d_head)  # (..., n, d_model)


# --- 05-multi-head/multi_head.ipynb: multi_head_attention ---

def multi_head_attention(X_q, X_kv, params, n_heads, mask=None):
    """Multi-head attention: project, split into heads, attend, merge, project out.

    Parameters
    ----------
    X_q : ndarray, shape (..., n_q, d_model)
        The tokens that ask (queries).
    X_kv : ndarray, shape (..., n_k, d_model)
        The tokens that are looked at (keys and values); X_q itself for self-attention.
    params : dict
        "W_q", "W_k", "W_v", "W_o" of shape (d_model, d_model) and, optionally,
        "b_q", "b_k", "b_v", "b_o" of shape (d_model,); a missing bias is zero.
    n_heads : int
        Number of heads; must divide d_model.
    mask : ndarray of bool, broadcastable to (..., n_q, n_k), optional
        True where a query may attend to a key; the same mask applies to every head.

    Returns
    -------
    output : ndarray, shape (..., n_q, d_model)
        The merged heads, times W_o, plus b_o.
    weights : ndarray, shape (..., n_heads, n_q, n_k)
        The attention weights of every head.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    X_q, X_kv = np.asarray(X_q), np.asarray(X_kv)
    Q = X_q @ params["W_q"] + params.get("b_q", 0.0)  # (..., n_q, d_model)
    K = X_kv @ params["W_k"] + params.get("b_k", 0.0)  # (..., n_k, d_model)
    V = X_kv @ params["W_v"] + params.get("b_v", 0.0)  # (..., n_k, d_model)
    Q = split_heads(Q, n_heads)  # (..., n_heads, n_q, d_head)
    K = split_heads(K, n_heads)  # (..., n_heads, n_k, d_head)
    V = split_heads(V, n_heads)  # (..., n_heads, n_k, d_head)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]  # (..., 1, n_q, n_k) the same mask for every head
    heads, weights = scaled_dot_product_attention(
        Q, K, V, mask
    )  # (..., n_heads, n_q, d_head), (..., n_heads, n_q, n_k)
    output = merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0)  # (..., n_q, d_model)
    return output, weights


# --- 05-multi-head/multi_head.ipynb: mha_param_count ---

def mha_param_count(d_model, n_heads, bias=True):
    """Number of parameters of a multi-head attention layer.

    Parameters
    ----------
    d_model : int
        Width of the model.
    n_heads : int
        Number of heads (it divides d_model).
    bias : bool, default True
        Whether the layer has the biases b_q, b_k, b_v, b_o.

    Returns
    -------
    int
        Entries of W_q, W_k, W_v, W_o, plus those of the biases if bias is True.

    Notes
    -----
    Returns a Python `int`; the arguments are plain integers and a bool.
    """
    matrices = 4 * d_model * d_model  # W_q, W_k, W_v, W_o
    biases = 4 * d_model if bias else 0  # b_q, b_k, b_v, b_o
    return int(matrices + biases)


# --- 05-multi-head/multi_head.ipynb: grouped_query_attention ---

def grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    """Grouped-query attention: n_heads query heads share n_kv_heads key/value heads.

    Parameters
    ----------
    X_q : ndarray, shape (..., n_q, d_model)
        The tokens that ask (queries).
    X_kv : ndarray, shape (..., n_k, d_model)
        The tokens that are looked at (keys and values).
    params : dict
        "W_q", "W_o" of shape (d_model, d_model); "W_k", "W_v" of shape
        (d_model, n_kv_heads * d_head) with d_head = d_model // n_heads; optional
        biases "b_q", "b_o" (d_model,) and "b_k", "b_v" (n_kv_heads * d_head,);
        a missing bias is zero.
    n_heads : int
        Number of query heads; must divide d_model.
    n_kv_heads : int
        Number of key/value heads; must divide n_heads. Query head i uses
        key/value head i // (n_heads // n_kv_heads).
    mask : ndarray of bool, broadcastable to (..., n_q, n_k), optional
        True where a query may attend to a key; the same mask for every head.

    Returns
    -------
    output : ndarray, shape (..., n_q, d_model)
    weights : ndarray, shape (..., n_heads, n_q, n_k)
        The attention weights of every query head.

    A float32 input may give a float32 or a float64 result. The arguments are
    never modified.

    Raises
    ------
    ValueError
        If n_kv_heads does not divide n_heads.
    """
    if n_kv_heads < 1 or n_heads % n_kv_heads != 0:
        raise ValueError(f"n_kv_heads = {n_kv_heads} does not divide n_heads = {n_heads}")
    X_q, X_kv = np.asarray(X_q), np.asarray(X_kv)
    Q = X_q @ params["W_q"] + params.get("b_q", 0.0)  # (..., n_q, d_model)
    K = X_kv @ params["W_k"] + params.get("b_k", 0.0)  # (..., n_k, n_kv_heads * d_head)
    V = X_kv @ params["W_v"] + params.get("b_v", 0.0)  # (..., n_k, n_kv_heads * d_head)
    Q = split_heads(Q, n_heads)  # (..., n_heads, n_q, d_head)
    K = split_heads(K, n_kv_heads)  # (..., n_kv_heads, n_k, d_head)
    V = split_heads(V, n_kv_heads)  # (..., n_kv_heads, n_k, d_head)
    group = n_heads // n_kv_heads
    K = np.repeat(K, group, axis=-3)  # (..., n_heads, n_k, d_head) query head i gets head i // group
    V = np.repeat(V, group, axis=-3)  # (..., n_heads, n_k, d_head)
    if mask is not None:
        mask = np.asarray(mask)[..., None, :, :]  # (..., 1, n_q, n_k) the same mask for every head
    heads, weights = scaled_dot_product_attention(
        Q, K, V, mask
    )  # (..., n_heads, n_q, d_head), (..., n_heads, n_q, n_k)
    output = merge_heads(heads) @ params["W_o"] + params.get("b_o", 0.0)  # (..., n_q, d_model)
    return output, weights


# --- 06-positions/positions.ipynb: sinusoidal_positional_encoding ---

def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    """The sinusoidal positional encoding of Vaswani et al. (2017).

    Parameters
    ----------
    seq_len : int
        Number of positions, p = 0, ..., seq_len - 1.
    d_model : int
        Width of the encoding (odd values allowed).
    base : float, default 10000.0
        Sets the slowest frequency.

    Returns
    -------
    ndarray, shape (seq_len, d_model)
        PE[p, 2i] = sin(p / base**(2i / d_model)) and
        PE[p, 2i + 1] = cos(p / base**(2i / d_model)). For an odd d_model the
        last column is a sine.

    Notes
    -----
    Returns float64 (the arguments are plain numbers).
    """
    p = np.arange(seq_len)[:, None]  # (seq_len, 1)
    two_i = np.arange(0, d_model, 2)  # (ceil(d_model / 2),) the even columns 2i
    angles = p / base ** (two_i / d_model)  # (seq_len, ceil(d_model / 2))
    pe = np.zeros((seq_len, d_model))  # (seq_len, d_model)
    pe[:, 0::2] = np.sin(angles)  # (seq_len, ceil(d_model / 2)) even columns
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])  # (seq_len, d_model // 2) odd columns: no partner for a last sine
    return pe


# --- 06-positions/positions.ipynb: rope ---

def rope(x, positions=None, base=10000.0):
    """Rotary position embedding (Su et al., 2021) on interleaved pairs of features.

    Parameters
    ----------
    x : ndarray, shape (..., n, d)
        Queries or keys; d must be even.
    positions : array of int, broadcastable to (..., n), optional
        The position of each vector. None means 0, 1, ..., n - 1.
    base : float, default 10000.0
        Sets the frequencies omega_i = base ** (-2i / d).

    Returns
    -------
    ndarray, shape (..., n, d)
        Each pair (x[..., 2i], x[..., 2i + 1]) rotated counter-clockwise by the
        angle p * omega_i, where p is the vector's position.

    Raises
    ------
    ValueError
        If d is odd.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    Raises `ValueError` when the last axis of `x` has an odd size.
    """
    x = np.asarray(x)
    n, d = x.shape[-2], x.shape[-1]
    if d % 2 != 0:
        raise ValueError(f"rope needs an even number of features, got d = {d}")
    if positions is None:
        positions = np.arange(n)  # (n,)
    p = np.asarray(positions, dtype=float)  # broadcastable to (..., n)
    omega = base ** (-np.arange(0, d, 2) / d)  # (d/2,) omega_i = base^(-2i/d)
    theta = p[..., None] * omega  # (..., n, d/2) one angle per pair
    cos, sin = np.cos(theta), np.sin(theta)  # (..., n, d/2)
    x_even, x_odd = x[..., 0::2], x[..., 1::2]  # (..., n, d/2) the two members of each pair
    rotated = np.stack([x_even * cos - x_odd * sin, x_even * sin + x_odd * cos], axis=-1)  # (..., n, d/2, 2)
    return rotated.reshape(rotated.shape[:-2] + (d,))  # (..., n, d) pairs interleaved again


# --- 07-residuals/residuals.ipynb: feed_forward ---

def feed_forward(x, W_1, b_1, W_2, b_2):
    """Position-wise feed-forward network: ReLU(x W_1 + b_1) W_2 + b_2.

    Parameters
    ----------
    x : ndarray, shape (..., d_model)
        One row per token; any number of leading axes.
    W_1 : ndarray, shape (d_model, d_ff)
        First (expanding) weight matrix.
    b_1 : ndarray, shape (d_ff,)
        First bias, added before the ReLU.
    W_2 : ndarray, shape (d_ff, d_model)
        Second (projecting) weight matrix.
    b_2 : ndarray, shape (d_model,)
        Second bias. There is no ReLU after the second layer.

    Returns
    -------
    ndarray, shape (..., d_model)
        The FFN applied to every row of x independently.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x, dtype=float)
    hidden = np.maximum(0.0, x @ W_1 + b_1)  # (..., d_ff) ReLU of the pre-activations
    return hidden @ W_2 + b_2  # (..., d_model)


# --- 07-residuals/residuals.ipynb: residual ---

def residual(x, sublayer):
    """Residual connection around a sublayer: x + sublayer(x).

    Parameters
    ----------
    x : ndarray, shape (..., d_model)
        The input, for example the residual stream of a sequence.
    sublayer : callable
        Maps an array of shape (..., d_model) to an array of the same shape.
        It is called exactly once, on x.

    Returns
    -------
    ndarray, shape (..., d_model)
        x + sublayer(x).

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x, dtype=float)
    return x + np.asarray(sublayer(x))  # (..., d_model) the identity path plus the branch


# --- 07-residuals/residuals.ipynb: stack_gradient_norms ---

def stack_gradient_norms(x, weights, use_residual):
    """Norms of dloss/dh_l through a stack of tanh layers, by backpropagation.

    h_0 = x, h_{l+1} = h_l + tanh(h_l W_l) if use_residual else tanh(h_l W_l),
    loss = sum(h_L).

    Parameters
    ----------
    x : ndarray, shape (d,)
        The input h_0.
    weights : list of L ndarrays, each of shape (d, d)
        W_0, ..., W_{L-1}. L may be 0.
    use_residual : bool
        Whether each layer adds its input back (a residual connection).

    Returns
    -------
    ndarray, shape (L + 1,)
        Entry l is the Euclidean norm of dloss/dh_l, for l = 0, ..., L.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    h = np.asarray(x, dtype=float)  # (d,) h_0
    pre = []
    for W in weights:
        a = h @ W  # (d,) pre-activation a_l
        pre.append(a)
        h = h + np.tanh(a) if use_residual else np.tanh(a)  # (d,) h_{l+1}
    g = np.ones_like(h)  # (d,) dloss/dh_L: the loss is a plain sum
    norms = [np.linalg.norm(g)]
    for W, a in zip(reversed(weights), reversed(pre), strict=True):
        branch = (g * (1.0 - np.tanh(a) ** 2)) @ np.asarray(W).T  # (d,) through tanh, then through h W
        g = g + branch if use_residual else branch  # (d,) dloss/dh_l
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])  # (L + 1,) from layer 0 to layer L


# --- 08-layer-norm/layer_norm.ipynb: layer_norm ---

def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalisation over the last axis, with a learned scale and shift.

    Parameters
    ----------
    x : ndarray, shape (..., d_model)
        One vector per token; any number of leading axes.
    gamma : ndarray, shape (d_model,)
        Scale, one per feature.
    beta : ndarray, shape (d_model,)
        Shift, one per feature.
    eps : float, default 1e-5
        Added to the variance inside the square root.

    Returns
    -------
    ndarray, shape (..., d_model)
        (x - mean) / sqrt(var + eps) * gamma + beta, where mean and the biased
        variance are taken over the last axis of each token.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x, dtype=float)
    mu = x.mean(axis=-1, keepdims=True)  # (..., 1) one mean per token
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)  # (..., 1) biased variance (divide by d)
    x_hat = (x - mu) / np.sqrt(var + eps)  # (..., d_model) mean 0, variance 1 per token
    return x_hat * gamma + beta  # (..., d_model)


# --- 08-layer-norm/layer_norm.ipynb: batch_norm ---

def batch_norm(x, gamma, beta, eps=1e-5):
    """Batch normalisation with training-mode (batch) statistics.

    Parameters
    ----------
    x : ndarray, shape (..., d)
        For example (batch, d) or (batch, n, d). Every axis but the last indexes
        examples (and positions).
    gamma : ndarray, shape (d,)
        Scale, one per feature.
    beta : ndarray, shape (d,)
        Shift, one per feature.
    eps : float, default 1e-5
        Added to the variance inside the square root.

    Returns
    -------
    ndarray, shape (..., d)
        (x - mean) / sqrt(var + eps) * gamma + beta, where the mean and the biased
        variance of each feature are taken over every axis but the last.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x, dtype=float)
    axes = tuple(range(x.ndim - 1))  # every axis but the last
    mu = x.mean(axis=axes, keepdims=True)  # (1, ..., 1, d) one mean per feature
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)  # (1, ..., 1, d) biased variance
    return (x - mu) / np.sqrt(var + eps) * gamma + beta  # (..., d)


# --- 08-layer-norm/layer_norm.ipynb: rms_norm ---

def rms_norm(x, gamma, eps=1e-6):
    """RMS normalisation over the last axis: x / sqrt(mean(x**2) + eps) * gamma.

    Parameters
    ----------
    x : ndarray, shape (..., d_model)
        One vector per token; any number of leading axes.
    gamma : ndarray, shape (d_model,)
        Scale, one per feature.
    eps : float, default 1e-6
        Added to the mean of the squares inside the square root.

    Returns
    -------
    ndarray, shape (..., d_model)
        Each token divided by its root mean square, then scaled by gamma. The
        mean is not subtracted.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x, dtype=float)
    rms = np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)  # (..., 1) one root mean square per token
    return x / rms * gamma  # (..., d_model)


# --- 09-cross-entropy/cross_entropy.ipynb: shift_for_next_token ---

def shift_for_next_token(ids):
    """Split token ids into next-token inputs and targets.

    Parameters
    ----------
    ids : ndarray of int, shape (..., seq_len)
        Token ids; the last axis is time. seq_len >= 2.

    Returns
    -------
    inputs : ndarray of int, shape (..., seq_len - 1)
        The tokens the model reads: ids[..., :-1].
    targets : ndarray of int, shape (..., seq_len - 1)
        The token that follows each input: ids[..., 1:].

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    ids = np.asarray(ids)
    inputs = ids[..., :-1]  # (..., seq_len - 1) every token but the last
    targets = ids[..., 1:]  # (..., seq_len - 1) every token but the first
    return inputs, targets


# --- 09-cross-entropy/cross_entropy.ipynb: log_softmax ---

def log_softmax(logits, axis=-1):
    """Numerically stable logarithm of the softmax along one axis.

    Parameters
    ----------
    logits : ndarray, shape (..., n, ...)
        Logits. Entries are finite or -inf (a token that is not allowed).
    axis : int, default -1
        The axis along which the probabilities sum to one.

    Returns
    -------
    ndarray, same shape as logits
        log(softmax(logits)) along `axis`, computed without forming the softmax:
        the exponentials of every slice sum to 1. An entry of -inf gives -inf, and
        a slice that is all -inf gives all -inf (no nan, no warning).

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(logits, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)  # (..., 1, ...) largest logit of each slice
    m = np.where(np.isfinite(m), m, 0.0)  # (..., 1, ...) an all -inf slice: avoid -inf - (-inf)
    shifted = x - m  # (..., n, ...) every entry <= 0 (or -inf)
    total = np.exp(shifted).sum(axis=axis, keepdims=True)  # (..., 1, ...) >= 1, or 0 for an all -inf slice
    log_total = np.log(total, out=np.zeros_like(total), where=total > 0)  # (..., 1, ...) never log(0)
    return shifted - log_total  # (..., n, ...)


# --- 09-cross-entropy/cross_entropy.ipynb: cross_entropy ---

def cross_entropy(logits, targets, ignore_index=None):
    """Mean negative log-likelihood of the targets (the cross-entropy loss).

    Parameters
    ----------
    logits : ndarray, shape (..., vocab)
        One row of logits per position.
    targets : ndarray of int, shape (...)
        The correct token id at every position (shape logits.shape[:-1]).
    ignore_index : int, optional
        Positions whose target equals it are left out of the sum and of the
        count. None means every position counts.

    Returns
    -------
    float
        -mean(log softmax(logits)[target]) over the counted positions, in nats;
        0.0 when no position counts.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    Returns a Python float or a numpy scalar: both are accepted.
    """
    log_p = log_softmax(logits, axis=-1)  # (..., vocab)
    targets = np.asarray(targets)  # (...)
    keep = np.ones(targets.shape, dtype=bool)  # (...) True at the positions that count
    if ignore_index is not None:
        keep = targets != ignore_index  # (...) False where the target is ignored
    n = int(keep.sum())
    if n == 0:
        return 0.0
    safe = np.where(keep, targets, 0)  # (...) a valid id everywhere, so indexing cannot fail
    picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]  # (...) log p of each target
    return float(-picked[keep].sum() / n)


# --- 09-cross-entropy/cross_entropy.ipynb: cross_entropy_grad ---

def cross_entropy_grad(logits, targets, ignore_index=None):
    """Gradient of the mean cross-entropy with respect to the logits.

    Parameters
    ----------
    logits : ndarray, shape (..., vocab)
        One row of logits per position.
    targets : ndarray of int, shape (...)
        The correct token id at every position (shape logits.shape[:-1]).
    ignore_index : int, optional
        Positions whose target equals it are not part of the loss. None means
        every position counts.

    Returns
    -------
    ndarray, shape (..., vocab)
        d cross_entropy / d logits: (softmax(logits) - onehot(targets)) / n_counted
        on the counted rows, zero rows at ignored positions (all zeros when no
        position counts).

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    p = np.exp(log_softmax(logits, axis=-1))  # (..., vocab) predicted probabilities
    targets = np.asarray(targets)  # (...)
    keep = np.ones(targets.shape, dtype=bool)  # (...) True at the positions that count
    if ignore_index is not None:
        keep = targets != ignore_index  # (...) False where the target is ignored
    n = max(int(keep.sum()), 1)  # with no counted position every row is zero anyway
    one_hot = (np.arange(p.shape[-1]) == targets[..., None]).astype(float)  # (..., vocab) 1 at each target
    grad = np.where(keep[..., None], p - one_hot, 0.0)  # (..., vocab) zero rows where ignored
    return grad / n  # (..., vocab)


# --- 09-cross-entropy/cross_entropy.ipynb: perplexity ---

def perplexity(logits, targets, ignore_index=None):
    """Perplexity: the exponential of the mean cross-entropy.

    Parameters
    ----------
    logits : ndarray, shape (..., vocab)
        One row of logits per position.
    targets : ndarray of int, shape (...)
        The correct token id at every position (shape logits.shape[:-1]).
    ignore_index : int, optional
        Positions whose target equals it are left out. None means every position
        counts.

    Returns
    -------
    float
        exp(cross_entropy(logits, targets, ignore_index)), between 1 and inf;
        1.0 when no position counts.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    Returns a Python float or a numpy scalar: both are accepted.
    """
    return float(np.exp(cross_entropy(logits, targets, ignore_index=ignore_index)))


# --- 10-gpt/gpt.ipynb: transformer_block ---

def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    """One transformer block: self-attention and a feed-forward network, each with a
    residual connection and a layer norm.

    Parameters
    ----------
    x : ndarray, shape (..., n, d_model)
        The residual stream: one vector per position.
    params : dict
        "attn": the multi-head attention parameters (W_q, W_k, W_v, W_o of shape
        (d_model, d_model), optional b_q, b_k, b_v, b_o of shape (d_model,));
        "ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta": shape (d_model,);
        "W_1" (d_model, d_ff), "b_1" (d_ff,), "W_2" (d_ff, d_model), "b_2" (d_model,).
    n_heads : int
        Number of attention heads.
    mask : ndarray of bool, broadcastable to (..., n, n), optional
        True where a position may attend to another. None means no mask.
    norm_first : bool, default True
        True: Pre-LN, x = x + MHA(LN1(x)); x = x + FFN(LN2(x)).
        False: Post-LN, x = LN1(x + MHA(x)); x = LN2(x + FFN(x)).

    Returns
    -------
    ndarray, shape (..., n, d_model)
        The new residual stream. Layer norms use eps = 1e-5.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    x = np.asarray(x)
    p = params
    if norm_first:
        h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"], eps=1e-5)  # (..., n, d_model)
        attended, _ = multi_head_attention(h, h, p["attn"], n_heads, mask)  # (..., n, d_model)
        x = x + attended  # (..., n, d_model)
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"], eps=1e-5)  # (..., n, d_model)
        return x + feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])  # (..., n, d_model)
    attended, _ = multi_head_attention(x, x, p["attn"], n_heads, mask)  # (..., n, d_model)
    x = layer_norm(x + attended, p["ln1_gamma"], p["ln1_beta"], eps=1e-5)  # (..., n, d_model)
    transformed = feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"])  # (..., n, d_model)
    return layer_norm(x + transformed, p["ln2_gamma"], p["ln2_beta"], eps=1e-5)  # (..., n, d_model)


# --- 10-gpt/gpt.ipynb: gpt_forward ---

def gpt_forward(ids, params):
    """A decoder-only (GPT-style) language model: token ids in, next-token logits out.

    Parameters
    ----------
    ids : ndarray of int, shape (..., n)
        Token ids, each in [0, vocab).
    params : dict
        "tok_emb" (vocab, d_model): token embeddings, also the output layer (tied);
        "pos_emb" (max_len, d_model): learned position embeddings;
        "blocks": a list of transformer_block parameter dicts;
        "n_heads": int, the number of heads of every block;
        "ln_f_gamma", "ln_f_beta" (d_model,): the final layer norm.

    Returns
    -------
    ndarray, shape (..., n, vocab)
        logits[..., i, :] scores the token that follows position i, computed from
        positions 0..i only (Pre-LN blocks with a causal mask, eps = 1e-5).

    Raises
    ------
    ValueError
        If n is larger than max_len.

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    ids = np.asarray(ids)
    tok_emb, pos_emb = params["tok_emb"], params["pos_emb"]
    n, max_len = ids.shape[-1], pos_emb.shape[0]
    if n > max_len:
        raise ValueError(
            f"the sequence has {n} tokens but the model has only max_len = {max_len} positions: "
            "crop the context to its last max_len tokens"
        )
    h = tok_emb[ids] + pos_emb[:n]  # (..., n, d_model)
    mask = causal_mask(n)  # (n, n) position i sees positions 0..i
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], mask=mask, norm_first=True)  # (..., n, d_model)
    h = layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"], eps=1e-5)  # (..., n, d_model)
    return h @ tok_emb.swapaxes(-1, -2)  # (..., n, vocab) tied output layer


# --- 10-gpt/gpt.ipynb: next_token_distribution ---

def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    """The distribution a sampler draws the next token from.

    Parameters
    ----------
    logits : ndarray, shape (vocab,)
        Scores of the candidate tokens (one position).
    temperature : float, default 1.0
        The logits are divided by it before the softmax. 0 puts all the mass on the
        largest logit (the lowest token id on ties).
    top_k : int, optional
        Keep only the k most probable tokens, then renormalise.
    top_p : float in (0, 1], optional
        Then keep the smallest set of most probable tokens whose total probability
        is >= top_p, and renormalise.

    Returns
    -------
    ndarray, shape (vocab,)
        Probabilities summing to 1; tokens that were cut get exactly 0. Ties are
        broken towards the lower token id.

    Raises
    ------
    ValueError
        If temperature < 0, top_k < 1, or top_p is outside (0, 1].

    Notes
    -----
    A float32 input may give a float32 or a float64 result: both are accepted.
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    logits = np.asarray(logits, dtype=float)  # (vocab,)
    vocab = logits.shape[-1]
    if temperature == 0:
        probs = np.zeros(vocab)  # (vocab,)
        probs[np.argmax(logits)] = 1.0  # np.argmax returns the lowest id on ties
        return probs
    probs = softmax(logits / temperature)  # (vocab,)
    order = np.argsort(-probs, kind="stable")  # (vocab,) most probable first; ties: lower id first
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()  # (vocab,)
    if top_p is not None:
        cumulative = np.cumsum(probs[order])  # (vocab,) mass of the most probable 1, 2, ... tokens
        n_keep = min(int(np.searchsorted(cumulative, top_p)) + 1, vocab)  # first total >= top_p
        probs[order[n_keep:]] = 0.0
        probs = probs / probs.sum()  # (vocab,)
    return probs


# --- 10-gpt/gpt.ipynb: generate ---

def generate(params, prompt_ids, max_new_tokens, temperature=0.0, top_k=None, top_p=None, seed=0):
    """Extend a prompt one token at a time with a GPT model.

    Parameters
    ----------
    params : dict
        The model, as for gpt_forward.
    prompt_ids : ndarray of int, shape (n_prompt,)
        The prompt (1-D).
    max_new_tokens : int
        How many tokens to add.
    temperature, top_k, top_p
        As for next_token_distribution. temperature = 0 is greedy decoding: the
        token with the largest logit (the lowest id on ties).
    seed : int, default 0
        For temperature > 0: rng = np.random.default_rng(seed) is made once per
        call, and each new token is rng.choice(len(p), p=p).

    Returns
    -------
    ndarray of int, shape (n_prompt + max_new_tokens,)
        The prompt followed by the new tokens. The model only ever sees the last
        max_len tokens (max_len = params["pos_emb"].shape[0]).

    Notes
    -----
    The arguments are never modified: build new arrays (`x = x - m`, not `x -= m`).
    """
    ids = [int(t) for t in np.asarray(prompt_ids).reshape(-1)]
    max_len = params["pos_emb"].shape[0]  # the number of learned positions
    rng = np.random.default_rng(seed)  # one generator for the whole call
    for _ in range(max_new_tokens):
        context = np.array(ids[-max_len:])  # (n,) n <= max_len
        logits = gpt_forward(context, params)[-1]  # (vocab,) scores for the next position
        if temperature == 0:
            next_id = int(np.argmax(logits))  # greedy; the lowest id on ties
        else:
            probs = next_token_distribution(logits, temperature, top_k, top_p)  # (vocab,)
            next_id = int(rng.choice(len(probs), p=probs))
        ids.append(next_id)
    return np.array(ids, dtype=np.int64)  # (n_prompt + max_new_tokens,)


# --- 11-encoder-decoder/encoder_decoder.ipynb: seq2seq_masks ---

def seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt):
    """The three attention masks of an encoder-decoder (True = may attend).

    Parameters
    ----------
    src_lengths : array_like of int, shape (batch,)
        Number of real (non-padding) tokens of each source, 0 <= src_lengths[b] <= n_src.
    tgt_lengths : array_like of int, shape (batch,)
        Number of real tokens of each target, 0 <= tgt_lengths[b] <= n_tgt.
    n_src, n_tgt : int
        Padded lengths of the sources and of the targets.

    Returns
    -------
    enc_mask : ndarray of bool, shape (batch, 1, n_src)
        The encoder's self-attention: key j allowed when j < src_lengths[b] (both directions).
    dec_mask : ndarray of bool, shape (batch, n_tgt, n_tgt)
        The decoder's self-attention: key j allowed for query i when j <= i and j < tgt_lengths[b].
    cross_mask : ndarray of bool, shape (batch, 1, n_src)
        Cross-attention: key j allowed when j < src_lengths[b].

    Raises
    ------
    ValueError
        If a length is outside [0, n]. The arguments are never modified.
    """
    src_lengths, tgt_lengths = np.asarray(src_lengths), np.asarray(tgt_lengths)
    for name, lengths, n in (("source", src_lengths, n_src), ("target", tgt_lengths, n_tgt)):
        if np.any(lengths < 0) or np.any(lengths > n):
            raise ValueError(f"every {name} length must be in [0, {n}], got {lengths.tolist()}")
    enc_mask = padding_mask(src_lengths, n_src)  # (batch, 1, n_src) real source keys, both directions
    dec_mask = causal_mask(n_tgt) & padding_mask(tgt_lengths, n_tgt)  # (batch, n_tgt, n_tgt)
    cross_mask = padding_mask(src_lengths, n_src)  # (batch, 1, n_src) real source keys
    return enc_mask, dec_mask, cross_mask


# --- 11-encoder-decoder/encoder_decoder.ipynb: decoder_layer ---

def decoder_layer(y, memory, params, n_heads, self_mask=None, cross_mask=None):
    """One Post-LN decoder layer: causal self-attention, cross-attention, feed-forward.

    Parameters
    ----------
    y : ndarray, shape (..., n_tgt, d_model)
        The decoder's stream: one vector per target position.
    memory : ndarray, shape (..., n_src, d_model)
        The encoder's output; keys and values of the cross-attention.
    params : dict
        "self_attn", "cross_attn": multi-head attention dicts (W_q, W_k, W_v, W_o of
        shape (d_model, d_model), optional biases b_q, b_k, b_v, b_o);
        "ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta", "ln3_gamma", "ln3_beta": (d_model,);
        "W_1" (d_model, d_ff), "b_1" (d_ff,), "W_2" (d_ff, d_model), "b_2" (d_model,).
    n_heads : int
        Number of heads of both attentions.
    self_mask : ndarray of bool, broadcastable to (..., n_tgt, n_tgt), optional
        True where a target position may attend to another (e.g. the causal mask).
    cross_mask : ndarray of bool, broadcastable to (..., n_tgt, n_src), optional
        True where a target position may attend to a source position (e.g. no padding).

    Returns
    -------
    ndarray, shape (..., n_tgt, d_model)
        y = LN1(y + MHA(y, y)); y = LN2(y + MHA(y, memory)); y = LN3(y + FFN(y)), eps = 1e-5.
        A float32 input may give a float32 or a float64 result; the arguments are never
        modified (y = y + ..., not y += ...).
    """
    y = np.asarray(y)
    p = params
    attended, _ = multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)  # (..., n_tgt, d_model)
    y = layer_norm(y + attended, p["ln1_gamma"], p["ln1_beta"], eps=1e-5)  # (..., n_tgt, d_model)
    gathered, _ = multi_head_attention(y, memory, p["cross_attn"], n_heads, cross_mask)  # (..., n_tgt, d_model)
    y = layer_norm(y + gathered, p["ln2_gamma"], p["ln2_beta"], eps=1e-5)  # (..., n_tgt, d_model)
    transformed = feed_forward(y, p["W_1"], p["b_1"], p["W_2"], p["b_2"])  # (..., n_tgt, d_model)
    return layer_norm(y + transformed, p["ln3_gamma"], p["ln3_beta"], eps=1e-5)  # (..., n_tgt, d_model)


# --- 11-encoder-decoder/encoder_decoder.ipynb: encoder_forward ---

def encoder_forward(src_ids, params, enc_mask=None):
    """The encoder of the original Transformer: source ids in, memory out.

    Parameters
    ----------
    src_ids : ndarray of int, shape (..., n_src)
        Source token ids, each in [0, V_src).
    params : dict
        "src_emb" (V_src, d_model): source token embeddings;
        "encoder": a list of transformer_block parameter dicts (chapter 10);
        "n_heads": int; "enc_ln_gamma", "enc_ln_beta" (d_model,): the final layer norm.
    enc_mask : ndarray of bool, broadcastable to (..., n_src, n_src), optional
        True where a source position may attend to another (padding only, both directions).

    Returns
    -------
    ndarray, shape (..., n_src, d_model)
        The memory: src_emb[src_ids] * sqrt(d_model) + the sinusoidal encoding, each
        block Post-LN (norm_first=False) with enc_mask, then the final layer norm
        (eps = 1e-5). A float32 input may give a float32 or a float64 result; the
        arguments are never modified.
    """
    src_ids = np.asarray(src_ids)
    emb = params["src_emb"]
    n_src, d_model = src_ids.shape[-1], emb.shape[-1]
    x = emb[src_ids] * np.sqrt(d_model) + sinusoidal_positional_encoding(n_src, d_model)  # (..., n_src, d_model)
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=enc_mask, norm_first=False)  # (..., n_src, d_model)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"], eps=1e-5)  # (..., n_src, d_model)


# --- 11-encoder-decoder/encoder_decoder.ipynb: seq2seq_forward ---

def seq2seq_forward(src_ids, tgt_ids, params, src_lengths=None, tgt_lengths=None):
    """The original Transformer, encoder and decoder: source and target ids in, next-token logits out.

    Parameters
    ----------
    src_ids : ndarray of int, shape (..., n_src)
        Source token ids.
    tgt_ids : ndarray of int, shape (..., n_tgt)
        Target token ids (the decoder's input, starting with <bos>).
    params : dict
        "src_emb" (V_src, d_model), "encoder", "enc_ln_gamma", "enc_ln_beta" (see encoder_forward);
        "tgt_emb" (V_tgt, d_model), "decoder": a list of decoder_layer parameter dicts;
        "dec_ln_gamma", "dec_ln_beta" (d_model,); "W_out" (d_model, V_tgt), "b_out" (V_tgt,); "n_heads": int.
    src_lengths, tgt_lengths : ndarray of int, shape (batch,), optional
        Real lengths of padded sources and targets; None means every position is real.

    Returns
    -------
    ndarray, shape (..., n_tgt, V_tgt)
        logits[..., i, :] scores the target token after position i, from target tokens 0..i
        and the whole (unpadded) source. A float32 input may give a float32 or a float64
        result; the arguments are never modified.
    """
    src_ids, tgt_ids = np.asarray(src_ids), np.asarray(tgt_ids)
    n_src, n_tgt = src_ids.shape[-1], tgt_ids.shape[-1]
    if src_lengths is None and tgt_lengths is None:
        masks = seq2seq_masks(np.array([n_src]), np.array([n_tgt]), n_src, n_tgt)
        enc_mask, dec_mask, cross_mask = (m[0] for m in masks)  # (1, n_src), (n_tgt, n_tgt), (1, n_src)
    else:
        batch = len(src_lengths if src_lengths is not None else tgt_lengths)
        src_lengths = np.full(batch, n_src) if src_lengths is None else src_lengths  # (batch,)
        tgt_lengths = np.full(batch, n_tgt) if tgt_lengths is None else tgt_lengths  # (batch,)
        enc_mask, dec_mask, cross_mask = seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt)
    memory = encoder_forward(src_ids, params, enc_mask)  # (..., n_src, d_model)
    emb = params["tgt_emb"]
    d_model = emb.shape[-1]
    y = emb[tgt_ids] * np.sqrt(d_model) + sinusoidal_positional_encoding(n_tgt, d_model)  # (..., n_tgt, d_model)
    for layer in params["decoder"]:
        y = decoder_layer(y, memory, layer, params["n_heads"], dec_mask, cross_mask)  # (..., n_tgt, d_model)
    y = layer_norm(y, params["dec_ln_gamma"], params["dec_ln_beta"], eps=1e-5)  # (..., n_tgt, d_model)
    return y @ params["W_out"] + params["b_out"]  # (..., n_tgt, V_tgt)


# --- 11-encoder-decoder/encoder_decoder.ipynb: greedy_translate ---

def greedy_translate(params, src_ids, bos_id, eos_id, max_new_tokens):
    """Translate one source sequence with greedy decoding.

    Parameters
    ----------
    params : dict
        The parameters of seq2seq_forward.
    src_ids : ndarray of int, shape (n_src,)
        One source sequence, without padding.
    bos_id, eos_id : int
        The ids that start the target and end it.
    max_new_tokens : int
        The most tokens to generate.

    Returns
    -------
    ndarray of int, shape (n_new,)
        The generated tokens: each the argmax (lowest id on ties) of the last position's
        logits given the source and the target so far, which starts as [bos_id]; stops
        after appending eos_id (included) or after max_new_tokens tokens. bos_id is not
        returned. The arguments are never modified.
    """
    src_ids = np.asarray(src_ids)
    target = [int(bos_id)]
    for _ in range(max_new_tokens):
        logits = seq2seq_forward(src_ids, np.array(target), params)  # (n_tgt, V_tgt)
        next_id = int(np.argmax(logits[-1]))  # the first maximum: lowest id on ties
        target.append(next_id)
        if next_id == eos_id:
            break
    return np.array(target[1:], dtype=np.int64)  # (n_new,)


# --- 12-backprop/backprop.ipynb: numerical_gradient ---

def numerical_gradient(f, x, eps=1e-6):
    """Central finite differences of a scalar function, one entry at a time.

    Parameters
    ----------
    f : callable
        Takes an array of the shape of x and returns a number.
    x : ndarray, any shape (...)
        Where to evaluate the gradient. A float32 x is fine: work in float64.
        The caller's x is never modified (use a copy).
    eps : float, default 1e-6
        The step: entry i of the result is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).

    Returns
    -------
    ndarray, shape like x
        The estimated gradient df/dx.
    """
    x = np.array(x, dtype=np.float64)  # (...) a float64 copy: the caller's x is never touched
    grad = np.zeros_like(x)  # (...)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        f_plus = float(f(x))
        x[index] = old - eps
        f_minus = float(f(x))
        x[index] = old  # restored exactly before the next entry
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


# --- 12-backprop/backprop.ipynb: linear_backward ---

def linear_backward(x, W, grad_y):
    """Gradients of a linear layer y = x W + b.

    Parameters
    ----------
    x : ndarray, shape (..., d_in)
        The layer's input.
    W : ndarray, shape (d_in, d_out)
        The weights.
    grad_y : ndarray, shape (..., d_out)
        dL/dy, the gradient of the loss with respect to the output.

    Returns
    -------
    grad_x : ndarray, shape (..., d_in)
    grad_W : ndarray, shape (d_in, d_out)
        Summed over every leading (batch) axis.
    grad_b : ndarray, shape (d_out,)
        Summed over every leading (batch) axis.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    x, W, grad_y = np.asarray(x), np.asarray(W), np.asarray(grad_y)
    grad_x = grad_y @ W.swapaxes(-1, -2)  # (..., d_in)
    x_rows = x.reshape(-1, x.shape[-1])  # (N, d_in) every leading axis flattened
    g_rows = grad_y.reshape(-1, grad_y.shape[-1])  # (N, d_out)
    grad_W = x_rows.swapaxes(-1, -2) @ g_rows  # (d_in, d_out) summed over all N rows
    grad_b = g_rows.sum(axis=0)  # (d_out,)
    return grad_x, grad_W, grad_b


# --- 12-backprop/backprop.ipynb: feed_forward_backward ---

def feed_forward_backward(x, W_1, b_1, W_2, b_2, grad_y):
    """Gradients of the feed-forward network relu(x W_1 + b_1) W_2 + b_2.

    Parameters
    ----------
    x : ndarray, shape (..., d_model)
    W_1 : ndarray, shape (d_model, d_ff)
    b_1 : ndarray, shape (d_ff,)
    W_2 : ndarray, shape (d_ff, d_model)
    b_2 : ndarray, shape (d_model,)
    grad_y : ndarray, shape (..., d_model)
        dL/dy for the network's output y.

    Returns
    -------
    dict
        "x": shape (..., d_model); "W_1", "b_1", "W_2", "b_2": the shapes of those
        parameters, summed over every leading (batch) axis. relu'(0) = 0.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    x = np.asarray(x)
    pre = x @ W_1 + b_1  # (..., d_ff)
    hidden = np.maximum(0.0, pre)  # (..., d_ff)
    grad_hidden, grad_W_2, grad_b_2 = linear_backward(hidden, W_2, grad_y)  # (..., d_ff), (d_ff, d_model), (d_model,)
    grad_pre = np.where(pre > 0, grad_hidden, 0.0)  # (..., d_ff) relu'(0) = 0
    grad_x, grad_W_1, grad_b_1 = linear_backward(x, W_1, grad_pre)  # (..., d_model), (d_model, d_ff), (d_ff,)
    return {"x": grad_x, "W_1": grad_W_1, "b_1": grad_b_1, "W_2": grad_W_2, "b_2": grad_b_2}


# --- 12-backprop/backprop.ipynb: softmax_backward ---

def softmax_backward(p, grad_p, axis=-1):
    """Vector-Jacobian product of the softmax: dL/dz from p = softmax(z) and dL/dp.

    Parameters
    ----------
    p : ndarray, shape (...)
        The softmax output along `axis` (each slice sums to 1, or is all 0 when
        fully masked).
    grad_p : ndarray, same shape as p
        dL/dp.
    axis : int, default -1
        The axis the softmax normalised over.

    Returns
    -------
    ndarray, same shape as p
        dL/dz = p * (grad_p - sum(grad_p * p, axis, keepdims=True)); a slice of
        zeros in p gives zeros.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    p, grad_p = np.asarray(p), np.asarray(grad_p)
    weighted = np.sum(grad_p * p, axis=axis, keepdims=True)  # (..., 1, ...) one number per softmax
    return p * (grad_p - weighted)  # (...) same shape as p


# --- 12-backprop/backprop.ipynb: layer_norm_backward ---

def layer_norm_backward(x, gamma, grad_y, eps=1e-5):
    """Gradients of y = layer_norm(x, gamma, beta, eps) over the last axis.

    Parameters
    ----------
    x : ndarray, shape (..., d)
        The layer norm's input.
    gamma : ndarray, shape (d,)
        The scale.
    grad_y : ndarray, shape (..., d)
        dL/dy.
    eps : float, default 1e-5
        Added to the (biased) variance inside the square root.

    Returns
    -------
    grad_x : ndarray, shape (..., d)
    grad_gamma : ndarray, shape (d,)
        Summed over every leading (batch) axis.
    grad_beta : ndarray, shape (d,)
        Summed over every leading (batch) axis.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    x, gamma, grad_y = np.asarray(x), np.asarray(gamma), np.asarray(grad_y)
    d = x.shape[-1]
    centred = x - x.mean(axis=-1, keepdims=True)  # (..., d)
    inv_std = 1.0 / np.sqrt((centred**2).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    x_hat = centred * inv_std  # (..., d)
    g = grad_y * gamma  # (..., d) the gradient reaching x_hat
    through_mean = g.mean(axis=-1, keepdims=True)  # (..., 1)
    through_var = x_hat * (g * x_hat).mean(axis=-1, keepdims=True)  # (..., d)
    grad_x = inv_std * (g - through_mean - through_var)  # (..., d)
    grad_gamma = (grad_y * x_hat).reshape(-1, d).sum(axis=0)  # (d,)
    grad_beta = grad_y.reshape(-1, d).sum(axis=0)  # (d,)
    return grad_x, grad_gamma, grad_beta


# --- 12-backprop/backprop.ipynb: attention_backward ---

def attention_backward(Q, K, V, grad_out, mask=None):
    """Gradients of the output of scaled dot-product attention, softmax(Q Kᵀ / sqrt(d_k)) V.

    Parameters
    ----------
    Q : ndarray, shape (..., n_q, d_k)
    K : ndarray, shape (..., n_k, d_k)
    V : ndarray, shape (..., n_k, d_v)
    grad_out : ndarray, shape (..., n_q, d_v)
        dL/d(output).
    mask : ndarray of bool, broadcastable to (..., n_q, n_k), optional
        True where a query may attend to a key. A fully masked query row
        contributes nothing. None means no mask.

    Returns
    -------
    grad_Q : ndarray, shape (..., n_q, d_k)
    grad_K : ndarray, shape (..., n_k, d_k)
    grad_V : ndarray, shape (..., n_k, d_v)

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    Q, K, V, grad_out = np.asarray(Q), np.asarray(K), np.asarray(V), np.asarray(grad_out)
    scale = 1.0 / np.sqrt(Q.shape[-1])
    scores = Q @ K.swapaxes(-1, -2) * scale  # (..., n_q, n_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)  # (..., n_q, n_k) blocked keys at -inf
    weights = softmax(scores, axis=-1)  # (..., n_q, n_k) zero rows where fully masked
    grad_V = weights.swapaxes(-1, -2) @ grad_out  # (..., n_k, d_v)
    grad_weights = grad_out @ V.swapaxes(-1, -2)  # (..., n_q, n_k)
    grad_scores = softmax_backward(weights, grad_weights, axis=-1)  # (..., n_q, n_k)
    grad_Q = grad_scores @ K * scale  # (..., n_q, d_k)
    grad_K = grad_scores.swapaxes(-1, -2) @ Q * scale  # (..., n_k, d_k)
    return grad_Q, grad_K, grad_V


# --- 12-backprop/backprop.ipynb: embedding_backward ---

def embedding_backward(ids, grad_out, vocab_size):
    """Gradient of the loss with respect to an embedding table E, for y = E[ids].

    Parameters
    ----------
    ids : ndarray of int, shape (...)
        Token ids, each in [0, vocab_size).
    grad_out : ndarray, shape (..., d)
        dL/dy for every looked-up row.
    vocab_size : int
        Number of rows of E.

    Returns
    -------
    ndarray, shape (vocab_size, d)
        Row v is the sum of grad_out over every position whose id is v; repeated
        ids accumulate, ids that do not occur get zeros.

    A float32 grad_out may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    ids, grad_out = np.asarray(ids), np.asarray(grad_out)
    d = grad_out.shape[-1]
    grad = np.zeros((vocab_size, d), dtype=np.result_type(grad_out.dtype, np.float64))  # (vocab_size, d)
    np.add.at(grad, ids.reshape(-1), grad_out.reshape(-1, d))  # repeated ids accumulate
    return grad


# --- 13-training/training.ipynb: gpt_loss_and_grads ---

def gpt_loss_and_grads(ids, targets, params, ignore_index=None):
    """Cross-entropy loss of gpt_forward and its gradient for every array of params.

    Parameters
    ----------
    ids : ndarray of int, shape (..., n)
        Input token ids, n <= max_len.
    targets : ndarray of int, shape (..., n)
        The token that should follow each position; positions whose target equals
        ignore_index do not count.
    params : dict
        Chapter 10's GPT parameters: "tok_emb" (vocab, d_model), "pos_emb"
        (max_len, d_model), "blocks" (a list of transformer_block dicts), "n_heads",
        "ln_f_gamma", "ln_f_beta".
    ignore_index : int, optional
        The target value of positions left out of the mean. None: every position counts.

    Returns
    -------
    loss : float
        cross_entropy(gpt_forward(ids, params), targets, ignore_index).
    grads : dict
        The structure of params without its non-array entries (no "n_heads"): one
        array dL/dA per array A of params, of A's shape. The tied tok_emb gets both its
        input and its output contribution.

    Raises
    ------
    ValueError
        If n is larger than max_len.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    ids = np.asarray(ids)
    tok_emb, pos_emb, n_heads = params["tok_emb"], params["pos_emb"], params["n_heads"]
    n, vocab = ids.shape[-1], tok_emb.shape[0]
    if n > pos_emb.shape[0]:
        raise ValueError(f"the sequence has {n} tokens but the model has only {pos_emb.shape[0]} positions")
    mask = causal_mask(n)  # (n, n)
    x = tok_emb[ids] + pos_emb[:n]  # (..., n, d_model)
    saved = []  # what each block's backward pass needs
    for block in params["blocks"]:
        attn = block["attn"]
        h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"], eps=1e-5)  # (..., n, d_model)
        Q = split_heads(h @ attn["W_q"] + attn.get("b_q", 0.0), n_heads)  # (..., n_heads, n, d_head)
        K = split_heads(h @ attn["W_k"] + attn.get("b_k", 0.0), n_heads)  # (..., n_heads, n, d_head)
        V = split_heads(h @ attn["W_v"] + attn.get("b_v", 0.0), n_heads)  # (..., n_heads, n, d_head)
        heads, _ = scaled_dot_product_attention(Q, K, V, mask)  # (..., n_heads, n, d_head)
        merged = merge_heads(heads)  # (..., n, d_model)
        x_mid = x + merged @ attn["W_o"] + attn.get("b_o", 0.0)  # (..., n, d_model)
        h_ff = layer_norm(x_mid, block["ln2_gamma"], block["ln2_beta"], eps=1e-5)  # (..., n, d_model)
        x_out = x_mid + feed_forward(h_ff, block["W_1"], block["b_1"], block["W_2"], block["b_2"])  # (..., n, d_model)
        saved.append((x, h, Q, K, V, merged, x_mid, h_ff))
        x = x_out
    h_f = layer_norm(x, params["ln_f_gamma"], params["ln_f_beta"], eps=1e-5)  # (..., n, d_model)
    logits = h_f @ tok_emb.swapaxes(-1, -2)  # (..., n, vocab)
    loss = cross_entropy(logits, targets, ignore_index)
    grad_logits = cross_entropy_grad(logits, targets, ignore_index)  # (..., n, vocab)

    d_model = tok_emb.shape[-1]
    grads = {}
    grad_h_f = grad_logits @ tok_emb  # (..., n, d_model)
    grad_tok_out = grad_logits.reshape(-1, vocab).swapaxes(-1, -2) @ h_f.reshape(-1, d_model)  # (vocab, d_model)
    grad_x, grads["ln_f_gamma"], grads["ln_f_beta"] = layer_norm_backward(x, params["ln_f_gamma"], grad_h_f)
    block_grads = []
    for block, (x_in, h, Q, K, V, merged, x_mid, h_ff) in zip(params["blocks"][::-1], saved[::-1], strict=True):
        attn, g, g_attn = block["attn"], {}, {}
        ff = feed_forward_backward(h_ff, block["W_1"], block["b_1"], block["W_2"], block["b_2"], grad_x)
        for key in ("W_1", "b_1", "W_2", "b_2"):
            g[key] = ff[key]
        grad_h_ff, g["ln2_gamma"], g["ln2_beta"] = layer_norm_backward(x_mid, block["ln2_gamma"], ff["x"])
        grad_mid = grad_x + grad_h_ff  # (..., n, d_model) the residual path and the feed-forward path
        grad_merged, g_attn["W_o"], grad_b_o = linear_backward(merged, attn["W_o"], grad_mid)
        grad_heads = split_heads(grad_merged, n_heads)  # (..., n_heads, n, d_head)
        grad_Q, grad_K, grad_V = attention_backward(Q, K, V, grad_heads, mask)  # (..., n_heads, n, d_head)
        grad_h = 0.0
        for name, grad_proj in (("q", grad_Q), ("k", grad_K), ("v", grad_V)):
            grad_in, g_attn[f"W_{name}"], grad_b = linear_backward(h, attn[f"W_{name}"], merge_heads(grad_proj))
            grad_h = grad_h + grad_in  # (..., n, d_model) h feeds all three projections
            if f"b_{name}" in attn:
                g_attn[f"b_{name}"] = grad_b
        if "b_o" in attn:
            g_attn["b_o"] = grad_b_o
        grad_x_ln, g["ln1_gamma"], g["ln1_beta"] = layer_norm_backward(x_in, block["ln1_gamma"], grad_h)
        grad_x = grad_mid + grad_x_ln  # (..., n, d_model)
        g["attn"] = {key: g_attn[key] for key in attn}
        block_grads.append({key: g[key] for key in block})
    grads["blocks"] = block_grads[::-1]
    grads["tok_emb"] = grad_tok_out + embedding_backward(ids, grad_x, vocab)  # (vocab, d_model) both uses
    grad_pos = np.zeros(pos_emb.shape, dtype=grad_x.dtype)  # (max_len, d_model)
    grad_pos[:n] = grad_x.reshape(-1, n, d_model).sum(axis=0)  # positions beyond n get no gradient
    grads["pos_emb"] = grad_pos
    return float(loss), grads


# --- 13-training/training.ipynb: clip_grad_norm ---

def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global L2 norm is at most max_norm.

    Parameters
    ----------
    grads : dict or list
        Nested dicts and lists whose leaves are arrays (any shapes); non-array
        leaves are copied unchanged.
    max_norm : float
        The largest allowed global norm.

    Returns
    -------
    clipped : dict or list
        The structure of grads; every array multiplied by max_norm / total_norm when
        total_norm > max_norm, unchanged otherwise.
    total_norm : float
        sqrt of the sum of the squares of every entry of every array, before clipping.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """

    def arrays(tree):
        if isinstance(tree, dict):
            for value in tree.values():
                yield from arrays(value)
        elif isinstance(tree, (list, tuple)):
            for value in tree:
                yield from arrays(value)
        elif isinstance(tree, np.ndarray):
            yield tree

    def scaled(tree, factor):
        if isinstance(tree, dict):
            return {key: scaled(value, factor) for key, value in tree.items()}
        if isinstance(tree, (list, tuple)):
            return [scaled(value, factor) for value in tree]
        if isinstance(tree, np.ndarray):
            return tree * factor  # a new array, same dtype for a Python float factor
        return tree

    total_norm = math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays(grads)))
    factor = max_norm / total_norm if total_norm > max_norm else 1.0
    return scaled(grads, factor), total_norm


# --- 13-training/training.ipynb: lr_schedule ---

def lr_schedule(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    """Linear warm-up to max_lr, then a cosine decay to min_lr.

    Parameters
    ----------
    step : int
        The step, counted from 0.
    max_lr : float
        The learning rate at the end of the warm-up.
    warmup_steps : int
        Steps 0 .. warmup_steps - 1 warm up: max_lr * (step + 1) / warmup_steps.
    total_steps : int
        The step at which the cosine reaches min_lr (and stays there).
    min_lr : float, default 0.0
        The learning rate at the end.

    Returns
    -------
    float
        The learning rate of this step.
    """
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + (max_lr - min_lr) * (1 + math.cos(math.pi * t)) / 2


# --- 13-training/training.ipynb: adamw_step ---

def adamw_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One AdamW update of every array of params (as PyTorch's torch.optim.AdamW).

    Parameters
    ----------
    params : dict or list
        Nested dicts and lists of arrays; non-array entries (e.g. "n_heads") are copied.
    grads : dict or list
        The gradients: the structure of params without its non-array entries.
    state : dict or None
        None on the first call; afterwards the new_state of the previous call.
    lr : float
        The learning rate of this step.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of the first and second moments.
    eps : float, default 1e-8
        Added to the bias-corrected sqrt(v), outside the square root.
    weight_decay : float, default 0.0
        Decoupled decay: p = p - lr * weight_decay * p, before the Adam step.

    Returns
    -------
    new_params : dict or list
        The structure of params with every array updated.
    new_state : dict
        The step count and both moments, for the next call.

    A float32 input may give a float32 or a float64 result. Arguments are never
    modified (write x = x + ..., not x += ...).
    """
    beta_1, beta_2 = betas
    if state is None:
        state = {"step": 0, "m": None, "v": None}
    t = state["step"] + 1
    correction_1, correction_2 = 1 - beta_1**t, 1 - beta_2**t

    def update(p, g, m, v):
        # Returns (new_p, new_m, new_v) with the structure of p; m and v are None on the first step.
        if isinstance(p, dict):
            parts = {
                k: update(p[k], g[k], None if m is None else m[k], None if v is None else v[k]) for k in p if k in g
            }
            new_p = {k: parts[k][0] if k in parts else p[k] for k in p}
            return new_p, {k: parts[k][1] for k in parts}, {k: parts[k][2] for k in parts}
        if isinstance(p, (list, tuple)):
            parts = [
                update(p[i], g[i], None if m is None else m[i], None if v is None else v[i]) for i in range(len(p))
            ]
            return [a for a, _, _ in parts], [b for _, b, _ in parts], [c for _, _, c in parts]
        g = np.asarray(g)
        m = (1 - beta_1) * g if m is None else beta_1 * m + (1 - beta_1) * g  # first moment
        v = (1 - beta_2) * g * g if v is None else beta_2 * v + (1 - beta_2) * g * g  # second moment
        p = p - lr * weight_decay * p  # decoupled weight decay, on the old parameter
        p = p - lr * (m / correction_1) / (np.sqrt(v / correction_2) + eps)
        return p, m, v

    new_params, m, v = update(params, grads, state["m"], state["v"])
    return new_params, {"step": t, "m": m, "v": v}


# --- 13-training/training.ipynb: train_step ---

def train_step(params, state, ids, targets, step, config):
    """One training step: loss and gradients, clipping, learning rate, AdamW.

    Parameters
    ----------
    params : dict
        Chapter 10's GPT parameters.
    state : dict or None
        The optimizer state of adamw_step (None before the first step).
    ids, targets : ndarray of int, shape (..., n)
        A batch of inputs and the tokens that should follow each position.
    step : int
        The step number, from 0, for the learning-rate schedule.
    config : dict
        "max_lr", "warmup_steps", "total_steps" (required); "min_lr", "max_norm",
        "weight_decay", "ignore_index" (optional).

    Returns
    -------
    params : dict
        The updated parameters.
    state : dict
        The new optimizer state.
    loss : float
        The loss of the batch before the update.

    Non-array entries of params (e.g. "n_heads") are copied. A float32 model may give
    float32 or float64 results. Arguments are never modified (write x = x + ...,
    not x += ...).
    """
    loss, grads = gpt_loss_and_grads(ids, targets, params, config.get("ignore_index"))
    if config.get("max_norm") is not None:
        grads, _ = clip_grad_norm(grads, config["max_norm"])
    lr = lr_schedule(step, config["max_lr"], config["warmup_steps"], config["total_steps"], config.get("min_lr", 0.0))
    params, state = adamw_step(params, grads, state, lr, weight_decay=config.get("weight_decay", 0.0))
    return params, state, loss
