"""Chapter 08: layer norm, batch norm (training mode), RMS norm."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "08-layer-norm"

MISTAKES = [
    Mistake(
        "layer_norm",
        "ln_unbiased_variance",
        "uses the unbiased variance (ddof=1), as for estimating a population variance",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, ddof=1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("unbiased", "ddof"),
    ),
    Mistake(
        "layer_norm",
        "ln_eps_outside_sqrt",
        "adds eps to the standard deviation instead of to the variance",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / (x.std(axis=-1, keepdims=True) + eps) * gamma + beta
""",
        ("inside the square root", "outside the square root"),
    ),
    Mistake(
        "layer_norm",
        "axis_0",
        "takes the statistics over axis 0 (across tokens), like batch norm",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("axis 0",),
    ),
    Mistake(
        "layer_norm",
        "whole_array",
        "takes one mean and one variance for the whole array",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    return (x - x.mean()) / np.sqrt(x.var() + eps) * gamma + beta
""",
        ("whole array",),
    ),
    Mistake(
        "layer_norm",
        "ln_gamma_beta_swapped",
        "multiplies by beta and adds gamma",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * beta + gamma
""",
        ("swapped",),
    ),
    Mistake(
        "layer_norm",
        "no_eps",
        "forgets eps: a constant token gives 0 / 0",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / x.std(axis=-1, keepdims=True) * gamma + beta
""",
        ("ignored eps", "eps is missing", "nan"),
    ),
    Mistake(
        "batch_norm",
        "last_axis",
        "normalises each example over its features, which is layer norm",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("layer norm",),
    ),
    Mistake(
        "batch_norm",
        "only_axis_0",
        "normalises over axis 0 only, so 3-D input gets statistics per position",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0, keepdims=True)
    var = x.var(axis=0, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("axis 0 only",),
    ),
    Mistake(
        "batch_norm",
        "bn_unbiased_variance",
        "uses the unbiased variance (ddof=1) for the batch statistics",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, ddof=1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("unbiased", "ddof"),
    ),
    Mistake(
        "batch_norm",
        "bn_eps_outside_sqrt",
        "adds eps to the standard deviation instead of to the variance",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes, keepdims=True)
    return (x - mu) / (x.std(axis=axes, keepdims=True) + eps) * gamma + beta
""",
        ("inside the square root", "outside the square root"),
    ),
    Mistake(
        "batch_norm",
        "bn_gamma_beta_swapped",
        "multiplies by beta and adds gamma",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * beta + gamma
""",
        ("swapped",),
    ),
    Mistake(
        "rms_norm",
        "subtracts_mean",
        "re-centres the token first, which turns RMS norm into layer norm",
        """def rms_norm(x, gamma, eps=1e-6):
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps) * gamma
""",
        ("subtracted the mean", "layer norm"),
    ),
    Mistake(
        "rms_norm",
        "rms_eps_outside_sqrt",
        "adds eps after the square root",
        """def rms_norm(x, gamma, eps=1e-6):
    return x / (np.sqrt((x**2).mean(axis=-1, keepdims=True)) + eps) * gamma
""",
        ("inside the square root",),
    ),
    Mistake(
        "rms_norm",
        "l2_norm",
        "divides by the Euclidean norm sqrt(sum(x²)) instead of the root mean square",
        """def rms_norm(x, gamma, eps=1e-6):
    return x / np.sqrt((x**2).sum(axis=-1, keepdims=True) + eps) * gamma
""",
        ("root mean square", "sqrt(sum(x²))"),
    ),
    Mistake(
        "rms_norm",
        "layer_norm_eps",
        "copies layer norm's default eps = 1e-5",
        """def rms_norm(x, gamma, eps=1e-5):
    return x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps) * gamma
""",
        ("1e-6",),
    ),
    Mistake(
        "rms_norm",
        "no_gamma",
        "forgets to multiply by gamma",
        """def rms_norm(x, gamma, eps=1e-6):
    return x / np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)
""",
        ("gamma",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "layer_norm",
        "float32_np_var",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=np.float32)
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(var + np.float32(eps))
    return np.float32(gamma) * ((x - mu) * inv) + np.float32(beta)
""",
    ),
    Alternative(
        "layer_norm",
        "loops",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    d = x.shape[-1]
    for idx in np.ndindex(*x.shape[:-1]):
        row = x[idx]
        mu = sum(row) / d
        var = sum((v - mu) ** 2 for v in row) / d
        out[idx] = [(v - mu) / math.sqrt(var + eps) * gamma[i] + beta[i] for i, v in enumerate(row)]
    return out
""",
    ),
    Alternative(
        "layer_norm",
        "einsum_centred",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(-1)[..., None]
    var = np.einsum("...i,...i->...", centred, centred)[..., None] / x.shape[-1]
    return centred / np.sqrt(var + eps) * gamma + beta
""",
    ),
    Alternative(
        "batch_norm",
        "reshape_rows",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=float)
    rows = x.reshape(-1, x.shape[-1])
    mu = rows.mean(axis=0)
    var = rows.var(axis=0)
    return ((rows - mu) / np.sqrt(var + eps) * gamma + beta).reshape(x.shape)
""",
    ),
    Alternative(
        "batch_norm",
        "float32_per_feature_loop",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=np.float32)
    out = np.empty_like(x)
    for j in range(x.shape[-1]):
        col = x[..., j]
        mu = col.mean()
        out[..., j] = (col - mu) / np.sqrt(((col - mu) ** 2).mean() + eps) * gamma[j] + beta[j]
    return out
""",
    ),
    Alternative(
        "rms_norm",
        "norm_over_sqrt_d",
        """def rms_norm(x, gamma, eps=1e-6):
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    rms = np.sqrt(np.linalg.norm(x, axis=-1, keepdims=True) ** 2 / d + eps)
    return gamma * x / rms
""",
    ),
    Alternative(
        "rms_norm",
        "float32_einsum",
        """def rms_norm(x, gamma, eps=1e-6):
    x = np.asarray(x, dtype=np.float32)
    ms = np.einsum("...i,...i->...", x, x) / np.float32(x.shape[-1])
    return x * (1 / np.sqrt(ms + np.float32(eps)))[..., None] * np.asarray(gamma, dtype=np.float32)
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "layer_norm",
        "layer_norm_identity",
        "returns x unchanged",
        "def layer_norm(x, gamma, beta, eps=1e-5):\n    return x\n",
    ),
    Degenerate(
        "layer_norm",
        "layer_norm_beta_only",
        "returns beta everywhere (normalised values taken as zero)",
        "def layer_norm(x, gamma, beta, eps=1e-5):\n    return np.broadcast_to(beta, np.shape(x)).astype(float)\n",
    ),
    Degenerate(
        "layer_norm",
        "layer_norm_affine_only",
        "applies gamma and beta without normalising",
        "def layer_norm(x, gamma, beta, eps=1e-5):\n    return x * gamma + beta\n",
    ),
    Degenerate(
        "batch_norm",
        "batch_norm_identity",
        "returns x unchanged",
        "def batch_norm(x, gamma, beta, eps=1e-5):\n    return x\n",
    ),
    Degenerate(
        "batch_norm",
        "batch_norm_beta_only",
        "returns beta everywhere (normalised values taken as zero)",
        "def batch_norm(x, gamma, beta, eps=1e-5):\n    return np.broadcast_to(beta, np.shape(x)).astype(float)\n",
    ),
    Degenerate(
        "batch_norm",
        "batch_norm_affine_only",
        "applies gamma and beta without normalising",
        "def batch_norm(x, gamma, beta, eps=1e-5):\n    return x * gamma + beta\n",
    ),
    Degenerate(
        "rms_norm", "rms_norm_identity", "returns x unchanged", "def rms_norm(x, gamma, eps=1e-6):\n    return x\n"
    ),
    Degenerate(
        "rms_norm",
        "rms_norm_gamma_only",
        "multiplies by gamma without normalising",
        "def rms_norm(x, gamma, eps=1e-6):\n    return x * gamma\n",
    ),
    Degenerate(
        "rms_norm",
        "rms_norm_zeros",
        "zeros of the shape of x",
        "def rms_norm(x, gamma, eps=1e-6):\n    return np.zeros(np.shape(x))\n",
    ),
]

MISTAKES += [
    Mistake(
        "layer_norm",
        "one_pass_variance_float32",
        "computes the variance as mean(x²) - mean(x)² in the input's dtype: wrong for float32 tokens far from 0",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = (x * x).mean(axis=-1, keepdims=True) - mu * mu
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("mean(x²) - mean(x)²", "cancel"),
    ),
    Mistake(
        "batch_norm",
        "bn_one_pass_variance_float32",
        "computes the variance as mean(x²) - mean(x)² in the input's dtype: wrong for float32 features far from 0",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    axes = tuple(range(x.ndim - 1))
    mu = x.mean(axis=axes, keepdims=True)
    var = (x * x).mean(axis=axes, keepdims=True) - mu * mu
    return (x - mu) / np.sqrt(var + eps) * gamma + beta
""",
        ("mean(x²) - mean(x)²", "cancel"),
    ),
    # Writes into the caller's array. The grader passes each call copies of the test's
    # arrays, so only the sandbox's check that arguments are unchanged after a call
    # (issue 12, item 5) can catch these two.
    Mistake(
        "layer_norm",
        "subtracts_mean_in_place",
        "centres x in place (x -= mean), changing the caller's array",
        """def layer_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x)
    x -= x.mean(axis=-1, keepdims=True)
    x /= np.sqrt((x**2).mean(axis=-1, keepdims=True) + eps)
    return x * gamma + beta
""",
        ("changed", "modif", "in place", "x = x"),
    ),
    Mistake(
        "batch_norm",
        "bn_subtracts_mean_in_place",
        "centres x in place (x -= mean), changing the caller's array",
        """def batch_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x)
    axes = tuple(range(x.ndim - 1))
    x -= x.mean(axis=axes, keepdims=True)
    x /= np.sqrt((x**2).mean(axis=axes, keepdims=True) + eps)
    return x * gamma + beta
""",
        ("changed", "modif", "in place", "x = x"),
    ),
]

DEGENERATE += [
    Degenerate(
        "layer_norm",
        "layer_norm_nan",
        "NaN of the shape of x",
        "def layer_norm(x, gamma, beta, eps=1e-5):\n    return np.full(np.shape(x), np.nan)\n",
    ),
]
