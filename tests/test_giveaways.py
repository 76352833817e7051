"""No figure, demo or helper cell of a released notebook hands out a graded function.

Every function defined in a non-answer, non-test cell of ``book/*/*.ipynb`` is pasted
into a submission of every chapter, with each answer cell replaced by a wrapper that
calls it, and graded by the real ``grade`` command: no helper may earn more than 25 %
of any graded function's points.

The cells are parsed, not executed: a helper travels with the statements it needs (the
imports, the functions and the plain assignments that define the names it reads), so a
figure's helper is graded as a student who copied it with its context would submit it.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder import BOOK, SOLUTIONS
from tests import support

SHARE = 0.25  # the largest share of a graded function's points a helper may earn
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Helper:
    notebook: str  # the assignment the helper comes from
    name: str
    n_positional: int  # positional parameters it accepts (-1: any number)
    source: str  # the helper and every statement it needs, ready to paste

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", f"{self.notebook}-{self.name}").strip("-").lower()


def _is_answer_or_test(cell: dict) -> bool:
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return bool(nbg.get("solution") or nbg.get("grade"))


def _bound(node: ast.AST) -> set[str]:
    """Names a top-level statement binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _read(node: ast.AST) -> set[str]:
    """Names a statement or function reads from outside (a function's own locals excluded)."""
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
        node = node.value
    if isinstance(node, ast.FunctionDef | ast.Lambda):
        a = node.args
        params = {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if x is not None}
        stores = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        loads -= params | stores
    return loads


def _guarded(source: str, node: ast.stmt) -> str:
    """A pasted statement; one that computes something may fail (it may call a stub) without
    stopping the rest."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
        return source
    return "try:\n" + textwrap.indent(source, "    ") + "\nexcept Exception:\n    pass"


PASTABLE = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def _positional(args: ast.arguments) -> int:
    return -1 if args.vararg else len(args.posonlyargs) + len(args.args)


def helpers_of(path: Path) -> list[Helper]:
    """Every function (top-level, nested or a named lambda) defined outside the answer and test cells."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    statements: list[tuple[str, ast.stmt]] = []  # (cell source, statement), in notebook order
    found: list[tuple[str, ast.AST, str, bool]] = []  # (name, node, cell source, top level)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or _is_answer_or_test(cell):
            continue
        src = "".join(cell["source"])
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        top = set(map(id, tree.body))
        statements += [(src, s) for s in tree.body]
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                found.append((node.name, node, src, id(node) in top))
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Lambda)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                found.append((node.targets[0].id, node, src, id(node) in top))
    out = []
    known = set(dir(builtins))
    for name, node, src, top_level in found:
        args = node.args if isinstance(node, ast.FunctionDef) else node.value.args
        n_positional = _positional(args)
        if n_positional == 0:
            continue  # cannot stand in for a function that takes arguments
        own = textwrap.dedent(ast.get_source_segment(src, node, padded=True))
        needed, taken = (_read(node) - known) | ({name} if top_level else set()), set()
        changed = True
        while changed:  # the statements that define what the helper reads, and what they read
            changed = False
            for _, s in statements:
                if id(s) not in taken and isinstance(s, PASTABLE) and _bound(s) & needed:
                    taken.add(id(s))
                    needed |= _read(s) - known
                    changed = True
        parts = [
            _guarded(textwrap.dedent(ast.get_source_segment(s_src, s, padded=True)), s)
            for s_src, s in statements
            if id(s) in taken
        ]
        if not top_level:
            parts.append(own)
        source = "\n".join(parts) + f"\n_giveaway_helper = {name}\n"
        out.append(Helper(path.parent.name, name, n_positional, source))
    return out


def _reference():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_giveaway_reference", SOLUTIONS / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _required_positional(fn) -> int:
    params = inspect.signature(fn).parameters.values()
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def answer_cell(helper: Helper, function: str, required: int) -> str:
    """The helper's source, then `function` calling it with every argument (or, for a helper that
    takes fewer, with the first ones)."""
    if helper.n_positional < 0 or helper.n_positional >= required:
        call = "_giveaway_helper(*args, **kwargs)"
    else:
        call = f"_giveaway_helper(*args[: {helper.n_positional}])"
    return f"{helper.source}\n\ndef {function}(*args, **kwargs):\n    return {call}\n"


def submissions(root: Path) -> dict[str, Helper]:
    """One submission per (chapter, helper): every answer cell of the chapter calls the helper.
    A helper pasted the same way in several notebooks (the course-helpers cell) is graded once."""
    ref = _reference()
    helpers = list({(h.name, h.source): h for p in sorted(BOOK.glob("*/*.ipynb")) for h in helpers_of(p)}.values())
    students = {}
    for contract in support.course():
        functions = [a for a in contract.answers if not a.startswith("quiz_")]
        for h in helpers:
            answers = {f: answer_cell(h, f, _required_positional(getattr(ref, f))) for f in functions}
            support.write_submission(root, h.slug, contract, support.fill(contract, answers))
            students[h.slug] = h
    return students


def test_no_helper_cell_earns_a_graded_functions_points(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    students = submissions(subs)
    assert students, "no helper functions found: is the parser broken?"
    run = support.run_cli("grade", str(subs), "--out", str(out), "--jobs", "2", "--timeout", "5")
    assert run.returncode == 0, run.stderr[-2000:]
    earned: dict[tuple[str, str], list[float]] = {}
    for row in support.read_csv(out / "scores.csv"):
        if row["student_id"] not in students or row["grade_id"].startswith("test_quiz_"):
            continue
        function = row["grade_id"][len("test_") :].split("__")[0]
        got = earned.setdefault((row["student_id"], function), [0.0, 0.0])
        got[0] += float(row["points"] or 0)
        got[1] += float(row["max_points"])
    giveaways = [
        f"{students[s].notebook}: {students[s].name} earns {p:g}/{m:g} of {f}"
        for (s, f), (p, m) in sorted(earned.items())
        if m and p > SHARE * m
    ]
    assert not giveaways, "helper cells compute graded functions:\n" + "\n".join(giveaways)


def test_the_parser_finds_nested_helpers_and_their_context(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": "SCALE = 2.0\nunused = 1\n"},
            {
                "cell_type": "code",
                "metadata": {},
                "source": "def outer(x):\n    def inner(y):\n        return y * SCALE\n    return inner(x)\n"
                "twice = lambda v: 2 * v\n",
            },
            {"cell_type": "code", "metadata": {"nbgrader": {"solution": True}}, "source": "def answer(x):\n    pass\n"},
        ]
    }
    path = tmp_path / "07-x" / "x.ipynb"
    path.parent.mkdir()
    path.write_text(json.dumps(nb))
    found = {h.name: h for h in helpers_of(path)}
    assert set(found) == {"outer", "inner", "twice"}
    namespace: dict = {}
    exec(found["outer"].source, namespace)
    assert namespace["_giveaway_helper"](3.0) == 6.0 and "unused" not in namespace
    namespace = {}
    exec(found["inner"].source, namespace)
    assert namespace["_giveaway_helper"](1.5) == 3.0
