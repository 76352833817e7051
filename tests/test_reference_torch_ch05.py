"""An independent check of the reference multi_head_attention against torch.nn.MultiheadAttention.

PyTorch packs W_q, W_k, W_v into one ``in_proj_weight`` of shape (3 d_model, d_model) and
computes ``x @ W.T``, so the course's W (applied as ``X @ W``) enters transposed. Its boolean
``attn_mask`` and ``key_padding_mask`` use the opposite polarity: True = blocked.
Skipped when PyTorch is not installed (see requirements-torch.txt).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref

torch = pytest.importorskip("torch")


def _torch_mha(params: dict, d_model: int, n_heads: int):
    mha = torch.nn.MultiheadAttention(d_model, n_heads, bias=True, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        w_in = np.concatenate([params["W_q"].T, params["W_k"].T, params["W_v"].T])  # (3 d_model, d_model)
        mha.in_proj_weight.copy_(torch.from_numpy(w_in))
        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([params["b_q"], params["b_k"], params["b_v"]])))
        mha.out_proj.weight.copy_(torch.from_numpy(params["W_o"].T))
        mha.out_proj.bias.copy_(torch.from_numpy(params["b_o"]))
    return mha.eval()


def _params(rng: np.random.Generator, d_model: int) -> dict:
    params = {k: rng.normal(size=(d_model, d_model)) / np.sqrt(d_model) for k in ("W_q", "W_k", "W_v", "W_o")}
    params.update({k: 0.1 * rng.normal(size=d_model) for k in ("b_q", "b_k", "b_v", "b_o")})
    return params


def _run_torch(mha, X_q, X_kv, **masks):
    with torch.no_grad():
        out, w = mha(
            torch.from_numpy(X_q),
            torch.from_numpy(X_kv),
            torch.from_numpy(X_kv),
            need_weights=True,
            average_attn_weights=False,
            **{k: torch.from_numpy(v) for k, v in masks.items()},
        )
    return out.numpy(), w.numpy()


@pytest.mark.parametrize(("d_model", "n_heads"), [(12, 3), (16, 4), (8, 1), (8, 8)])
def test_cross_attention_matches_torch(d_model, n_heads):
    rng = np.random.default_rng(d_model * 10 + n_heads)
    params = _params(rng, d_model)
    X_q, X_kv = rng.normal(size=(3, 5, d_model)), rng.normal(size=(3, 7, d_model))
    out, w = ref.multi_head_attention(X_q, X_kv, params, n_heads)
    t_out, t_w = _run_torch(_torch_mha(params, d_model, n_heads), X_q, X_kv)
    np.testing.assert_allclose(w, t_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)


def test_causal_mask_matches_torch_with_opposite_polarity():
    rng = np.random.default_rng(1)
    d_model, n_heads, n = 12, 4, 6
    params = _params(rng, d_model)
    X = rng.normal(size=(2, n, d_model))
    causal = np.tril(np.ones((n, n), dtype=bool))  # course: True = may attend
    out, w = ref.multi_head_attention(X, X, params, n_heads, causal)
    t_out, t_w = _run_torch(_torch_mha(params, d_model, n_heads), X, X, attn_mask=~causal)  # torch: True = blocked
    np.testing.assert_allclose(w, t_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)


def test_padding_mask_with_batch_size_different_from_heads_matches_torch():
    rng = np.random.default_rng(2)
    d_model, n_heads, n = 12, 4, 6
    params = _params(rng, d_model)
    X = rng.normal(size=(3, n, d_model))
    lengths = np.array([6, 2, 4])
    mask = np.arange(n)[None, None, :] < lengths[:, None, None]  # (3, 1, n): course padding mask
    out, w = ref.multi_head_attention(X, X, params, n_heads, mask)
    t_out, t_w = _run_torch(_torch_mha(params, d_model, n_heads), X, X, key_padding_mask=~mask[:, 0])
    np.testing.assert_allclose(w, t_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    assert mask.shape[0] != n_heads, "the batch size must differ from n_heads for this test to mean something"


def test_parameter_count_matches_torch():
    for d_model, n_heads in [(12, 3), (512, 8)]:
        mha = torch.nn.MultiheadAttention(d_model, n_heads, bias=True, batch_first=True)
        assert ref.mha_param_count(d_model, n_heads) == sum(p.numel() for p in mha.parameters())
        mha = torch.nn.MultiheadAttention(d_model, n_heads, bias=False, batch_first=True)
        assert ref.mha_param_count(d_model, n_heads, bias=False) == sum(p.numel() for p in mha.parameters())


def test_split_and_merge_match_torch_view_and_transpose():
    x = np.random.default_rng(3).normal(size=(2, 5, 12))
    t = torch.from_numpy(x).view(2, 5, 3, 4).transpose(1, 2)  # (batch, heads, n, d_head)
    np.testing.assert_array_equal(ref.split_heads(x, 3), t.numpy())
    np.testing.assert_array_equal(ref.merge_heads(t.numpy()), x)
