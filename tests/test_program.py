"""Which cells of a submission the grader runs: its answer cells and its own cells, never the course's."""

from __future__ import annotations

import json

from autograder import BOOK
from autograder.runner import build_program
from tests import support

ASSIGNMENT = "13-training"  # has read-only course cells and editable ones (switches, an optional exercise)


def _released():
    (contract,) = [c for c in support.course() if c.assignment == ASSIGNMENT]
    nb = json.loads((BOOK / ASSIGNMENT / f"{contract.notebook}.ipynb").read_text(encoding="utf-8"))
    return contract, nb


def _cell(nb, cell_id):
    (cell,) = [c for c in nb["cells"] if c.get("id") == cell_id]
    return cell


def _own_cells(contract, nb):
    program, _, _ = build_program(contract, nb)
    return [src for name, src in program if name.startswith("your cell")]


def test_an_unchanged_release_runs_only_the_pasted_earlier_functions():
    contract, nb = _released()
    assert _own_cells(contract, nb) == ["".join(_cell(nb, "from-chapter-03-to-12")["source"])]


def test_an_edited_switch_or_optional_exercise_runs_as_the_students_own_cell():
    contract, nb = _released()
    _cell(nb, "train-switch-cell")["source"] = "TRAIN_SORTER = True"
    _cell(nb, "variant-loss-and-grads")["source"] = "def variant_loss_and_grads(*args, **kw):\n    return 0.0, {}"
    own = _own_cells(contract, nb)[1:]  # after the pasted earlier functions
    assert own == ["TRAIN_SORTER = True", "def variant_loss_and_grads(*args, **kw):\n    return 0.0, {}"]


def test_an_edited_read_only_cell_is_never_run():
    contract, nb = _released()
    _cell(nb, "train-sorter")["source"] = "import os\nos.system('echo hello')"  # the training run, unlocked by hand
    assert not [src for src in _own_cells(contract, nb) if "os.system" in src]
