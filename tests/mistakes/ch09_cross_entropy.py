"""Chapter 09: next-token shift, log-softmax, cross-entropy, its gradient, perplexity."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "09-cross-entropy"

MISTAKES = [
    # --- shift_for_next_token ---
    Mistake(
        "shift_for_next_token",
        "unshifted_targets",
        "uses the input tokens themselves as targets (no shift), so the model learns to copy",
        """def shift_for_next_token(ids):
    ids = np.asarray(ids)
    return ids[..., :-1], ids[..., :-1]
""",
        ("unshifted", "not shifted"),
    ),
    Mistake(
        "shift_for_next_token",
        "shifts_batch_axis",
        "shifts along the first axis, which for a batch (batch, seq_len) is the batch axis",
        """def shift_for_next_token(ids):
    ids = np.asarray(ids)
    return ids[:-1], ids[1:]
""",
        ("batch axis", "first axis", "last axis"),
    ),
    Mistake(
        "shift_for_next_token",
        "swapped",
        "returns (targets, inputs)",
        """def shift_for_next_token(ids):
    ids = np.asarray(ids)
    return ids[..., 1:], ids[..., :-1]
""",
        ("swapped",),
    ),
    # --- log_softmax ---
    Mistake(
        "log_softmax",
        "no_max_subtraction",
        "computes z - log(sum(exp(z))) without subtracting the maximum: exp(1e4) overflows",
        """def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=float)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
""",
        ("overflow", "subtract the maximum"),
    ),
    Mistake(
        "log_softmax",
        "log_of_softmax",
        "takes the log of a (stable) softmax: probabilities that underflow to 0 give log(0) = -inf",
        """def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    s = e.sum(axis=axis, keepdims=True)
    p = np.divide(e, s, out=np.zeros_like(e), where=s > 0)
    return np.log(p)
""",
        ("log of the softmax", "log(0)", "underflow"),
    ),
    Mistake(
        "log_softmax",
        "ignores_axis",
        "always normalises over the last axis, whatever `axis` says",
        """def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=float)
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    total = np.exp(x - m).sum(axis=-1, keepdims=True)
    return x - m - np.log(total, out=np.zeros_like(total), where=total > 0)
""",
        ("axis",),
    ),
    Mistake(
        "log_softmax",
        "no_log_sum_exp",
        "subtracts the maximum but forgets the log of the sum of exponentials",
        """def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=float)
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0.0)
""",
        ("log-sum-exp", "sum to 1"),
    ),
    Mistake(
        "log_softmax",
        "nan_on_all_inf",
        "stable for finite logits, but an all -inf slice gives nan (-inf - (-inf))",
        """def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=float)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
""",
        ("nan", "-inf"),
    ),
    # --- cross_entropy ---
    Mistake(
        "cross_entropy",
        "mean_includes_ignored",
        "leaves ignored positions out of the sum but still divides by every position",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    safe = np.where(keep, targets, 0)
    picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
    return float(-np.where(keep, picked, 0.0).sum() / targets.size)
""",
        ("including the ignored", "all positions", "all 3 positions"),
    ),
    Mistake(
        "cross_entropy",
        "sum_not_mean",
        "sums the surprises instead of averaging them",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    safe = np.where(keep, targets, 0)
    picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
    return float(-picked[keep].sum())
""",
        ("summed", "mean"),
    ),
    Mistake(
        "cross_entropy",
        "ignores_ignore_index",
        "never looks at ignore_index: padded positions are scored (or -100 is used as a token id)",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean())
""",
        ("ignore_index", "-100"),
    ),
    Mistake(
        "cross_entropy",
        "arange_index_2d_only",
        "picks the targets with log_p[np.arange(len(targets)), targets], which only works for 2-D logits",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    if not keep.any():
        return 0.0
    picked = log_p[np.arange(len(targets)), np.where(keep, targets, 0)]
    return float(-picked[keep].sum() / keep.sum())
""",
        ("flatten", "take_along_axis"),
    ),
    Mistake(
        "cross_entropy",
        "divides_by_len_targets",
        "divides the summed surprise by len(targets), the batch size, not the number of positions",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    if not keep.any():
        return 0.0
    one_hot = (np.arange(log_p.shape[-1]) == targets[..., None]) & keep[..., None]
    return float(-np.where(one_hot, log_p, 0.0).sum() / len(targets))
""",
        ("batch size",),
    ),
    Mistake(
        "cross_entropy",
        "nan_when_nothing_counts",
        "takes the mean of an empty selection when every target is ignored: nan and a warning",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits, axis=-1)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    safe = np.where(keep, targets, 0)
    picked = np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
    return float(-picked[keep].mean())
""",
        ("nan", "0.0"),
    ),
    Mistake(
        "cross_entropy",
        "inline_log_of_naive_softmax",
        "writes its own softmax without the maximum and takes its log: logits of 1e4 overflow",
        """def cross_entropy(logits, targets, ignore_index=None):
    logits = np.asarray(logits, dtype=float)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    if not keep.any():
        return 0.0
    e = np.exp(logits)
    p = e / e.sum(axis=-1, keepdims=True)
    picked = np.take_along_axis(p, np.where(keep, targets, 0)[..., None], axis=-1)[..., 0]
    return float(-np.log(picked[keep]).mean())
""",
        ("overflow", "log_softmax"),
    ),
    # --- cross_entropy_grad ---
    Mistake(
        "cross_entropy_grad",
        "not_divided_by_count",
        "returns softmax - one-hot without dividing by the number of counted positions",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    p = np.exp(log_softmax(logits, axis=-1))
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    one_hot = np.arange(p.shape[-1]) == targets[..., None]
    return np.where(keep[..., None], p - one_hot, 0.0)
""",
        ("divide by the number", "mean"),
    ),
    Mistake(
        "cross_entropy_grad",
        "ignored_rows_not_zeroed",
        "divides by the counted positions but leaves softmax - one-hot in the ignored rows",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    p = np.exp(log_softmax(logits, axis=-1))
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    one_hot = np.arange(p.shape[-1]) == targets[..., None]
    return (p - one_hot) / max(int(keep.sum()), 1)
""",
        ("not zero", "zero gradient"),
    ),
    Mistake(
        "cross_entropy_grad",
        "wrong_sign",
        "returns one-hot - softmax",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    p = np.exp(log_softmax(logits, axis=-1))
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    one_hot = np.arange(p.shape[-1]) == targets[..., None]
    return np.where(keep[..., None], one_hot - p, 0.0) / max(int(keep.sum()), 1)
""",
        ("sign",),
    ),
    Mistake(
        "cross_entropy_grad",
        "divides_by_all_positions",
        "zeroes the ignored rows but divides by every position, ignored ones included",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    p = np.exp(log_softmax(logits, axis=-1))
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    one_hot = np.arange(p.shape[-1]) == targets[..., None]
    return np.where(keep[..., None], p - one_hot, 0.0) / targets.size
""",
        ("including the ignored", "all 3 positions", "all positions"),
    ),
    Mistake(
        "cross_entropy_grad",
        "grad_nan_when_nothing_counts",
        "divides by a count of zero when every target is ignored: 0 / 0 = nan",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    p = np.exp(log_softmax(logits, axis=-1))
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    one_hot = np.arange(p.shape[-1]) == targets[..., None]
    return np.where(keep[..., None], p - one_hot, 0.0) / keep.sum()
""",
        ("nan", "all zeros"),
    ),
    # --- perplexity ---
    Mistake(
        "perplexity",
        "exp_of_sum",
        "exponentiates the summed loss instead of the mean",
        """def perplexity(logits, targets, ignore_index=None):
    targets = np.asarray(targets)
    n = targets.size if ignore_index is None else int((targets != ignore_index).sum())
    return float(np.exp(cross_entropy(logits, targets, ignore_index) * n))
""",
        ("summed loss",),
    ),
    Mistake(
        "perplexity",
        "base_2",
        "uses 2 ** loss although the loss is in nats",
        """def perplexity(logits, targets, ignore_index=None):
    return float(2.0 ** cross_entropy(logits, targets, ignore_index))
""",
        ("2 ** loss", "nats"),
    ),
    Mistake(
        "perplexity",
        "drops_ignore_index",
        "does not pass ignore_index on to cross_entropy",
        """def perplexity(logits, targets, ignore_index=None):
    return float(np.exp(cross_entropy(logits, targets)))
""",
        ("ignore_index",),
    ),
    Mistake(
        "perplexity",
        "zero_when_nothing_counts",
        "special-cases 'no counted position' as 0.0 instead of exp(0) = 1.0",
        """def perplexity(logits, targets, ignore_index=None):
    targets = np.asarray(targets)
    if ignore_index is not None and np.all(targets == ignore_index):
        return 0.0
    return float(np.exp(cross_entropy(logits, targets, ignore_index)))
""",
        ("exp(0) = 1",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "shift_for_next_token",
        "take_and_tuple",
        """def shift_for_next_token(ids):
    ids = np.array(ids)
    n = ids.shape[-1]
    inputs = np.take(ids, np.arange(n - 1), axis=-1)
    targets = np.take(ids, np.arange(1, n), axis=-1)
    return (inputs, targets)
""",
    ),
    Alternative(
        "log_softmax",
        "logaddexp_moveaxis",
        """def log_softmax(logits, axis=-1):
    x = np.moveaxis(np.asarray(logits, dtype=np.float64), axis, -1)
    lse = np.logaddexp.reduce(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore"):
        out = np.where(np.isneginf(lse), -np.inf, x - lse)
    return np.moveaxis(out, -1, axis)
""",
    ),
    Alternative(
        "log_softmax",
        "float32_throughout",
        """def log_softmax(logits, axis=-1):
    x = np.asarray(logits, dtype=np.float32)
    m = x.max(axis=axis, keepdims=True)
    m[~np.isfinite(m)] = 0
    shifted = x - m
    total = np.exp(shifted).sum(axis=axis, keepdims=True)
    safe = np.where(total > 0, total, np.float32(1))
    return np.where(total > 0, shifted - np.log(safe), np.float32(-np.inf))
""",
    ),
    Alternative(
        "cross_entropy",
        "flatten_and_loop",
        """def cross_entropy(logits, targets, ignore_index=None):
    logits = np.asarray(logits)
    log_p = log_softmax(logits.reshape(-1, logits.shape[-1]))
    total, count = 0.0, 0
    for row, t in zip(log_p, np.asarray(targets).reshape(-1)):
        if ignore_index is not None and t == ignore_index:
            continue
        total -= row[t]
        count += 1
    return total / count if count else 0.0
""",
    ),
    Alternative(
        "cross_entropy",
        "one_hot_einsum",
        """def cross_entropy(logits, targets, ignore_index=None):
    log_p = log_softmax(logits)
    targets = np.asarray(targets)
    keep = (targets != ignore_index) if ignore_index is not None else np.full(targets.shape, True)
    one_hot = (targets[..., None] == np.arange(log_p.shape[-1])) & keep[..., None]
    n = keep.sum()
    if n == 0:
        return 0.0
    return float(-np.einsum("...v,...v", one_hot.astype(float), np.where(one_hot, log_p, 0.0)).sum() / n)
""",
    ),
    Alternative(
        "cross_entropy_grad",
        "put_along_axis",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    logits = np.asarray(logits, dtype=float)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, bool) if ignore_index is None else targets != ignore_index
    shifted = logits - logits.max(axis=-1, keepdims=True)
    grad = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    idx = np.where(keep, targets, 0)[..., None]
    np.put_along_axis(grad, idx, np.take_along_axis(grad, idx, axis=-1) - 1.0, axis=-1)
    grad[~keep] = 0.0
    return grad / max(keep.sum(), 1)
""",
    ),
    Alternative(
        "cross_entropy_grad",
        "loops",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    logits = np.asarray(logits)
    targets = np.asarray(targets)
    grad = np.zeros(logits.shape)
    counted = [i for i in np.ndindex(*targets.shape) if ignore_index is None or targets[i] != ignore_index]
    for i in counted:
        p = np.exp(log_softmax(logits[i]))
        p[targets[i]] -= 1.0
        grad[i] = p / len(counted)
    return grad
""",
    ),
    Alternative(
        "perplexity",
        "geometric_mean",
        """def perplexity(logits, targets, ignore_index=None):
    log_p = log_softmax(logits)
    targets = np.asarray(targets)
    keep = np.ones(targets.shape, bool) if ignore_index is None else targets != ignore_index
    if not keep.any():
        return 1.0
    picked = np.take_along_axis(log_p, np.where(keep, targets, 0)[..., None], axis=-1)[..., 0][keep]
    return math.exp(-math.fsum(picked) / len(picked))
""",
    ),
    Alternative(
        "perplexity",
        "math_exp",
        """def perplexity(logits, targets, ignore_index=None):
    return math.exp(cross_entropy(logits, targets, ignore_index=ignore_index))
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "shift_for_next_token",
        "shift_identity",
        "returns ids as both inputs and targets",
        "def shift_for_next_token(ids):\n    return ids, ids\n",
    ),
    Degenerate(
        "shift_for_next_token",
        "shift_zeros",
        "zeros of the right shapes",
        """def shift_for_next_token(ids):
    ids = np.asarray(ids)
    return np.zeros_like(ids[..., :-1]), np.zeros_like(ids[..., 1:])
""",
    ),
    Degenerate(
        "log_softmax",
        "log_softmax_zeros",
        "zeros of the right shape",
        "def log_softmax(logits, axis=-1):\n    return np.zeros(np.shape(logits))\n",
    ),
    Degenerate(
        "log_softmax",
        "log_softmax_uniform",
        "-log(n) everywhere: the log-probabilities of a uniform distribution (ignores the logits)",
        """def log_softmax(logits, axis=-1):
    logits = np.asarray(logits, dtype=float)
    return np.full(logits.shape, -np.log(logits.shape[axis]))
""",
    ),
    Degenerate(
        "log_softmax",
        "log_softmax_identity",
        "returns the logits unchanged",
        "def log_softmax(logits, axis=-1):\n    return logits\n",
    ),
    Degenerate(
        "cross_entropy",
        "cross_entropy_zero",
        "returns 0.0",
        "def cross_entropy(logits, targets, ignore_index=None):\n    return 0.0\n",
    ),
    Degenerate(
        "cross_entropy",
        "cross_entropy_uniform",
        "returns log(vocab): the loss of a uniform prediction (ignores logits and targets)",
        """def cross_entropy(logits, targets, ignore_index=None):
    return float(np.log(np.shape(logits)[-1]))
""",
    ),
    Degenerate(
        "cross_entropy_grad",
        "cross_entropy_grad_zeros",
        "zeros of the shape of the logits",
        "def cross_entropy_grad(logits, targets, ignore_index=None):\n    return np.zeros(np.shape(logits))\n",
    ),
    Degenerate(
        "cross_entropy_grad",
        "cross_entropy_grad_ignores_targets",
        "softmax / N, ignoring the targets (and ignore_index)",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    logits = np.asarray(logits, dtype=float)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return p / max(1, int(np.prod(logits.shape[:-1])))
""",
    ),
    Degenerate(
        "perplexity",
        "perplexity_one",
        "returns 1.0",
        "def perplexity(logits, targets, ignore_index=None):\n    return 1.0\n",
    ),
    Degenerate(
        "perplexity",
        "perplexity_vocab",
        "returns the vocabulary size: the perplexity of a uniform prediction",
        "def perplexity(logits, targets, ignore_index=None):\n    return float(np.shape(logits)[-1])\n",
    ),
]

MISTAKES += [
    Mistake(
        "cross_entropy_grad",
        "grad_no_max_subtraction",
        "exponentiates the raw logits for the softmax: inf / inf = NaN for logits of 1e4",
        """def cross_entropy_grad(logits, targets, ignore_index=None):
    logits, targets = np.asarray(logits, dtype=float), np.asarray(targets)
    e = np.exp(logits)
    p = e / e.sum(axis=-1, keepdims=True)
    keep = np.ones(targets.shape, dtype=bool) if ignore_index is None else targets != ignore_index
    onehot = np.arange(logits.shape[-1]) == targets[..., None]
    n = keep.sum()
    if n == 0:
        return np.zeros_like(logits)
    return (p - onehot) * keep[..., None] / n
""",
        ("overflow", "maximum"),
    ),
]
