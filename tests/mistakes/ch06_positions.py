"""Chapter 06: the sinusoidal positional encoding and rotary position embedding (RoPE)."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "06-positions"

MISTAKES = [
    Mistake(
        "sinusoidal_positional_encoding",
        "sin_cos_swapped",
        "puts the cosine in the even columns and the sine in the odd ones",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    p = np.arange(seq_len)[:, None]
    angles = p / base ** (np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.cos(angles)
    pe[:, 1::2] = np.sin(angles[:, : d_model // 2])
    return pe
""",
        ("swapped",),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "sinusoid_exponent_i_over_d",
        "uses the exponent i / d_model instead of 2i / d_model",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    p = np.arange(seq_len)[:, None]
    angles = p / base ** (np.arange((d_model + 1) // 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe
""",
        ("2i / d_model",),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "frequency_per_column",
        "gives every column its own frequency base^(j / d_model), so sine and cosine of a pair use different angles",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    p = np.arange(seq_len)[:, None]
    j = np.arange(d_model)
    angles = p / base ** (j / d_model)
    return np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
""",
        ("same angle", "own frequency"),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "halves_layout",
        "puts all the sines in the first half and all the cosines in the second half",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    p = np.arange(seq_len)[:, None]
    angles = p / base ** (np.arange(0, d_model, 2) / d_model)
    return np.concatenate([np.sin(angles), np.cos(angles[:, : d_model // 2])], axis=-1)
""",
        ("interleaved", "first half"),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "odd_d_model_crashes",
        "assigns ceil(d_model / 2) cosine columns, which crashes for an odd d_model",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    p = np.arange(seq_len)[:, None]
    angles = p / base ** (np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe
""",
        ("odd d_model",),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "odd_d_model_last_column_zero",
        "fills only complete (sin, cos) pairs, leaving the last column of an odd d_model at zero",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    half = d_model // 2
    p = np.arange(seq_len)[:, None]
    angles = p / base ** (2 * np.arange(half) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0 : 2 * half : 2] = np.sin(angles)
    pe[:, 1 : 2 * half : 2] = np.cos(angles)
    return pe
""",
        ("last column", "odd d_model"),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "odd_d_model_cosine_last",
        "for an odd d_model, computes one pair too many and drops the first column, so the last column is a cosine",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    width = d_model + d_model % 2
    p = np.arange(seq_len)[:, None]
    angles = p / base ** (np.arange(0, width, 2) / d_model)
    pe = np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(seq_len, width)
    return pe[:, width - d_model :]
""",
        ("cosine", "odd d_model"),
    ),
    Mistake(
        "sinusoidal_positional_encoding",
        "ignores_base",
        "always uses 10000, whatever the base argument says",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    p = np.arange(seq_len)[:, None]
    angles = p / 10000.0 ** (np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe
""",
        ("base",),
    ),
    Mistake(
        "rope",
        "halves_pairing",
        "pairs feature j with feature j + d/2 (rotate-half) instead of interleaved neighbours",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2:]
    if d % 2:
        raise ValueError("odd d")
    p = np.arange(n) if positions is None else np.asarray(positions)
    theta = p[..., None] * base ** (-np.arange(0, d, 2) / d)
    c, s = np.cos(theta), np.sin(theta)
    lo, hi = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([lo * c - hi * s, lo * s + hi * c], axis=-1)
""",
        ("halves", "interleaved"),
    ),
    Mistake(
        "rope",
        "clockwise",
        "rotates clockwise: the signs of the sine terms are flipped",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2:]
    if d % 2:
        raise ValueError("odd d")
    p = np.arange(n) if positions is None else np.asarray(positions)
    theta = p[..., None] * base ** (-np.arange(0, d, 2) / d)
    c, s = np.cos(theta), np.sin(theta)
    e, o = x[..., 0::2], x[..., 1::2]
    return np.stack([e * c + o * s, -e * s + o * c], axis=-1).reshape(x.shape)
""",
        ("clockwise",),
    ),
    Mistake(
        "rope",
        "rope_exponent_i_over_d",
        "uses the frequencies base^(-i/d) instead of base^(-2i/d)",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2:]
    if d % 2:
        raise ValueError("odd d")
    p = np.arange(n) if positions is None else np.asarray(positions)
    theta = p[..., None] * base ** (-np.arange(d // 2) / d)
    c, s = np.cos(theta), np.sin(theta)
    e, o = x[..., 0::2], x[..., 1::2]
    return np.stack([e * c - o * s, e * s + o * c], axis=-1).reshape(x.shape)
""",
        ("2i / d",),
    ),
    Mistake(
        "rope",
        "ignores_positions",
        "always uses positions 0..n-1, ignoring the positions argument",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2:]
    if d % 2:
        raise ValueError("odd d")
    theta = np.arange(n)[:, None] * base ** (-np.arange(0, d, 2) / d)
    c, s = np.cos(theta), np.sin(theta)
    e, o = x[..., 0::2], x[..., 1::2]
    return np.stack([e * c - o * s, e * s + o * c], axis=-1).reshape(x.shape)
""",
        ("positions argument was ignored",),
    ),
    Mistake(
        "rope",
        "outer_positions",
        "computes the angles with np.outer, which flattens positions of shape (batch, n)",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2:]
    if d % 2:
        raise ValueError("odd d")
    p = np.arange(n) if positions is None else np.asarray(positions)
    theta = np.outer(p, base ** (-np.arange(0, d, 2) / d))
    c, s = np.cos(theta), np.sin(theta)
    e, o = x[..., 0::2], x[..., 1::2]
    return np.stack([e * c - o * s, e * s + o * c], axis=-1).reshape(x.shape)
""",
        ("positions[..., none]", "broadcastable"),
    ),
    Mistake(
        "rope",
        "no_error_on_odd_d",
        "rotates the complete pairs and leaves a last odd feature unrotated instead of raising ValueError",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2:]
    half = d // 2
    p = np.arange(n) if positions is None else np.asarray(positions)
    theta = p[..., None] * base ** (-2 * np.arange(half) / d)
    c, s = np.cos(theta), np.sin(theta)
    e, o = x[..., 0 : 2 * half : 2], x[..., 1 : 2 * half : 2]
    out = x.copy()
    out[..., 0 : 2 * half : 2] = e * c - o * s
    out[..., 1 : 2 * half : 2] = e * s + o * c
    return out
""",
        ("valueerror",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "sinusoidal_positional_encoding",
        "loops",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    pe = np.zeros((seq_len, d_model))
    for p in range(seq_len):
        for j in range(d_model):
            angle = p / base ** ((j - j % 2) / d_model)
            pe[p, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe
""",
    ),
    Alternative(
        "sinusoidal_positional_encoding",
        "exp_log_float32",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    positions = np.arange(seq_len, dtype=np.float32)[:, None]
    omega = np.exp(-math.log(base) * np.arange(0, d_model, 2, dtype=np.float32) / d_model)
    angles = positions * omega
    interleaved = np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(seq_len, -1)
    return interleaved[:, :d_model].astype(np.float32)
""",
    ),
    Alternative(
        "rope",
        "complex_numbers",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=np.float64)
    d = x.shape[-1]
    if d % 2 == 1:
        raise ValueError("d must be even")
    if positions is None:
        positions = np.arange(x.shape[-2])
    omega = base ** (-np.arange(0, d, 2) / d)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * np.expand_dims(positions, -1) * omega)
    out = np.empty(z.shape[:-1] + (d,))
    out[..., 0::2] = z.real
    out[..., 1::2] = z.imag
    return out
""",
    ),
    Alternative(
        "rope",
        "rotation_matrices_loop",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=float)
    n, d = x.shape[-2], x.shape[-1]
    if d % 2:
        raise ValueError("rope needs pairs of features")
    p = np.arange(n) if positions is None else np.asarray(positions)
    p = np.broadcast_to(p, x.shape[:-1])
    out = np.empty_like(x)
    for idx in np.ndindex(*x.shape[:-1]):
        for i in range(d // 2):
            theta = p[idx] * base ** (-2 * i / d)
            R = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
            out[idx + (slice(2 * i, 2 * i + 2),)] = R @ x[idx + (slice(2 * i, 2 * i + 2),)]
    return out
""",
    ),
    Alternative(
        "rope",
        "float32_cos_sin_tables",
        """def rope(x, positions=None, base=10000.0):
    x = np.asarray(x, dtype=np.float32)
    d = x.shape[-1]
    if d % 2 != 0:
        raise ValueError("odd feature count")
    pos = np.arange(x.shape[-2]) if positions is None else np.asarray(positions)
    theta = pos[..., None].astype(np.float64) * np.power(float(base), -np.arange(0, d, 2) / d)
    cos = np.repeat(np.cos(theta), 2, axis=-1).astype(np.float32)
    sin = np.repeat(np.sin(theta), 2, axis=-1).astype(np.float32)
    swapped = np.stack([-x[..., 1::2], x[..., 0::2]], axis=-1).reshape(x.shape)
    return x * cos + swapped * sin
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "sinusoidal_positional_encoding",
        "sinusoidal_zeros",
        "zeros of shape (seq_len, d_model)",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    return np.zeros((seq_len, d_model))
""",
    ),
    Degenerate(
        "sinusoidal_positional_encoding",
        "sinusoidal_position_zero",
        "every row is the encoding of position 0 (sin 0 = 0, cos 0 = 1)",
        """def sinusoidal_positional_encoding(seq_len, d_model, base=10000.0):
    pe = np.zeros((seq_len, d_model))
    pe[:, 1::2] = 1.0
    return pe
""",
    ),
    Degenerate(
        "rope",
        "rope_identity",
        "returns x unchanged (after checking that d is even)",
        """def rope(x, positions=None, base=10000.0):
    if np.shape(x)[-1] % 2:
        raise ValueError("d must be even")
    return x
""",
    ),
    Degenerate(
        "rope",
        "rope_zeros",
        "zeros of the shape of x",
        """def rope(x, positions=None, base=10000.0):
    if np.shape(x)[-1] % 2:
        raise ValueError("d must be even")
    return np.zeros(np.shape(x))
""",
    ),
]
