"""Chapter 10: the transformer block, the GPT forward pass, the sampling distribution, generation."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "10-gpt"

_NEXT_HEAD = """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad argument")
    logits = np.asarray(logits, dtype=float)
    if temperature == 0:
        probs = np.zeros(len(logits))
        probs[np.argmax(logits)] = 1.0
        return probs
"""

_GENERATE_HEAD = """def generate(params, prompt_ids, max_new_tokens, temperature=0.0, top_k=None, top_p=None, seed=0):
    ids = list(np.asarray(prompt_ids).reshape(-1))
    max_len = params["pos_emb"].shape[0]
"""

MISTAKES = [
    # -- transformer_block ----------------------------------------------------
    Mistake(
        "transformer_block",
        "pre_post_swapped",
        "computes Post-LN when norm_first=True and Pre-LN when it is False",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if not norm_first:
        h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
        x = x + multi_head_attention(h, h, p["attn"], n_heads, mask)[0]
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return x + feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(x + multi_head_attention(x, x, p["attn"], n_heads, mask)[0], p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
        ("post-ln", "pre-ln"),
    ),
    Mistake(
        "transformer_block",
        "no_residual_around_attention",
        "forgets the residual connection around attention in the Pre-LN block",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if norm_first:
        h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
        x = multi_head_attention(h, h, p["attn"], n_heads, mask)[0]
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return x + feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(x + multi_head_attention(x, x, p["attn"], n_heads, mask)[0], p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
        ("residual",),
    ),
    Mistake(
        "transformer_block",
        "no_residuals_at_all",
        "stacks the sublayers without any residual connection, in both arrangements",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if norm_first:
        h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
        x = multi_head_attention(h, h, p["attn"], n_heads, mask)[0]
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(multi_head_attention(x, x, p["attn"], n_heads, mask)[0], p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
        ("residual",),
    ),
    Mistake(
        "transformer_block",
        "residual_from_normalised_input",
        "adds the sublayer's output to LN(x) instead of to x in the Pre-LN block",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if norm_first:
        x = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
        x = x + multi_head_attention(x, x, p["attn"], n_heads, mask)[0]
        x = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(x + multi_head_attention(x, x, p["attn"], n_heads, mask)[0], p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
        ("residual", "normalised"),
    ),
    Mistake(
        "transformer_block",
        "ln1_for_both_sublayers",
        "uses ln1_gamma and ln1_beta for both layer norms",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    g, b = p["ln1_gamma"], p["ln1_beta"]
    if norm_first:
        h = layer_norm(x, g, b)
        x = x + multi_head_attention(h, h, p["attn"], n_heads, mask)[0]
        return x + feed_forward(layer_norm(x, g, b), p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(x + multi_head_attention(x, x, p["attn"], n_heads, mask)[0], g, b)
    return layer_norm(x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), g, b)
""",
        ("ln2",),
    ),
    Mistake(
        "transformer_block",
        "post_ln_normalises_sublayer_output",
        "Post-LN as x + LN(sublayer(x)) instead of LN(x + sublayer(x))",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if norm_first:
        h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
        x = x + multi_head_attention(h, h, p["attn"], n_heads, mask)[0]
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return x + feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = x + layer_norm(multi_head_attention(x, x, p["attn"], n_heads, mask)[0], p["ln1_gamma"], p["ln1_beta"])
    return x + layer_norm(feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
        ("normalises the sum", "before the addition"),
    ),
    Mistake(
        "transformer_block",
        "mask_not_passed",
        "never passes the mask on to multi_head_attention",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if norm_first:
        h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
        x = x + multi_head_attention(h, h, p["attn"], n_heads)[0]
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return x + feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(x + multi_head_attention(x, x, p["attn"], n_heads)[0], p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
        ("mask",),
    ),
    # -- gpt_forward ----------------------------------------------------------
    Mistake(
        "gpt_forward",
        "no_causal_mask",
        "runs the blocks without the causal mask, so every position sees the future",
        """def gpt_forward(ids, params):
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("too long")
    h = params["tok_emb"][ids] + params["pos_emb"][:n]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"])
    h = layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"])
    return h @ params["tok_emb"].T
""",
        ("causal",),
    ),
    Mistake(
        "gpt_forward",
        "no_positions",
        "forgets to add the position embeddings",
        """def gpt_forward(ids, params):
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("too long")
    h = params["tok_emb"][ids]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], mask=causal_mask(n))
    h = layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"])
    return h @ params["tok_emb"].T
""",
        ("position",),
    ),
    Mistake(
        "gpt_forward",
        "positions_looked_up_by_token_id",
        "indexes the position table with the token ids, pos_emb[ids]",
        """def gpt_forward(ids, params):
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("too long")
    h = params["tok_emb"][ids] + params["pos_emb"][ids]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], mask=causal_mask(n))
    h = layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"])
    return h @ params["tok_emb"].T
""",
        ("position",),
    ),
    Mistake(
        "gpt_forward",
        "no_final_layer_norm",
        "skips the final layer norm before the output layer",
        """def gpt_forward(ids, params):
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("too long")
    h = params["tok_emb"][ids] + params["pos_emb"][:n]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], mask=causal_mask(n))
    return h @ params["tok_emb"].T
""",
        ("final layer norm", "ln_f"),
    ),
    Mistake(
        "gpt_forward",
        "no_output_layer",
        "returns the final vectors (n, d_model) instead of the tied output layer's logits",
        """def gpt_forward(ids, params):
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("too long")
    h = params["tok_emb"][ids] + params["pos_emb"][:n]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], mask=causal_mask(n))
    return layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"])
""",
        ("tok_emb", "output layer", "tied"),
    ),
    Mistake(
        "gpt_forward",
        "post_ln_blocks",
        "runs the blocks as Post-LN",
        """def gpt_forward(ids, params):
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("too long")
    h = params["tok_emb"][ids] + params["pos_emb"][:n]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], mask=causal_mask(n), norm_first=False)
    h = layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"])
    return h @ params["tok_emb"].T
""",
        ("pre-ln",),
    ),
    # -- next_token_distribution ---------------------------------------------
    Mistake(
        "next_token_distribution",
        "temperature_after_softmax",
        "divides the probabilities by the temperature after the softmax (renormalising undoes it)",
        _NEXT_HEAD
        + """    probs = softmax(logits)
    probs = probs / temperature
    probs = probs / probs.sum()
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("before the softmax", "temperature had no effect"),
    ),
    Mistake(
        "next_token_distribution",
        "temperature_multiplies",
        "multiplies the logits by the temperature",
        _NEXT_HEAD
        + """    probs = softmax(logits * temperature)
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("multiplied", "divide"),
    ),
    Mistake(
        "next_token_distribution",
        "temperature_zero_divides",
        "divides by the temperature even when it is 0 (inf / nan instead of greedy)",
        """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad argument")
    logits = np.asarray(logits, dtype=float)
    probs = softmax(logits / temperature)
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("temperature 0", "divide the logits by 0", "nan"),
    ),
    Mistake(
        "next_token_distribution",
        "top_k_keeps_k_plus_one",
        "keeps k + 1 tokens (an off-by-one in the slice)",
        _NEXT_HEAD
        + """    probs = softmax(logits / temperature)
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k + 1 :]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("k + 1", "exactly k"),
    ),
    Mistake(
        "next_token_distribution",
        "ties_towards_higher_id",
        "sorts ascending and reverses, so tied tokens come out highest id first",
        _NEXT_HEAD
        + """    probs = softmax(logits / temperature)
    order = np.argsort(probs, kind="stable")[::-1]
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("lower id", "tie"),
    ),
    Mistake(
        "next_token_distribution",
        "top_p_drops_crossing_token",
        "keeps only the tokens whose running total stays below top_p, dropping the crossing token",
        _NEXT_HEAD
        + """    probs = softmax(logits / temperature)
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        cumulative = np.cumsum(probs[order])
        probs[order[cumulative > top_p]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("crossing",),
    ),
    Mistake(
        "next_token_distribution",
        "no_renormalisation",
        "zeroes the filtered tokens but never renormalises",
        _NEXT_HEAD
        + """    probs = softmax(logits / temperature)
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k:]] = 0.0
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
    return probs
""",
        ("renormalis",),
    ),
    Mistake(
        "next_token_distribution",
        "top_p_on_unrenormalised_top_k",
        "applies top-p to the top-k probabilities before renormalising them",
        _NEXT_HEAD
        + """    probs = softmax(logits / temperature)
    order = np.argsort(-probs, kind="stable")
    if top_k is not None:
        probs[order[top_k:]] = 0.0
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
    return probs / probs.sum()
""",
        ("renormalis", "after top-k"),
    ),
    # -- generate ------------------------------------------------------------
    Mistake(
        "generate",
        "no_crop",
        "feeds the whole sequence to the model, even past max_len",
        _GENERATE_HEAD
        + """    rng = np.random.default_rng(seed)
    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids), params)[-1]
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
        else:
            p = next_token_distribution(logits, temperature, top_k, top_p)
            ids.append(int(rng.choice(len(p), p=p)))
    return np.array(ids)
""",
        ("crop", "max_len"),
    ),
    Mistake(
        "generate",
        "reseeds_every_token",
        "creates np.random.default_rng(seed) anew for every token",
        _GENERATE_HEAD
        + """    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids[-max_len:]), params)[-1]
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
        else:
            rng = np.random.default_rng(seed)
            p = next_token_distribution(logits, temperature, top_k, top_p)
            ids.append(int(rng.choice(len(p), p=p)))
    return np.array(ids)
""",
        ("re-seeded", "once"),
    ),
    Mistake(
        "generate",
        "argmax_when_sampling",
        "always takes the argmax, whatever the temperature",
        _GENERATE_HEAD
        + """    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids[-max_len:]), params)[-1]
        p = next_token_distribution(logits, temperature, top_k, top_p)
        ids.append(int(np.argmax(p)))
    return np.array(ids)
""",
        ("argmax", "greedily", "rng.choice"),
    ),
    Mistake(
        "generate",
        "returns_only_new_tokens",
        "returns the new tokens without the prompt",
        _GENERATE_HEAD
        + """    rng = np.random.default_rng(seed)
    new = []
    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids[-max_len:]), params)[-1]
        if temperature == 0:
            token = int(np.argmax(logits))
        else:
            p = next_token_distribution(logits, temperature, top_k, top_p)
            token = int(rng.choice(len(p), p=p))
        ids.append(token)
        new.append(token)
    return np.array(new, dtype=int)
""",
        ("prompt",),
    ),
    Mistake(
        "generate",
        "first_position_logits",
        "picks the next token from the logits of the first position",
        _GENERATE_HEAD
        + """    rng = np.random.default_rng(seed)
    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids[-max_len:]), params)[0]
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
        else:
            p = next_token_distribution(logits, temperature, top_k, top_p)
            ids.append(int(rng.choice(len(p), p=p)))
    return np.array(ids)
""",
        ("last position",),
    ),
    Mistake(
        "generate",
        "legacy_global_random",
        "draws with the legacy np.random functions instead of a default_rng(seed) generator",
        _GENERATE_HEAD
        + """    np.random.seed(seed)
    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids[-max_len:]), params)[-1]
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
        else:
            p = next_token_distribution(logits, temperature, top_k, top_p)
            ids.append(int(np.random.choice(len(p), p=p)))
    return np.array(ids)
""",
        ("default_rng",),
    ),
    Mistake(
        "generate",
        "filters_ignored",
        "calls next_token_distribution without top_k and top_p",
        _GENERATE_HEAD
        + """    rng = np.random.default_rng(seed)
    for _ in range(max_new_tokens):
        logits = gpt_forward(np.array(ids[-max_len:]), params)[-1]
        if temperature == 0:
            ids.append(int(np.argmax(logits)))
        else:
            p = next_token_distribution(logits, temperature)
            ids.append(int(rng.choice(len(p), p=p)))
    return np.array(ids)
""",
        ("top_k",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "transformer_block",
        "inline_float32_einsum",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    f32 = np.float32
    x = np.asarray(x, dtype=f32)
    a = {k: np.asarray(v, dtype=f32) for k, v in params["attn"].items()}
    d = x.shape[-1]
    dh = d // n_heads

    def ln(v, i):
        mu = v.mean(-1, keepdims=True)
        var = ((v - mu) ** 2).mean(-1, keepdims=True)
        gamma, beta = params[f"ln{i}_gamma"].astype(f32), params[f"ln{i}_beta"].astype(f32)
        return (v - mu) / np.sqrt(var + f32(1e-5)) * gamma + beta

    def attend(h):
        def heads(name):
            y = h @ a["W_" + name] + a.get("b_" + name, np.zeros(d, f32))
            return y.reshape(*y.shape[:-1], n_heads, dh)

        q, k, v = heads("q"), heads("k"), heads("v")
        s = np.einsum("...qhd,...khd->...hqk", q, k) / f32(math.sqrt(dh))
        if mask is not None:
            s = np.where(np.asarray(mask)[..., None, :, :], s, -np.inf)
        top = s.max(-1, keepdims=True)
        e = np.exp(s - np.where(np.isfinite(top), top, 0))
        tot = e.sum(-1, keepdims=True)
        w = np.where(tot > 0, e / np.where(tot > 0, tot, 1), 0)
        o = np.einsum("...hqk,...khd->...qhd", w, v)
        return o.reshape(*o.shape[:-2], d) @ a["W_o"] + a.get("b_o", np.zeros(d, f32))

    def ffn(h):
        return np.maximum(h @ params["W_1"].astype(f32) + params["b_1"].astype(f32), 0) @ params["W_2"].astype(
            f32
        ) + params["b_2"].astype(f32)

    if norm_first:
        x = x + attend(ln(x, 1))
        return x + ffn(ln(x, 2))
    x = ln(x + attend(x), 1)
    return ln(x + ffn(x), 2)
""",
    ),
    Alternative(
        "transformer_block",
        "residual_helper",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params

    def attention(h):
        return multi_head_attention(h, h, p["attn"], n_heads, mask=mask)[0]

    def mlp(h):
        return feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])

    for f, name in [(attention, "ln1"), (mlp, "ln2")]:
        gamma, beta = p[name + "_gamma"], p[name + "_beta"]
        x = x + f(layer_norm(x, gamma, beta, 1e-5)) if norm_first else layer_norm(x + f(x), gamma, beta, 1e-5)
    return x
""",
    ),
    Alternative(
        "gpt_forward",
        "one_hot_einsum_float32",
        """def gpt_forward(ids, params):
    ids = np.asarray(ids)
    E = np.asarray(params["tok_emb"], dtype=np.float32)
    P = np.asarray(params["pos_emb"], dtype=np.float32)
    n = ids.shape[-1]
    if n > len(P):
        raise ValueError(f"{n} tokens, max_len {len(P)}")
    one_hot = (ids[..., None] == np.arange(len(E))).astype(np.float32)
    h = np.einsum("...nv,vd->...nd", one_hot, E) + P[np.arange(n)]
    allowed = np.arange(n)[:, None] >= np.arange(n)[None, :]
    for block in params["blocks"]:
        h = transformer_block(h, block, params["n_heads"], allowed, True)
    h = layer_norm(h, params["ln_f_gamma"], params["ln_f_beta"])
    return np.einsum("...nd,vd->...nv", h, E)
""",
    ),
    Alternative(
        "next_token_distribution",
        "python_sort_and_loops",
        """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0:
        raise ValueError("temperature < 0")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k < 1")
    if top_p is not None and (top_p <= 0 or top_p > 1):
        raise ValueError("top_p outside (0, 1]")
    z = [float(v) for v in logits]
    if temperature == 0:
        best = max(range(len(z)), key=lambda i: (z[i], -i))
        return np.array([1.0 if i == best else 0.0 for i in range(len(z))])
    m = max(z)
    e = [math.exp((v - m) / temperature) for v in z]
    probs = [v / sum(e) for v in e]
    ranked = sorted(range(len(z)), key=lambda i: (-probs[i], i))
    if top_k is not None:
        keep = set(ranked[:top_k])
        probs = [p if i in keep else 0.0 for i, p in enumerate(probs)]
        total = sum(probs)
        probs = [p / total for p in probs]
    if top_p is not None:
        keep, total = set(), 0.0
        for i in ranked:
            keep.add(i)
            total += probs[i]
            if total >= top_p:
                break
        probs = [p if i in keep else 0.0 for i, p in enumerate(probs)]
        total = sum(probs)
        probs = [p / total for p in probs]
    return np.array(probs)
""",
    ),
    Alternative(
        "next_token_distribution",
        "shifted_mask_top_p",
        """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not (0 < top_p <= 1)):
        raise ValueError("invalid sampling settings")
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return np.eye(logits.shape[-1])[np.argmax(logits)]
    scaled = logits / temperature
    order = np.lexsort((np.arange(len(scaled)), -scaled))
    keep = np.ones(len(scaled), dtype=bool)
    if top_k is not None:
        keep[order[top_k:]] = False
    probs = softmax(np.where(keep, scaled, -np.inf))
    if top_p is not None:
        sorted_probs = probs[order]
        before = np.cumsum(sorted_probs) - sorted_probs
        drop = order[before >= top_p]
        probs = softmax(np.where(np.isin(np.arange(len(probs)), drop) | ~keep, -np.inf, scaled))
    return probs
""",
    ),
    Alternative(
        "generate",
        "array_growth_choice_over_arange",
        """def generate(params, prompt_ids, max_new_tokens, temperature=0.0, top_k=None, top_p=None, seed=0):
    out = np.array(prompt_ids, dtype=np.int64).ravel()
    window = len(params["pos_emb"])
    rng = np.random.default_rng(seed)
    while len(out) < len(np.ravel(prompt_ids)) + max_new_tokens:
        last = gpt_forward(out[max(0, len(out) - window) :], params)[-1]
        if temperature > 0:
            p = next_token_distribution(last, temperature=temperature, top_k=top_k, top_p=top_p)
            token = rng.choice(np.arange(len(p)), p=p)
        else:
            token = np.argmax(next_token_distribution(last, temperature=0.0))
        out = np.append(out, np.int64(token))
    return out
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate(
        "transformer_block",
        "block_identity",
        "returns x unchanged",
        "def transformer_block(x, params, n_heads, mask=None, norm_first=True):\n    return x\n",
    ),
    Degenerate(
        "transformer_block",
        "block_zeros",
        "zeros of the shape of x",
        "def transformer_block(x, params, n_heads, mask=None, norm_first=True):\n    return np.zeros(np.shape(x))\n",
    ),
    Degenerate(
        "transformer_block",
        "block_ffn_only",
        "skips the attention sublayer (ignores the other positions and the mask)",
        """def transformer_block(x, params, n_heads, mask=None, norm_first=True):
    p = params
    if norm_first:
        h = layer_norm(x, p["ln2_gamma"], p["ln2_beta"])
        return x + feed_forward(h, p["W_1"], p["b_1"], p["W_2"], p["b_2"])
    x = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
    return layer_norm(x + feed_forward(x, p["W_1"], p["b_1"], p["W_2"], p["b_2"]), p["ln2_gamma"], p["ln2_beta"])
""",
    ),
    Degenerate(
        "gpt_forward",
        "gpt_zero_logits",
        "zero logits of shape (..., n, vocab), with the max_len check",
        """def gpt_forward(ids, params):
    ids = np.asarray(ids)
    if ids.shape[-1] > params["pos_emb"].shape[0]:
        raise ValueError("sequence longer than max_len")
    return np.zeros(ids.shape + (params["tok_emb"].shape[0],))
""",
    ),
    Degenerate(
        "gpt_forward",
        "gpt_embeddings_only",
        "logits from the embeddings alone (skips every block and the final norm)",
        """def gpt_forward(ids, params):
    ids = np.asarray(ids)
    n = ids.shape[-1]
    if n > params["pos_emb"].shape[0]:
        raise ValueError("sequence longer than max_len")
    h = params["tok_emb"][ids] + params["pos_emb"][:n]
    return h @ params["tok_emb"].T
""",
    ),
    Degenerate(
        "next_token_distribution",
        "next_token_uniform",
        "uniform probabilities, after checking the arguments",
        """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad sampling argument")
    n = np.shape(logits)[-1]
    return np.full(n, 1.0 / n)
""",
    ),
    Degenerate(
        "next_token_distribution",
        "next_token_plain_softmax",
        "softmax of the logits, ignoring temperature, top_k and top_p (arguments checked)",
        """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad sampling argument")
    logits = np.asarray(logits, dtype=float)
    e = np.exp(logits - logits.max())
    return e / e.sum()
""",
    ),
    Degenerate(
        "generate",
        "generate_prompt_only",
        "returns the prompt unchanged",
        "def generate(params, prompt_ids, max_new_tokens, temperature=0.0, top_k=None, top_p=None, seed=0):\n"
        "    return np.asarray(prompt_ids)\n",
    ),
    Degenerate(
        "generate",
        "generate_zeros",
        "appends max_new_tokens zeros to the prompt",
        "def generate(params, prompt_ids, max_new_tokens, temperature=0.0, top_k=None, top_p=None, seed=0):\n"
        "    return np.concatenate([np.asarray(prompt_ids), np.zeros(max_new_tokens, dtype=np.int64)])\n",
    ),
]

MISTAKES += [
    Mistake(
        "next_token_distribution",
        "default_argsort",
        "ranks with np.argsort's default (unstable) sort: ties come out in any order once the vocabulary has more "
        "than 16 entries",
        _NEXT_HEAD
        + """    probs = softmax(logits / temperature)
    order = np.argsort(-probs)
    if top_k is not None:
        probs[order[top_k:]] = 0.0
        probs = probs / probs.sum()
    if top_p is not None:
        n = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        probs[order[n:]] = 0.0
        probs = probs / probs.sum()
    return probs
""",
        ("stable", "more than 16"),
    ),
]

DEGENERATE += [
    Degenerate(
        "gpt_forward",
        "gpt_nan_logits",
        "NaN logits of shape (..., n, vocab), with the max_len check",
        """def gpt_forward(ids, params):
    ids = np.asarray(ids)
    if ids.shape[-1] > params["pos_emb"].shape[0]:
        raise ValueError("sequence longer than max_len")
    return np.full(ids.shape + (params["tok_emb"].shape[0],), np.nan)
""",
    ),
    Degenerate(
        "next_token_distribution",
        "next_token_greedy_always",
        "one-hot on the largest logit whatever the temperature, top_k and top_p (arguments checked)",
        """def next_token_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad sampling argument")
    probs = np.zeros(np.shape(logits)[-1])
    probs[np.argmax(logits)] = 1.0
    return probs
""",
    ),
]
