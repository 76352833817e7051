"""Put three textbook claims to the test with chapter 13's trainer, and store the loss curves.

Each experiment trains small GPTs on chapter 10's sorting task ("3 1 4 1 5 9 2 6 =" ->
"1 1 2 3 4 5 6 9") from several random initialisations, with the course's reference
`clip_grad_norm`, `lr_schedule` and `adamw_step`, and gradients assembled from chapter
12's reference backward functions exactly as `gpt_loss_and_grads` does, except for the
one switch the experiment turns:

- scale:    attention scores divided by sqrt(d_k), or not, at d_k = 64 (one head of 64);
- norm:     Pre-LN or Post-LN blocks, with a linear warm-up or none, six blocks deep,
            at a peak learning rate of 3e-3 and again at 1e-2 (norm_high_lr);
- residual: six Pre-LN blocks with or without their residual connections.

Run from the repository root (numpy only; about ten minutes on two cores with the
defaults, proportionally less with --seeds 1 or fewer --steps):

    python solutions/models/claims.py [--seeds 3] [--steps 300]

The curves go to solutions/models/training_runs.npz (other keys kept); chapter 13's figures are drawn
from that file (see solutions/13-training/figure_data.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "training_runs.npz"  # read by solutions/13-training/figure_data.py at release
REFERENCE = HERE.parent / "reference.py"

N_DIGITS, SEP, VOCAB, MAX_LEN = 8, 10, 11, 16  # the sorting task of chapter 10
IGNORE = -100

EXPERIMENTS = {
    # name: (architecture switches, model size, optimiser settings)
    "scale": {
        "variants": {"scaled": dict(scale=True), "unscaled": dict(scale=False)},
        "model": dict(d_model=64, n_heads=1, n_layers=2, d_ff=128),
        "train": dict(max_lr=3e-3, warmup_steps=30, max_norm=1.0),
    },
    "norm": {
        "variants": {
            "pre_ln_warmup": dict(norm_first=True, warmup=True),
            "pre_ln_no_warmup": dict(norm_first=True, warmup=False),
            "post_ln_warmup": dict(norm_first=False, warmup=True),
            "post_ln_no_warmup": dict(norm_first=False, warmup=False),
        },
        "model": dict(d_model=32, n_heads=2, n_layers=6, d_ff=64),
        "train": dict(max_lr=3e-3, warmup_steps=60, max_norm=None),
    },
    "norm_high_lr": {  # the same four arrangements with a learning rate three times larger
        "variants": {
            "pre_ln_warmup": dict(norm_first=True, warmup=True),
            "pre_ln_no_warmup": dict(norm_first=True, warmup=False),
            "post_ln_warmup": dict(norm_first=False, warmup=True),
            "post_ln_no_warmup": dict(norm_first=False, warmup=False),
        },
        "model": dict(d_model=32, n_heads=2, n_layers=6, d_ff=64),
        "train": dict(max_lr=1e-2, warmup_steps=60, max_norm=None),
    },
    "residual": {
        "variants": {"residual": dict(residual=True), "no_residual": dict(residual=False)},
        "model": dict(d_model=32, n_heads=2, n_layers=6, d_ff=64),
        "train": dict(max_lr=3e-3, warmup_steps=30, max_norm=1.0),
    },
}


def load_reference(path: Path):
    spec = importlib.util.spec_from_file_location("course_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def init_gpt(rng, d_model, n_heads, n_layers, d_ff, vocab=VOCAB, max_len=MAX_LEN):
    """The same initialisation as the chapter's notebook: weights N(0, 1/d_in), zero biases, unit gammas."""

    def w(d_in, d_out):
        return (rng.normal(size=(d_in, d_out)) / math.sqrt(d_in)).astype(np.float32)

    def zeros(n):
        return np.zeros(n, dtype=np.float32)

    blocks = []
    for _ in range(n_layers):
        attn = {}
        for name in "qkvo":
            attn[f"W_{name}"], attn[f"b_{name}"] = w(d_model, d_model), zeros(d_model)
        blocks.append(
            {
                "attn": attn,
                "ln1_gamma": np.ones(d_model, np.float32),
                "ln1_beta": zeros(d_model),
                "ln2_gamma": np.ones(d_model, np.float32),
                "ln2_beta": zeros(d_model),
                "W_1": w(d_model, d_ff),
                "b_1": zeros(d_ff),
                "W_2": w(d_ff, d_model),
                "b_2": zeros(d_model),
            }
        )
    return {
        "tok_emb": (0.1 * rng.normal(size=(vocab, d_model))).astype(np.float32),
        "pos_emb": (0.02 * rng.normal(size=(max_len, d_model))).astype(np.float32),
        "blocks": blocks,
        "n_heads": n_heads,
        "ln_f_gamma": np.ones(d_model, np.float32),
        "ln_f_beta": zeros(d_model),
    }


def make_batch(rng, size, banned):
    digits = rng.integers(0, 10, size=(size, N_DIGITS))
    digits = digits[np.array([d.tobytes() not in banned for d in digits])]
    return np.concatenate([digits, np.full((len(digits), 1), SEP), np.sort(digits, axis=1)], axis=1)


class Variant:
    """gpt_loss_and_grads with three switches, from the reference's forward and backward pieces."""

    def __init__(self, ref, scale=True, norm_first=True, residual=True):
        self.ref, self.scale, self.norm_first, self.residual = ref, scale, norm_first, residual

    def _attn(self, h, a, n_heads, mask):
        r = self.ref
        Q = r.split_heads(h @ a["W_q"] + a["b_q"], n_heads)  # (b, heads, n, d_head)
        K = r.split_heads(h @ a["W_k"] + a["b_k"], n_heads)
        V = r.split_heads(h @ a["W_v"] + a["b_v"], n_heads)
        # Without the scale, softmax(Q Kᵀ) is scaled attention on Q * sqrt(d_k).
        boost = 1.0 if self.scale else math.sqrt(Q.shape[-1])
        heads, _ = r.scaled_dot_product_attention(Q * boost, K, V, mask)
        merged = r.merge_heads(heads)
        return merged @ a["W_o"] + a["b_o"], (h, Q * boost, K, V, merged, boost)

    def _attn_backward(self, cache, a, n_heads, mask, grad_out):
        r = self.ref
        h, Qb, K, V, merged, boost = cache
        g = {}
        grad_merged, g["W_o"], g["b_o"] = r.linear_backward(merged, a["W_o"], grad_out)
        gQ, gK, gV = r.attention_backward(Qb, K, V, r.split_heads(grad_merged, n_heads), mask)
        grad_h = 0.0
        for name, gp in (("q", gQ * boost), ("k", gK), ("v", gV)):
            gx, g[f"W_{name}"], g[f"b_{name}"] = r.linear_backward(h, a[f"W_{name}"], r.merge_heads(gp))
            grad_h = grad_h + gx
        return grad_h, g

    def forward(self, ids, params, keep=False):
        r = self.ref
        n = ids.shape[-1]
        mask = r.causal_mask(n)
        x = params["tok_emb"][ids] + params["pos_emb"][:n]
        caches = []
        for b in params["blocks"]:
            c = {"x": x}
            if self.norm_first:
                h = r.layer_norm(x, b["ln1_gamma"], b["ln1_beta"])
                att, c["attn"] = self._attn(h, b["attn"], params["n_heads"], mask)
                mid = x + att if self.residual else att
                h2 = r.layer_norm(mid, b["ln2_gamma"], b["ln2_beta"])
                ff = r.feed_forward(h2, b["W_1"], b["b_1"], b["W_2"], b["b_2"])
                out = mid + ff if self.residual else ff
                c.update(mid=mid, h2=h2)
            else:
                att, c["attn"] = self._attn(x, b["attn"], params["n_heads"], mask)
                s1 = x + att
                mid = r.layer_norm(s1, b["ln1_gamma"], b["ln1_beta"])
                s2 = mid + r.feed_forward(mid, b["W_1"], b["b_1"], b["W_2"], b["b_2"])
                out = r.layer_norm(s2, b["ln2_gamma"], b["ln2_beta"])
                c.update(s1=s1, mid=mid, s2=s2)
            caches.append(c)
            x = out
        h_f = r.layer_norm(x, params["ln_f_gamma"], params["ln_f_beta"])
        logits = h_f @ params["tok_emb"].T
        return (logits, x, h_f, caches, mask) if keep else logits

    def loss_and_grads(self, ids, targets, params):
        r = self.ref
        logits, x, h_f, caches, mask = self.forward(ids, params, keep=True)
        loss = r.cross_entropy(logits, targets, IGNORE)
        gl = r.cross_entropy_grad(logits, targets, IGNORE).astype(np.float32)
        V, d = params["tok_emb"].shape
        grads = {"blocks": [None] * len(caches)}
        tok_out = gl.reshape(-1, V).T @ h_f.reshape(-1, d)
        gx, grads["ln_f_gamma"], grads["ln_f_beta"] = r.layer_norm_backward(
            x, params["ln_f_gamma"], gl @ params["tok_emb"]
        )
        for i in reversed(range(len(caches))):
            b, c, g = params["blocks"][i], caches[i], {}
            nh = params["n_heads"]
            if self.norm_first:
                ffg = r.feed_forward_backward(c["h2"], b["W_1"], b["b_1"], b["W_2"], b["b_2"], gx)
                gh2, g["ln2_gamma"], g["ln2_beta"] = r.layer_norm_backward(c["mid"], b["ln2_gamma"], ffg["x"])
                gmid = (gx if self.residual else 0.0) + gh2
                gh, g["attn"] = self._attn_backward(c["attn"], b["attn"], nh, mask, gmid)
                gxl, g["ln1_gamma"], g["ln1_beta"] = r.layer_norm_backward(c["x"], b["ln1_gamma"], gh)
                gx = (gmid if self.residual else 0.0) + gxl
            else:
                gs2, g["ln2_gamma"], g["ln2_beta"] = r.layer_norm_backward(c["s2"], b["ln2_gamma"], gx)
                ffg = r.feed_forward_backward(c["mid"], b["W_1"], b["b_1"], b["W_2"], b["b_2"], gs2)
                gmid = gs2 + ffg["x"]
                gs1, g["ln1_gamma"], g["ln1_beta"] = r.layer_norm_backward(c["s1"], b["ln1_gamma"], gmid)
                gh, g["attn"] = self._attn_backward(c["attn"], b["attn"], nh, mask, gs1)
                gx = gs1 + gh
            for k in ("W_1", "b_1", "W_2", "b_2"):
                g[k] = ffg[k]
            grads["blocks"][i] = g
        grads["tok_emb"] = tok_out + r.embedding_backward(ids, gx, V)
        gp = np.zeros_like(params["pos_emb"])
        gp[: ids.shape[-1]] = gx.reshape(-1, ids.shape[-1], d).sum(axis=0)
        grads["pos_emb"] = gp
        return float(loss), grads


def as_float32(tree):
    if isinstance(tree, dict):
        return {k: as_float32(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [as_float32(v) for v in tree]
    return tree.astype(np.float32) if isinstance(tree, np.ndarray) else tree


def exact_match(variant, params, digits):
    ids = np.concatenate([digits, np.full((len(digits), 1), SEP)], axis=1)
    for _ in range(N_DIGITS):
        logits = variant.forward(ids[:, -MAX_LEN:], params)[:, -1]
        ids = np.concatenate([ids, logits.argmax(-1)[:, None]], axis=1)
    return float((ids[:, N_DIGITS + 1 :] == np.sort(digits, axis=1)).all(axis=1).mean())


def train(ref, switches, model, opt, seed, steps, batch, test_digits, banned):
    """Loss per step, gradient norm per step and final held-out exact match of one run."""
    switches = dict(switches)
    warmup = switches.pop("warmup", True)
    variant = Variant(ref, **switches)
    params = init_gpt(np.random.default_rng(seed), **model)
    rng = np.random.default_rng(10_000 + seed)
    state, losses, norms = None, [], []
    warmup_steps = opt["warmup_steps"] if warmup else 0
    for step in range(steps):
        seq = make_batch(rng, batch, banned)
        ids, targets = seq[:, :-1], seq[:, 1:].copy()
        targets[:, :N_DIGITS] = IGNORE  # the loss counts the answer only
        loss, grads = variant.loss_and_grads(ids, targets, params)
        clipped, norm = ref.clip_grad_norm(grads, opt["max_norm"] if opt["max_norm"] else math.inf)
        lr = ref.lr_schedule(step, opt["max_lr"], warmup_steps, steps)
        params, state = ref.adamw_step(params, clipped, state, lr, weight_decay=0.01)
        params = as_float32(params)
        losses.append(loss if math.isfinite(loss) else np.nan)
        norms.append(norm)
    return np.array(losses), np.array(norms), exact_match(variant, params, test_digits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--only", choices=sorted(EXPERIMENTS), nargs="*")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    ref = load_reference(args.reference)
    test_digits = np.random.default_rng(1).integers(0, 10, size=(500, N_DIGITS))
    banned = {d.tobytes() for d in test_digits}
    results: dict[str, np.ndarray] = {}
    if args.out.exists():
        results.update(np.load(args.out))
    for name in args.only or EXPERIMENTS:
        exp = EXPERIMENTS[name]
        for label, switches in exp["variants"].items():
            runs = []
            for seed in range(args.seeds):
                start = time.time()
                runs.append(
                    train(ref, switches, exp["model"], exp["train"], seed, args.steps, args.batch, test_digits, banned)
                )
                losses = runs[-1][0]
                print(
                    f"{name}/{label} seed {seed}: final loss {np.nanmean(losses[-20:]):.3f}, "
                    f"exact {runs[-1][2]:.1%}, {time.time() - start:.0f}s",
                    flush=True,
                )
            results[f"{name}.{label}.loss"] = np.stack([r[0] for r in runs])  # (seeds, steps)
            results[f"{name}.{label}.grad_norm"] = np.stack([r[1] for r in runs])  # (seeds, steps)
            results[f"{name}.{label}.exact"] = np.array([r[2] for r in runs])  # (seeds,)
        results["settings"] = np.array(f"seeds={args.seeds} steps={args.steps} batch={args.batch}")
        np.savez_compressed(args.out, **results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
