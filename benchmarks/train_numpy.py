"""Train chapter 13's sorter with the notebook's own numpy code, and measure it.

    .venv/bin/python benchmarks/train_numpy.py [--steps 400] [--batch 64] [--threads 2] [--store]

Runs, outside Jupyter, exactly the cells a student runs in section 13.6 of
solutions/13-training/training.ipynb: the pasted earlier chapters' functions (their
solution bodies), the chapter's five functions (the reference), the task and the
trainer, then `train_sorter(live=False)`. Prints steps per second, the wall time of
the training and of the evaluation, and the exact match on the 2000 held-out prompts.
`--threads` sets the BLAS threads (the course's target is a laptop with two cores).
With --store, the loss curve, the exact match and the schedule of the figure are
written into solutions/models/training_runs.npz (other keys kept), from which
the chapter draws its figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "solutions" / "13-training" / "training.ipynb"
FIGURES = REPO / "solutions" / "models" / "training_runs.npz"
CELLS = (
    "setup",
    "from_chapter_03_to_12",
    "gpt_loss_and_grads",
    "clip_grad_norm",
    "lr_schedule",
    "adamw_step",
    "train_step",
    "sorting_task",
    "trainer",
)


def notebook_namespace() -> dict:
    """Execute the notebook's cells needed for training (solutions filled in) and return their namespace."""
    cells = {
        c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in json.loads(NOTEBOOK.read_text())["cells"]
    }
    ns: dict = {"__name__": "__notebook__"}
    for gid in CELLS:
        source = "".join(cells[gid]["source"])
        source = "\n".join(
            line for line in source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
        )
        exec(compile(source, f"<{gid}>", "exec"), ns)  # noqa: S102 - the course's own notebook
    return ns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--store", action="store_true")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy is first imported by the notebook's setup cell
    ns = notebook_namespace()
    np = ns["np"]
    params, losses, seconds = ns["train_sorter"](steps=args.steps, batch=args.batch, live=False)
    start = time.perf_counter()
    exact = ns["exact_match"](params, ns["heldout"])
    evaluation = time.perf_counter() - start
    print(
        f"{args.steps} steps of batch {args.batch} in {seconds:.1f} s ({args.steps / seconds:.2f} steps/s), "
        f"BLAS threads {args.threads}"
    )
    print(f"loss: first {losses[0]:.3f}, mean of the last 20 steps {losses[-20:].mean():.4f}")
    print(f"held-out exact match (2000 prompts, greedy): {exact:.2%}, evaluated in {evaluation:.1f} s")
    print(f"total {seconds + evaluation:.1f} s")
    if args.store:
        stored = dict(np.load(FIGURES)) if FIGURES.exists() else {}
        lr = ns["lr_schedule"]
        stored.update(
            sorter_loss=losses.astype(np.float32),
            sorter_exact=np.array(exact),
            schedule_warmup=np.array([lr(s, 3e-3, 100, 800) for s in range(800)]),
            schedule_no_warmup=np.array([lr(s, 3e-3, 0, 800) for s in range(800)]),
        )
        np.savez_compressed(FIGURES, **stored)
        print(f"stored the curve in {FIGURES.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
