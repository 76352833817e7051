"""An independent check of chapter 12's reference gradients against PyTorch autograd.

Each backward function of the reference is compared with ``torch.autograd`` on the
same forward computation, in float64, with batches, masks (including a fully masked
query row, where PyTorch's attention gives NaN and the course gives zeros, so the
course's own masked softmax is used there), a ReLU exactly at its kink and repeated
embedding ids. Skipped when PyTorch is not installed (see requirements-torch.txt).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional


def leaf(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def backward(out, grad):
    out.backward(torch.from_numpy(np.asarray(grad, dtype=np.float64)))


def test_numerical_gradient_matches_autograd_on_a_function_with_interacting_entries():
    g = np.random.default_rng(0)
    x, A = g.normal(size=(3, 4)), g.normal(size=(3, 4))
    t = leaf(x)
    (torch.sum(torch.sin(t) * torch.from_numpy(A)) + 0.5 * torch.sum(t) ** 2).backward()

    def f(z):
        return float(np.sum(np.sin(z) * A) + 0.5 * np.sum(z) ** 2)

    np.testing.assert_allclose(ref.numerical_gradient(f, x), t.grad.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ref.numerical_gradient(f, x.astype(np.float32)), t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
def test_linear_backward_matches_autograd(batch):
    g = np.random.default_rng(1)
    x, W, b, G = g.normal(size=(*batch, 5, 4)), g.normal(size=(4, 6)), g.normal(size=6), g.normal(size=(*batch, 5, 6))
    tx, tW, tb = leaf(x), leaf(W), leaf(b)
    backward(tx @ tW + tb, G)
    for ours, theirs in zip(ref.linear_backward(x, W, G), (tx.grad, tW.grad, tb.grad), strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kink", [False, True])
def test_feed_forward_backward_matches_autograd_including_relu_at_zero(kink):
    g = np.random.default_rng(2)
    x, W_1, b_1 = g.normal(size=(2, 3, 4)), g.normal(size=(4, 7)), g.normal(size=7)
    W_2, b_2, G = g.normal(size=(7, 4)), g.normal(size=4), g.normal(size=(2, 3, 4))
    if kink:  # units 0 and 3 sit exactly at relu's kink; torch also uses relu'(0) = 0
        W_1[:, [0, 3]], b_1[[0, 3]] = 0.0, 0.0
    t = {k: leaf(v) for k, v in {"x": x, "W_1": W_1, "b_1": b_1, "W_2": W_2, "b_2": b_2}.items()}
    backward(torch.relu(t["x"] @ t["W_1"] + t["b_1"]) @ t["W_2"] + t["b_2"], G)
    ours = ref.feed_forward_backward(x, W_1, b_1, W_2, b_2, G)
    assert set(ours) == set(t)
    for k in t:
        np.testing.assert_allclose(ours[k], t[k].grad.numpy(), rtol=1e-12, atol=1e-12, err_msg=k)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_backward_matches_autograd(axis):
    g = np.random.default_rng(3)
    z, G = 3.0 * g.normal(size=(3, 4, 5)), g.normal(size=(3, 4, 5))
    tz = leaf(z)
    backward(torch.softmax(tz, dim=axis), G)
    p = ref.softmax(z, axis=axis)
    np.testing.assert_allclose(ref.softmax_backward(p, G, axis=axis), tz.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_softmax_backward_matches_autograd_with_masked_entries_and_gives_zeros_for_a_fully_masked_row():
    g = np.random.default_rng(4)
    z, G = g.normal(size=(4, 6)), g.normal(size=(4, 6))
    mask = g.random((4, 6)) < 0.5
    mask[:, 0] = True
    tz = leaf(z)
    backward(torch.softmax(tz.masked_fill(~torch.from_numpy(mask), float("-inf")), dim=-1), G)
    p = ref.softmax(np.where(mask, z, -np.inf))
    np.testing.assert_allclose(ref.softmax_backward(p, G), tz.grad.numpy(), rtol=1e-10, atol=1e-13)
    assert np.all(ref.softmax_backward(np.zeros(6), G[0]) == 0)


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_layer_norm_backward_matches_autograd(offset):
    g = np.random.default_rng(5)
    x, gamma, beta, G = offset + g.normal(size=(2, 3, 6)), g.normal(size=6), g.normal(size=6), g.normal(size=(2, 3, 6))
    tx, tg, tb = leaf(x), leaf(gamma), leaf(beta)
    backward(F.layer_norm(tx, (6,), tg, tb, eps=1e-5), G)
    for ours, theirs in zip(ref.layer_norm_backward(x, gamma, G), (tx.grad, tg.grad, tb.grad), strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("masked", [False, True])
def test_attention_backward_matches_autograd(masked):
    g = np.random.default_rng(6)
    Q, K, V = g.normal(size=(2, 3, 5, 4)), g.normal(size=(2, 3, 6, 4)), g.normal(size=(2, 3, 6, 2))
    G = g.normal(size=(2, 3, 5, 2))
    mask = None
    if masked:
        mask = g.random((5, 6)) < 0.6
        mask[:, 1] = True  # torch's attention gives NaN for a fully masked row: tested separately below
    tQ, tK, tV = leaf(Q), leaf(K), leaf(V)
    t_mask = None if mask is None else torch.from_numpy(mask)
    backward(F.scaled_dot_product_attention(tQ, tK, tV, attn_mask=t_mask), G)
    for ours, theirs in zip(ref.attention_backward(Q, K, V, G, mask), (tQ.grad, tK.grad, tV.grad), strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_attention_backward_with_a_fully_masked_row_matches_autograd_of_the_course_forward():
    g = np.random.default_rng(7)
    Q, K, V, G = g.normal(size=(4, 3)), g.normal(size=(5, 3)), g.normal(size=(5, 2)), g.normal(size=(4, 2))
    mask = g.random((4, 5)) < 0.6
    mask[:, 0] = True
    mask[2] = False  # query 2 sees nothing: zero weights, zero output, zero gradient
    tQ, tK, tV = leaf(Q), leaf(K), leaf(V)
    scores = (tQ @ tK.T / np.sqrt(3)).masked_fill(~torch.from_numpy(mask), float("-inf"))
    weights = torch.softmax(scores.masked_fill(torch.from_numpy(~mask.any(-1))[:, None], 0.0), dim=-1)
    weights = weights * torch.from_numpy(mask.any(-1))[:, None]  # the course's all-zero row
    backward(weights @ tV, G)
    grads = ref.attention_backward(Q, K, V, G, mask)
    for ours, theirs in zip(grads, (tQ.grad, tK.grad, tV.grad), strict=True):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)
    assert np.all(grads[0][2] == 0)


def test_embedding_backward_matches_autograd_with_repeated_ids():
    g = np.random.default_rng(8)
    ids, G = g.integers(0, 5, size=(3, 7)), g.normal(size=(3, 7, 4))
    E = leaf(g.normal(size=(9, 4)))
    backward(F.embedding(torch.from_numpy(ids), E), G)
    np.testing.assert_allclose(ref.embedding_backward(ids, G, 9), E.grad.numpy(), rtol=1e-12, atol=1e-12)
