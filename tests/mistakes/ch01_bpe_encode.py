"""Chapter 01, exercise 1.9: applying the learned BPE merges to a text."""

from tests.mistakes import Alternative, Degenerate, Mistake

ASSIGNMENT = "01-tokens"

_MERGE_STEP = """
def _merge(word, x, y):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == x and word[i + 1] == y:
            out.append(x + y)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out
"""

MISTAKES = [
    Mistake(
        "bpe_encode",
        "bpe_encode_str_replace",
        "glues the symbols into one space-separated string and merges with str.replace, which also matches "
        "the end of a longer symbol ('ba b' contains 'a b')",
        """def bpe_encode(text, merges):
    out = []
    for token in tokenize(text):
        s = " ".join(list(token) + ["</w>"])
        for x, y in merges:
            s = s.replace(x + " " + y, x + y)
        out.extend(s.split(" "))
    return out
""",
        ("whole symbols", "longer symbol"),
    ),
    Mistake(
        "bpe_encode",
        "bpe_encode_reversed_order",
        "applies the merges last-learned first",
        _MERGE_STEP
        + """

def bpe_encode(text, merges):
    out = []
    for token in tokenize(text):
        word = list(token) + ["</w>"]
        for x, y in reversed(merges):
            word = _merge(word, x, y)
        out.extend(word)
    return out
""",
        ("order they were learned",),
    ),
    Mistake(
        "bpe_encode",
        "bpe_encode_sorted_merges",
        "applies the merges in sorted order instead of the order they were learned",
        _MERGE_STEP
        + """

def bpe_encode(text, merges):
    out = []
    for token in tokenize(text):
        word = list(token) + ["</w>"]
        for x, y in sorted(tuple(p) for p in merges):
            word = _merge(word, x, y)
        out.extend(word)
    return out
""",
        ("order they were learned", "not sorted"),
    ),
    Mistake(
        "bpe_encode",
        "bpe_encode_no_end_marker",
        "forgets the end-of-word symbol '</w>'",
        _MERGE_STEP
        + """

def bpe_encode(text, merges):
    out = []
    for token in tokenize(text):
        word = list(token)
        for x, y in merges:
            word = _merge(word, x, y)
        out.extend(word)
    return out
""",
        ("</w>",),
    ),
    Mistake(
        "bpe_encode",
        "bpe_encode_str_split",
        "cuts the text with str.split instead of tokenize: capitals and punctuation stay attached",
        _MERGE_STEP
        + """

def bpe_encode(text, merges):
    out = []
    for token in text.split():
        word = list(token) + ["</w>"]
        for x, y in merges:
            word = _merge(word, x, y)
        out.extend(word)
    return out
""",
        ("tokenize",),
    ),
]

ALTERNATIVES = [
    Alternative(
        "bpe_encode",
        "bpe_encode_cached_words",
        """def bpe_encode(text, merges):
    # Encode each distinct word once; a repeated word reuses its symbols.
    cache = {}
    out = []
    for token in tokenize(text):
        if token not in cache:
            word = tuple(token) + ("</w>",)
            for pair in merges:
                pair = tuple(pair)
                new, i = (), 0
                while i < len(word):
                    if word[i : i + 2] == pair:
                        new += ("".join(pair),)
                        i += 2
                    else:
                        new += (word[i],)
                        i += 1
                word = new
            cache[token] = list(word)
        out += cache[token]
    return out
""",
    ),
    Alternative(
        "bpe_encode",
        "bpe_encode_all_words_per_merge",
        """def bpe_encode(text, merges):
    # One merge at a time over all the words; join into the last symbol while scanning.
    words = [list(t) + ["</w>"] for t in tokenize(text)]
    for pair in merges:
        x, y = pair[0], pair[1]
        for k, w in enumerate(words):
            new, just_joined = [], False
            for s in w:
                if new and not just_joined and new[-1] == x and s == y:
                    new[-1] = x + y
                    just_joined = True
                else:
                    new.append(s)
                    just_joined = False
            words[k] = new
    return [s for w in words for s in w]
""",
    ),
]

DEGENERATE = [
    Degenerate(
        "bpe_encode",
        "bpe_encode_characters",
        "the characters plus '</w>', merges ignored",
        """def bpe_encode(text, merges):
    return [s for t in tokenize(text) for s in list(t) + ["</w>"]]
""",
    ),
    Degenerate(
        "bpe_encode",
        "bpe_encode_words",
        "the words of tokenize, unchanged",
        """def bpe_encode(text, merges):
    return tokenize(text)
""",
    ),
    Degenerate(
        "bpe_encode",
        "bpe_encode_empty",
        "always the empty list",
        """def bpe_encode(text, merges):
    return []
""",
    ),
]
