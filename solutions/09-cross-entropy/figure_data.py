"""Data for chapter 9's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the computations in step with the figure cells.
"""

import re

import numpy as np

TRAIN_TEXT = (
    "the cat sat on the mat . the dog sat on the rug . the cat saw the dog . the dog saw a cat . "
    "a cat sat on a rug . a dog sat on the mat . the cat ran to the dog . the dog ran to a mat ."
)
HELD_OUT = "the dog sat on a mat . a cat saw the dog . the cat ran to the rug ."


def perplexity_curves(cross_entropy, cross_entropy_grad) -> dict[str, np.ndarray]:
    """fig-perplexity: uniform predictions over growing vocabularies, and a bigram model trained by gradient descent."""
    words = sorted(set(re.findall(r"\w+|[^\w\s]", TRAIN_TEXT)))
    vocab = {w: i for i, w in enumerate(words)}
    V = len(vocab)
    train = np.array([vocab[w] for w in re.findall(r"\w+|[^\w\s]", TRAIN_TEXT)])
    test = np.array([vocab[w] for w in re.findall(r"\w+|[^\w\s]", HELD_OUT)])
    counts = np.full((V, V), 0.1)
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    ppl_counts = np.exp(cross_entropy(np.log(counts / counts.sum(-1, keepdims=True))[test[:-1]], test[1:]))
    W = np.zeros((V, V))
    ppl_train, ppl_test = [], []
    for _ in range(201):
        logits = W[train[:-1]]
        ppl_train.append(np.exp(cross_entropy(logits, train[1:])))
        ppl_test.append(np.exp(cross_entropy(W[test[:-1]], test[1:])))
        grad_W = np.zeros_like(W)
        np.add.at(grad_W, train[:-1], cross_entropy_grad(logits, train[1:]))
        W = W - 5.0 * grad_W
    vs = np.unique(np.logspace(np.log10(2), np.log10(50_000), 25).astype(int))
    ppl_uniform = [np.exp(cross_entropy(np.zeros((3, v)), np.array([0, v // 2, v - 1]))) for v in vs]
    return {
        "vs": vs,
        "ppl_uniform": np.array(ppl_uniform),
        "ppl_train": np.array(ppl_train),
        "ppl_test": np.array(ppl_test),
        "ppl_counts": np.float64(ppl_counts),
    }


def make(ref):
    return {"fig_perplexity": perplexity_curves(ref.cross_entropy, ref.cross_entropy_grad)}
