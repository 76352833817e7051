"""Train the small sorting GPT of chapter 10 with PyTorch, and export it as sorter.npz.

The model reads eight digits and a separator and writes the same digits in
ascending order: "3 1 4 1 5 9 2 6 =" -> "1 1 2 3 4 5 6 9". It is built from
PyTorch's own nn.TransformerEncoderLayer (Pre-LN, ReLU, dropout 0) so that the
numpy `gpt_forward` of chapter 10 computes exactly the same function. Chapter 13
trains the same model with numpy functions you write; this script is the same
training loop with PyTorch's building blocks.

Needs PyTorch (the CPU build is enough); about 40 seconds on one core:

    python train_sorter.py                                # writes sorter.npz here
    python train_sorter.py --compare ../10-gpt/sorter.npz  # and checks it against the shipped file
    python train_sorter.py --check-numpy my_gpt.py         # and runs your numpy gpt_forward on it

Besides the weights, sorter.npz holds the vocabulary ("vocab") and the held-out
prompts ("heldout"), digit sequences that were kept out of every training batch.
The export is checked: the arrays are loaded back into a fresh PyTorch model,
which must give the same logits. With --check-numpy, a Python file that defines
`gpt_forward(ids, params)` (chapter 10's, with every function it calls) must give
them too. Seeds are fixed and PyTorch runs on one thread, so with the same PyTorch
version the run reproduces the shipped file; --compare says whether it did.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

VOCAB = list("0123456789=")  # token id = index; "=" separates the input from the answer
SEP = VOCAB.index("=")
N_DIGITS = 8  # digits to sort
MAX_LEN = 2 * N_DIGITS  # the longest context the model ever sees: 8 digits, "=", 7 answer digits
D_MODEL, N_HEADS, N_LAYERS, D_FF = 64, 4, 2, 128
STEPS, BATCH, LR = 800, 256, 3e-3
N_TEST = 2000  # held-out prompts, never used for training


class TinyGPT(nn.Module):
    """Token + learned position embeddings, Pre-LN encoder layers with a causal mask, tied output."""

    def __init__(self, vocab_size: int = len(VOCAB)) -> None:
        super().__init__()
        self.tok_emb = nn.Embedding(vocab_size, D_MODEL)
        self.pos_emb = nn.Parameter(0.02 * torch.randn(MAX_LEN, D_MODEL))
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                D_MODEL, N_HEADS, D_FF, dropout=0.0, activation="relu", batch_first=True, norm_first=True
            )
            for _ in range(N_LAYERS)
        )
        self.ln_f = nn.LayerNorm(D_MODEL)  # eps 1e-5, as in the course
        nn.init.normal_(self.tok_emb.weight, std=0.1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[-1]
        h = self.tok_emb(ids) + self.pos_emb[:n]
        blocked = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)  # PyTorch: True = may NOT attend
        for block in self.blocks:
            h = block(h, src_mask=blocked)
        return self.ln_f(h) @ self.tok_emb.weight.T  # tied output layer


def make_batch(rng: np.random.Generator, size: int, banned: set[bytes]) -> np.ndarray:
    """`size` sequences "digits = sorted digits" (length 2 * N_DIGITS + 1), none of them in `banned`."""
    digits = rng.integers(0, 10, size=(size, N_DIGITS))
    keep = np.array([d.tobytes() not in banned for d in digits])
    digits = digits[keep]
    sep = np.full((len(digits), 1), SEP)
    return np.concatenate([digits, sep, np.sort(digits, axis=1)], axis=1)


def export(model: TinyGPT, heldout: np.ndarray) -> dict[str, np.ndarray]:
    """The model's weights in the course's layout (x @ W, W of shape (d_in, d_out)), flattened for np.savez,
    with the vocabulary and the held-out prompts (digits never seen in training)."""
    d = D_MODEL
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    out = {
        "tok_emb": sd["tok_emb.weight"],
        "pos_emb": sd["pos_emb"],
        "ln_f_gamma": sd["ln_f.weight"],
        "ln_f_beta": sd["ln_f.bias"],
        "n_heads": np.array(N_HEADS),
        "vocab": np.array(VOCAB),
        "heldout": heldout.astype(np.int64),
    }
    for i in range(N_LAYERS):
        p = f"blocks.{i}."
        w_in, b_in = sd[p + "self_attn.in_proj_weight"], sd[p + "self_attn.in_proj_bias"]  # (3d, d), (3d,)
        for j, name in enumerate("qkv"):
            out[f"{p}attn.W_{name}"] = w_in[j * d : (j + 1) * d].T
            out[f"{p}attn.b_{name}"] = b_in[j * d : (j + 1) * d]
        out[p + "attn.W_o"] = sd[p + "self_attn.out_proj.weight"].T
        out[p + "attn.b_o"] = sd[p + "self_attn.out_proj.bias"]
        out[p + "ln1_gamma"], out[p + "ln1_beta"] = sd[p + "norm1.weight"], sd[p + "norm1.bias"]
        out[p + "ln2_gamma"], out[p + "ln2_beta"] = sd[p + "norm2.weight"], sd[p + "norm2.bias"]
        out[p + "W_1"], out[p + "b_1"] = sd[p + "linear1.weight"].T, sd[p + "linear1.bias"]
        out[p + "W_2"], out[p + "b_2"] = sd[p + "linear2.weight"].T, sd[p + "linear2.bias"]
    return {k: np.array(v, order="C") for k, v in out.items()}  # (keeps n_heads 0-d)


def load_into_torch(arrays) -> TinyGPT:
    """A fresh TinyGPT holding the exported arrays (the inverse of `export`)."""
    model = TinyGPT(len(arrays["vocab"]))
    sd = {
        "tok_emb.weight": arrays["tok_emb"],
        "pos_emb": arrays["pos_emb"],
        "ln_f.weight": arrays["ln_f_gamma"],
        "ln_f.bias": arrays["ln_f_beta"],
    }
    for i in range(N_LAYERS):
        p = f"blocks.{i}."
        sd[p + "self_attn.in_proj_weight"] = np.concatenate([arrays[f"{p}attn.W_{c}"].T for c in "qkv"])
        sd[p + "self_attn.in_proj_bias"] = np.concatenate([arrays[f"{p}attn.b_{c}"] for c in "qkv"])
        sd[p + "self_attn.out_proj.weight"] = arrays[p + "attn.W_o"].T
        sd[p + "self_attn.out_proj.bias"] = arrays[p + "attn.b_o"]
        sd[p + "norm1.weight"], sd[p + "norm1.bias"] = arrays[p + "ln1_gamma"], arrays[p + "ln1_beta"]
        sd[p + "norm2.weight"], sd[p + "norm2.bias"] = arrays[p + "ln2_gamma"], arrays[p + "ln2_beta"]
        sd[p + "linear1.weight"], sd[p + "linear1.bias"] = arrays[p + "W_1"].T, arrays[p + "b_1"]
        sd[p + "linear2.weight"], sd[p + "linear2.bias"] = arrays[p + "W_2"].T, arrays[p + "b_2"]
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in sd.items()})
    return model.eval()


def nested(arrays) -> dict:
    """Flat "blocks.0.attn.W_q" keys -> the nested params dict of `gpt_forward` (as the notebook's loader does)."""
    params: dict = {"blocks": []}
    for key in arrays:
        value = arrays[key]
        if key in ("vocab", "heldout"):
            continue
        if key == "n_heads":
            params[key] = int(value)
        elif key.startswith("blocks."):
            _, i, *rest = key.split(".")
            while len(params["blocks"]) <= int(i):
                params["blocks"].append({"attn": {}})
            block = params["blocks"][int(i)]
            (block["attn"] if rest[0] == "attn" else block)[rest[-1]] = value
        else:
            params[key] = value
    return params


@torch.no_grad()
def greedy_sort(model: TinyGPT, digits: np.ndarray) -> np.ndarray:
    """Greedy decoding of the answers for a batch of prompts (digits, "=")."""
    ids = torch.tensor(np.concatenate([digits, np.full((len(digits), 1), SEP)], axis=1))
    for _ in range(N_DIGITS):
        logits = model(ids[:, -MAX_LEN:])[:, -1]
        ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
    return ids[:, N_DIGITS + 1 :].numpy()


def check_numpy_forward(path: Path, arrays, ids: torch.Tensor, expected: np.ndarray) -> None:
    """The `gpt_forward` defined in the Python file `path` must give PyTorch's logits on the exported arrays."""
    spec = importlib.util.spec_from_file_location("numpy_gpt", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ours = module.gpt_forward(ids.numpy(), nested(arrays))
    gap = np.abs(ours - expected).max()
    assert gap < 1e-4, f"the numpy gpt_forward of {path} differs from PyTorch by {gap}"
    print(f"the numpy gpt_forward of {path} matches PyTorch (largest difference {gap:.1e})")


def compare(arrays: dict[str, np.ndarray], path: Path) -> bool:
    """Report whether `arrays` are the arrays stored in `path`, bit for bit."""
    shipped = dict(np.load(path))
    if sorted(shipped) != sorted(arrays):
        print(f"{path} holds other arrays: {sorted(set(shipped) ^ set(arrays))}")
        return False
    differ = [k for k in sorted(arrays) if not np.array_equal(arrays[k], shipped[k])]
    if not differ:
        print(f"reproduced {path}: all {len(arrays)} arrays are identical")
        return True
    gap = max(
        float(np.abs(arrays[k].astype(np.float64) - shipped[k]).max()) for k in differ if arrays[k].dtype.kind == "f"
    )
    print(
        f"{len(differ)} of {len(arrays)} arrays differ from {path} (largest difference {gap:.1e}); "
        "another PyTorch version or machine can change the last bits, and training amplifies them"
    )
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("sorter.npz"), help="where to write the weights")
    parser.add_argument("--compare", type=Path, help="a sorter.npz to compare the new weights with")
    parser.add_argument("--check-numpy", type=Path, help="a .py file defining a numpy gpt_forward(ids, params)")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # two threads are slower for a model this small
    test_digits = np.random.default_rng(1).integers(0, 10, size=(N_TEST, N_DIGITS))
    banned = {d.tobytes() for d in test_digits}
    rng = np.random.default_rng(0)
    model = TinyGPT()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(s, STEPS) / STEPS))
    )
    start = time.time()
    for step in range(STEPS):
        seq = torch.tensor(make_batch(rng, BATCH, banned))
        logits = model(seq[:, :-1])[:, N_DIGITS:]  # predictions of the answer digits only
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), seq[:, N_DIGITS + 1 :].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == STEPS - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - start:5.1f}s")
    model.eval()
    answers = greedy_sort(model, test_digits)
    exact = (answers == np.sort(test_digits, axis=1)).all(axis=1).mean()
    print(f"held-out prompts sorted exactly (PyTorch, greedy): {exact:.2%}")

    arrays = export(model, test_digits)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")

    # Check the export: a round trip through the file gives back the same PyTorch model.
    loaded = dict(np.load(args.out))
    ids = torch.tensor(make_batch(np.random.default_rng(2), 16, set())[:, :MAX_LEN])
    with torch.no_grad():
        expected = model(ids).numpy()
        again = load_into_torch(loaded)(ids).numpy()
    assert np.allclose(again, expected, atol=1e-5), "the exported arrays do not rebuild the same model"
    if args.check_numpy:
        check_numpy_forward(args.check_numpy, loaded, ids, expected)
    if args.compare and not compare(loaded, args.compare):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
