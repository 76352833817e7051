"""A catalogue of realistic wrong answers, and of correct answers written differently.

Each chapter module defines ``ASSIGNMENT``, ``MISTAKES``, ``ALTERNATIVES`` and
``DEGENERATE``. The suite grades each through the real ``grade`` command: every
mistake must lose points on its own function, with feedback that names the
misconception; every alternative must get full marks; every degenerate answer
(zeros, identity, uniform weights, an argument ignored or returned unchanged) may
earn at most 25 % of its function's points.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    function: str  # grade id of the answer cell it replaces
    slug: str
    misconception: str
    source: str
    feedback: tuple[str, ...]  # any of these words (lower case) in the feedback names the mistake


@dataclass(frozen=True)
class Alternative:
    function: str
    slug: str
    source: str


@dataclass(frozen=True)
class Degenerate:
    """An answer that ignores what matters: it may earn at most ``MAX_DEGENERATE_SHARE``."""

    function: str
    slug: str
    description: str
    source: str


MAX_DEGENERATE_SHARE = 0.25


def _modules():
    """Every catalogue module; several may share an ASSIGNMENT (one per group of exercises)."""
    for info in pkgutil.iter_modules(__path__):
        yield importlib.import_module(f"{__name__}.{info.name}")


def degenerate() -> dict[str, list[Degenerate]]:
    """{assignment: degenerate answers} for every chapter module that lists them."""
    out: dict[str, list[Degenerate]] = {}
    for module in _modules():
        out.setdefault(module.ASSIGNMENT, []).extend(getattr(module, "DEGENERATE", []))
    return out


def catalogue() -> dict[str, tuple[list[Mistake], list[Alternative]]]:
    """{assignment: (mistakes, alternatives)} for every chapter module in this package."""
    out: dict[str, tuple[list[Mistake], list[Alternative]]] = {}
    for module in _modules():
        mistakes, alternatives = out.setdefault(module.ASSIGNMENT, ([], []))
        mistakes.extend(module.MISTAKES)
        alternatives.extend(module.ALTERNATIVES)
    for assignment, (mistakes, alternatives) in out.items():
        slugs = [m.slug for m in mistakes] + [a.slug for a in alternatives]
        degenerate_slugs = [d.slug for d in degenerate().get(assignment, [])]
        duplicated = sorted({s for s in slugs if slugs.count(s) > 1})
        duplicated += sorted({s for s in degenerate_slugs if degenerate_slugs.count(s) > 1})
        if duplicated:  # each entry becomes a student named after its slug
            raise ValueError(f"{assignment}: slugs used twice: {duplicated}")
    return out
