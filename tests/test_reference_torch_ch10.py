"""Chapter 10's reference agrees with PyTorch: the block with nn.TransformerEncoderLayer, the GPT with the model."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from autograder import BOOK, SOLUTIONS
from autograder.hidden import ref

torch = pytest.importorskip("torch")

D_MODEL, N_HEADS, D_FF = 16, 4, 24


def _train_model_module():
    spec = importlib.util.spec_from_file_location("train_model", BOOK / "scripts" / "train_sorter.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _torch_layer(norm_first: bool, seed: int) -> torch.nn.TransformerEncoderLayer:
    torch.manual_seed(seed)
    layer = torch.nn.TransformerEncoderLayer(
        D_MODEL, N_HEADS, D_FF, dropout=0.0, activation="relu", batch_first=True, norm_first=norm_first
    ).double()
    with torch.no_grad():  # PyTorch starts with gamma = 1 and zero biases: perturb them so that they are tested
        for name, param in layer.named_parameters():
            if name.endswith("bias") or name.startswith("norm"):
                param.add_(0.3 * torch.randn_like(param))
    return layer.eval()


def _course_params(layer: torch.nn.TransformerEncoderLayer) -> dict:
    """The layer's weights in the course's layout: x @ W with W of shape (d_in, d_out)."""
    sd = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
    w_in, b_in, d = sd["self_attn.in_proj_weight"], sd["self_attn.in_proj_bias"], D_MODEL
    attn = {f"W_{c}": w_in[i * d : (i + 1) * d].T for i, c in enumerate("qkv")}
    attn |= {f"b_{c}": b_in[i * d : (i + 1) * d] for i, c in enumerate("qkv")}
    attn |= {"W_o": sd["self_attn.out_proj.weight"].T, "b_o": sd["self_attn.out_proj.bias"]}
    return {
        "attn": attn,
        "ln1_gamma": sd["norm1.weight"],
        "ln1_beta": sd["norm1.bias"],
        "ln2_gamma": sd["norm2.weight"],
        "ln2_beta": sd["norm2.bias"],
        "W_1": sd["linear1.weight"].T,
        "b_1": sd["linear1.bias"],
        "W_2": sd["linear2.weight"].T,
        "b_2": sd["linear2.bias"],
    }


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre_ln", "post_ln"])
@pytest.mark.parametrize("masking", ["none", "causal", "padding"])
def test_transformer_block_matches_torch_encoder_layer(norm_first, masking):
    layer = _torch_layer(norm_first, seed=10 + norm_first)
    x = np.random.default_rng(0).normal(size=(3, 6, D_MODEL))
    ours_mask, kwargs = None, {}
    if masking == "causal":
        ours_mask = np.tril(np.ones((6, 6), dtype=bool))  # course: True = may attend
        kwargs["src_mask"] = torch.tensor(~ours_mask)  # PyTorch: True = blocked
    elif masking == "padding":
        valid = np.arange(6) < np.array([6, 4, 2])[:, None]  # (3, 6)
        ours_mask = valid[:, None, :]  # (3, 1, 6), broadcast over the queries
        kwargs["src_key_padding_mask"] = torch.tensor(~valid)
    with torch.no_grad():
        expected = layer(torch.tensor(x), **kwargs).numpy()
    ours = ref.transformer_block(x, _course_params(layer), N_HEADS, mask=ours_mask, norm_first=norm_first)
    if masking == "padding":  # PyTorch may zero the outputs of padded queries on its fast path: compare valid rows
        expected, ours = expected[valid], ours[valid]
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9)


def test_the_mask_polarity_matters():
    """The check above can fail: passing the course's mask to PyTorch unchanged gives other numbers."""
    layer = _torch_layer(True, seed=3)
    x = np.random.default_rng(1).normal(size=(5, D_MODEL))
    causal = np.tril(np.ones((5, 5), dtype=bool))
    with torch.no_grad():
        unflipped = layer(torch.tensor(x)[None], src_mask=torch.tensor(causal)).numpy()[0]
    ours = ref.transformer_block(x, _course_params(layer), N_HEADS, mask=causal)
    assert not np.allclose(ours[:-1], unflipped[:-1], atol=1e-6)


def test_gpt_forward_matches_the_shipped_torch_model():
    train_model = _train_model_module()
    arrays = dict(np.load(SOLUTIONS / "10-gpt" / "sorter.npz"))
    model = train_model.load_into_torch(arrays)
    prompts = arrays["heldout"][:32]
    ids = np.concatenate([prompts, np.full((32, 1), train_model.SEP), np.sort(prompts, axis=1)[:, :-1]], axis=1)
    with torch.no_grad():
        expected = model(torch.tensor(ids)).numpy()
    ours = ref.gpt_forward(ids, train_model.nested(arrays))
    assert ours.shape == (32, train_model.MAX_LEN, len(train_model.VOCAB))
    np.testing.assert_allclose(ours, expected, atol=1e-4)


def test_the_shipped_model_sorts_held_out_prompts():
    train_model = _train_model_module()
    arrays = np.load(SOLUTIONS / "10-gpt" / "sorter.npz")
    params = train_model.nested(arrays)
    prompts = arrays["heldout"][:100]
    correct = sum(
        np.array_equal(ref.generate(params, np.append(d, train_model.SEP), len(d))[len(d) + 1 :], np.sort(d))
        for d in prompts
    )
    assert correct >= 99, f"the shipped sorter sorted only {correct} of 100 held-out prompts"
