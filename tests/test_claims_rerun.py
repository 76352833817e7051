"""Chapter 13's rerun kit: the student's trainer reruns the course's experiments exactly.

The kit (the notebook cell `claims-rerun-kit`) swaps the student's optional
`variant_loss_and_grads` into their own `train_step`; `check_variant` checks that
function on a tiny model. Here the reference functions and the variant model of
`solutions/models/claims.py` (which made the stored curves) play the student.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest

from autograder import BOOK, SOLUTIONS

NOTEBOOK = SOLUTIONS / "13-training" / "training.ipynb"
CELLS = ("setup", "sorting-task", "trainer", "claims-plot", "claims-rerun-kit")


@pytest.fixture(scope="module")
def claims():
    spec = importlib.util.spec_from_file_location("claims", SOLUTIONS / "models" / "claims.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook(claims, variant_class=None) -> dict:
    """The notebook's namespace: the reference functions as the student's, the kit's cells, a variant."""
    ns: dict = {"__name__": "chapter13"}
    exec((SOLUTIONS / "reference.py").read_text(encoding="utf-8"), ns)  # defined in the notebook, as a student's are
    sources = {c.get("id"): "".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]}
    for cid in CELLS:
        exec(sources[cid], ns)
    ns["stored"] = dict(np.load(BOOK / "13-training" / "training_figures.npz"))
    ref = type("Ref", (), {k: staticmethod(v) for k, v in ns.items() if callable(v)})
    make = variant_class or claims.Variant

    def variant_loss_and_grads(ids, targets, params, ignore_index=None, **switches):
        loss, grads = make(ref, **switches).loss_and_grads(ids, targets, params)
        return loss, grads

    ns["variant_loss_and_grads"] = variant_loss_and_grads
    return ns


def test_the_kit_runs_the_experiments_of_the_stored_curves(claims):
    ns = notebook(claims)
    assert set(ns["CLAIM_RUNS"]) == set(claims.EXPERIMENTS)
    for name, (model, settings, variants) in ns["CLAIM_RUNS"].items():
        theirs = claims.EXPERIMENTS[name]
        assert model == theirs["model"], name
        assert settings == {k: v for k, v in theirs["train"].items() if v is not None}, name
        assert set(variants) == set(theirs["variants"]), name
        for label, switches in variants.items():
            expected = {k: v for k, v in theirs["variants"][label].items() if v is not True}  # defaults left out
            assert switches == expected, f"{name}/{label}: {switches} against {theirs['variants'][label]}"
            assert f"{name}.{label}.loss" in ns["stored"], f"no stored curves for {name}/{label}"


@pytest.mark.parametrize(
    "experiment, variant",
    [
        ("scale", "unscaled"),
        ("norm_high_lr", "pre_ln_no_warmup"),
        ("norm", "post_ln_no_warmup"),
        ("residual", "no_residual"),
    ],
)
def test_a_rerun_with_the_students_train_step_repeats_the_course_run(claims, experiment, variant):
    ns = notebook(claims)
    mine, _ = ns["run_variant"](experiment, variant, seed=1, steps=4)
    exp = claims.EXPERIMENTS[experiment]
    heldout = np.random.default_rng(1).integers(0, 10, size=(500, 8))
    banned = {d.tobytes() for d in heldout}
    theirs = claims.train(
        claims.load_reference(SOLUTIONS / "reference.py"),
        exp["variants"][variant],
        exp["model"],
        exp["train"],
        1,
        4,
        32,
        heldout[:2],
        banned,
    )[0]
    assert mine.shape == (4,)
    np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    assert ns["gpt_loss_and_grads"].__name__ == "gpt_loss_and_grads", "the student's function must be put back"


def test_check_variant_passes_a_right_variant_and_names_a_wrong_one(claims, capsys):
    notebook(claims)["check_variant"]()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "default switches: loss and gradients the same as your gpt_loss_and_grads",
        "scale=False: gradients agree with central differences of its loss",
        "norm_first=False: gradients agree with central differences of its loss",
        "residual=False: gradients agree with central differences of its loss",
        "(the forward passes of norm_first=False and residual=False are checked only through their gradients)",
    ]

    class ForgetsTheChainRule(claims.Variant):  # unscaled scores, but the gradient of Q not multiplied by sqrt(d_k)
        def _attn_backward(self, cache, a, n_heads, mask, grad_out):
            h, Qb, K, V, merged, boost = cache
            return super()._attn_backward((h, Qb, K, V, merged, 1.0), a, n_heads, mask, grad_out)

    class IgnoresTheSwitches(claims.Variant):
        def __init__(self, ref, **switches):
            super().__init__(ref)

    notebook(claims, ForgetsTheChainRule)["check_variant"]()
    out = capsys.readouterr().out
    assert "scale=False: gradients differ (by up to" in out and "residual=False: gradients agree" in out

    class ScalesByTheModelWidth(claims.Variant):  # sqrt(d_model) where the scale is sqrt(d_k), one head's size
        def _attn(self, h, a, n_heads, mask):
            out, cache = super()._attn(h, a, n_heads, mask)
            if self.scale:
                return out, cache
            wide = claims.Variant(self.ref, scale=True)
            wide_a = {**a, "W_q": a["W_q"] * math.sqrt(h.shape[-1]), "b_q": a["b_q"] * math.sqrt(h.shape[-1])}
            return wide._attn(h, wide_a, n_heads, mask)[0], cache

    notebook(claims, ScalesByTheModelWidth)["check_variant"]()
    assert "scale=False: the loss differs by" in capsys.readouterr().out
    notebook(claims, IgnoresTheSwitches)["check_variant"]()
    assert (
        "norm_first=False: the same loss as the default model, so the switch changes nothing yet"
        in capsys.readouterr().out
    )


def test_the_kit_says_so_when_train_step_does_not_call_the_loss_by_name(claims):
    ns = notebook(claims)
    own_step = ns["train_step"]
    loss_and_grads = ns["gpt_loss_and_grads"]

    def train_step(params, state, ids, targets, step, config, _f=loss_and_grads):  # bound early: no lookup by name
        ns["gpt_loss_and_grads"] = _f
        return own_step(params, state, ids, targets, step, config)

    ns["train_step"] = train_step
    with pytest.raises(RuntimeError, match="never called gpt_loss_and_grads by name"):
        ns["run_variant"]("residual", "no_residual", steps=2)


def test_a_rerun_prints_the_course_runs_of_the_same_seeds_and_the_exact_match_of_pre_ln_runs(claims, capsys):
    ns = notebook(claims)
    ns["plt"].show = lambda: None
    ns["stored"] = {"residual.residual.loss": np.array([[1.0] * 12, [2.0] * 12, [3.0] * 12])}  # seeds 0, 1, 2
    ns["exact_match"] = lambda params, digits: 0.5
    ns["rerun"]("residual", variants=["residual"], seeds=(1,), steps=12)
    out = capsys.readouterr().out
    assert "(the course's, same seeds: 2.000)" in out, out
    assert "exact match 50.0%" in out, out
    ns["stored"] = {"residual.no_residual.loss": np.ones((3, 12))}
    ns["rerun"]("residual", variants=["no_residual"], seeds=(0,), steps=12)
    assert "exact match" not in capsys.readouterr().out  # no forward pass for a model without residuals
