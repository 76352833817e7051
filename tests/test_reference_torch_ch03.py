"""An independent check of chapter 03's reference against PyTorch.

``F.scaled_dot_product_attention`` takes a boolean ``attn_mask`` with True = may attend,
like the course; a fully-masked row is NaN there, zeros here, so those rows are compared
separately. Skipped when PyTorch is not installed (see requirements-torch.txt).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_matches_torch_including_huge_logits(axis):
    x = np.random.default_rng(3).normal(scale=50.0, size=(4, 5, 6))
    x[0, 0, 0] = 1e4
    expected = F.softmax(torch.from_numpy(x), dim=axis).numpy()
    np.testing.assert_allclose(ref.softmax(x, axis=axis), expected, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_attention_matches_torch_with_and_without_a_mask(batch):
    g = np.random.default_rng(4)
    Q, K, V = g.normal(size=batch + (5, 8)), g.normal(size=batch + (7, 8)), g.normal(size=batch + (7, 3))
    mask = g.random((5, 7)) < 0.6
    mask[:, 2] = True  # no fully-masked row here
    for m in (None, mask):
        out, weights = ref.scaled_dot_product_attention(Q, K, V, m)
        t_mask = None if m is None else torch.from_numpy(m)
        expected = F.scaled_dot_product_attention(
            torch.from_numpy(Q), torch.from_numpy(K), torch.from_numpy(V), attn_mask=t_mask
        ).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)


def test_fully_masked_rows_are_zeros_where_torch_gives_nan():
    g = np.random.default_rng(5)
    Q, K, V = g.normal(size=(3, 4)), g.normal(size=(5, 4)), g.normal(size=(5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    out, weights = ref.scaled_dot_product_attention(Q, K, V, mask)
    expected = F.scaled_dot_product_attention(
        torch.from_numpy(Q), torch.from_numpy(K), torch.from_numpy(V), attn_mask=torch.from_numpy(mask)
    ).numpy()
    assert np.all(out[1] == 0) and np.all(weights[1] == 0)
    np.testing.assert_allclose(out[[0, 2]], expected[[0, 2]], rtol=1e-10)


def test_softmax_jacobian_matches_autograd():
    z = torch.tensor(np.random.default_rng(6).normal(size=6), requires_grad=True)
    jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), z).numpy()
    p = torch.softmax(z, dim=0).detach().numpy()
    np.testing.assert_allclose(ref.softmax_jacobian(p), jac, rtol=1e-10, atol=1e-14)
