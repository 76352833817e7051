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
    """
    mask = np.asarray(mask, dtype=bool)
    return np.where(mask, 0.0, -np.inf)  # same shape as mask


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
    """
    return float(np.exp(cross_entropy(logits, targets, ignore_index=ignore_index)))
