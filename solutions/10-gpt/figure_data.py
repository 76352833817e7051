"""Data for chapter 10's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the computations in step with the figure cells.
"""

import numpy as np

LOGITS = np.array([1.2, 3.1, 0.3, 2.2, -0.5, 1.9, 0.8, -1.0, 2.6, 0.1])  # fig-sampling-filters


def sampling_filters(next_token_distribution) -> dict[str, np.ndarray]:
    return {
        "by_temperature": np.array([next_token_distribution(LOGITS, temperature=t) for t in (0.5, 1.0, 2.0)]),
        "top_k": next_token_distribution(LOGITS, top_k=3),
        "top_p": next_token_distribution(LOGITS, top_p=0.8),
    }


def make(ref):
    return {"fig_sampling_filters": sampling_filters(ref.next_token_distribution)}
