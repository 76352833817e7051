"""Data for chapter 1's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the corpus in step with fig-similarity-maps.
"""

import numpy as np

CORPUS = [
    "the cat chased a mouse", "the dog chased a cat", "the horse runs in the field",
    "my cat sleeps all day", "my dog sleeps in the garden", "the horse sleeps in the barn",
    "the cat drinks milk", "the dog drinks water", "the horse drinks water",
    "she ate a sweet apple", "he ate a ripe banana", "we ate fresh bread",
    "a ripe apple is sweet", "fresh bread tastes good", "a sweet banana tastes good",
    "the car drove to town", "the bus drove to town", "the train goes to town",
    "the car is fast", "the train is fast", "the dog runs fast", "the bus stops on the road",
    "she drove the car on the road",
]  # fmt: skip
STOP = {"the", "a", "my", "she", "he", "we", "is", "on", "in", "to", "all"}
WORDS = ["cat", "dog", "horse", "apple", "banana", "bread", "car", "bus", "train"]


def cooccurrence() -> np.ndarray:
    sentences = [[w for w in s.split() if w not in STOP] for s in CORPUS]
    context = sorted({w for s in sentences for w in s})
    col = {w: j for j, w in enumerate(context)}
    C = np.zeros((len(WORDS), len(context)))
    for s in sentences:
        for i, w in enumerate(WORDS):
            if w in s:
                for c in s:
                    if c != w:
                        C[i, col[c]] += 1
    return C  # (9, n_context)


def make(ref):
    C = cooccurrence()
    return {"fig_similarity_maps": {"cooccurrence": ref.cosine_similarity(C[:, None, :], C[None, :, :])}}
