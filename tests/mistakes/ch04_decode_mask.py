"""Chapter 04, exercise 4.4: the causal mask of a decoding step with a KV cache."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "04-masking"

_CHECK = """def decode_mask(n_q, n_k):
    if not 0 <= n_q <= n_k:
        raise ValueError("need 0 <= n_q <= n_k")
"""

MISTAKES = [
    Mistake(
        "decode_mask",
        "decode_mask_anchored_first",
        "anchors the triangle at the first query (j <= i), as if the new tokens started the sequence",
        _CHECK + "    return np.tri(n_q, n_k, dtype=bool)\n",
        ("last n_q tokens", "anchored"),
    ),
    Mistake(
        "decode_mask",
        "decode_mask_one_too_few",
        "uses j < n_k - n_q + i: a new token may not attend to itself",
        _CHECK + "    return np.arange(n_k)[None, :] < np.arange(n_q)[:, None] + (n_k - n_q)\n",
        ("one key too few", "itself"),
    ),
    Mistake(
        "decode_mask",
        "decode_mask_one_too_many",
        "uses j <= n_k - n_q + i + 1: each new token sees the token after it",
        _CHECK + "    return np.arange(n_k)[None, :] <= np.arange(n_q)[:, None] + (n_k - n_q + 1)\n",
        ("one key too many", "after it"),
    ),
    Mistake(
        "decode_mask",
        "decode_mask_no_check",
        "never raises: n_q > n_k gives a mask instead of a ValueError",
        """def decode_mask(n_q, n_k):
    return np.tri(n_q, n_k, k=n_k - n_q, dtype=bool)
""",
        ("valueerror",),
    ),
    Mistake(
        "decode_mask",
        "decode_mask_slice_minus_zero",
        "slices the causal mask with [-n_q:], which keeps every row for n_q = 0",
        _CHECK + "    return np.tril(np.ones((n_k, n_k), dtype=bool))[-n_q:]\n",
        ("(0, 7)", "(0, 0)", "shape"),
    ),
    Mistake(
        "decode_mask",
        "decode_mask_float",
        "forgets dtype=bool: np.tri returns floats",
        _CHECK + "    return np.tri(n_q, n_k, k=n_k - n_q)\n",
        ("boolean array", "dtype bool"),
    ),
]

ALTERNATIVES = [
    Alternative("decode_mask", "decode_mask_tri", _CHECK + "    return np.tri(n_q, n_k, k=n_k - n_q, dtype=bool)\n"),
    Alternative("decode_mask", "decode_mask_causal_slice", _CHECK + "    return causal_mask(n_k)[n_k - n_q :]\n"),
    Alternative(
        "decode_mask",
        "decode_mask_not_triu",
        _CHECK + "    return ~np.triu(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q + 1)\n",
    ),
    Alternative(
        "decode_mask",
        "decode_mask_loops",
        _CHECK
        + """    m = np.zeros((n_q, n_k), dtype=bool)
    for i in range(n_q):
        for j in range(n_k):
            m[i, j] = j <= n_k - n_q + i
    return m
""",
    ),
]

DEGENERATE = [
    Degenerate(
        "decode_mask",
        "decode_mask_all_true",
        "all True, with the check",
        _CHECK + "    return np.ones((n_q, n_k), bool)\n",
    ),
    Degenerate(
        "decode_mask",
        "decode_mask_all_false",
        "all False, with the check",
        _CHECK + "    return np.zeros((n_q, n_k), bool)\n",
    ),
    Degenerate(
        "decode_mask",
        "decode_mask_ignores_n_k",
        "the causal mask of the n_q queries alone, n_k ignored",
        _CHECK + "    return np.tril(np.ones((n_q, n_q), dtype=bool))\n",
    ),
]
