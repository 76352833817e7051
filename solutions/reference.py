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
