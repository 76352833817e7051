"""Train the tiny encoder-decoder that chapter 11 ships, and export it as translator.npz.

The model translates a number written in digits into English words:
"4 0 7" -> "four hundred seven", "1 2 0 0 1 5" -> "one hundred twenty thousand fifteen".
Numbers have 1 to 6 digits (0 to 999 999). It is PyTorch's own nn.Transformer (Post-LN
as in the 2017 paper, ReLU, dropout 0, a final LayerNorm after each stack) with token
embeddings scaled by sqrt(d_model) plus the sinusoidal encoding, so that the numpy
`seq2seq_forward` of the chapter computes exactly the same function.

Run from the repository root (PyTorch CPU, one thread, about three minutes):

    python solutions/models/train_translator.py           # train, export, check
    python solutions/models/train_translator.py --check   # only check the shipped file

Besides the weights, translator.npz holds both vocabularies ("src_vocab", "tgt_vocab"),
the special ids ("pad_id", "bos_id", "eos_id") and held-out numbers that were kept out
of every training batch ("heldout_numbers", "heldout_src" padded with pad_id,
"heldout_src_lengths", "heldout_tgt": the reference words followed by eos, padded).
The export is checked twice: the arrays are loaded back into a fresh PyTorch model and,
when the course's reference solutions are present (instructors' tree), its numpy
`seq2seq_forward` must give the same logits as PyTorch and its `greedy_translate` the
same translations.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "11-encoder-decoder" / "translator.npz"  # shipped next to the chapter notebook
REFERENCE = HERE.parent / "reference.py"  # solutions/reference.py (instructors only)

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
ONES += ["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SRC_VOCAB = ["<pad>", *"0123456789"]  # token id = index
TGT_VOCAB = ["<pad>", "<bos>", "<eos>", *ONES, *TENS[2:], "hundred", "thousand"]
PAD, BOS, EOS = 0, 1, 2  # the same pad id (0) in both vocabularies
MAX_DIGITS = 6
MAX_WORDS = 10  # "seven hundred seventy seven thousand seven hundred seventy seven"
D_MODEL, N_HEADS, N_ENC, N_DEC, D_FF = 64, 4, 2, 2, 128
STEPS, BATCH, LR, WARMUP = 4000, 128, 1e-3, 200
N_TEST = 500  # held-out numbers (4 to 6 digits), never used for training


def words_below_1000(n: int) -> list[str]:
    """English words for 1 <= n <= 999, without "and": 407 -> four hundred seven."""
    out = [ONES[n // 100], "hundred"] if n >= 100 else []
    n %= 100
    if n >= 20:
        out += [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])
    elif n:
        out += [ONES[n]]
    return out


def number_words(n: int) -> list[str]:
    """English words for 0 <= n <= 999 999: 120015 -> one hundred twenty thousand fifteen."""
    if n == 0:
        return ["zero"]
    thousands, rest = divmod(n, 1000)
    return (words_below_1000(thousands) + ["thousand"] if thousands else []) + (words_below_1000(rest) if rest else [])


def encode_pairs(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source ids (padded, (N, MAX_DIGITS)), their lengths (N,) and targets bos + words + eos (padded)."""
    src = np.full((len(numbers), MAX_DIGITS), PAD)
    tgt = np.full((len(numbers), MAX_WORDS + 2), PAD)
    lengths = np.zeros(len(numbers), dtype=np.int64)
    for row, n in enumerate(numbers):
        digits = [SRC_VOCAB.index(c) for c in str(int(n))]
        src[row, : len(digits)] = digits
        lengths[row] = len(digits)
        words = [BOS] + [TGT_VOCAB.index(w) for w in number_words(int(n))] + [EOS]
        tgt[row, : len(words)] = words
    return src, lengths, tgt


def sample_numbers(rng: np.random.Generator, size: int, min_digits: int = 1) -> np.ndarray:
    """Numbers whose digit count is uniform in [min_digits, MAX_DIGITS], then uniform among those."""
    n_digits = rng.integers(min_digits, MAX_DIGITS + 1, size=size)
    low = np.where(n_digits == 1, 0, 10 ** (n_digits - 1))
    return rng.integers(low, 10**n_digits)


def sinusoidal(n: int, d: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(the same angle)."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    angle = pos / 10000.0 ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(n, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(angle), torch.cos(angle[:, : d // 2])
    return pe.float()


class Translator(nn.Module):
    """Embeddings * sqrt(d) + sinusoidal positions, nn.Transformer (Post-LN), a linear output layer."""

    def __init__(self) -> None:
        super().__init__()
        self.src_emb = nn.Embedding(len(SRC_VOCAB), D_MODEL)
        self.tgt_emb = nn.Embedding(len(TGT_VOCAB), D_MODEL)
        self.transformer = nn.Transformer(
            D_MODEL, N_HEADS, N_ENC, N_DEC, D_FF, dropout=0.0, activation="relu", batch_first=True, norm_first=False
        )
        # Keep PyTorch's inference fast path from returning zeros at padded source positions.
        self.transformer.encoder.enable_nested_tensor = False
        self.transformer.encoder.use_nested_tensor = False
        self.out = nn.Linear(D_MODEL, len(TGT_VOCAB))
        nn.init.normal_(self.src_emb.weight, std=D_MODEL**-0.5)
        nn.init.normal_(self.tgt_emb.weight, std=D_MODEL**-0.5)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, src_lengths=None, tgt_lengths=None) -> torch.Tensor:
        n_src, n_tgt = src.shape[-1], tgt.shape[-1]
        scale = math.sqrt(D_MODEL)
        x = self.src_emb(src) * scale + sinusoidal(n_src, D_MODEL)
        y = self.tgt_emb(tgt) * scale + sinusoidal(n_tgt, D_MODEL)
        # PyTorch's boolean masks say True where attention is BLOCKED (the course: True = may attend).
        src_pad = None if src_lengths is None else torch.arange(n_src) >= src_lengths[:, None]
        tgt_pad = None if tgt_lengths is None else torch.arange(n_tgt) >= tgt_lengths[:, None]
        causal = torch.triu(torch.ones(n_tgt, n_tgt, dtype=torch.bool), diagonal=1)
        h = self.transformer(
            x,
            y,
            tgt_mask=causal,
            src_key_padding_mask=src_pad,
            tgt_key_padding_mask=tgt_pad,
            memory_key_padding_mask=src_pad,
        )
        return self.out(h)


def attn_to_flat(sd: dict, prefix: str, out: dict, name: str) -> None:
    """nn.MultiheadAttention's packed in_proj (3d, d) -> W_q, W_k, W_v (d, d) of the course (x @ W)."""
    d = D_MODEL
    w_in, b_in = sd[prefix + "in_proj_weight"], sd[prefix + "in_proj_bias"]
    for j, c in enumerate("qkv"):
        out[f"{name}.W_{c}"] = w_in[j * d : (j + 1) * d].T
        out[f"{name}.b_{c}"] = b_in[j * d : (j + 1) * d]
    out[f"{name}.W_o"] = sd[prefix + "out_proj.weight"].T
    out[f"{name}.b_o"] = sd[prefix + "out_proj.bias"]


def torch_names(i: int, stack: str) -> dict[str, str]:
    """The course's flat names of layer i -> nn.Transformer's state-dict names (non-attention arrays)."""
    p = f"transformer.{stack}.layers.{i}."
    q = f"{'encoder' if stack == 'encoder' else 'decoder'}.{i}."
    names = {q + "W_1": p + "linear1.weight", q + "b_1": p + "linear1.bias"}
    names |= {q + "W_2": p + "linear2.weight", q + "b_2": p + "linear2.bias"}
    for k in (1, 2, 3) if stack == "decoder" else (1, 2):
        names |= {q + f"ln{k}_gamma": p + f"norm{k}.weight", q + f"ln{k}_beta": p + f"norm{k}.bias"}
    return names


ATTENTION = {
    "encoder": [("attn", "self_attn.")],
    "decoder": [("self_attn", "self_attn."), ("cross_attn", "multihead_attn.")],
}
TOP = {
    "src_emb": "src_emb.weight",
    "tgt_emb": "tgt_emb.weight",
    "enc_ln_gamma": "transformer.encoder.norm.weight",
    "enc_ln_beta": "transformer.encoder.norm.bias",
    "dec_ln_gamma": "transformer.decoder.norm.weight",
    "dec_ln_beta": "transformer.decoder.norm.bias",
    "W_out": "out.weight",
    "b_out": "out.bias",
}


def export(model: Translator, heldout: np.ndarray) -> dict[str, np.ndarray]:
    """The weights in the course's layout (x @ W, W of shape (d_in, d_out)) as flat keys such as
    "decoder.1.cross_attn.W_q", with the vocabularies, special ids and held-out examples."""
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    out = {name: sd[t].T if name in ("W_out",) else sd[t] for name, t in TOP.items()}
    for stack, n_layers in (("encoder", N_ENC), ("decoder", N_DEC)):
        for i in range(n_layers):
            for name, torch_prefix in ATTENTION[stack]:
                attn_to_flat(sd, f"transformer.{stack}.layers.{i}.{torch_prefix}", out, f"{stack}.{i}.{name}")
            for name, t in torch_names(i, stack).items():
                out[name] = sd[t].T if name.rsplit(".", 1)[-1] in ("W_1", "W_2") else sd[t]
    src, lengths, tgt = encode_pairs(heldout)
    out |= {
        "n_heads": np.array(N_HEADS),
        "src_vocab": np.array(SRC_VOCAB),
        "tgt_vocab": np.array(TGT_VOCAB),
        "pad_id": np.array(PAD),
        "bos_id": np.array(BOS),
        "eos_id": np.array(EOS),
        "heldout_numbers": heldout.astype(np.int64),
        "heldout_src": src.astype(np.int64),
        "heldout_src_lengths": lengths,
        "heldout_tgt": tgt[:, 1:].astype(np.int64),  # the words and eos, without bos
    }
    return {k: np.array(v, order="C") for k, v in out.items()}  # (keeps the 0-d arrays 0-d)


def load_into_torch(arrays) -> Translator:
    """A fresh Translator holding the exported arrays (the inverse of `export`)."""
    model = Translator()
    d = D_MODEL
    sd = {t: arrays[name].T if name == "W_out" else arrays[name] for name, t in TOP.items()}
    for stack, n_layers in (("encoder", N_ENC), ("decoder", N_DEC)):
        for i in range(n_layers):
            for name, torch_prefix in ATTENTION[stack]:
                p, q = f"transformer.{stack}.layers.{i}.{torch_prefix}", f"{stack}.{i}.{name}."
                sd[p + "in_proj_weight"] = np.concatenate([arrays[f"{q}W_{c}"].T for c in "qkv"])
                sd[p + "in_proj_bias"] = np.concatenate([arrays[f"{q}b_{c}"] for c in "qkv"])
                sd[p + "out_proj.weight"] = arrays[q + "W_o"].T
                sd[p + "out_proj.bias"] = arrays[q + "b_o"]
                assert sd[p + "in_proj_weight"].shape == (3 * d, d)
            for name, t in torch_names(i, stack).items():
                sd[t] = arrays[name].T if name.rsplit(".", 1)[-1] in ("W_1", "W_2") else arrays[name]
    model.load_state_dict({k: torch.tensor(np.array(v)) for k, v in sd.items()})
    return model.eval()


SPECIAL = ("n_heads", "src_vocab", "tgt_vocab", "pad_id", "bos_id", "eos_id")


def nested(arrays) -> dict:
    """Flat keys -> the nested params dict of `seq2seq_forward` (as the notebook's loader does)."""
    params: dict = {"encoder": [], "decoder": []}
    for key in arrays:
        value = arrays[key]
        if key.startswith("heldout") or key in SPECIAL[1:]:
            continue
        if key == "n_heads":
            params[key] = int(value)
        elif key.startswith(("encoder.", "decoder.")):
            stack, i, *rest = key.split(".")
            while len(params[stack]) <= int(i):
                params[stack].append({})
            layer = params[stack][int(i)]
            if len(rest) == 2:  # an attention array: "attn.W_q", "cross_attn.b_o", ...
                layer.setdefault(rest[0], {})[rest[1]] = value
            else:
                layer[rest[0]] = value
        else:
            params[key] = value
    return params


@torch.no_grad()
def greedy(model: Translator, src: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Greedy decoding for a batch of padded sources: (N, MAX_WORDS + 1) ids, PAD after the first EOS."""
    src_t, len_t = torch.tensor(src), torch.tensor(lengths)
    tgt = torch.full((len(src), 1), BOS)
    for _ in range(MAX_WORDS + 1):
        logits = model(src_t, tgt, src_lengths=len_t)[:, -1]
        tgt = torch.cat([tgt, logits.argmax(-1, keepdim=True)], dim=1)
    out = tgt[:, 1:].numpy()
    after_eos = np.cumsum(out == EOS, axis=1) - (out == EOS) > 0
    return np.where(after_eos, PAD, out)


def exact_match(model: Translator, heldout: np.ndarray) -> float:
    src, lengths, tgt = encode_pairs(heldout)
    return float((greedy(model, src, lengths) == tgt[:, 1:]).all(axis=1).mean())


def check(model: Translator | None = None) -> None:
    """Round trip through the file; then the course's numpy reference against PyTorch."""
    loaded = dict(np.load(OUT))
    again = load_into_torch(loaded)
    numbers = sample_numbers(np.random.default_rng(2), 16)
    src, lengths, tgt = encode_pairs(numbers)
    tgt_lengths = (tgt != PAD).sum(axis=1) - 1  # bos + words (the decoder's input)
    args = (torch.tensor(src), torch.tensor(tgt[:, :-1]), torch.tensor(lengths), torch.tensor(tgt_lengths))
    with torch.no_grad():
        expected = again(*args).numpy()
        if model is not None:
            assert np.allclose(model(*args).numpy(), expected, atol=1e-5), "the export does not rebuild the model"
    valid = np.arange(tgt.shape[1] - 1) < tgt_lengths[:, None]  # PyTorch gives NaN nowhere, but compare valid rows
    print(f"held-out exact match (PyTorch, greedy): {exact_match(again, loaded['heldout_numbers']):.2%}")
    if not REFERENCE.exists():
        print("solutions/reference.py not found: skipped the check against the numpy seq2seq_forward")
        return
    spec = importlib.util.spec_from_file_location("course_reference", REFERENCE)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    if not hasattr(ref, "seq2seq_forward"):
        print("reference.py has no seq2seq_forward yet: skipped the numpy check")
        return
    params = nested(loaded)
    ours = ref.seq2seq_forward(src, tgt[:, :-1], params, src_lengths=lengths, tgt_lengths=tgt_lengths)
    gap = np.abs(ours - expected)[valid].max()
    assert gap < 1e-4, f"numpy seq2seq_forward differs from PyTorch by {gap}"
    print(f"numpy seq2seq_forward matches PyTorch (largest difference {gap:.1e})")
    hs, hl = loaded["heldout_src"], loaded["heldout_src_lengths"]
    torch_out = greedy(again, hs, hl)
    agree = 0
    for row in range(len(hs)):
        mine = ref.greedy_translate(params, hs[row, : hl[row]], BOS, EOS, MAX_WORDS + 1)
        theirs = torch_out[row][: len(mine)]
        agree += len(mine) == (theirs != PAD).sum() and bool((mine == theirs).all())
    print(f"numpy greedy_translate agrees with PyTorch on {agree}/{len(hs)} held-out numbers")
    correct = sum(
        list(ref.greedy_translate(params, hs[r, : hl[r]], BOS, EOS, MAX_WORDS + 1))
        == [t for t in loaded["heldout_tgt"][r] if t != PAD]
        for r in range(len(hs))
    )
    print(f"held-out exact match (numpy greedy_translate): {correct}/{len(hs)} = {correct / len(hs):.2%}")


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # the model is tiny; one thread leaves the other core free
    heldout = sample_numbers(np.random.default_rng(1), N_TEST, min_digits=4)
    banned = set(heldout.tolist())
    rng = np.random.default_rng(0)
    model = Translator()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / WARMUP) * 0.5 * (1 + math.cos(math.pi * min(s, STEPS) / STEPS))
    )
    start = time.time()
    for step in range(STEPS):
        numbers = sample_numbers(rng, BATCH)
        numbers = numbers[[n not in banned for n in numbers.tolist()]]
        src, lengths, tgt = encode_pairs(numbers)
        tgt_lengths = (tgt != PAD).sum(axis=1) - 1
        src_t, tgt_t = torch.tensor(src), torch.tensor(tgt)
        logits = model(src_t, tgt_t[:, :-1], torch.tensor(lengths), torch.tensor(tgt_lengths))
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), tgt_t[:, 1:].reshape(-1), ignore_index=PAD
        )
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 250 == 0 or step == STEPS - 1:
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - start:5.1f}s", flush=True)
    model.eval()
    print(f"held-out numbers translated exactly (PyTorch, greedy): {exact_match(model, heldout):.2%}")
    np.savez_compressed(OUT, **export(model, heldout))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB)")
    check(model)


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        torch.set_num_threads(1)
        check()
    else:
        main()
