"""Chapter 11's reference agrees with PyTorch: the decoder layer with nn.TransformerDecoderLayer, the whole model
with nn.Transformer (random weights and the shipped translator), greedy translation with the training script's."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from autograder import SOLUTIONS
from autograder.hidden import ref

torch = pytest.importorskip("torch")

D_MODEL, N_HEADS, D_FF = 16, 4, 24


def _train_model_module():
    spec = importlib.util.spec_from_file_location("train_translator", SOLUTIONS / "models" / "train_translator.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _perturbed(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """PyTorch starts with gamma = 1 and zero biases: perturb them so that they are tested."""
    torch.manual_seed(seed)
    module = module.double()
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith("bias") or ".norm" in name or name.startswith("norm"):
                param.add_(0.3 * torch.randn_like(param))
    return module.eval()


def _attn(sd: dict, prefix: str) -> dict:
    """nn.MultiheadAttention's packed in_proj (3d, d) -> the course's W_q, W_k, W_v (d, d), used as x @ W."""
    w_in, b_in, d = sd[prefix + "in_proj_weight"], sd[prefix + "in_proj_bias"], D_MODEL
    p = {f"W_{c}": w_in[i * d : (i + 1) * d].T for i, c in enumerate("qkv")}
    p |= {f"b_{c}": b_in[i * d : (i + 1) * d] for i, c in enumerate("qkv")}
    return p | {"W_o": sd[prefix + "out_proj.weight"].T, "b_o": sd[prefix + "out_proj.bias"]}


def _decoder_params(sd: dict, prefix: str = "") -> dict:
    p = {"self_attn": _attn(sd, prefix + "self_attn."), "cross_attn": _attn(sd, prefix + "multihead_attn.")}
    for k in (1, 2, 3):
        p[f"ln{k}_gamma"], p[f"ln{k}_beta"] = sd[f"{prefix}norm{k}.weight"], sd[f"{prefix}norm{k}.bias"]
    p["W_1"], p["b_1"] = sd[prefix + "linear1.weight"].T, sd[prefix + "linear1.bias"]
    p["W_2"], p["b_2"] = sd[prefix + "linear2.weight"].T, sd[prefix + "linear2.bias"]
    return p


def _encoder_params(sd: dict, prefix: str) -> dict:
    p = {"attn": _attn(sd, prefix + "self_attn.")}
    for k in (1, 2):
        p[f"ln{k}_gamma"], p[f"ln{k}_beta"] = sd[f"{prefix}norm{k}.weight"], sd[f"{prefix}norm{k}.bias"]
    p["W_1"], p["b_1"] = sd[prefix + "linear1.weight"].T, sd[prefix + "linear1.bias"]
    p["W_2"], p["b_2"] = sd[prefix + "linear2.weight"].T, sd[prefix + "linear2.bias"]
    return p


@pytest.mark.parametrize("masking", ["none", "masked"])
def test_decoder_layer_matches_torch_decoder_layer(masking):
    layer = _perturbed(
        torch.nn.TransformerDecoderLayer(
            D_MODEL, N_HEADS, D_FF, dropout=0.0, activation="relu", batch_first=True, norm_first=False
        ),
        seed=11,
    )
    g = np.random.default_rng(0)
    y, memory = g.normal(size=(3, 5, D_MODEL)), g.normal(size=(3, 4, D_MODEL))
    self_mask = cross_mask = None
    kwargs = {}
    if masking == "masked":
        _, self_mask, cross_mask = ref.seq2seq_masks(np.array([4, 2, 1]), np.array([5, 3, 5]), 4, 5)
        causal = np.tril(np.ones((5, 5), dtype=bool))
        kwargs = {  # PyTorch: True = blocked
            "tgt_mask": torch.tensor(~causal),
            "tgt_key_padding_mask": torch.tensor(~(np.arange(5) < np.array([5, 3, 5])[:, None])),
            "memory_key_padding_mask": torch.tensor(~cross_mask[:, 0, :]),
        }
    with torch.no_grad():
        expected = layer(torch.tensor(y), torch.tensor(memory), **kwargs).numpy()
    sd = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
    ours = ref.decoder_layer(y, memory, _decoder_params(sd), N_HEADS, self_mask, cross_mask)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9)


def _random_transformer(seed: int):
    model = torch.nn.Transformer(
        D_MODEL, N_HEADS, 2, 2, D_FF, dropout=0.0, activation="relu", batch_first=True, norm_first=False
    )
    model.encoder.enable_nested_tensor = model.encoder.use_nested_tensor = False
    model = _perturbed(model, seed)
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    g = np.random.default_rng(seed)
    params = {
        "encoder": [_encoder_params(sd, f"encoder.layers.{i}.") for i in range(2)],
        "decoder": [_decoder_params(sd, f"decoder.layers.{i}.") for i in range(2)],
        "enc_ln_gamma": sd["encoder.norm.weight"],
        "enc_ln_beta": sd["encoder.norm.bias"],
        "dec_ln_gamma": sd["decoder.norm.weight"],
        "dec_ln_beta": sd["decoder.norm.bias"],
        "src_emb": g.normal(scale=D_MODEL**-0.5, size=(7, D_MODEL)),
        "tgt_emb": g.normal(scale=D_MODEL**-0.5, size=(9, D_MODEL)),
        "W_out": g.normal(size=(D_MODEL, 9)),
        "b_out": g.normal(size=9),
        "n_heads": N_HEADS,
    }
    return model, params


def _torch_logits(model, params, src, tgt, src_lengths=None, tgt_lengths=None) -> np.ndarray:
    """Embeddings * sqrt(d) + sinusoidal positions, nn.Transformer, W_out: the chapter's model, in PyTorch."""
    n_src, n_tgt = src.shape[-1], tgt.shape[-1]
    x = params["src_emb"][src] * np.sqrt(D_MODEL) + ref.sinusoidal_positional_encoding(n_src, D_MODEL)
    y = params["tgt_emb"][tgt] * np.sqrt(D_MODEL) + ref.sinusoidal_positional_encoding(n_tgt, D_MODEL)
    kwargs = {"tgt_mask": torch.tensor(np.triu(np.ones((n_tgt, n_tgt), dtype=bool), 1))}
    if src_lengths is not None:
        pad = torch.tensor(np.arange(n_src) >= src_lengths[:, None])
        kwargs |= {"src_key_padding_mask": pad, "memory_key_padding_mask": pad}
    if tgt_lengths is not None:
        kwargs["tgt_key_padding_mask"] = torch.tensor(np.arange(n_tgt) >= tgt_lengths[:, None])
    with torch.no_grad():
        h = model(torch.tensor(x), torch.tensor(y), **kwargs).numpy()
    return h @ params["W_out"] + params["b_out"]


def test_seq2seq_forward_matches_nn_transformer():
    model, params = _random_transformer(seed=5)
    g = np.random.default_rng(1)
    src, tgt = g.integers(0, 7, size=(2, 6)), g.integers(0, 9, size=(2, 4))
    np.testing.assert_allclose(ref.seq2seq_forward(src, tgt, params), _torch_logits(model, params, src, tgt), atol=1e-9)


def test_seq2seq_forward_matches_nn_transformer_with_padding():
    model, params = _random_transformer(seed=6)
    g = np.random.default_rng(2)
    src, tgt = g.integers(0, 7, size=(3, 6)), g.integers(0, 9, size=(3, 5))
    src_lengths, tgt_lengths = np.array([6, 3, 1]), np.array([2, 5, 4])
    expected = _torch_logits(model, params, src, tgt, src_lengths, tgt_lengths)
    ours = ref.seq2seq_forward(src, tgt, params, src_lengths, tgt_lengths)
    valid = np.arange(5) < tgt_lengths[:, None]  # padded target rows are unused (and PyTorch may zero them)
    np.testing.assert_allclose(ours[valid], expected[valid], atol=1e-9)


def test_the_padding_check_can_fail():
    """The comparison above can fail: without the source lengths the numbers differ."""
    model, params = _random_transformer(seed=6)
    g = np.random.default_rng(2)
    src, tgt = g.integers(0, 7, size=(3, 6)), g.integers(0, 9, size=(3, 5))
    expected = _torch_logits(model, params, src, tgt, np.array([6, 3, 1]), None)
    assert not np.allclose(ref.seq2seq_forward(src, tgt, params)[1:], expected[1:], atol=1e-6)


def test_the_shipped_translator_matches_its_torch_model():
    train = _train_model_module()
    arrays = dict(np.load(SOLUTIONS / "11-encoder-decoder" / "translator.npz"))
    model = train.load_into_torch(arrays)
    numbers = train.sample_numbers(np.random.default_rng(3), 32)
    src, lengths, tgt = train.encode_pairs(numbers)
    tgt_lengths = (tgt != train.PAD).sum(axis=1) - 1  # <bos> and the words: the decoder's input
    args = [torch.tensor(a) for a in (src, tgt[:, :-1], lengths, tgt_lengths)]
    with torch.no_grad():
        expected = model(*args).numpy()
    ours = ref.seq2seq_forward(src, tgt[:, :-1], train.nested(arrays), lengths, tgt_lengths)
    valid = np.arange(tgt.shape[1] - 1) < tgt_lengths[:, None]
    assert ours.shape == (32, train.MAX_WORDS + 1, len(train.TGT_VOCAB))
    np.testing.assert_allclose(ours[valid], expected[valid], atol=1e-4)


def test_the_shipped_translator_translates_held_out_numbers():
    train = _train_model_module()
    arrays = np.load(SOLUTIONS / "11-encoder-decoder" / "translator.npz")
    params = train.nested(arrays)
    bos, eos, pad = int(arrays["bos_id"]), int(arrays["eos_id"]), int(arrays["pad_id"])
    correct = 0
    rows = zip(arrays["heldout_src"], arrays["heldout_src_lengths"], arrays["heldout_tgt"], strict=True)
    for src, n, words in list(rows)[:100]:
        out = ref.greedy_translate(params, src[:n], bos, eos, train.MAX_WORDS + 1)
        correct += np.array_equal(out, words[words != pad])
    assert correct >= 99, f"the shipped translator translated only {correct} of 100 held-out numbers"
