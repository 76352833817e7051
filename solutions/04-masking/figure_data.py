"""Data for chapter 4's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the inputs in step with the figure cells.
"""

import numpy as np


def make(ref):
    return {
        "fig_masks": {
            "causal": ref.causal_mask(6),  # fig-causal-mask and fig-padding-mask: (6, 6)
            "padding": ref.padding_mask(np.array([6, 3, 2]), 6),  # fig-padding-mask: (3, 1, 6)
        }
    }
