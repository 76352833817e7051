"""An independent check of chapter 13's reference training functions against PyTorch.

``gpt_loss_and_grads`` is compared with ``torch.autograd`` through a GPT written with
PyTorch's own functional layers (``F.layer_norm``, ``F.scaled_dot_product_attention``,
``F.cross_entropy`` with ``ignore_index``), tied embeddings included; ``clip_grad_norm``
with ``torch.nn.utils.clip_grad_norm_``; ``adamw_step`` and ``train_step`` with
``torch.optim.AdamW`` over several steps. Everything in float64. Skipped when PyTorch
is not installed (see requirements-torch.txt).
"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.hidden import ref

torch = pytest.importorskip("torch")
F = torch.nn.functional


def make_gpt(g, vocab=7, d_model=8, n_heads=2, n_layers=2, max_len=6, bias=True):
    def w(*shape, s=0.4):
        return s * g.normal(size=shape)

    blocks = []
    for _ in range(n_layers):
        attn = {f"W_{c}": w(d_model, d_model) for c in "qkvo"}
        if bias:
            attn.update({f"b_{c}": w(d_model, s=0.1) for c in "qkvo"})
        blocks.append(
            {
                "attn": attn,
                "ln1_gamma": 1 + w(d_model, s=0.2),
                "ln1_beta": w(d_model, s=0.2),
                "ln2_gamma": 1 + w(d_model, s=0.2),
                "ln2_beta": w(d_model, s=0.2),
                "W_1": w(d_model, 2 * d_model),
                "b_1": w(2 * d_model, s=0.1),
                "W_2": w(2 * d_model, d_model),
                "b_2": w(d_model, s=0.1),
            }
        )
    return {
        "tok_emb": w(vocab, d_model, s=1.0),
        "pos_emb": w(max_len, d_model, s=1.0),
        "blocks": blocks,
        "n_heads": n_heads,
        "ln_f_gamma": 1 + w(d_model, s=0.2),
        "ln_f_beta": w(d_model, s=0.2),
    }


def leaves(tree, keys=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves(v, keys + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from leaves(v, keys + (i,))
    elif isinstance(tree, np.ndarray):
        yield keys, tree


def get(tree, keys):
    for k in keys:
        tree = tree[k]
    return tree


def to_torch(params):
    """The same structure with every array a float64 leaf tensor that records gradients."""
    if isinstance(params, dict):
        return {k: to_torch(v) for k, v in params.items()}
    if isinstance(params, list):
        return [to_torch(v) for v in params]
    if isinstance(params, np.ndarray):
        return torch.tensor(params, dtype=torch.float64, requires_grad=True)
    return params


def torch_gpt_loss(ids, targets, p, ignore_index=-100):
    ids_t = torch.as_tensor(ids)
    n, d = ids.shape[-1], p["tok_emb"].shape[-1]
    h = p["tok_emb"][ids_t] + p["pos_emb"][:n]
    heads = p["n_heads"]
    zero = torch.zeros(d, dtype=torch.float64)
    for b in p["blocks"]:
        a = b["attn"]
        x = F.layer_norm(h, (d,), b["ln1_gamma"], b["ln1_beta"], eps=1e-5)

        def split(t):
            return t.reshape(*t.shape[:-1], heads, d // heads).transpose(-2, -3)

        q = split(x @ a["W_q"] + a.get("b_q", zero))
        k = split(x @ a["W_k"] + a.get("b_k", zero))
        v = split(x @ a["W_v"] + a.get("b_v", zero))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        o = o.transpose(-2, -3).reshape(*h.shape)
        h = h + o @ a["W_o"] + a.get("b_o", zero)
        x = F.layer_norm(h, (d,), b["ln2_gamma"], b["ln2_beta"], eps=1e-5)
        h = h + torch.relu(x @ b["W_1"] + b["b_1"]) @ b["W_2"] + b["b_2"]
    h = F.layer_norm(h, (d,), p["ln_f_gamma"], p["ln_f_beta"], eps=1e-5)
    logits = h @ p["tok_emb"].T
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), torch.as_tensor(targets).reshape(-1), ignore_index=ignore_index
    )


@pytest.mark.parametrize("bias", [True, False])
def test_gpt_loss_and_grads_matches_autograd_with_tied_embeddings_and_ignored_positions(bias):
    g = np.random.default_rng(13)
    params = make_gpt(g, bias=bias)
    ids = g.integers(0, 7, size=(3, 5))
    targets = g.integers(0, 7, size=(3, 5))
    targets[:, :2] = -100  # a prompt whose predictions do not count
    loss, grads = ref.gpt_loss_and_grads(ids, targets, params, ignore_index=-100)
    tp = to_torch(params)
    expected = torch_gpt_loss(ids, targets, tp)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-10)
    assert "n_heads" not in grads
    for keys, _ in leaves(params):
        np.testing.assert_allclose(
            get(grads, keys), get(tp, keys).grad.numpy(), rtol=1e-7, atol=1e-10, err_msg=str(keys)
        )


def test_clip_grad_norm_matches_torch_clip_grad_norm():
    g = np.random.default_rng(14)
    arrays = [g.normal(size=(3, 4)), g.normal(size=5), g.normal(size=(2, 2, 2))]
    grads = {"a": arrays[0], "blocks": [{"b": arrays[1]}, {"c": arrays[2]}]}
    for max_norm in (0.5, 2.0, 100.0):
        tensors = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
        for t, a in zip(tensors, arrays, strict=True):
            t.grad = torch.tensor(a)
        total = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
        clipped, norm = ref.clip_grad_norm(grads, max_norm)
        assert norm == pytest.approx(total.item(), rel=1e-12)
        got = [clipped["a"], clipped["blocks"][0]["b"], clipped["blocks"][1]["c"]]
        for mine, t in zip(got, tensors, strict=True):
            # PyTorch divides by total_norm + 1e-6; the course by total_norm exactly.
            np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize(("betas", "eps", "weight_decay"), [((0.9, 0.999), 1e-8, 0.01), ((0.8, 0.95), 1e-3, 0.3)])
def test_adamw_step_matches_torch_adamw_over_several_steps(betas, eps, weight_decay):
    g = np.random.default_rng(15)
    params = {"w": g.normal(size=(3, 4)), "layers": [{"b": g.normal(size=4)}], "n_heads": 2}
    tensors = [
        torch.tensor(params["w"], requires_grad=True),
        torch.tensor(params["layers"][0]["b"], requires_grad=True),
    ]
    opt = torch.optim.AdamW(tensors, lr=0.05, betas=betas, eps=eps, weight_decay=weight_decay)
    state = None
    for step in range(6):
        lr = 0.05 * (step + 1) / 6
        for group in opt.param_groups:
            group["lr"] = lr
        grad_w, grad_b = g.normal(size=(3, 4)) * (step + 1), g.normal(size=4) * 0.01
        tensors[0].grad, tensors[1].grad = torch.tensor(grad_w), torch.tensor(grad_b)
        opt.step()
        params, state = ref.adamw_step(
            params, {"w": grad_w, "layers": [{"b": grad_b}]}, state, lr, betas, eps, weight_decay
        )
        np.testing.assert_allclose(params["w"], tensors[0].detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(params["layers"][0]["b"], tensors[1].detach().numpy(), rtol=1e-10, atol=1e-12)
    assert params["n_heads"] == 2


def test_train_step_matches_a_pytorch_training_loop():
    g = np.random.default_rng(16)
    params = make_gpt(g, n_layers=1)
    config = {
        "max_lr": 0.02,
        "warmup_steps": 2,
        "total_steps": 5,
        "min_lr": 0.002,
        "max_norm": 0.5,
        "weight_decay": 0.1,
        "ignore_index": -100,
    }
    tp = to_torch(params)
    tensors = [t for _, t in leaves_torch(tp)]
    opt = torch.optim.AdamW(tensors, lr=config["max_lr"], weight_decay=config["weight_decay"])
    state = None
    for step in range(5):
        ids = g.integers(0, 7, size=(2, 6))
        targets = g.integers(0, 7, size=(2, 6))
        targets[:, :3] = -100
        params, state, loss = ref.train_step(params, state, ids, targets, step, config)
        opt.zero_grad()
        torch_loss = torch_gpt_loss(ids, targets, tp)
        torch_loss.backward()
        torch.nn.utils.clip_grad_norm_(tensors, config["max_norm"])
        for group in opt.param_groups:
            group["lr"] = ref.lr_schedule(step, 0.02, 2, 5, 0.002)
        opt.step()
        assert loss == pytest.approx(torch_loss.item(), rel=1e-6)  # clip_grad_norm_ adds 1e-6
        for keys, t in leaves_torch(tp):
            # clip_grad_norm_'s extra 1e-6 moves the result by about 1e-6 relative.
            np.testing.assert_allclose(get(params, keys), t.detach().numpy(), rtol=1e-5, atol=1e-7, err_msg=str(keys))


def leaves_torch(tree, keys=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from leaves_torch(v, keys + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from leaves_torch(v, keys + (i,))
    elif isinstance(tree, torch.Tensor):
        yield keys, tree
