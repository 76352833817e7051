"""Chapter 08's reference solutions and its Pre-LN/Post-LN figure code, checked against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from autograder import SOLUTIONS
from autograder.hidden import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _data(seed: int, shape: tuple[int, ...]):
    g = np.random.default_rng(seed)
    x = g.normal(size=shape) * g.lognormal(size=shape[:-1] + (1,)) + g.normal(size=shape[:-1] + (1,))
    return x, g.normal(size=shape[-1]), g.normal(size=shape[-1])


@pytest.mark.parametrize("shape", [(7,), (4, 6), (2, 3, 8)])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_layer_norm_matches_torch(shape, eps):
    x, gamma, beta = _data(0, shape)
    t = [torch.tensor(a) for a in (x, gamma, beta)]
    expected = F.layer_norm(t[0], (shape[-1],), t[1], t[2], eps=eps).numpy()
    np.testing.assert_allclose(ref.layer_norm(x, gamma, beta, eps=eps), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 4), (3, 6, 4), (2, 3, 5, 4)])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_batch_norm_matches_torch_in_training_mode(shape, eps):
    x, gamma, beta = _data(1, shape)
    # PyTorch wants the features on axis 1: (N, C, ...). Move the last axis there and back.
    t = torch.tensor(np.moveaxis(x, -1, 1))
    out = F.batch_norm(
        t, None, None, weight=torch.tensor(gamma), bias=torch.tensor(beta), training=True, momentum=0.0, eps=eps
    )
    expected = np.moveaxis(out.numpy(), 1, -1)
    np.testing.assert_allclose(ref.batch_norm(x, gamma, beta, eps=eps), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(7,), (4, 6), (2, 3, 8)])
@pytest.mark.parametrize("eps", [1e-6, 1e-3])
def test_rms_norm_matches_torch(shape, eps):
    if not hasattr(F, "rms_norm"):
        pytest.skip("this PyTorch has no rms_norm")
    x, gamma, _ = _data(2, shape)
    expected = F.rms_norm(torch.tensor(x), (shape[-1],), torch.tensor(gamma), eps=eps).numpy()
    np.testing.assert_allclose(ref.rms_norm(x, gamma, eps=eps), expected, rtol=1e-10, atol=1e-12)


def test_small_variance_inputs_match_torch():
    """Inputs whose variance is of the order of eps, where eps outside the square root would differ."""
    g = np.random.default_rng(3)
    x = g.normal(size=(6, 10)) * np.array([1e-3, 2e-3, 4e-3, 1e-2, 0.0, 1.0])[:, None]
    gamma, beta = g.normal(size=10), g.normal(size=10)
    t = [torch.tensor(a) for a in (x, gamma, beta)]
    np.testing.assert_allclose(
        ref.layer_norm(x, gamma, beta), F.layer_norm(t[0], (10,), t[1], t[2], eps=1e-5).numpy(), rtol=1e-9, atol=1e-12
    )
    if hasattr(F, "rms_norm"):
        expected = F.rms_norm(t[0], (10,), t[1], eps=1e-6).numpy()
        np.testing.assert_allclose(ref.rms_norm(x, gamma), expected, rtol=1e-9, atol=1e-12)


def _figure_data():
    """solutions/08-layer-norm/figure_data.py, which computes the Pre-LN/Post-LN gradients by hand."""
    from autograder.release import _load_module

    return _load_module(SOLUTIONS / "08-layer-norm" / "figure_data.py", "_figure_data_ch08")


@pytest.mark.parametrize("pre_ln", [False, True])
def test_the_pre_post_ln_figure_backpropagates_like_torch_autograd(pre_ln):
    data = _figure_data()
    x, params, readout = data.random_stack(4, 5, n=6, d=8, d_ff=16)
    got = data.weight_gradient_norms(ref.layer_norm, x, params, readout, pre_ln)
    h = torch.tensor(x)
    weights = [(torch.tensor(W_1, requires_grad=True), torch.tensor(W_2)) for W_1, W_2 in params]
    for W_1, W_2 in weights:
        if pre_ln:
            h = h + F.relu(F.layer_norm(h, (8,), eps=1e-5) @ W_1) @ W_2
        else:
            h = F.layer_norm(h + F.relu(h @ W_1) @ W_2, (8,), eps=1e-5)
    if pre_ln:
        h = F.layer_norm(h, (8,), eps=1e-5)
    ((h * torch.tensor(readout)).sum() / len(x)).backward()
    expected = [W_1.grad.norm().item() for W_1, _ in weights]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
