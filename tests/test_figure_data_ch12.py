"""Chapter 12's stored figure data: complete for the notebook, and saying what the prose says it shows."""

from __future__ import annotations

import importlib.util
import json
import re

import numpy as np
import pytest

from autograder import SOLUTIONS
from autograder.hidden import ref

CHAPTER = SOLUTIONS / "12-backprop"


@pytest.fixture(scope="module")
def stored() -> dict[str, np.ndarray]:
    spec = importlib.util.spec_from_file_location("figure_data_ch12", CHAPTER / "figure_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files = module.make(ref)
    assert set(files) == {"backprop_figures.npz"}
    return files["backprop_figures.npz"]


def test_every_array_the_notebook_reads_is_stored_and_finite(stored):
    nb = json.loads((CHAPTER / "backprop.ipynb").read_text(encoding="utf-8"))
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    wanted = set(re.findall(r'stored\["(\w+)"\]', source)) | set(re.findall(r"stored\['(\w+)'\]", source))
    if 'stored[f"scale_{w}_' in source:
        wanted |= {f"scale_{w}_{s}" for w in "QK" for s in ("scaled", "unscaled")}
    assert wanted and wanted <= set(stored), f"missing: {sorted(wanted - set(stored))}"
    assert all(np.all(np.isfinite(a)) for a in stored.values())


def test_the_attention_figure_holds_the_worked_example(stored):
    np.testing.assert_allclose(stored["cat_grad_Q"][0], [0.0656, -0.0984, 0.0656, -0.0984], atol=1e-4)
    np.testing.assert_allclose(stored["cat_grad_K"][:, 0], [0.0328, -0.0656, 0.0328], atol=1e-4)
    np.testing.assert_allclose(stored["cat_grad_V"][:, 0], [0.4223, 0.1554, 0.4223], atol=1e-4)


def test_a_dominant_feature_receives_almost_no_layer_norm_gradient(stored):
    typical, dominated = stored["ln_jacobian_typical"], stored["ln_jacobian_dominated"]
    assert np.abs(dominated[:, 0]).max() < 0.05 * np.abs(typical[:, 0]).max()
    assert np.diag(dominated)[1:].max() < 0.5 * np.diag(typical)[1:].min()
    np.testing.assert_allclose(typical.sum(axis=1), 0, atol=1e-9)  # each row sums to 0: shifts change nothing


def test_the_scale_figure_shows_what_the_text_claims(stored):
    medians = {k: stored[k][:, 1] for k in stored if k.startswith("scale_")}  # widths 4, 16, 64, 256, 1024
    assert np.all((medians["scale_Q_scaled"] > 0.5) & (medians["scale_Q_scaled"] < 2))
    assert np.all((medians["scale_K_scaled"] > 0.5) & (medians["scale_K_scaled"] < 2))
    assert medians["scale_Q_unscaled"][1] > medians["scale_Q_scaled"][1]  # small widths: larger, not smaller
    assert medians["scale_Q_unscaled"][4] < medians["scale_Q_unscaled"][2] / 100  # "several hundred" from 64 to 1024
    assert medians["scale_K_unscaled"][4] < medians["scale_K_unscaled"][2]


def test_the_block_backward_agrees_with_finite_differences(stored):
    assert stored["block_error_x"] < 1e-7 and stored["block_error_W_q"] < 1e-7
