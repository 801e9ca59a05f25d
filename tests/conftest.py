"""Shared helpers for the test suite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

# Monte Carlo tolerance: |simulated - exact| < Z_TOL standard errors. For a normal estimate a
# false alarm has probability 6e-7 per comparison, so the whole suite (a few hundred comparisons)
# fails falsely with probability < 1e-3 even without fixed seeds; with fixed seeds it is
# deterministic. Each Monte Carlo test also asserts that the same estimate would *reject* a
# formula that is 5% off, so the tolerance is never too loose to catch a wrong formula.
Z_TOL = 5.0
POWER = 0.05


def toc_notebooks() -> list[Path]:
    """Every file in _toc.yml that is a notebook (has a kernelspec), in book order."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    paths = [REPO / f"{f}.md" for f in files]
    return [p for p in paths if _is_notebook(p.read_text())]


def _is_notebook(text: str) -> bool:
    """A MyST notebook opens with a front matter that names a kernel."""
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def assert_mc_matches(mc, se, exact, label=""):
    """Simulation within Z_TOL standard errors of the exact value, and far from a 5% error."""
    mc, se, exact = (np.asarray(x, dtype=float) for x in (mc, se, exact))
    z = (mc - exact) / se
    assert np.all(np.abs(z) < Z_TOL), f"{label}: z = {z}"
    for wrong in (exact * (1 + POWER), exact * (1 - POWER)):
        z_wrong = (mc - wrong) / se
        assert np.all(np.abs(z_wrong) > Z_TOL), f"{label}: too few replications to detect a 5% error, z = {z_wrong}"


@pytest.fixture
def sigma3():
    """A non-identity, non-diagonal 3 x 3 covariance."""
    return np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 0.5]])
