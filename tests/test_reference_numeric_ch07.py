"""Chapter 07's reference solutions, checked independently: finite differences and PyTorch autograd."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref


def _stack(seed: int, d: int, depth: int, scale: float) -> tuple[np.ndarray, list[np.ndarray]]:
    g = np.random.default_rng(seed)
    return g.normal(size=d), [g.normal(size=(d, d)) * scale / np.sqrt(d) for _ in range(depth)]


def _layer(h: np.ndarray, W: np.ndarray, use_residual: bool) -> np.ndarray:
    return h + np.tanh(h @ W) if use_residual else np.tanh(h @ W)


def _finite_difference_norms(x, weights, use_residual, eps=1e-6) -> np.ndarray:
    """||dloss/dh_l|| by central differences of the loss, run forward from layer l."""

    def loss_from(start, h):
        for W in weights[start:]:
            h = _layer(h, W, use_residual)
        return h.sum()

    h, norms = x, []
    for start in range(len(weights) + 1):
        grad = [(loss_from(start, h + eps * e) - loss_from(start, h - eps * e)) / (2 * eps) for e in np.eye(len(x))]
        norms.append(np.linalg.norm(grad))
        if start < len(weights):
            h = _layer(h, weights[start], use_residual)
    return np.array(norms)


@pytest.mark.parametrize("use_residual", [False, True])
@pytest.mark.parametrize(("seed", "d", "depth", "scale"), [(0, 4, 3, 1.0), (1, 7, 6, 0.8), (2, 3, 1, 1.5)])
def test_stack_gradient_norms_match_finite_differences(seed, d, depth, scale, use_residual):
    x, weights = _stack(seed, d, depth, scale)
    expected = _finite_difference_norms(x, weights, use_residual)
    got = ref.stack_gradient_norms(x, weights, use_residual)
    assert got.shape == (depth + 1,)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_stack_gradient_norms_of_an_empty_stack_is_the_norm_of_ones():
    np.testing.assert_allclose(ref.stack_gradient_norms(np.arange(5.0), [], True), [np.sqrt(5)])


def test_finite_differences_can_fail_on_a_wrong_backward_rule():
    """The check above must be able to fail: drop the identity term and it does."""
    x, weights = _stack(1, 7, 6, 0.8)
    plain = ref.stack_gradient_norms(x, weights, False)
    assert not np.allclose(plain, _finite_difference_norms(x, weights, True), rtol=1e-3)


@pytest.mark.parametrize("use_residual", [False, True])
def test_stack_gradient_norms_match_torch_autograd(use_residual):
    torch = pytest.importorskip("torch")
    x, weights = _stack(3, 16, 40, 0.5)
    hs = [torch.tensor(x, dtype=torch.float64, requires_grad=True)]
    for W in weights:
        h = hs[-1]
        nxt = torch.tanh(h @ torch.tensor(W))
        hs.append(h + nxt if use_residual else nxt)
        hs[-1].retain_grad()
    hs[-1].sum().backward()
    expected = np.array([h.grad.norm().item() for h in hs])
    np.testing.assert_allclose(ref.stack_gradient_norms(x, weights, use_residual), expected, rtol=1e-9, atol=0)


def test_feed_forward_and_residual_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    g = np.random.default_rng(4)
    x = g.normal(size=(2, 5, 8))
    W_1, b_1, W_2, b_2 = g.normal(size=(8, 32)), g.normal(size=32), g.normal(size=(32, 8)), g.normal(size=8)
    t = [torch.tensor(a) for a in (x, W_1, b_1, W_2, b_2)]
    # F.linear takes weights as (out_features, in_features), hence the transposes.
    expected = F.linear(F.relu(F.linear(t[0], t[1].T, t[2])), t[3].T, t[4]).numpy()
    np.testing.assert_allclose(ref.feed_forward(x, W_1, b_1, W_2, b_2), expected, rtol=1e-12, atol=1e-12)
    got = ref.residual(x, lambda v: ref.feed_forward(v, W_1, b_1, W_2, b_2))
    np.testing.assert_allclose(got, x + expected, rtol=1e-12, atol=1e-12)
