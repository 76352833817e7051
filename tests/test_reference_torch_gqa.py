"""An independent check of the reference grouped_query_attention against PyTorch.

Each key/value head is repeated ``n_heads // n_kv_heads`` times with ``repeat_interleave``
(consecutive query heads share a key/value head) and the heads go through
``torch.nn.functional.scaled_dot_product_attention``, whose boolean ``attn_mask`` uses the
course's polarity: True = may attend. Skipped when PyTorch is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref

torch = pytest.importorskip("torch")


def _params(rng: np.random.Generator, d_model: int, n_heads: int, n_kv_heads: int) -> dict:
    d_kv = n_kv_heads * (d_model // n_heads)
    shapes = {"W_q": (d_model, d_model), "W_k": (d_model, d_kv), "W_v": (d_model, d_kv), "W_o": (d_model, d_model)}
    params = {k: rng.normal(size=s) / np.sqrt(d_model) for k, s in shapes.items()}
    params.update({"b_q": 0.1 * rng.normal(size=d_model), "b_o": 0.1 * rng.normal(size=d_model)})
    params.update({"b_k": 0.1 * rng.normal(size=d_kv), "b_v": 0.1 * rng.normal(size=d_kv)})
    return params


def _torch_gqa(X_q, X_kv, params, n_heads, n_kv_heads, mask=None):
    t = {k: torch.from_numpy(v) for k, v in params.items()}
    xq, xkv = torch.from_numpy(X_q), torch.from_numpy(X_kv)
    d_head = X_q.shape[-1] // n_heads

    def heads(x, n):  # (B, n_tok, n * d_head) -> (B, n, n_tok, d_head)
        return x.view(*x.shape[:-1], n, d_head).transpose(-2, -3)

    q = heads(xq @ t["W_q"] + t["b_q"], n_heads)
    k = heads(xkv @ t["W_k"] + t["b_k"], n_kv_heads).repeat_interleave(n_heads // n_kv_heads, dim=-3)
    v = heads(xkv @ t["W_v"] + t["b_v"], n_kv_heads).repeat_interleave(n_heads // n_kv_heads, dim=-3)
    attn_mask = None if mask is None else torch.from_numpy(mask)[:, None]  # (B, 1, n_q, n_k)
    with torch.no_grad():
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    out = out.transpose(-2, -3).reshape(*X_q.shape)  # merge the heads
    return (out @ t["W_o"] + t["b_o"]).numpy()


@pytest.mark.parametrize(
    ("d_model", "n_heads", "n_kv_heads"), [(16, 4, 4), (16, 4, 2), (16, 4, 1), (24, 6, 3), (24, 6, 2), (32, 8, 1)]
)
@pytest.mark.parametrize("masked", [False, True])
def test_grouped_query_attention_matches_torch(d_model, n_heads, n_kv_heads, masked):
    rng = np.random.default_rng(1000 * n_heads + 10 * n_kv_heads + masked)
    params = _params(rng, d_model, n_heads, n_kv_heads)
    X_q, X_kv = rng.normal(size=(2, 5, d_model)), rng.normal(size=(2, 7, d_model))
    mask = None
    if masked:
        mask = rng.random((2, 5, 7)) < 0.6
        mask[..., 0] = True  # no fully masked row: PyTorch gives NaN there, the course zeros
    out, weights = ref.grouped_query_attention(X_q, X_kv, params, n_heads, n_kv_heads, mask)
    assert weights.shape == (2, n_heads, 5, 7)
    np.testing.assert_allclose(out, _torch_gqa(X_q, X_kv, params, n_heads, n_kv_heads, mask), rtol=1e-10, atol=1e-12)


def test_torch_check_sees_the_modulo_grouping():
    """The cross-check is not blind: pairing head i with key/value head i % n_kv_heads differs from PyTorch."""
    rng = np.random.default_rng(7)
    d_model, n_heads, n_kv_heads = 16, 4, 2
    params = _params(rng, d_model, n_heads, n_kv_heads)
    X = rng.normal(size=(1, 5, d_model))
    d_head = d_model // n_heads
    perm = np.concatenate([np.arange(h * d_head, (h + 1) * d_head) for h in (0, 2, 1, 3)])  # query heads 0, 2, 1, 3
    tiled = {**params, "W_q": params["W_q"][:, perm], "b_q": params["b_q"][perm], "W_o": params["W_o"][perm]}
    # With the query heads reordered, the reference pairs the original head order with i % n_kv_heads.
    wrong, _ = ref.grouped_query_attention(X, X, tiled, n_heads, n_kv_heads)
    assert not np.allclose(wrong, _torch_gqa(X, X, params, n_heads, n_kv_heads), atol=1e-6)
