"""Chapter 09's reference agrees with PyTorch: log-softmax, cross-entropy (ignore_index, mean), its gradient."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _batch(seed: int, shape=(3, 5), vocab=7, scale=2.0):
    g = np.random.default_rng(seed)
    return g.normal(scale=scale, size=(*shape, vocab)), g.integers(0, vocab, size=shape)


def _torch_loss(logits: np.ndarray, targets: np.ndarray, ignore_index: int | None):
    """PyTorch's mean cross-entropy and its autograd gradient w.r.t. the logits."""
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(targets, dtype=torch.int64)
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), t.reshape(-1), reduction="mean", **kwargs)
    loss.backward()
    return loss.item(), z.grad.numpy()


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_log_softmax_matches_torch_on_any_axis(axis):
    x = np.random.default_rng(0).normal(scale=3.0, size=(4, 5, 6))
    expected = torch.log_softmax(torch.tensor(x), dim=axis).numpy()
    np.testing.assert_allclose(ref.log_softmax(x, axis=axis), expected, rtol=1e-12, atol=1e-12)


def test_log_softmax_matches_torch_for_huge_logits_and_minus_inf_entries():
    x = np.array([[1e4, 1e4 - 3.0, -1e4], [0.0, -np.inf, -800.0], [-np.inf, 2.0, -np.inf]])
    expected = torch.log_softmax(torch.tensor(x), dim=-1).numpy()
    np.testing.assert_array_equal(np.isneginf(ref.log_softmax(x)), np.isneginf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(ref.log_softmax(x)[finite], expected[finite], rtol=1e-12)


@pytest.mark.parametrize(
    ("seed", "ignore_index", "shape"),
    [(1, None, (3, 5)), (2, -100, (3, 5)), (3, 0, (2, 4)), (4, 3, (6,))],
)
def test_cross_entropy_and_gradient_match_torch(seed, ignore_index, shape):
    logits, targets = _batch(seed, shape)
    if ignore_index is not None:
        targets = targets.copy()
        targets.reshape(-1)[::3] = ignore_index  # every third position is ignored
    loss, grad = _torch_loss(logits, targets, ignore_index)
    assert ref.cross_entropy(logits, targets, ignore_index) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(ref.cross_entropy_grad(logits, targets, ignore_index), grad, rtol=1e-10, atol=1e-14)
    assert ref.perplexity(logits, targets, ignore_index) == pytest.approx(np.exp(loss), rel=1e-12)


def test_when_every_target_is_ignored_torch_gives_nan_and_the_course_gives_zero():
    logits, targets = _batch(5)
    targets = np.full_like(targets, -100)
    loss, _ = _torch_loss(logits, targets, -100)
    assert np.isnan(loss), "PyTorch's mean over no position is 0/0"
    assert ref.cross_entropy(logits, targets, -100) == 0.0
    assert ref.perplexity(logits, targets, -100) == 1.0
    assert not ref.cross_entropy_grad(logits, targets, -100).any()


def test_gradient_matches_central_finite_differences():
    logits, targets = _batch(6, (2, 3), vocab=5)
    targets[0, 1] = -100
    eps = 1e-6
    numeric = np.zeros_like(logits)
    for idx in np.ndindex(*logits.shape):
        bump = np.zeros_like(logits)
        bump[idx] = eps
        up = ref.cross_entropy(logits + bump, targets, -100)
        down = ref.cross_entropy(logits - bump, targets, -100)
        numeric[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(ref.cross_entropy_grad(logits, targets, -100), numeric, atol=1e-8)


def test_shift_matches_the_torch_idiom():
    ids = np.random.default_rng(7).integers(0, 50, size=(2, 3, 9))
    t = torch.tensor(ids)
    inputs, targets = ref.shift_for_next_token(ids)
    np.testing.assert_array_equal(inputs, t[..., :-1].numpy())
    np.testing.assert_array_equal(targets, t[..., 1:].contiguous().numpy())
