"""Chapter 01: tokenizer, vocabulary, encode/decode, one-hot, embeddings, cosine similarity, BPE merges."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "01-tokens"

MISTAKES = [
    # --- tokenize -------------------------------------------------------------------------
    Mistake(
        "tokenize",
        "no_lowercase",
        "keeps the original case, so 'The' and 'the' become two different tokens",
        """def tokenize(text):
    return re.findall(r"\\w+|[^\\w\\s]", text)
""",
        ("lowercase",),
    ),
    Mistake(
        "tokenize",
        "splits_on_whitespace_only",
        "splits on whitespace only, so punctuation stays glued to the words",
        """def tokenize(text):
    return text.lower().split()
""",
        ("whitespace",),
    ),
    Mistake(
        "tokenize",
        "drops_punctuation",
        "keeps only the runs of word characters and throws the punctuation away",
        """def tokenize(text):
    return re.findall(r"\\w+", text.lower())
""",
        ("punctuation",),
    ),
    Mistake(
        "tokenize",
        "groups_punctuation",
        "keeps a run of punctuation ('...', '?!') as one token instead of one token per character",
        """def tokenize(text):
    return re.findall(r"\\w+|[^\\w\\s]+", text.lower())
""",
        ("one token each", "single"),
    ),
    # --- build_vocab ----------------------------------------------------------------------
    Mistake(
        "build_vocab",
        "ties_by_first_appearance",
        "uses Counter.most_common, which breaks ties by first appearance, not in string order",
        """def build_vocab(corpus, min_freq=1):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    vocab = {"<pad>": 0, "<unk>": 1}
    for tok, c in counts.most_common():
        if c >= min_freq:
            vocab[tok] = len(vocab)
    return vocab
""",
        ("most_common", "string order"),
    ),
    Mistake(
        "build_vocab",
        "ties_reversed",
        "sorts by (count, token) with reverse=True, so ties come out in reverse string order",
        """def build_vocab(corpus, min_freq=1):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    vocab = {"<pad>": 0, "<unk>": 1}
    for tok in sorted(counts, key=lambda t: (counts[t], t), reverse=True):
        if counts[tok] >= min_freq:
            vocab[tok] = len(vocab)
    return vocab
""",
        ("reverse",),
    ),
    Mistake(
        "build_vocab",
        "no_special_tokens",
        "forgets <pad> and <unk>: the most frequent token gets id 0",
        """def build_vocab(corpus, min_freq=1):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    kept = [t for t in sorted(counts, key=lambda t: (-counts[t], t)) if counts[t] >= min_freq]
    return {t: i for i, t in enumerate(kept)}
""",
        ("<pad>",),
    ),
    Mistake(
        "build_vocab",
        "min_freq_strict",
        "keeps tokens whose count is > min_freq instead of >= min_freq",
        """def build_vocab(corpus, min_freq=1):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    vocab = {"<pad>": 0, "<unk>": 1}
    for tok in sorted(counts, key=lambda t: (-counts[t], t)):
        if counts[tok] > min_freq:
            vocab[tok] = len(vocab)
    return vocab
""",
        ("at least min_freq",),
    ),
    Mistake(
        "build_vocab",
        "ascending_counts",
        "gives the rarest tokens the smallest ids",
        """def build_vocab(corpus, min_freq=1):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    vocab = {"<pad>": 0, "<unk>": 1}
    for tok in sorted(counts, key=lambda t: (counts[t], t)):
        if counts[tok] >= min_freq:
            vocab[tok] = len(vocab)
    return vocab
""",
        ("descending",),
    ),
    Mistake(
        "build_vocab",
        "whitespace_tokens",
        "splits the texts on whitespace instead of calling tokenize",
        """def build_vocab(corpus, min_freq=1):
    counts = collections.Counter(t for text in corpus for t in text.split())
    vocab = {"<pad>": 0, "<unk>": 1}
    for tok in sorted(counts, key=lambda t: (-counts[t], t)):
        if counts[tok] >= min_freq:
            vocab[tok] = len(vocab)
    return vocab
""",
        ("tokenize",),
    ),
    # --- encode ---------------------------------------------------------------------------
    Mistake(
        "encode",
        "keyerror_on_unknown",
        "looks every token up with vocab[token], which raises KeyError for an unknown word",
        """def encode(text, vocab):
    return np.array([vocab[t] for t in tokenize(text)], dtype=np.int64)
""",
        ("keyerror",),
    ),
    Mistake(
        "encode",
        "drops_unknown",
        "skips unknown tokens instead of writing the id of <unk>",
        """def encode(text, vocab):
    return np.array([vocab[t] for t in tokenize(text) if t in vocab], dtype=np.int64)
""",
        ("dropped",),
    ),
    Mistake(
        "encode",
        "unk_id_hardcoded",
        "writes 1 for an unknown token instead of looking up the id of <unk>",
        """def encode(text, vocab):
    return np.array([vocab.get(t, 1) for t in tokenize(text)], dtype=np.int64)
""",
        ('vocab["<unk>"]',),
    ),
    Mistake(
        "encode",
        "text_split_not_tokenize",
        "splits the text on whitespace instead of calling tokenize",
        """def encode(text, vocab):
    return np.array([vocab.get(t, vocab["<unk>"]) for t in text.split()], dtype=np.int64)
""",
        ("tokenize",),
    ),
    Mistake(
        "encode",
        "returns_python_list",
        "returns a Python list instead of an int64 array",
        """def encode(text, vocab):
    return [vocab.get(t, vocab["<unk>"]) for t in tokenize(text)]
""",
        ("numpy array",),
    ),
    # --- decode ---------------------------------------------------------------------------
    Mistake(
        "decode",
        "keeps_pad",
        "writes '<pad>' into the text instead of skipping it",
        """def decode(ids, vocab):
    inverse = {i: t for t, i in vocab.items()}
    return " ".join(inverse[int(i)] for i in ids)
""",
        ("<pad>",),
    ),
    Mistake(
        "decode",
        "no_spaces",
        "joins the tokens with no space between them",
        """def decode(ids, vocab):
    inverse = {i: t for t, i in vocab.items()}
    return "".join(inverse[int(i)] for i in ids if inverse[int(i)] != "<pad>")
""",
        ("single space",),
    ),
    Mistake(
        "decode",
        "dict_order_as_ids",
        "uses list(vocab)[i], which assumes the dict's insertion order is the id order",
        """def decode(ids, vocab):
    tokens = list(vocab)
    return " ".join(tokens[int(i)] for i in ids if tokens[int(i)] != "<pad>")
""",
        ("insertion order",),
    ),
    Mistake(
        "decode",
        "returns_token_list",
        "returns the list of tokens instead of one string",
        """def decode(ids, vocab):
    inverse = {i: t for t, i in vocab.items()}
    return [inverse[int(i)] for i in ids if inverse[int(i)] != "<pad>"]
""",
        ("one string",),
    ),
    # --- one_hot --------------------------------------------------------------------------
    Mistake(
        "one_hot",
        "eye_indexing_unchecked",
        "indexes np.eye with the ids and checks nothing: IndexError for large ids, wraps negative ones",
        """def one_hot(ids, vocab_size):
    return np.eye(vocab_size)[np.asarray(ids)]
""",
        ("valueerror",),
    ),
    Mistake(
        "one_hot",
        "negative_ids_wrap",
        "checks ids >= vocab_size but not negative ids, which numpy's indexing wraps to the end",
        """def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids >= vocab_size):
        raise ValueError("id too large")
    return np.eye(vocab_size)[ids]
""",
        ("negative",),
    ),
    Mistake(
        "one_hot",
        "flattens_batched_ids",
        "flattens batched ids, returning (n_total, vocab_size) instead of (..., vocab_size)",
        """def one_hot(ids, vocab_size):
    ids = np.asarray(ids).ravel()
    if np.any(ids < 0) or np.any(ids >= vocab_size):
        raise ValueError("id out of range")
    return np.eye(vocab_size)[ids]
""",
        ("(..., vocab_size)",),
    ),
    Mistake(
        "one_hot",
        "transposed",
        "puts the vocabulary axis first: (vocab_size, n) instead of (n, vocab_size)",
        """def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if np.any(ids < 0) or np.any(ids >= vocab_size):
        raise ValueError("id out of range")
    return (np.arange(vocab_size)[:, None] == ids[None]).astype(float)
""",
        ("transpose",),
    ),
    # --- embed ----------------------------------------------------------------------------
    Mistake(
        "embed",
        "picks_columns",
        "takes columns E[:, ids] instead of rows E[ids]",
        """def embed(ids, E):
    return E[:, ids]
""",
        ("columns",),
    ),
    Mistake(
        "embed",
        "flattens_batch_axes",
        "flattens batched ids, returning (n_total, d_model) instead of (..., d_model)",
        """def embed(ids, E):
    return E[np.ravel(ids)]
""",
        ("(..., d_model)",),
    ),
    Mistake(
        "embed",
        "one_hot_of_width_d_model",
        "builds the one-hot vectors with d_model entries instead of vocab_size",
        """def embed(ids, E):
    return one_hot(ids, E.shape[1]) @ E
""",
        ("vocab_size = e.shape[0]",),
    ),
    # --- cosine_similarity ----------------------------------------------------------------
    Mistake(
        "cosine_similarity",
        "no_zero_guard",
        "divides by the product of the norms unguarded: 0/0 = NaN for an all-zero vector",
        """def cosine_similarity(a, b):
    dot = (a * b).sum(axis=-1)
    return dot / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
""",
        ("nan",),
    ),
    Mistake(
        "cosine_similarity",
        "norm_of_whole_array",
        "takes np.linalg.norm of the whole array instead of one norm per vector",
        """def cosine_similarity(a, b):
    dot = (a * b).sum(axis=-1)
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    return np.divide(dot, norms, out=np.zeros_like(dot, dtype=float), where=norms > 0)
""",
        ("whole array",),
    ),
    Mistake(
        "cosine_similarity",
        "pairwise_matrix",
        "multiplies a @ bᵀ, giving every pair of rows instead of one similarity per row",
        """def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.nan_to_num(a @ np.swapaxes(b, -1, -2) if b.ndim > 1 else a @ b)
""",
        ("pair of rows",),
    ),
    Mistake(
        "cosine_similarity",
        "no_square_root",
        "divides by the squared norms (no square root)",
        """def cosine_similarity(a, b):
    dot = (a * b).sum(axis=-1)
    sq = (a * a).sum(axis=-1) * (b * b).sum(axis=-1)
    return np.divide(dot, sq, out=np.zeros_like(dot, dtype=float), where=sq > 0)
""",
        ("square root",),
    ),
    Mistake(
        "cosine_similarity",
        "first_axis",
        "sums over axis 0 instead of the last axis",
        """def cosine_similarity(a, b):
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    dot = (a * b).sum(axis=0)
    norms = np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0)
    return np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)
""",
        ("last axis",),
    ),
    # --- bpe_merges -----------------------------------------------------------------------
    Mistake(
        "bpe_merges",
        "pairs_counted_once_per_word",
        "counts each distinct pair once per word (a set), missing repeated and overlapping occurrences",
        """def bpe_merges(corpus, num_merges):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    words = {tuple(w) + ("</w>",): c for w, c in counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, c in words.items():
            for pair in set(zip(word[:-1], word[1:])):
                pairs[pair] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for word, c in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new[tuple(out)] = c
        words = new
    return merges
""",
        ("overlapping",),
    ),
    Mistake(
        "bpe_merges",
        "overlapping_merges",
        "merges every position where the pair starts, so in 'a a a' both overlapping pairs become 'aa'",
        """def bpe_merges(corpus, num_merges):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    words = {tuple(w) + ("</w>",): c for w, c in counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, c in words.items():
            for pair in zip(word[:-1], word[1:]):
                pairs[pair] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for word, c in words.items():
            out = []
            for i in range(len(word)):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                elif i > 0 and (word[i - 1], word[i]) == best:
                    continue
                else:
                    out.append(word[i])
            new[tuple(out)] = c
        words = new
    return merges
""",
        ("non-overlapping",),
    ),
    Mistake(
        "bpe_merges",
        "ties_by_first_seen",
        "takes max(pairs, key=pairs.get), which breaks ties by first appearance",
        """def bpe_merges(corpus, num_merges):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    words = {tuple(w) + ("</w>",): c for w, c in counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, c in words.items():
            for pair in zip(word[:-1], word[1:]):
                pairs[pair] += c
        if not pairs:
            break
        best = max(pairs, key=pairs.get)
        merges.append(best)
        new = {}
        for word, c in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new[tuple(out)] = c
        words = new
    return merges
""",
        ("smallest pair",),
    ),
    Mistake(
        "bpe_merges",
        "unweighted_words",
        "counts each distinct word once, ignoring how often it occurs",
        """def bpe_merges(corpus, num_merges):
    words = [tuple(w) + ("</w>",) for w in sorted({t for text in corpus for t in tokenize(text)})]
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter(p for word in words for p in zip(word[:-1], word[1:]))
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = []
        for word in words:
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new.append(tuple(out))
        words = new
    return merges
""",
        ("weight",),
    ),
    Mistake(
        "bpe_merges",
        "no_end_of_word_marker",
        "splits words into characters without the '</w>' symbol at the end",
        """def bpe_merges(corpus, num_merges):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    words = {tuple(w): c for w, c in counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, c in words.items():
            for pair in zip(word[:-1], word[1:]):
                pairs[pair] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for word, c in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new[tuple(out)] = c
        words = new
    return merges
""",
        ("</w>",),
    ),
    Mistake(
        "bpe_merges",
        "counts_never_updated",
        "counts the pairs once and returns the most frequent ones, without merging and recounting",
        """def bpe_merges(corpus, num_merges):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    pairs = collections.Counter()
    for w, c in counts.items():
        word = tuple(w) + ("</w>",)
        for pair in zip(word[:-1], word[1:]):
            pairs[pair] += c
    return sorted(pairs, key=lambda p: (-pairs[p], p))[:num_merges]
""",
        ("recount",),
    ),
    Mistake(
        "bpe_merges",
        "no_early_stop",
        "keeps looping when no pair is left, so min() of an empty sequence raises ValueError",
        """def bpe_merges(corpus, num_merges):
    counts = collections.Counter(t for text in corpus for t in tokenize(text))
    words = {tuple(w) + ("</w>",): c for w, c in counts.items()}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word, c in words.items():
            for pair in zip(word[:-1], word[1:]):
                pairs[pair] += c
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        new = {}
        for word, c in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new[tuple(out)] = c
        words = new
    return merges
""",
        ("no pair is left",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "tokenize",
        "character_loop",
        """def tokenize(text):
    tokens, word = [], ""
    for ch in text.lower():
        if ch.isalnum() or ch == "_":
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        if not ch.isspace():
            tokens.append(ch)
    if word:
        tokens.append(word)
    return tokens
""",
    ),
    Alternative(
        "tokenize",
        "re_split_keep_separators",
        """def tokenize(text):
    return [piece for piece in re.split(r"(\\W)", text.lower()) if piece.strip()]
""",
    ),
    Alternative(
        "build_vocab",
        "two_stable_sorts",
        """def build_vocab(corpus, min_freq=1):
    counts = {}
    for text in corpus:
        for tok in tokenize(text):
            counts[tok] = counts.get(tok, 0) + 1
    ordered = sorted(sorted(counts), key=lambda t: counts[t], reverse=True)
    tokens = ["<pad>", "<unk>"] + [t for t in ordered if counts[t] >= min_freq]
    return {t: i for i, t in enumerate(tokens)}
""",
    ),
    Alternative(
        "encode",
        "fromiter_loop",
        """def encode(text, vocab):
    unk = vocab["<unk>"]
    ids = []
    for tok in tokenize(text):
        ids.append(vocab[tok] if tok in vocab else unk)
    return np.fromiter(ids, dtype=np.int64, count=len(ids))
""",
    ),
    Alternative(
        "decode",
        "table_by_id",
        """def decode(ids, vocab):
    table = [tok for tok, _ in sorted(vocab.items(), key=lambda item: item[1])]
    words = []
    for i in np.asarray(ids).tolist():
        if table[i] != "<pad>":
            words.append(table[i])
    return " ".join(words)
""",
    ),
    Alternative(
        "one_hot",
        "eye_with_checks",
        """def one_hot(ids, vocab_size):
    ids = np.asarray(ids, dtype=np.int64)
    if ((ids < 0) | (ids >= vocab_size)).any():
        raise ValueError(f"every id must be in [0, {vocab_size})")
    return np.eye(vocab_size, dtype=np.float32)[ids]
""",
    ),
    Alternative(
        "one_hot",
        "put_along_axis",
        """def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    for i in ids.ravel().tolist():
        if not 0 <= i < vocab_size:
            raise ValueError(f"id {i} is outside [0, {vocab_size})")
    out = np.zeros(ids.shape + (vocab_size,))
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out
""",
    ),
    Alternative(
        "embed",
        "one_hot_product",
        """def embed(ids, E):
    return one_hot(ids, E.shape[0]) @ E
""",
    ),
    Alternative(
        "embed",
        "take_float32",
        """def embed(ids, E):
    return np.take(np.asarray(E, dtype=np.float32), np.asarray(ids), axis=0)
""",
    ),
    Alternative(
        "cosine_similarity",
        "unit_vectors_einsum",
        """def cosine_similarity(a, b):
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    na = np.sqrt(np.einsum("...i,...i->...", a, a))[..., None]
    nb = np.sqrt(np.einsum("...i,...i->...", b, b))[..., None]
    ua = np.divide(a, na, out=np.zeros_like(a), where=na > 0)
    ub = np.divide(b, nb, out=np.zeros_like(b), where=nb > 0)
    return np.einsum("...i,...i->...", *np.broadcast_arrays(ua, ub))
""",
    ),
    Alternative(
        "cosine_similarity",
        "epsilon_floor",
        """def cosine_similarity(a, b):
    dot = np.sum(a * b, axis=-1)
    norms = np.sqrt(np.sum(a**2, axis=-1)) * np.sqrt(np.sum(b**2, axis=-1))
    return dot / np.maximum(norms, 1e-12)
""",
    ),
    Alternative(
        "cosine_similarity",
        "nan_to_num_after",
        """def cosine_similarity(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.nan_to_num(cos)
""",
    ),
    Alternative(
        "bpe_merges",
        "regex_replace_on_every_token",
        """def bpe_merges(corpus, num_merges):
    words = [" ".join(list(t) + ["</w>"]) for text in corpus for t in tokenize(text)]
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for word in words:
            symbols = word.split(" ")
            pairs.update(zip(symbols[:-1], symbols[1:]))
        if not pairs:
            break
        top = max(pairs.values())
        best = min(p for p, c in pairs.items() if c == top)
        merges.append(best)
        pattern = re.compile(r"(?<!\\S)" + re.escape(best[0] + " " + best[1]) + r"(?!\\S)")
        words = [pattern.sub(best[0] + best[1], word) for word in words]
    return merges
""",
    ),
    Alternative(
        "bpe_merges",
        "functools_reduce_lists",
        """import functools
import itertools


def bpe_merges(corpus, num_merges):
    freq = collections.Counter(itertools.chain.from_iterable(tokenize(t) for t in corpus))
    words = [[list(w) + ["</w>"], c] for w, c in freq.items()]
    merges = []
    while len(merges) < num_merges:
        pairs = {}
        for symbols, c in words:
            for i in range(len(symbols) - 1):
                key = (symbols[i], symbols[i + 1])
                pairs[key] = pairs.get(key, 0) + c
        if not pairs:
            return merges
        best = functools.reduce(lambda x, y: y if (pairs[y], x) > (pairs[x], y) else x, pairs)
        merges.append(best)
        for entry in words:
            symbols, out, i = entry[0], [], 0
            while i < len(symbols):
                if symbols[i : i + 2] == list(best):
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            entry[0] = out
    return merges
""",
    ),
]

# Degenerate answers: each ignores what matters and may earn at most a quarter of its
# function's points.
DEGENERATE = [
    Degenerate("tokenize", "tokenize_empty", "returns no tokens", "def tokenize(text):\n    return []\n"),
    Degenerate(
        "tokenize",
        "tokenize_whole_text",
        "returns the whole text as one token",
        "def tokenize(text):\n    return [text]\n",
    ),
    Degenerate(
        "build_vocab",
        "build_vocab_specials_only",
        "returns the two special tokens and ignores the corpus",
        'def build_vocab(corpus, min_freq=1):\n    return {"<pad>": 0, "<unk>": 1}\n',
    ),
    Degenerate(
        "encode",
        "encode_all_unknown",
        "maps every token to the id of <unk>, ignoring the vocabulary",
        """def encode(text, vocab):
    return np.full(len(re.findall(r"\\w+|[^\\w\\s]", text.lower())), 1, dtype=np.int64)
""",
    ),
    Degenerate(
        "encode",
        "encode_zeros",
        "returns an int64 array of zeros, one per token",
        """def encode(text, vocab):
    return np.zeros(len(re.findall(r"\\w+|[^\\w\\s]", text.lower())), dtype=np.int64)
""",
    ),
    Degenerate("decode", "decode_empty", "returns the empty string", 'def decode(ids, vocab):\n    return ""\n'),
    Degenerate(
        "decode",
        "decode_ids_as_text",
        "joins the ids themselves, ignoring the vocabulary",
        'def decode(ids, vocab):\n    return " ".join(str(int(i)) for i in ids)\n',
    ),
    Degenerate(
        "one_hot",
        "one_hot_zeros",
        "returns zeros of the right shape",
        """def one_hot(ids, vocab_size):
    return np.zeros(np.shape(ids) + (vocab_size,))
""",
    ),
    Degenerate(
        "one_hot",
        "one_hot_zeros_validated",
        "checks the ids, then returns zeros of the right shape",
        """def one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError("id out of range")
    return np.zeros(ids.shape + (vocab_size,))
""",
    ),
    Degenerate(
        "embed",
        "embed_zeros",
        "returns zeros of the right shape",
        "def embed(ids, E):\n    return np.zeros(np.shape(ids) + (E.shape[1],))\n",
    ),
    Degenerate(
        "embed",
        "embed_first_row",
        "returns the first row of E for every id (ignores the ids)",
        "def embed(ids, E):\n    return np.broadcast_to(E[0], np.shape(ids) + (E.shape[1],)).copy()\n",
    ),
    Degenerate(
        "cosine_similarity",
        "cosine_zeros",
        "returns zeros of the broadcast shape",
        """def cosine_similarity(a, b):
    return np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b))[:-1])
""",
    ),
    Degenerate(
        "cosine_similarity",
        "cosine_ones",
        "returns ones of the broadcast shape",
        """def cosine_similarity(a, b):
    return np.ones(np.broadcast_shapes(np.shape(a), np.shape(b))[:-1])
""",
    ),
    Degenerate(
        "bpe_merges", "bpe_merges_empty", "returns no merges", "def bpe_merges(corpus, num_merges):\n    return []\n"
    ),
    Degenerate(
        "bpe_merges",
        "bpe_merges_first_pairs",
        "merges the first adjacent pairs of the first word, ignoring the counts",
        """def bpe_merges(corpus, num_merges):
    words = [w for text in corpus for w in re.findall(r"\\w+|[^\\w\\s]", text.lower())]
    symbols = list(words[0]) + ["</w>"] if words else []
    return list(zip(symbols, symbols[1:]))[:num_merges]
""",
    ),
]

MISTAKES += [
    Mistake(
        "bpe_merges",
        "merges_with_str_replace",
        "keeps each word as a space-separated string and merges with str.replace, which also matches across symbol "
        "boundaries ('b </w>' inside 'bb </w>')",
        """def bpe_merges(corpus, num_merges):
    words = collections.Counter()
    for text in corpus:
        for w in tokenize(text):
            words[" ".join(w) + " </w>"] += 1
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            s = w.split()
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = collections.Counter()
        for w, c in words.items():
            merged[w.replace(" ".join(best), "".join(best))] += c
        words = merged
    return merges
""",
        ("symbol boundar", "whole symbols"),
    ),
]
