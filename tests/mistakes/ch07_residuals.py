"""Chapter 07: the feed-forward network, residual connections, gradient norms through a stack."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "07-residuals"

MISTAKES = [
    Mistake(
        "feed_forward",
        "no_relu",
        "forgets the ReLU, so the two layers collapse to one linear map",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    return (x @ W_1 + b_1) @ W_2 + b_2
""",
        ("no relu", "linear map"),
    ),
    Mistake(
        "feed_forward",
        "relu_on_output",
        "applies the ReLU after the second layer too, so the output can never be negative",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    h = np.maximum(0, x @ W_1 + b_1)
    return np.maximum(0, h @ W_2 + b_2)
""",
        ("output as well", "first layer only"),
    ),
    Mistake(
        "feed_forward",
        "bias_after_relu",
        "adds b_1 after the ReLU instead of before it",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    h = np.maximum(0, x @ W_1) + b_1
    return h @ W_2 + b_2
""",
        ("after the relu", "inside"),
    ),
    Mistake(
        "feed_forward",
        "missing_b_2",
        "forgets the second bias",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    return np.maximum(0, x @ W_1 + b_1) @ W_2
""",
        ("b_2 is missing",),
    ),
    Mistake(
        "feed_forward",
        "gelu",
        "uses GELU (as in GPT-2) instead of the ReLU the spec asks for",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    z = x @ W_1 + b_1
    h = 0.5 * z * (1 + np.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)))
    return h @ W_2 + b_2
""",
        ("gelu",),
    ),
    Mistake(
        "residual",
        "only_sublayer",
        "returns sublayer(x), forgetting the identity path",
        """def residual(x, sublayer):
    return sublayer(x)
""",
        ("identity path", "+ x"),
    ),
    Mistake(
        "residual",
        "calls_sublayer_twice",
        "calls the sublayer once to check its shape and again to compute the result",
        """def residual(x, sublayer):
    assert sublayer(x).shape == x.shape
    return x + sublayer(x)
""",
        ("exactly once", "times"),
    ),
    Mistake(
        "residual",
        "multiplies",
        "multiplies x by the sublayer's output instead of adding it",
        """def residual(x, sublayer):
    return x * sublayer(x)
""",
        ("multipl",),
    ),
    Mistake(
        "residual",
        "returns_x",
        "calls the sublayer but returns x unchanged",
        """def residual(x, sublayer):
    out = x.copy()
    sublayer(x)
    return out
""",
        ("never added",),
    ),
    Mistake(
        "stack_gradient_norms",
        "reversed_order",
        "returns the norms in the order backpropagation computes them (layer L first)",
        """def stack_gradient_norms(x, weights, use_residual):
    h, pre = np.asarray(x, dtype=float), []
    for W in weights:
        pre.append(h @ W)
        h = h + np.tanh(pre[-1]) if use_residual else np.tanh(pre[-1])
    g = np.ones_like(h)
    norms = [np.linalg.norm(g)]
    for W, a in zip(weights[::-1], pre[::-1]):
        branch = (g * (1 - np.tanh(a) ** 2)) @ W.T
        g = g + branch if use_residual else branch
        norms.append(np.linalg.norm(g))
    return np.array(norms)
""",
        ("reverse order",),
    ),
    Mistake(
        "stack_gradient_norms",
        "no_tanh_derivative",
        "backpropagates through the weights but forgets the derivative of tanh",
        """def stack_gradient_norms(x, weights, use_residual):
    h = np.asarray(x, dtype=float)
    for W in weights:
        h = h + np.tanh(h @ W) if use_residual else np.tanh(h @ W)
    g = np.ones_like(h)
    norms = [np.linalg.norm(g)]
    for W in weights[::-1]:
        branch = g @ W.T
        g = g + branch if use_residual else branch
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])
""",
        ("derivative of tanh",),
    ),
    Mistake(
        "stack_gradient_norms",
        "no_identity_in_backward",
        "uses the residual forward pass but backpropagates only through the branch",
        """def stack_gradient_norms(x, weights, use_residual):
    h, pre = np.asarray(x, dtype=float), []
    for W in weights:
        pre.append(h @ W)
        h = h + np.tanh(pre[-1]) if use_residual else np.tanh(pre[-1])
    g = np.ones_like(h)
    norms = [np.linalg.norm(g)]
    for W, a in zip(weights[::-1], pre[::-1]):
        g = (g * (1 - np.tanh(a) ** 2)) @ W.T
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])
""",
        ("identity term",),
    ),
    Mistake(
        "stack_gradient_norms",
        "weights_not_transposed",
        "multiplies the gradient by W_l instead of its transpose",
        """def stack_gradient_norms(x, weights, use_residual):
    h, pre = np.asarray(x, dtype=float), []
    for W in weights:
        pre.append(h @ W)
        h = h + np.tanh(pre[-1]) if use_residual else np.tanh(pre[-1])
    g = np.ones_like(h)
    norms = [np.linalg.norm(g)]
    for W, a in zip(weights[::-1], pre[::-1]):
        branch = (g * (1 - np.tanh(a) ** 2)) @ W
        g = g + branch if use_residual else branch
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])
""",
        ("transpose", "w.t"),
    ),
    Mistake(
        "stack_gradient_norms",
        "returns_L_norms",
        "records a norm after each backward step only, missing the one at h_L (L norms instead of L + 1)",
        """def stack_gradient_norms(x, weights, use_residual):
    h, pre = np.asarray(x, dtype=float), []
    for W in weights:
        pre.append(h @ W)
        h = h + np.tanh(pre[-1]) if use_residual else np.tanh(pre[-1])
    g = np.ones_like(h)
    norms = []
    for W, a in zip(weights[::-1], pre[::-1]):
        branch = (g * (1 - np.tanh(a) ** 2)) @ W.T
        g = g + branch if use_residual else branch
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])
""",
        ("l + 1",),
    ),
    Mistake(
        "stack_gradient_norms",
        "derivative_from_output",
        "uses 1 - h_{l+1}² as the tanh derivative, which is wrong once the residual adds h_l",
        """def stack_gradient_norms(x, weights, use_residual):
    hs = [np.asarray(x, dtype=float)]
    for W in weights:
        h = hs[-1]
        hs.append(h + np.tanh(h @ W) if use_residual else np.tanh(h @ W))
    g = np.ones_like(hs[-1])
    norms = [np.linalg.norm(g)]
    for layer in reversed(range(len(weights))):
        branch = (g * (1 - hs[layer + 1] ** 2)) @ weights[layer].T
        g = g + branch if use_residual else branch
        norms.append(np.linalg.norm(g))
    return np.array(norms[::-1])
""",
        ("1 - h_(l+1)²", "pre-activation"),
    ),
    Mistake(
        "stack_gradient_norms",
        "squared_norms",
        "returns squared norms (g @ g) instead of Euclidean norms",
        """def stack_gradient_norms(x, weights, use_residual):
    h, pre = np.asarray(x, dtype=float), []
    for W in weights:
        pre.append(h @ W)
        h = h + np.tanh(pre[-1]) if use_residual else np.tanh(pre[-1])
    g = np.ones_like(h)
    norms = [g @ g]
    for W, a in zip(weights[::-1], pre[::-1]):
        branch = (g * (1 - np.tanh(a) ** 2)) @ W.T
        g = g + branch if use_residual else branch
        norms.append(g @ g)
    return np.array(norms[::-1])
""",
        ("squared", "square root"),
    ),
]

ALTERNATIVES = [
    Alternative(
        "feed_forward",
        "einsum",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    z = np.einsum("...i,ij->...j", x, W_1) + b_1
    h = np.where(z > 0, z, 0.0)
    return np.einsum("...j,jk->...k", h, W_2) + b_2
""",
    ),
    Alternative(
        "feed_forward",
        "float32_clip_matmul",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    x, W_1, b_1, W_2, b_2 = (np.asarray(a, dtype=np.float32) for a in (x, W_1, b_1, W_2, b_2))
    h = np.clip(np.matmul(x, W_1) + b_1, 0, None)
    return np.matmul(h, W_2) + b_2
""",
    ),
    Alternative(
        "feed_forward",
        "loop_over_rows",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    x = np.asarray(x, dtype=float)
    rows = x.reshape(-1, x.shape[-1])
    out = np.empty((rows.shape[0], W_2.shape[1]))
    for i, row in enumerate(rows):
        h = row @ W_1 + b_1
        h[h < 0] = 0.0
        out[i] = h @ W_2 + b_2
    return out.reshape(x.shape[:-1] + (W_2.shape[1],))
""",
    ),
    Alternative(
        "residual",
        "branch_first",
        """def residual(x, sublayer):
    branch = sublayer(x)
    return np.add(branch, x)
""",
    ),
    Alternative(
        "residual",
        "plain",
        """def residual(x, sublayer):
    return x + sublayer(x)
""",
    ),
    Alternative(
        "stack_gradient_norms",
        "explicit_jacobians",
        """def stack_gradient_norms(x, weights, use_residual):
    h = np.asarray(x, dtype=float)
    d = h.shape[0]
    jacobians = []
    for W in weights:
        a = h @ W
        J = np.diag(1 - np.tanh(a) ** 2) @ W.T
        if use_residual:
            J = np.eye(d) + J
            h = h + np.tanh(a)
        else:
            h = np.tanh(a)
        jacobians.append(J)
    g = np.ones(d)
    norms = [math.sqrt(float(g @ g))]
    for J in reversed(jacobians):
        g = g @ J
        norms.append(math.sqrt(float(g @ g)))
    norms.reverse()
    return np.array(norms)
""",
    ),
    Alternative(
        "stack_gradient_norms",
        "float32_recursive",
        """def stack_gradient_norms(x, weights, use_residual):
    def down(h, layer):
        if layer == len(weights):
            g = np.ones_like(h)
            return g, [np.linalg.norm(g)]
        W = np.asarray(weights[layer], dtype=np.float32)
        a = h @ W
        nxt = h + np.tanh(a) if use_residual else np.tanh(a)
        g, norms = down(nxt, layer + 1)
        g = (g if use_residual else 0) + (g * (1 - np.tanh(a) ** 2)) @ W.T
        return g, [np.linalg.norm(g)] + norms
    return np.array(down(np.asarray(x, dtype=np.float32), 0)[1])
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "feed_forward",
        "feed_forward_identity",
        "returns x unchanged",
        "def feed_forward(x, W_1, b_1, W_2, b_2):\n    return x\n",
    ),
    Degenerate(
        "feed_forward",
        "feed_forward_zeros",
        "zeros of shape (..., d_model)",
        "def feed_forward(x, W_1, b_1, W_2, b_2):\n    return np.zeros(np.shape(x)[:-1] + (W_2.shape[1],))\n",
    ),
    Degenerate(
        "feed_forward",
        "feed_forward_bias_only",
        "returns b_2 at every position (ignores x)",
        """def feed_forward(x, W_1, b_1, W_2, b_2):
    return np.broadcast_to(b_2, np.shape(x)[:-1] + (W_2.shape[1],)).copy()
""",
    ),
    Degenerate(
        "residual",
        "residual_identity",
        "returns x unchanged (ignores the sublayer)",
        "def residual(x, sublayer):\n    return x\n",
    ),
    Degenerate(
        "residual",
        "residual_zeros",
        "zeros of the shape of x",
        "def residual(x, sublayer):\n    return np.zeros(np.shape(x))\n",
    ),
    Degenerate(
        "stack_gradient_norms",
        "gradient_norms_ones",
        "returns L + 1 ones",
        "def stack_gradient_norms(x, weights, use_residual):\n    return np.ones(len(weights) + 1)\n",
    ),
    Degenerate(
        "stack_gradient_norms",
        "gradient_norms_constant",
        "returns sqrt(d) L + 1 times (the norm of the last gradient everywhere)",
        """def stack_gradient_norms(x, weights, use_residual):
    return np.full(len(weights) + 1, np.sqrt(np.shape(x)[-1]))
""",
    ),
]
