"""Chapter 13: training (loss and gradients of a GPT, clipping, schedule, AdamW, one training step)."""
# ruff: noqa: E501 (the templates are the reference lines, and the replacements quote them whole)

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "13-training"

# The reference answers, as templates the mistakes below change in one place each.
_LOSS = """def gpt_loss_and_grads(ids, targets, params, ignore_index=None):
    ids = np.asarray(ids)
    tok_emb, pos_emb, n_heads = params["tok_emb"], params["pos_emb"], params["n_heads"]
    n, vocab = ids.shape[-1], tok_emb.shape[0]
    if n > pos_emb.shape[0]:
        raise ValueError(f"the sequence has {n} tokens but the model has only {pos_emb.shape[0]} positions")
    mask = causal_mask(n)  # (n, n)
    x = tok_emb[ids] + pos_emb[:n]  # (..., n, d_model)
    saved = []  # what each block's backward pass needs
    for block in params["blocks"]:
        attn = block["attn"]
        h = layer_norm(x, block["ln1_gamma"], block["ln1_beta"], eps=1e-5)  # (..., n, d_model)
        Q = split_heads(h @ attn["W_q"] + attn.get("b_q", 0.0), n_heads)  # (..., n_heads, n, d_head)
        K = split_heads(h @ attn["W_k"] + attn.get("b_k", 0.0), n_heads)  # (..., n_heads, n, d_head)
        V = split_heads(h @ attn["W_v"] + attn.get("b_v", 0.0), n_heads)  # (..., n_heads, n, d_head)
        heads, _ = scaled_dot_product_attention(Q, K, V, mask)  # (..., n_heads, n, d_head)
        merged = merge_heads(heads)  # (..., n, d_model)
        x_mid = x + merged @ attn["W_o"] + attn.get("b_o", 0.0)  # (..., n, d_model)
        h_ff = layer_norm(x_mid, block["ln2_gamma"], block["ln2_beta"], eps=1e-5)  # (..., n, d_model)
        x_out = x_mid + feed_forward(h_ff, block["W_1"], block["b_1"], block["W_2"], block["b_2"])  # (..., n, d_model)
        saved.append((x, h, Q, K, V, merged, x_mid, h_ff))
        x = x_out
    h_f = layer_norm(x, params["ln_f_gamma"], params["ln_f_beta"], eps=1e-5)  # (..., n, d_model)
    logits = h_f @ tok_emb.swapaxes(-1, -2)  # (..., n, vocab)
    loss = cross_entropy(logits, targets, ignore_index)
    grad_logits = cross_entropy_grad(logits, targets, ignore_index)  # (..., n, vocab)

    d_model = tok_emb.shape[-1]
    grads = {}
    grad_h_f = grad_logits @ tok_emb  # (..., n, d_model)
    grad_tok_out = grad_logits.reshape(-1, vocab).swapaxes(-1, -2) @ h_f.reshape(-1, d_model)  # (vocab, d_model)
    grad_x, grads["ln_f_gamma"], grads["ln_f_beta"] = layer_norm_backward(x, params["ln_f_gamma"], grad_h_f)
    block_grads = []
    for block, (x_in, h, Q, K, V, merged, x_mid, h_ff) in zip(params["blocks"][::-1], saved[::-1], strict=True):
        attn, g, g_attn = block["attn"], {}, {}
        ff = feed_forward_backward(h_ff, block["W_1"], block["b_1"], block["W_2"], block["b_2"], grad_x)
        for key in ("W_1", "b_1", "W_2", "b_2"):
            g[key] = ff[key]
        grad_h_ff, g["ln2_gamma"], g["ln2_beta"] = layer_norm_backward(x_mid, block["ln2_gamma"], ff["x"])
        grad_mid = grad_x + grad_h_ff  # (..., n, d_model) the residual path and the feed-forward path
        grad_merged, g_attn["W_o"], grad_b_o = linear_backward(merged, attn["W_o"], grad_mid)
        grad_heads = split_heads(grad_merged, n_heads)  # (..., n_heads, n, d_head)
        grad_Q, grad_K, grad_V = attention_backward(Q, K, V, grad_heads, mask)  # (..., n_heads, n, d_head)
        grad_h = 0.0
        for name, grad_proj in (("q", grad_Q), ("k", grad_K), ("v", grad_V)):
            grad_in, g_attn[f"W_{name}"], grad_b = linear_backward(h, attn[f"W_{name}"], merge_heads(grad_proj))
            grad_h = grad_h + grad_in  # (..., n, d_model) h feeds all three projections
            if f"b_{name}" in attn:
                g_attn[f"b_{name}"] = grad_b
        if "b_o" in attn:
            g_attn["b_o"] = grad_b_o
        grad_x_ln, g["ln1_gamma"], g["ln1_beta"] = layer_norm_backward(x_in, block["ln1_gamma"], grad_h)
        grad_x = grad_mid + grad_x_ln  # (..., n, d_model)
        g["attn"] = {key: g_attn[key] for key in attn}
        block_grads.append({key: g[key] for key in block})
    grads["blocks"] = block_grads[::-1]
    grads["tok_emb"] = grad_tok_out + embedding_backward(ids, grad_x, vocab)  # (vocab, d_model) both uses
    grad_pos = np.zeros(pos_emb.shape, dtype=grad_x.dtype)  # (max_len, d_model)
    grad_pos[:n] = grad_x.reshape(-1, n, d_model).sum(axis=0)  # positions beyond n get no gradient
    grads["pos_emb"] = grad_pos
    return float(loss), grads
"""

_CLIP = """def clip_grad_norm(grads, max_norm):
    def arrays(tree):
        if isinstance(tree, dict):
            for value in tree.values():
                yield from arrays(value)
        elif isinstance(tree, (list, tuple)):
            for value in tree:
                yield from arrays(value)
        elif isinstance(tree, np.ndarray):
            yield tree

    def scaled(tree, factor):
        if isinstance(tree, dict):
            return {key: scaled(value, factor) for key, value in tree.items()}
        if isinstance(tree, (list, tuple)):
            return [scaled(value, factor) for value in tree]
        if isinstance(tree, np.ndarray):
            return tree * factor  # a new array, same dtype for a Python float factor
        return tree

    total_norm = math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays(grads)))
    factor = max_norm / total_norm if total_norm > max_norm else 1.0
    return scaled(grads, factor), total_norm
"""

_LR = """def lr_schedule(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_lr + (max_lr - min_lr) * (1 + math.cos(math.pi * t)) / 2
"""

_ADAMW = """def adamw_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    beta_1, beta_2 = betas
    if state is None:
        state = {"step": 0, "m": None, "v": None}
    t = state["step"] + 1
    correction_1, correction_2 = 1 - beta_1**t, 1 - beta_2**t

    def update(p, g, m, v):
        # Returns (new_p, new_m, new_v) with the structure of p; m and v are None on the first step.
        if isinstance(p, dict):
            parts = {k: update(p[k], g[k], None if m is None else m[k], None if v is None else v[k]) for k in p if k in g}
            new_p = {k: parts[k][0] if k in parts else p[k] for k in p}
            return new_p, {k: parts[k][1] for k in parts}, {k: parts[k][2] for k in parts}
        if isinstance(p, (list, tuple)):
            parts = [update(p[i], g[i], None if m is None else m[i], None if v is None else v[i]) for i in range(len(p))]
            return [a for a, _, _ in parts], [b for _, b, _ in parts], [c for _, _, c in parts]
        g = np.asarray(g)
        m = (1 - beta_1) * g if m is None else beta_1 * m + (1 - beta_1) * g  # first moment
        v = (1 - beta_2) * g * g if v is None else beta_2 * v + (1 - beta_2) * g * g  # second moment
        p = p - lr * weight_decay * p  # decoupled weight decay, on the old parameter
        p = p - lr * (m / correction_1) / (np.sqrt(v / correction_2) + eps)
        return p, m, v

    new_params, m, v = update(params, grads, state["m"], state["v"])
    return new_params, {"step": t, "m": m, "v": v}
"""

_TRAIN = """def train_step(params, state, ids, targets, step, config):
    loss, grads = gpt_loss_and_grads(ids, targets, params, config.get("ignore_index"))
    if config.get("max_norm") is not None:
        grads, _ = clip_grad_norm(grads, config["max_norm"])
    lr = lr_schedule(step, config["max_lr"], config["warmup_steps"], config["total_steps"], config.get("min_lr", 0.0))
    params, state = adamw_step(params, grads, state, lr, weight_decay=config.get("weight_decay", 0.0))
    return params, state, loss
"""

MISTAKES = [
    Mistake(
        "gpt_loss_and_grads",
        "tied_missing_output",
        "gives tok_emb only the gradient of the embedding lookup, forgetting the output layer",
        _LOSS.replace(
            'grads["tok_emb"] = grad_tok_out + embedding_backward(ids, grad_x, vocab)',
            'grads["tok_emb"] = embedding_backward(ids, grad_x, vocab)',
        ),
        ("output-layer", "tied"),
    ),
    Mistake(
        "gpt_loss_and_grads",
        "tied_missing_input",
        "gives tok_emb only the output-layer gradient, forgetting the embedding lookup",
        _LOSS.replace(
            'grads["tok_emb"] = grad_tok_out + embedding_backward(ids, grad_x, vocab)',
            'grads["tok_emb"] = grad_tok_out',
        ),
        ("embedding lookup", "tied"),
    ),
    Mistake(
        "gpt_loss_and_grads",
        "mean_over_ignored",
        "masks the ignored positions but divides by the number of all positions",
        _LOSS.replace(
            "    loss = cross_entropy(logits, targets, ignore_index)\n    grad_logits = cross_entropy_grad(logits, targets, ignore_index)  # (..., n, vocab)\n",
            "    share = 1.0 if ignore_index is None else float(np.mean(np.asarray(targets) != ignore_index))\n    loss = cross_entropy(logits, targets, ignore_index) * share\n    grad_logits = cross_entropy_grad(logits, targets, ignore_index) * share\n",
        ),
        ("ignored", "mean was taken"),
    ),
    Mistake(
        "gpt_loss_and_grads",
        "residual_path_dropped",
        "sends the gradient between a block's sublayers only through the feed-forward branch, dropping the residual path",
        _LOSS.replace(
            "grad_mid = grad_x + grad_h_ff  # (..., n, d_model) the residual path and the feed-forward path",
            "grad_mid = grad_h_ff  # (..., n, d_model)",
        ),
        ("residual paths",),
    ),
    Mistake(
        "gpt_loss_and_grads",
        "query_path_only",
        "keeps only the query projection's share of the gradient reaching the layer norm's output",
        _LOSS.replace(
            "grad_h = grad_h + grad_in  # (..., n, d_model) h feeds all three projections",
            'grad_h = grad_in if name == "q" else grad_h  # (..., n, d_model)',
        ),
        ("three projections",),
    ),
    Mistake(
        "clip_grad_norm",
        "per_array",
        "clips each array to max_norm on its own instead of using the global norm",
        _CLIP.replace(
            "    return scaled(grads, factor), total_norm\n",
            "    def clip_each(tree):\n        if isinstance(tree, dict):\n            return {k: clip_each(v) for k, v in tree.items()}\n        if isinstance(tree, (list, tuple)):\n            return [clip_each(v) for v in tree]\n        if isinstance(tree, np.ndarray):\n            norm = float(np.sqrt(np.sum(tree**2)))\n            return tree * (max_norm / norm) if norm > max_norm else tree * 1.0\n        return tree\n\n    return clip_each(grads), total_norm\n",
        ),
        ("on its own",),
    ),
    Mistake(
        "clip_grad_norm",
        "sum_of_norms",
        "adds up the norms of the arrays instead of taking the root of all squares",
        _CLIP.replace(
            "total_norm = math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays(grads)))",
            "total_norm = sum(float(np.sqrt(np.sum(np.square(a, dtype=np.float64)))) for a in arrays(grads))",
        ),
        ("added up the norms", "sqrt(3² + 4²)"),
    ),
    Mistake(
        "clip_grad_norm",
        "always_rescales",
        "rescales the gradient to norm max_norm even when it is smaller",
        _CLIP.replace(
            "factor = max_norm / total_norm if total_norm > max_norm else 1.0",
            "factor = max_norm / total_norm",
        ),
        ("scaled up", "scales it up"),
    ),
    Mistake(
        "lr_schedule",
        "warmup_off_by_one",
        "warms up with step / warmup_steps, starting at 0",
        _LR.replace(
            "max_lr * (step + 1) / warmup_steps",
            "max_lr * step / warmup_steps",
        ),
        ("off by one", "one step late"),
    ),
    Mistake(
        "lr_schedule",
        "cosine_from_zero",
        "runs the cosine over 0..total_steps instead of from the end of the warm-up",
        _LR.replace(
            "t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))",
            "t = min(1.0, step / max(1, total_steps))",
        ),
        ("end of the warm-up",),
    ),
    Mistake(
        "lr_schedule",
        "t_not_capped",
        "lets t exceed 1, so the rate climbs back after total_steps",
        _LR.replace(
            "t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))",
            "t = (step - warmup_steps) / max(1, total_steps - warmup_steps)",
        ),
        ("cap t",),
    ),
    Mistake(
        "adamw_step",
        "l2_in_gradient",
        "adds weight_decay * p to the gradient (Adam with L2) instead of decoupled decay",
        _ADAMW.replace(
            "        g = np.asarray(g)\n",
            "        g = np.asarray(g) + weight_decay * p\n",
        ).replace(
            "        p = p - lr * weight_decay * p  # decoupled weight decay, on the old parameter\n",
            "",
        ),
        ("l2 penalty",),
    ),
    Mistake(
        "adamw_step",
        "no_bias_correction",
        "forgets the bias correction of both moments",
        _ADAMW.replace(
            "correction_1, correction_2 = 1 - beta_1**t, 1 - beta_2**t",
            "correction_1, correction_2 = 1.0, 1.0",
        ),
        ("bias correction",),
    ),
    Mistake(
        "adamw_step",
        "step_not_counted",
        "never increases the step count, so the bias correction always uses t = 1",
        _ADAMW.replace(
            'return new_params, {"step": t, "m": m, "v": v}',
            'return new_params, {"step": 0, "m": m, "v": v}',
        ),
        ("t = 1", "t = 2"),
    ),
    Mistake(
        "adamw_step",
        "step_one_ahead",
        "applies the bias correction of the next step (t + 1)",
        _ADAMW.replace(
            "correction_1, correction_2 = 1 - beta_1**t, 1 - beta_2**t",
            "correction_1, correction_2 = 1 - beta_1 ** (t + 1), 1 - beta_2 ** (t + 1)",
        ),
        ("wrong step", "one ahead", "0.886363"),
    ),
    Mistake(
        "adamw_step",
        "eps_inside_sqrt",
        "adds eps inside the square root",
        _ADAMW.replace(
            "np.sqrt(v / correction_2) + eps",
            "np.sqrt(v / correction_2 + eps)",
        ),
        ("inside the square root",),
    ),
    Mistake(
        "adamw_step",
        "decay_after_update",
        "applies the weight decay after the Adam step, to the new weights",
        _ADAMW.replace(
            "        p = p - lr * weight_decay * p  # decoupled weight decay, on the old parameter\n        p = p - lr * (m / correction_1) / (np.sqrt(v / correction_2) + eps)\n",
            "        p = p - lr * (m / correction_1) / (np.sqrt(v / correction_2) + eps)\n        p = p - lr * weight_decay * p\n",
        ),
        ("after the adam step",),
    ),
    Mistake(
        "train_step",
        "loss_after_update",
        "reports the loss of the updated model",
        _TRAIN.replace(
            "    return params, state, loss\n",
            '    loss, _ = gpt_loss_and_grads(ids, targets, params, config.get("ignore_index"))\n    return params, state, loss\n',
        ),
        ("after the update", "before the update"),
    ),
    Mistake(
        "train_step",
        "never_clips",
        "ignores config's max_norm",
        _TRAIN.replace(
            '    if config.get("max_norm") is not None:\n        grads, _ = clip_grad_norm(grads, config["max_norm"])\n',
            "",
        ),
        ("not clipped", "skip or call"),
    ),
    Mistake(
        "train_step",
        "schedule_one_ahead",
        "asks the schedule for step + 1",
        _TRAIN.replace(
            "lr = lr_schedule(step, ",
            "lr = lr_schedule(step + 1, ",
        ),
        ("s + 1", "lr_schedule(step"),
    ),
    Mistake(
        "train_step",
        "ignores_weight_decay",
        "never passes config's weight_decay to adamw_step",
        _TRAIN.replace(
            ', weight_decay=config.get("weight_decay", 0.0))',
            ")",
        ),
        ("weight_decay",),
    ),
]
ALTERNATIVES = [
    Alternative(
        "gpt_loss_and_grads",
        "tensordot_and_scatter",
        # The output contribution with tensordot, the lookup's gradient with np.add.at directly,
        # and pos_emb's gradient padded with np.pad.
        _LOSS.replace(
            "grad_tok_out = grad_logits.reshape(-1, vocab).swapaxes(-1, -2) @ h_f.reshape(-1, d_model)",
            "grad_tok_out = np.tensordot(grad_logits, h_f, axes=(list(range(ids.ndim)), list(range(ids.ndim))))",
        )
        .replace(
            'grads["tok_emb"] = grad_tok_out + embedding_backward(ids, grad_x, vocab)',
            "lookup = np.zeros((vocab, d_model))\n"
            "    np.add.at(lookup, ids.reshape(-1), grad_x.reshape(-1, d_model))\n"
            '    grads["tok_emb"] = grad_tok_out + lookup',
        )
        .replace(
            "    grad_pos = np.zeros(pos_emb.shape, dtype=grad_x.dtype)  # (max_len, d_model)\n"
            "    grad_pos[:n] = grad_x.reshape(-1, n, d_model).sum(axis=0)  # positions beyond n get no gradient\n",
            "    summed = grad_x.reshape(-1, n, d_model).sum(axis=0)\n"
            "    grad_pos = np.pad(summed, ((0, pos_emb.shape[0] - n), (0, 0)))\n",
        ),
    ),
    Alternative(
        "clip_grad_norm",
        "concatenate",
        """def clip_grad_norm(grads, max_norm):
    def flat(tree):
        if isinstance(tree, dict):
            return [a for v in tree.values() for a in flat(v)]
        if isinstance(tree, (list, tuple)):
            return [a for v in tree for a in flat(v)]
        return [tree] if isinstance(tree, np.ndarray) else []

    def rebuild(tree, c):
        if isinstance(tree, dict):
            return {k: rebuild(v, c) for k, v in tree.items()}
        if isinstance(tree, (list, tuple)):
            return [rebuild(v, c) for v in tree]
        return tree * c if isinstance(tree, np.ndarray) else tree

    every = np.concatenate([a.ravel().astype(np.float64) for a in flat(grads)])
    total = float(np.linalg.norm(every))
    return rebuild(grads, min(1.0, max_norm / total) if total > 0 else 1.0), total
""",
    ),
    Alternative(
        "lr_schedule",
        "progress_variable",
        """def lr_schedule(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return (step + 1) / warmup_steps * max_lr
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(step - warmup_steps, decay_steps) / decay_steps
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + np.cos(np.pi * progress))
""",
    ),
    Alternative(
        "adamw_step",
        "torch_formula_flat_state",
        # PyTorch's own arrangement (step size lr / bc1, denominator sqrt(v) / sqrt(bc2) + eps),
        # with the moments kept as flat lists in visiting order.
        """def adamw_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    t = 1 if state is None else state["t"] + 1
    ms = [] if state is None else list(state["m"])
    vs = [] if state is None else list(state["v"])
    counter = [0]

    def walk(p, g):
        if isinstance(p, dict):
            return {k: (walk(p[k], g[k]) if k in g else p[k]) for k in p}
        if isinstance(p, (list, tuple)):
            return [walk(a, b) for a, b in zip(p, g)]
        if not isinstance(p, np.ndarray):
            return p
        i = counter[0]
        counter[0] += 1
        if state is None:
            ms.append(np.zeros_like(g))
            vs.append(np.zeros_like(g))
        ms[i] = b1 * ms[i] + (1 - b1) * g
        vs[i] = b2 * vs[i] + (1 - b2) * g * g
        p = p * (1 - lr * weight_decay)
        denom = np.sqrt(vs[i]) / math.sqrt(1 - b2**t) + eps
        return p - (lr / (1 - b1**t)) * ms[i] / denom

    new = walk(params, grads)
    return new, {"t": t, "m": ms, "v": vs}
""",
    ),
    Alternative(
        "train_step",
        "schedule_first",
        """def train_step(params, state, ids, targets, step, config):
    lr = lr_schedule(
        step, config["max_lr"], config["warmup_steps"], config["total_steps"], config.get("min_lr", 0.0)
    )
    loss, grads = gpt_loss_and_grads(ids, targets, params, ignore_index=config.get("ignore_index"))
    max_norm = config.get("max_norm")
    if max_norm is not None:
        grads = clip_grad_norm(grads, max_norm)[0]
    new_params, new_state = adamw_step(params, grads, state, lr, weight_decay=config.get("weight_decay", 0.0))
    return new_params, new_state, loss
""",
    ),
]

DEGENERATE = [
    Degenerate(
        "gpt_loss_and_grads",
        "zero_grads",
        "the right loss with all-zero gradients",
        """def gpt_loss_and_grads(ids, targets, params, ignore_index=None):
    def zeros(tree):
        if isinstance(tree, dict):
            return {k: zeros(v) for k, v in tree.items() if k != "n_heads"}
        if isinstance(tree, list):
            return [zeros(v) for v in tree]
        return np.zeros_like(tree)

    return cross_entropy(gpt_forward(ids, params), targets, ignore_index), zeros(params)
""",
    ),
    Degenerate(
        "gpt_loss_and_grads",
        "params_as_grads",
        "a zero loss and the parameters themselves as gradients",
        """def gpt_loss_and_grads(ids, targets, params, ignore_index=None):
    return 0.0, {k: v for k, v in params.items() if k != "n_heads"}
""",
    ),
    Degenerate(
        "clip_grad_norm",
        "returns_grads",
        "returns the gradients unchanged, with their correct norm",
        """def clip_grad_norm(grads, max_norm):
    def arrays(tree):
        if isinstance(tree, dict):
            return [a for v in tree.values() for a in arrays(v)]
        if isinstance(tree, (list, tuple)):
            return [a for v in tree for a in arrays(v)]
        return [tree] if isinstance(tree, np.ndarray) else []

    return grads, math.sqrt(sum(float(np.sum(a**2)) for a in arrays(grads)))
""",
    ),
    Degenerate(
        "clip_grad_norm",
        "zero_norm",
        "returns the gradients unchanged and a norm of 0",
        """def clip_grad_norm(grads, max_norm):
    return grads, 0.0
""",
    ),
    Degenerate(
        "lr_schedule",
        "constant",
        "always max_lr",
        """def lr_schedule(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    return max_lr
""",
    ),
    Degenerate(
        "lr_schedule",
        "zero",
        "always 0",
        """def lr_schedule(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    return 0.0
""",
    ),
    Degenerate(
        "adamw_step",
        "returns_params",
        "returns the parameters unchanged",
        """def adamw_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return params, state
""",
    ),
    Degenerate(
        "adamw_step",
        "plain_sgd",
        "plain gradient descent, p - lr * g, ignoring moments and decay",
        """def adamw_step(params, grads, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    def walk(p, g):
        if isinstance(p, dict):
            return {k: (walk(p[k], g[k]) if k in g else p[k]) for k in p}
        if isinstance(p, list):
            return [walk(a, b) for a, b in zip(p, g)]
        return p - lr * g if isinstance(p, np.ndarray) else p

    return walk(params, grads), state
""",
    ),
    Degenerate(
        "train_step",
        "no_update",
        "the right loss, but the parameters are never updated",
        """def train_step(params, state, ids, targets, step, config):
    loss, _ = gpt_loss_and_grads(ids, targets, params, config.get("ignore_index"))
    return params, state, loss
""",
    ),
    Degenerate(
        "gpt_loss_and_grads",
        "ignores_blocks",
        "the loss and gradients of the model without its blocks, zero gradients for every block",
        _LOSS.replace("def gpt_loss_and_grads(", "def _without_blocks(")
        + """

def gpt_loss_and_grads(ids, targets, params, ignore_index=None):
    def zeros(tree):
        return {k: zeros(v) for k, v in tree.items()} if isinstance(tree, dict) else np.zeros_like(tree)

    loss, grads = _without_blocks(ids, targets, {**params, "blocks": []}, ignore_index)
    grads["blocks"] = [zeros(block) for block in params["blocks"]]
    return loss, grads
""",
    ),
    Degenerate(
        "clip_grad_norm",
        "ignores_max_norm",
        "clips to a norm of 1 whatever max_norm is",
        _CLIP.replace(
            "factor = max_norm / total_norm if total_norm > max_norm else 1.0",
            "factor = 1.0 / total_norm if total_norm > 1.0 else 1.0",
        ),
    ),
    Degenerate(
        "lr_schedule",
        "ignores_max_lr",
        "a schedule that peaks at 1 whatever max_lr is",
        _LR.replace("    if step < warmup_steps:", "    max_lr = 1.0\n    if step < warmup_steps:"),
    ),
    Degenerate(
        "adamw_step",
        "ignores_betas_and_eps",
        "AdamW with the default betas and eps whatever the arguments say",
        _ADAMW.replace("    beta_1, beta_2 = betas\n", "    beta_1, beta_2 = 0.9, 0.999\n    eps = 1e-8\n"),
    ),
    Degenerate(
        "train_step",
        "ignores_state",
        "every step a first AdamW step: the optimizer state passed in is ignored",
        _TRAIN.replace("adamw_step(params, grads, state, lr,", "adamw_step(params, grads, None, lr,"),
    ),
]
