"""Data for chapter 7's figures, made from the reference by `python -m autograder release`.

A figure that needs an exercise's result runs on the student's function once it works,
and on these arrays until then. Keep the computations in step with the figure cells.
"""

import numpy as np

D, DEPTH, SEEDS = 64, 50, range(5)
SIGMAS = np.geomspace(0.1, 3.0, 12)


def stacks(sigma):
    """The random stacks of section 7.2, one per seed: (x, weights)."""
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal(D)
        yield x, [rng.normal(scale=sigma / np.sqrt(D), size=(D, D)) for _ in range(DEPTH)]


def gradient_norm_curves(stack_gradient_norms) -> dict[str, np.ndarray]:
    out = {}
    for use_residual, name in [(False, "plain"), (True, "residual")]:
        out[f"{name}_norms"] = np.array([stack_gradient_norms(x, w, use_residual) for x, w in stacks(0.5)])
        out[f"{name}_ratios"] = np.array(
            [
                10
                ** np.mean(
                    [np.log10(g[0] / g[-1]) for g in (stack_gradient_norms(x, w, use_residual) for x, w in stacks(s))]
                )
                for s in SIGMAS
            ]
        )
    return out


def make(ref):
    return {"fig_gradient_norms": gradient_norm_curves(ref.stack_gradient_norms)}
