"""Chapter 04: causal masks, padding masks and additive masks."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "04-masking"

MISTAKES = [
    Mistake(
        "causal_mask",
        "strictly_below_diagonal",
        "excludes the diagonal (k=-1), so a token may not attend to itself and the first row is empty",
        """def causal_mask(n):
    return np.tril(np.ones((n, n), dtype=bool), k=-1)
""",
        ("diagonal",),
    ),
    Mistake(
        "causal_mask",
        "pytorch_polarity",
        "marks the blocked future keys with True (PyTorch's boolean attn_mask convention)",
        """def causal_mask(n):
    return np.triu(np.ones((n, n), dtype=bool), k=1)
""",
        ("polarity", "opposite convention", "true = may attend"),
    ),
    Mistake(
        "causal_mask",
        "upper_triangle",
        "returns the upper triangle (j >= i): each query sees the future",
        """def causal_mask(n):
    return np.triu(np.ones((n, n), dtype=bool))
""",
        ("upper triangle",),
    ),
    Mistake(
        "causal_mask",
        "float_dtype",
        "forgets dtype=bool: np.tril(np.ones((n, n))) is a float array",
        """def causal_mask(n):
    return np.tril(np.ones((n, n)))
""",
        ("dtype", "bool"),
    ),
    Mistake(
        "causal_mask",
        "int_dtype",
        "returns 0/1 integers instead of booleans",
        """def causal_mask(n):
    return np.tril(np.ones((n, n), dtype=int))
""",
        ("dtype", "bool"),
    ),
    Mistake(
        "padding_mask",
        "off_by_one",
        "uses j <= length, which lets every sequence see one padding key",
        """def padding_mask(lengths, max_len):
    lengths = np.asarray(lengths)
    return (np.arange(max_len)[None, :] <= lengths[:, None])[:, None, :]
""",
        ("j <= length", "one key too many", "length 0"),
    ),
    Mistake(
        "padding_mask",
        "no_middle_axis",
        "returns shape (batch, max_len), which does not broadcast over the queries",
        """def padding_mask(lengths, max_len):
    lengths = np.asarray(lengths)
    return np.arange(max_len)[None, :] < lengths[:, None]
""",
        ("middle axis", "(batch, 1, max_len)"),
    ),
    Mistake(
        "padding_mask",
        "axis_on_queries",
        "returns shape (batch, max_len, 1), which masks queries instead of keys",
        """def padding_mask(lengths, max_len):
    lengths = np.asarray(lengths)
    return (np.arange(max_len)[None, :] < lengths[:, None])[:, :, None]
""",
        ("queries instead of keys",),
    ),
    Mistake(
        "padding_mask",
        "inverted",
        "marks the padding with True (PyTorch's key_padding_mask convention)",
        """def padding_mask(lengths, max_len):
    lengths = np.asarray(lengths)
    return (np.arange(max_len)[None, :] >= lengths[:, None])[:, None, :]
""",
        ("polarity", "inverted"),
    ),
    Mistake(
        "additive_mask",
        "large_negative",
        "uses -1e9 instead of -inf for blocked entries",
        """def additive_mask(mask):
    return np.where(mask, 0.0, -1e9)
""",
        ("-1e9", "-inf"),
    ),
    Mistake(
        "additive_mask",
        "float_min",
        "uses the most negative finite float instead of -inf",
        """def additive_mask(mask):
    return np.where(mask, 0.0, np.finfo(np.float64).min)
""",
        ("-inf", "exactly"),
    ),
    Mistake(
        "additive_mask",
        "swapped",
        "puts -inf where the mask is True and 0 where it is False",
        """def additive_mask(mask):
    return np.where(mask, -np.inf, 0.0)
""",
        ("swapped",),
    ),
    Mistake(
        "additive_mask",
        "multiplicative",
        "returns the mask as 1.0/0.0, a multiplicative mask, instead of 0/-inf",
        """def additive_mask(mask):
    return np.asarray(mask, dtype=float)
""",
        ("1.0 / 0.0", "as numbers"),
    ),
    Mistake(
        "additive_mask",
        "times_inf",
        "computes (mask - 1) * inf, which gives 0 * inf = nan where the mask is True",
        """def additive_mask(mask):
    return (np.asarray(mask, dtype=float) - 1.0) * np.inf
""",
        ("nan", "0 * inf"),
    ),
    Mistake(
        "additive_mask",
        "returns_bool",
        "returns the boolean 'blocked' mask instead of numbers",
        """def additive_mask(mask):
    return ~np.asarray(mask, dtype=bool)
""",
        ("floats", "dtype"),
    ),
]

ALTERNATIVES = [
    Alternative(
        "causal_mask",
        "tri",
        """def causal_mask(n):
    return np.tri(n, dtype=bool)
""",
    ),
    Alternative(
        "causal_mask",
        "index_comparison",
        """def causal_mask(n):
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    return j <= i
""",
    ),
    Alternative(
        "causal_mask",
        "causal_loops",
        """def causal_mask(n):
    m = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(i + 1):
            m[i, j] = True
    return m
""",
    ),
    Alternative(
        "causal_mask",
        "not_upper",
        """def causal_mask(n):
    return ~np.triu(np.ones((n, n), dtype=bool), k=1)
""",
    ),
    Alternative(
        "padding_mask",
        "padding_loops",
        """def padding_mask(lengths, max_len):
    m = np.zeros((len(lengths), 1, max_len), dtype=bool)
    for b, length in enumerate(lengths):
        m[b, 0, : int(length)] = True
    return m
""",
    ),
    Alternative(
        "padding_mask",
        "expand_dims",
        """def padding_mask(lengths, max_len):
    lengths = np.reshape(lengths, (-1, 1, 1))
    return np.expand_dims(np.arange(max_len), (0, 1)) < lengths
""",
    ),
    Alternative(
        "padding_mask",
        "from_causal_rows",
        """def padding_mask(lengths, max_len):
    rows = np.tri(max_len + 1, max_len, k=-1, dtype=bool)
    return rows[np.asarray(lengths)][:, None, :]
""",
    ),
    Alternative(
        "additive_mask",
        "masked_fill",
        """def additive_mask(mask):
    mask = np.asarray(mask, dtype=bool)
    M = np.full(mask.shape, -np.inf)
    M[mask] = 0.0
    return M
""",
    ),
    Alternative(
        "additive_mask",
        "log_of_mask",
        """def additive_mask(mask):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(mask, dtype=np.float32))
""",
    ),
    Alternative(
        "additive_mask",
        "float32_where",
        """def additive_mask(mask):
    return np.where(mask, np.float32(0.0), np.float32(-np.inf))
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "causal_mask",
        "causal_all_true",
        "every position may attend every position",
        "def causal_mask(n):\n    return np.ones((n, n), dtype=bool)\n",
    ),
    Degenerate(
        "causal_mask",
        "causal_all_false",
        "no position may attend any",
        "def causal_mask(n):\n    return np.zeros((n, n), dtype=bool)\n",
    ),
    Degenerate(
        "causal_mask",
        "causal_diagonal",
        "each position attends only itself",
        "def causal_mask(n):\n    return np.eye(n, dtype=bool)\n",
    ),
    Degenerate(
        "padding_mask",
        "padding_all_true",
        "every key may be attended, ignoring the lengths",
        """def padding_mask(lengths, max_len):
    return np.ones((len(lengths), 1, max_len), dtype=bool)
""",
    ),
    Degenerate(
        "padding_mask",
        "padding_all_false",
        "no key may be attended",
        """def padding_mask(lengths, max_len):
    return np.zeros((len(lengths), 1, max_len), dtype=bool)
""",
    ),
    Degenerate(
        "additive_mask",
        "additive_zeros",
        "returns zeros, masking nothing",
        "def additive_mask(mask):\n    return np.zeros(np.shape(mask))\n",
    ),
    Degenerate(
        "additive_mask",
        "additive_identity",
        "returns the boolean mask unchanged",
        "def additive_mask(mask):\n    return mask\n",
    ),
]
