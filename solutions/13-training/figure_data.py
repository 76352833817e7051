"""Chapter 13's figure data: the stored training runs, plus the schedule from the reference.

The loss curves of ``training.ipynb`` come from runs too long for a release or a book
build, so they are stored in ``solutions/models/training_runs.npz``, written by
``benchmarks/train_numpy.py --store`` (the sorter trained with the notebook's own
cells) and ``solutions/models/claims.py`` (the three claims, several seeds each).
``make`` loads them and recomputes the learning-rate schedule of the schedule figure
with the course's reference (``ref``), so that figure matches ``lr_schedule`` exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STORED = Path(__file__).resolve().parent.parent / "models" / "training_runs.npz"


def make(ref) -> dict[str, dict[str, np.ndarray]]:
    arrays = dict(np.load(STORED))
    arrays["schedule_warmup"] = np.array([ref.lr_schedule(s, 3e-3, 100, 800) for s in range(800)])
    arrays["schedule_no_warmup"] = np.array([ref.lr_schedule(s, 3e-3, 0, 800) for s in range(800)])
    return {"training_figures.npz": arrays}
