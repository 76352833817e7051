"""Chapter 11: the masks of an encoder-decoder, the decoder layer, the encoder, the whole model, greedy translation."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "11-encoder-decoder"

_MASKS_HEAD = """def seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt):
    src_lengths, tgt_lengths = np.asarray(src_lengths), np.asarray(tgt_lengths)
    if np.any(src_lengths < 0) or np.any(src_lengths > n_src) or np.any(tgt_lengths < 0) or np.any(tgt_lengths > n_tgt):
        raise ValueError("length out of range")
    j_src, j_tgt = np.arange(n_src), np.arange(n_tgt)
    i = np.arange(n_tgt)[:, None]
"""

_LAYER_HEAD = """def decoder_layer(y, memory, params, n_heads, self_mask=None, cross_mask=None):
    p = params

    def ln(v, k):
        return layer_norm(v, p[f"ln{k}_gamma"], p[f"ln{k}_beta"])

    def ffn(v):
        return feed_forward(v, p["W_1"], p["b_1"], p["W_2"], p["b_2"])

"""

_ENCODER_HEAD = """def encoder_forward(src_ids, params, enc_mask=None):
    src_ids = np.asarray(src_ids)
    emb = params["src_emb"]
    n, d = src_ids.shape[-1], emb.shape[-1]
    pe = sinusoidal_positional_encoding(n, d)
"""

_FORWARD_HEAD = """def seq2seq_forward(src_ids, tgt_ids, params, src_lengths=None, tgt_lengths=None):
    src_ids, tgt_ids = np.asarray(src_ids), np.asarray(tgt_ids)
    n_src, n_tgt = src_ids.shape[-1], tgt_ids.shape[-1]
    if src_lengths is None and tgt_lengths is None:
        enc_mask, dec_mask, cross_mask = (m[0] for m in seq2seq_masks([n_src], [n_tgt], n_src, n_tgt))
    else:
        b = len(src_lengths if src_lengths is not None else tgt_lengths)
        src_lengths = np.full(b, n_src) if src_lengths is None else src_lengths
        tgt_lengths = np.full(b, n_tgt) if tgt_lengths is None else tgt_lengths
        enc_mask, dec_mask, cross_mask = seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt)
    d = params["tgt_emb"].shape[-1]
    pe = sinusoidal_positional_encoding(n_tgt, d)
"""

_FORWARD_TAIL = """    for layer in params["decoder"]:
        y = decoder_layer(y, memory, layer, params["n_heads"], self_mask, cross)
    y = layer_norm(y, params["dec_ln_gamma"], params["dec_ln_beta"])
    return y @ params["W_out"] + params["b_out"]
"""


def _forward(body: str) -> str:
    """seq2seq_forward with `body` choosing memory, y, self_mask and cross (the rest is right)."""
    return _FORWARD_HEAD + body + _FORWARD_TAIL


_RIGHT_FORWARD_BODY = """    memory = encoder_forward(src_ids, params, enc_mask)
    y = params["tgt_emb"][tgt_ids] * np.sqrt(d) + pe
    self_mask, cross = dec_mask, cross_mask
"""

_GREEDY = """def greedy_translate(params, src_ids, bos_id, eos_id, max_new_tokens):
    target = [bos_id]
    for _ in range(max_new_tokens):
        logits = seq2seq_forward(np.asarray(src_ids), np.array(target), params)
{pick}
{append}
    return np.array(target{ret}, dtype=np.int64)
"""


def _greedy(pick="        nxt = int(np.argmax(logits[-1]))", append=None, ret="[1:]") -> str:
    if append is None:
        append = "        target.append(nxt)\n        if nxt == eos_id:\n            break"
    return _GREEDY.format(pick=pick, append=append, ret=ret)


MISTAKES = [
    # -- seq2seq_masks ----------------------------------------------------------
    Mistake(
        "seq2seq_masks",
        "causal_encoder_in_seq2seq_masks",
        "makes the encoder's mask causal, as in a GPT",
        _MASKS_HEAD
        + """    enc = (j_src[None, :, None] >= j_src[None, None, :]) & (j_src < src_lengths[:, None])[:, None, :]
    dec = (j_tgt[None, :] <= i)[None] & (j_tgt < tgt_lengths[:, None])[:, None, :]
    cross = (j_src < src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("causal",),
    ),
    Mistake(
        "seq2seq_masks",
        "cross_from_target_lengths",
        "builds the cross-attention mask from the target lengths",
        _MASKS_HEAD
        + """    enc = (j_src < src_lengths[:, None])[:, None, :]
    dec = (j_tgt[None, :] <= i)[None] & (j_tgt < tgt_lengths[:, None])[:, None, :]
    cross = (j_tgt < tgt_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("target lengths", "source lengths", "one column per source key"),
    ),
    Mistake(
        "seq2seq_masks",
        "decoder_not_causal_in_seq2seq_masks",
        "gives the decoder only the padding mask, not the causal triangle",
        _MASKS_HEAD
        + """    enc = (j_src < src_lengths[:, None])[:, None, :]
    dec = np.broadcast_to((j_tgt < tgt_lengths[:, None])[:, None, :], (len(tgt_lengths), n_tgt, n_tgt))
    cross = (j_src < src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("not causal", "future"),
    ),
    Mistake(
        "seq2seq_masks",
        "decoder_ignores_padding",
        "gives the decoder the causal triangle only, so real tokens attend to padding",
        _MASKS_HEAD
        + """    enc = (j_src < src_lengths[:, None])[:, None, :]
    dec = np.broadcast_to(j_tgt[None, :] <= i, (len(tgt_lengths), n_tgt, n_tgt))
    cross = (j_src < src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("padded keys", "pad"),
    ),
    Mistake(
        "seq2seq_masks",
        "decoder_pads_queries",
        "blocks the padded queries (rows) instead of the padded keys (columns)",
        _MASKS_HEAD
        + """    enc = (j_src < src_lengths[:, None])[:, None, :]
    dec = (j_tgt[None, :] <= i)[None] & (j_tgt < tgt_lengths[:, None])[:, :, None]
    cross = (j_src < src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("queries",),
    ),
    Mistake(
        "seq2seq_masks",
        "strict_triangle",
        "blocks the diagonal: a position may not attend to itself",
        _MASKS_HEAD
        + """    enc = (j_src < src_lengths[:, None])[:, None, :]
    dec = (j_tgt[None, :] < i)[None] & (j_tgt < tgt_lengths[:, None])[:, None, :]
    cross = (j_src < src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("diagonal",),
    ),
    Mistake(
        "seq2seq_masks",
        "length_off_by_one",
        "lets key j = length through as well (j <= length)",
        _MASKS_HEAD
        + """    enc = (j_src <= src_lengths[:, None])[:, None, :]
    dec = (j_tgt[None, :] <= i)[None] & (j_tgt < tgt_lengths[:, None])[:, None, :]
    cross = (j_src <= src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("j <= length",),
    ),
    Mistake(
        "seq2seq_masks",
        "true_means_blocked",
        "uses PyTorch's polarity, True = blocked",
        _MASKS_HEAD
        + """    enc = (j_src >= src_lengths[:, None])[:, None, :]
    dec = ~((j_tgt[None, :] <= i)[None] & (j_tgt < tgt_lengths[:, None])[:, None, :])
    cross = (j_src >= src_lengths[:, None])[:, None, :]
    return enc, dec, cross
""",
        ("true means may attend", "not causal", "may attend"),
    ),
    Mistake(
        "seq2seq_masks",
        "no_length_check",
        "never raises for a length outside [0, n]",
        """def seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt):
    enc = padding_mask(src_lengths, n_src)
    dec = causal_mask(n_tgt) & padding_mask(tgt_lengths, n_tgt)
    return enc, dec, padding_mask(src_lengths, n_src)
""",
        ("valueerror",),
    ),
    # -- decoder_layer ------------------------------------------------------------
    Mistake(
        "decoder_layer",
        "pre_ln",
        "normalises before each sublayer (Pre-LN, chapter 10's GPT) instead of after the addition",
        _LAYER_HEAD
        + """    h = ln(y, 1)
    y = y + multi_head_attention(h, h, p["self_attn"], n_heads, self_mask)[0]
    y = y + multi_head_attention(ln(y, 2), memory, p["cross_attn"], n_heads, cross_mask)[0]
    return y + ffn(ln(y, 3))
""",
        ("pre-ln",),
    ),
    Mistake(
        "decoder_layer",
        "no_cross_attention",
        "leaves out the cross-attention sublayer",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)[0], 1)
    y = ln(y, 2)
    return ln(y + ffn(y), 3)
""",
        ("cross-attention sublayer", "memory"),
    ),
    Mistake(
        "decoder_layer",
        "queries_from_memory",
        "takes the cross-attention's queries from the memory and its keys and values from y",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)[0], 1)
    y = ln(y + multi_head_attention(memory, y, p["cross_attn"], n_heads, cross_mask)[0], 2)
    return ln(y + ffn(y), 3)
""",
        ("queries come from the memory", "queries from y"),
    ),
    Mistake(
        "decoder_layer",
        "masks_swapped_in_decoder_layer",
        "applies the cross-attention mask to the self-attention and the causal mask to the cross-attention",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads, cross_mask)[0], 1)
    y = ln(y + multi_head_attention(y, memory, p["cross_attn"], n_heads, self_mask)[0], 2)
    return ln(y + ffn(y), 3)
""",
        ("swapped",),
    ),
    Mistake(
        "decoder_layer",
        "cross_mask_ignored",
        "never passes cross_mask, so the decoder attends to padded source positions",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)[0], 1)
    y = ln(y + multi_head_attention(y, memory, p["cross_attn"], n_heads)[0], 2)
    return ln(y + ffn(y), 3)
""",
        ("padded source",),
    ),
    Mistake(
        "decoder_layer",
        "self_mask_ignored",
        "never passes self_mask, so the decoder sees later target tokens",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads)[0], 1)
    y = ln(y + multi_head_attention(y, memory, p["cross_attn"], n_heads, cross_mask)[0], 2)
    return ln(y + ffn(y), 3)
""",
        ("later target tokens", "self_mask"),
    ),
    Mistake(
        "decoder_layer",
        "one_layer_norm",
        "uses ln1_gamma and ln1_beta for all three sublayers",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)[0], 1)
    y = ln(y + multi_head_attention(y, memory, p["cross_attn"], n_heads, cross_mask)[0], 1)
    return ln(y + ffn(y), 1)
""",
        ("own layer norm",),
    ),
    Mistake(
        "decoder_layer",
        "ffn_before_cross",
        "puts the feed-forward sublayer before the cross-attention",
        _LAYER_HEAD
        + """    y = ln(y + multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)[0], 1)
    y = ln(y + ffn(y), 2)
    return ln(y + multi_head_attention(y, memory, p["cross_attn"], n_heads, cross_mask)[0], 3)
""",
        ("order",),
    ),
    Mistake(
        "decoder_layer",
        "no_residuals",
        "normalises each sublayer's output without adding its input",
        _LAYER_HEAD
        + """    y = ln(multi_head_attention(y, y, p["self_attn"], n_heads, self_mask)[0], 1)
    y = ln(multi_head_attention(y, memory, p["cross_attn"], n_heads, cross_mask)[0], 2)
    return ln(ffn(y), 3)
""",
        ("residual",),
    ),
    # -- encoder_forward ----------------------------------------------------------
    Mistake(
        "encoder_forward",
        "causal_encoder_in_encoder_forward",
        "gives the encoder's blocks a causal mask",
        _ENCODER_HEAD
        + """    mask = causal_mask(n) if enc_mask is None else causal_mask(n) & enc_mask
    x = emb[src_ids] * np.sqrt(d) + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=mask, norm_first=False)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
        ("causal",),
    ),
    Mistake(
        "encoder_forward",
        "embeddings_not_scaled",
        "adds the positions to the raw embeddings, without the factor sqrt(d_model)",
        _ENCODER_HEAD
        + """    x = emb[src_ids] + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=enc_mask, norm_first=False)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
        ("sqrt(d_model)",),
    ),
    Mistake(
        "encoder_forward",
        "scaled_by_d",
        "multiplies the embeddings by d_model instead of its square root",
        _ENCODER_HEAD
        + """    x = emb[src_ids] * d + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=enc_mask, norm_first=False)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
        ("instead of sqrt",),
    ),
    Mistake(
        "encoder_forward",
        "positions_added_twice",
        "adds the positional encoding to the memory a second time, after the final layer norm",
        _ENCODER_HEAD
        + """    x = emb[src_ids] * np.sqrt(d) + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=enc_mask, norm_first=False)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"]) + pe
""",
        ("second time",),
    ),
    Mistake(
        "encoder_forward",
        "pre_ln_blocks",
        "runs the blocks Pre-LN (norm_first=True)",
        _ENCODER_HEAD
        + """    x = emb[src_ids] * np.sqrt(d) + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=enc_mask)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
        ("pre-ln",),
    ),
    Mistake(
        "encoder_forward",
        "no_final_norm_in_encoder_forward",
        "forgets the final layer norm of the encoder stack",
        _ENCODER_HEAD
        + """    x = emb[src_ids] * np.sqrt(d) + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], mask=enc_mask, norm_first=False)
    return x
""",
        ("final layer norm",),
    ),
    Mistake(
        "encoder_forward",
        "mask_ignored",
        "never passes enc_mask to the blocks",
        _ENCODER_HEAD
        + """    x = emb[src_ids] * np.sqrt(d) + pe
    for block in params["encoder"]:
        x = transformer_block(x, block, params["n_heads"], norm_first=False)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
        ("padded",),
    ),
    # -- seq2seq_forward ----------------------------------------------------------
    Mistake(
        "seq2seq_forward",
        "target_not_scaled",
        "adds the positions to the raw target embeddings, without the factor sqrt(d_model)",
        _forward(
            """    memory = encoder_forward(src_ids, params, enc_mask)
    y = params["tgt_emb"][tgt_ids] + pe
    self_mask, cross = dec_mask, cross_mask
"""
        ),
        ("sqrt(d_model)",),
    ),
    Mistake(
        "seq2seq_forward",
        "positions_added_to_memory",
        "adds the positional encoding to the memory again before the decoder reads it",
        _forward(
            """    memory = encoder_forward(src_ids, params, enc_mask) + sinusoidal_positional_encoding(n_src, d)
    y = params["tgt_emb"][tgt_ids] * np.sqrt(d) + pe
    self_mask, cross = dec_mask, cross_mask
"""
        ),
        ("memory again",),
    ),
    Mistake(
        "seq2seq_forward",
        "decoder_not_causal_in_seq2seq_forward",
        "gives the decoder layers no causal mask",
        _forward(
            """    memory = encoder_forward(src_ids, params, enc_mask)
    y = params["tgt_emb"][tgt_ids] * np.sqrt(d) + pe
    self_mask = None if tgt_lengths is None else padding_mask(tgt_lengths, n_tgt)
    cross = cross_mask
"""
        ),
        ("not causal",),
    ),
    Mistake(
        "seq2seq_forward",
        "cross_mask_not_passed",
        "never gives the decoder the cross-attention mask, so it attends to padded source positions",
        _forward(
            """    memory = encoder_forward(src_ids, params, enc_mask)
    y = params["tgt_emb"][tgt_ids] * np.sqrt(d) + pe
    self_mask, cross = dec_mask, None
"""
        ),
        ("padded source",),
    ),
    Mistake(
        "seq2seq_forward",
        "encoder_mask_not_passed",
        "runs the encoder without its padding mask",
        _forward(
            """    memory = encoder_forward(src_ids, params)
    y = params["tgt_emb"][tgt_ids] * np.sqrt(d) + pe
    self_mask, cross = dec_mask, cross_mask
"""
        ),
        ("encoder attends to padded",),
    ),
    Mistake(
        "seq2seq_forward",
        "masks_swapped_in_seq2seq_forward",
        "passes the cross-attention mask as the decoder's self-attention mask and the other way round",
        _forward(
            """    memory = encoder_forward(src_ids, params, enc_mask)
    y = params["tgt_emb"][tgt_ids] * np.sqrt(d) + pe
    self_mask, cross = cross_mask, dec_mask
"""
        ),
        ("swapped",),
    ),
    Mistake(
        "seq2seq_forward",
        "no_final_norm_in_seq2seq_forward",
        "forgets the decoder's final layer norm",
        _FORWARD_HEAD
        + _RIGHT_FORWARD_BODY
        + """    for layer in params["decoder"]:
        y = decoder_layer(y, memory, layer, params["n_heads"], self_mask, cross)
    return y @ params["W_out"] + params["b_out"]
""",
        ("final layer norm",),
    ),
    Mistake(
        "seq2seq_forward",
        "tied_output",
        "scores the vocabulary with the target embeddings (tied, as in chapter 10) instead of W_out",
        _FORWARD_HEAD
        + _RIGHT_FORWARD_BODY
        + """    for layer in params["decoder"]:
        y = decoder_layer(y, memory, layer, params["n_heads"], self_mask, cross)
    y = layer_norm(y, params["dec_ln_gamma"], params["dec_ln_beta"])
    return y @ params["tgt_emb"].swapaxes(-1, -2)
""",
        ("tied",),
    ),
    Mistake(
        "seq2seq_forward",
        "no_output_bias",
        "forgets the output bias b_out",
        _FORWARD_HEAD
        + _RIGHT_FORWARD_BODY
        + """    for layer in params["decoder"]:
        y = decoder_layer(y, memory, layer, params["n_heads"], self_mask, cross)
    y = layer_norm(y, params["dec_ln_gamma"], params["dec_ln_beta"])
    return y @ params["W_out"]
""",
        ("b_out",),
    ),
    # -- greedy_translate ---------------------------------------------------------
    Mistake(
        "greedy_translate",
        "first_position",
        "takes the argmax of the first position's logits at every step",
        _greedy(pick="        nxt = int(np.argmax(logits[0]))"),
        ("first target position", "last position"),
    ),
    Mistake(
        "greedy_translate",
        "never_stops",
        "keeps going after writing eos_id",
        _greedy(append="        target.append(nxt)"),
        ("does not stop", "stop right after"),
    ),
    Mistake(
        "greedy_translate",
        "drops_eos",
        "stops before appending eos_id",
        _greedy(append="        if nxt == eos_id:\n            break\n        target.append(nxt)"),
        ("before appending", "including eos"),
    ),
    Mistake(
        "greedy_translate",
        "keeps_bos",
        "returns the whole target, bos_id included",
        _greedy(ret=""),
        ("bos_id",),
    ),
    Mistake(
        "greedy_translate",
        "ties_to_highest",
        "breaks ties towards the highest id",
        _greedy(pick="        nxt = int(len(logits[-1]) - 1 - np.argmax(logits[-1][::-1]))"),
        ("ties", "lowest id"),
    ),
]

ALTERNATIVES = [
    Alternative(
        "seq2seq_masks",
        "comparisons_and_one_array",
        _MASKS_HEAD
        + """    keys = j_src[None, None, :] < src_lengths[:, None, None]
    dec = np.logical_and(i >= j_tgt, j_tgt[None, None, :] < tgt_lengths.reshape(-1, 1, 1))
    return keys, dec, keys
""",
    ),
    Alternative(
        "decoder_layer",
        "loop_over_sublayers",
        """def decoder_layer(y, memory, params, n_heads, self_mask=None, cross_mask=None):
    sublayers = [
        lambda h: multi_head_attention(h, h, params["self_attn"], n_heads, mask=self_mask)[0],
        lambda h: multi_head_attention(h, memory, params["cross_attn"], n_heads, mask=cross_mask)[0],
        lambda h: feed_forward(h, params["W_1"], params["b_1"], params["W_2"], params["b_2"]),
    ]
    for k, sublayer in enumerate(sublayers, start=1):
        y = layer_norm(y + sublayer(y), params[f"ln{k}_gamma"], params[f"ln{k}_beta"], 1e-5)
    return y
""",
    ),
    Alternative(
        "encoder_forward",
        "take_and_math_sqrt",
        """def encoder_forward(src_ids, params, enc_mask=None):
    table = params["src_emb"]
    x = np.take(table, np.asarray(src_ids), axis=0) * math.sqrt(table.shape[1])
    x = x + sinusoidal_positional_encoding(x.shape[-2], table.shape[1])
    for i in range(len(params["encoder"])):
        x = transformer_block(x, params["encoder"][i], params["n_heads"], enc_mask, False)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
    ),
    Alternative(
        "seq2seq_forward",
        "masks_built_only_when_needed",
        """def seq2seq_forward(src_ids, tgt_ids, params, src_lengths=None, tgt_lengths=None):
    n_src, n_tgt = np.shape(src_ids)[-1], np.shape(tgt_ids)[-1]
    if src_lengths is None and tgt_lengths is None:
        enc_mask, dec_mask, cross_mask = None, causal_mask(n_tgt), None
    else:
        batch = np.shape(src_ids)[0]
        src_lengths = np.full(batch, n_src) if src_lengths is None else np.asarray(src_lengths)
        tgt_lengths = np.full(batch, n_tgt) if tgt_lengths is None else np.asarray(tgt_lengths)
        enc_mask, dec_mask, cross_mask = seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt)
    memory = encoder_forward(src_ids, params, enc_mask)
    d = params["tgt_emb"].shape[1]
    y = params["tgt_emb"][np.asarray(tgt_ids)] * d**0.5
    y = y + sinusoidal_positional_encoding(n_tgt, d)
    for layer in params["decoder"]:
        y = decoder_layer(y, memory, layer, params["n_heads"], self_mask=dec_mask, cross_mask=cross_mask)
    return np.matmul(layer_norm(y, params["dec_ln_gamma"], params["dec_ln_beta"]), params["W_out"]) + params["b_out"]
""",
    ),
    Alternative(
        "greedy_translate",
        "while_loop_np_append",
        """def greedy_translate(params, src_ids, bos_id, eos_id, max_new_tokens):
    out = np.array([], dtype=np.int64)
    while len(out) < max_new_tokens and (len(out) == 0 or out[-1] != eos_id):
        logits = seq2seq_forward(src_ids, np.concatenate([[bos_id], out]).astype(np.int64), params)
        out = np.append(out, np.int64(np.argmax(logits[-1])))
    return out
""",
    ),
]

DEGENERATE = [
    Degenerate(
        "seq2seq_masks",
        "all_true",
        "every mask all True (no padding, no causality), with the length check",
        _MASKS_HEAD
        + """    b = len(src_lengths)
    return np.ones((b, 1, n_src), bool), np.ones((b, n_tgt, n_tgt), bool), np.ones((b, 1, n_src), bool)
""",
    ),
    Degenerate(
        "seq2seq_masks",
        "causal_everywhere",
        "the causal triangle for every mask, lengths ignored",
        """def seq2seq_masks(src_lengths, tgt_lengths, n_src, n_tgt):
    b = len(src_lengths)
    tri = np.tril(np.ones((n_tgt, n_tgt), bool))
    return np.ones((b, 1, n_src), bool), np.broadcast_to(tri, (b, n_tgt, n_tgt)), np.ones((b, 1, n_src), bool)
""",
    ),
    Degenerate(
        "decoder_layer",
        "returns_y",
        "the target stream returned unchanged",
        """def decoder_layer(y, memory, params, n_heads, self_mask=None, cross_mask=None):
    return np.array(y, dtype=float)
""",
    ),
    Degenerate(
        "decoder_layer",
        "zeros_in_decoder_layer",
        "zeros of the right shape",
        """def decoder_layer(y, memory, params, n_heads, self_mask=None, cross_mask=None):
    return np.zeros(np.shape(y))
""",
    ),
    Degenerate(
        "decoder_layer",
        "memory_ignored",
        "a Post-LN block over y alone (chapter 10's), the memory ignored",
        """def decoder_layer(y, memory, params, n_heads, self_mask=None, cross_mask=None):
    block = {**params, "attn": params["self_attn"], "ln2_gamma": params["ln3_gamma"], "ln2_beta": params["ln3_beta"]}
    return transformer_block(y, block, n_heads, self_mask, norm_first=False)
""",
    ),
    Degenerate(
        "encoder_forward",
        "embeddings_only",
        "the scaled embeddings and positions, no blocks and no final norm",
        """def encoder_forward(src_ids, params, enc_mask=None):
    emb = params["src_emb"]
    n, d = np.shape(src_ids)[-1], emb.shape[-1]
    return emb[np.asarray(src_ids)] * np.sqrt(d) + sinusoidal_positional_encoding(n, d)
""",
    ),
    Degenerate(
        "encoder_forward",
        "blocks_skipped",
        "the embedding step and the final norm, the blocks skipped",
        """def encoder_forward(src_ids, params, enc_mask=None):
    emb = params["src_emb"]
    n, d = np.shape(src_ids)[-1], emb.shape[-1]
    x = emb[np.asarray(src_ids)] * np.sqrt(d) + sinusoidal_positional_encoding(n, d)
    return layer_norm(x, params["enc_ln_gamma"], params["enc_ln_beta"])
""",
    ),
    Degenerate(
        "seq2seq_forward",
        "zeros_in_seq2seq_forward",
        "zero logits of the right shape",
        """def seq2seq_forward(src_ids, tgt_ids, params, src_lengths=None, tgt_lengths=None):
    return np.zeros(np.shape(tgt_ids) + (params["W_out"].shape[1],))
""",
    ),
    Degenerate(
        "seq2seq_forward",
        "source_ignored",
        "the target embedded, normalised and scored, the source and the layers ignored",
        """def seq2seq_forward(src_ids, tgt_ids, params, src_lengths=None, tgt_lengths=None):
    d = params["tgt_emb"].shape[-1]
    n = np.shape(tgt_ids)[-1]
    y = params["tgt_emb"][np.asarray(tgt_ids)] * np.sqrt(d) + sinusoidal_positional_encoding(n, d)
    y = layer_norm(y, params["dec_ln_gamma"], params["dec_ln_beta"])
    return y @ params["W_out"] + params["b_out"]
""",
    ),
    Degenerate(
        "greedy_translate",
        "empty",
        "an empty translation",
        """def greedy_translate(params, src_ids, bos_id, eos_id, max_new_tokens):
    return np.array([], dtype=np.int64)
""",
    ),
    Degenerate(
        "greedy_translate",
        "source_returned",
        "the source returned unchanged",
        """def greedy_translate(params, src_ids, bos_id, eos_id, max_new_tokens):
    return np.array(src_ids, dtype=np.int64)
""",
    ),
    Degenerate(
        "greedy_translate",
        "one_step",
        "a single step: the first token only",
        """def greedy_translate(params, src_ids, bos_id, eos_id, max_new_tokens):
    if max_new_tokens == 0:
        return np.array([], dtype=np.int64)
    logits = seq2seq_forward(np.asarray(src_ids), np.array([bos_id]), params)
    return np.array([np.argmax(logits[-1])], dtype=np.int64)
""",
    ),
]
