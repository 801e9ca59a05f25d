"""Shared helpers for the test suite."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]

# Hypothesis draws the same examples on every run (derandomised), so the suite is deterministic
# in CI like every seeded simulation; HYPOTHESIS_PROFILE=explore draws fresh ones.
settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# Monte Carlo tolerance: |simulated - exact| < Z_TOL standard errors. For a normal estimate a
# false alarm has probability 5.7e-7 per comparison. Each Monte Carlo test also asserts that the
# same estimate would *reject* a formula that is 5% off (a power check), which fails falsely only
# if the estimate lands within Z_TOL standard errors of the wrong value. Every statistical check of
# the lib tests goes through the helpers below (assert_mc_matches, assert_z_within,
# assert_z_beyond), which count them; at the end of a session the suite prints the number of
# comparisons and power checks and the union bound on the probability that any of them fails
# falsely (comparisons: count x 5.7e-7; power checks: sum of P(|N(delta, 1)| < Z_TOL) over the
# checks, with delta the distance to the wrong value in standard errors, known exactly for
# assert_mc_matches and estimated by the observed |z| for the others; goodness-of-fit tests:
# their level, assert_pvalue_above and _below), and fails the session if
# that bound exceeds 1e-3. With fixed seeds the suite is deterministic; the bound says that the
# seeds were not lucky. The chapters' own hidden checks (4 or 5 standard errors, stated beside
# each) run inside the notebook tests and are not in this count.
Z_TOL = 5.0
POWER = 0.05
MAX_FALSE_FAILURE = 1e-3
MC_COUNTS = {"comparisons": 0, "power": 0, "power_false": 0.0, "tests": 0, "tests_false": 0.0}


def _add_false(key, value, label):
    """Add a check's false-failure probability; with MC_REPORT=1 in the environment, print those
    above 1e-5, to find the checks that need more replications."""
    import os

    MC_COUNTS[key] += value
    if value > 1e-5 and os.environ.get("MC_REPORT"):
        print(f"\n[MC_REPORT] {label}: false-failure probability {value:.2e}")


def _normal_within(delta, tol=Z_TOL):
    """P(|N(delta, 1)| < tol)."""
    from scipy.stats import norm

    delta = np.abs(np.asarray(delta, dtype=float))
    return norm.cdf(tol - delta) - norm.cdf(-tol - delta)


def assert_z_within(z, label=""):
    """Every z-score (simulation minus exact value, in standard errors) below Z_TOL; counted."""
    z = np.asarray(z, dtype=float)
    MC_COUNTS["comparisons"] += int(z.size)
    assert np.all(np.abs(z) < Z_TOL), f"{label}: z = {z}"


def assert_z_beyond(z, label="", every=True, tol=Z_TOL):
    """A power check: the simulation rejects a wrong value, |z| > tol at every point (or, with
    ``every=False``, at one point at least); counted, with the observed |z| as the estimate of
    its distance delta from the wrong value."""
    z = np.abs(np.asarray(z, dtype=float))
    if every:
        MC_COUNTS["power"] += int(z.size)
        _add_false("power_false", float(np.sum(_normal_within(z, tol))), label)
        assert np.all(z > tol), f"{label}: does not reject the wrong value, z = {z}"
    else:
        MC_COUNTS["power"] += 1
        _add_false("power_false", float(_normal_within(z.max(), tol)), label)
        assert z.max() > tol, f"{label}: does not reject the wrong value anywhere, z = {z}"


def assert_pvalue_above(pvalue, alpha, label=""):
    """A goodness-of-fit test that must not reject at level alpha; counted (false failure
    probability alpha for a valid test)."""
    MC_COUNTS["tests"] += 1
    _add_false("tests_false", float(alpha), label)
    assert pvalue > alpha, f"{label}: p = {pvalue:.3g} <= {alpha:g}"


def assert_pvalue_below(pvalue, alpha, label=""):
    """A power check by a test: it must reject the wrong distribution at level alpha; counted,
    with the observed p-value's normal score as the estimate of its distance from the threshold."""
    from scipy.stats import norm

    MC_COUNTS["tests"] += 1
    delta = norm.isf(max(float(pvalue), 1e-300)) - norm.isf(alpha)
    _add_false("tests_false", float(norm.sf(delta)), label)
    assert pvalue < alpha, f"{label}: p = {pvalue:.3g} >= {alpha:g}: the wrong distribution is not rejected"


def false_failure_bound(counts=None) -> float:
    counts = MC_COUNTS if counts is None else counts
    return counts["comparisons"] * float(1 - _normal_within(0.0)) + counts["power_false"] + counts["tests_false"]


def _merge(counts):
    for key in MC_COUNTS:
        MC_COUNTS[key] += counts.get(key, 0)


def pytest_sessionfinish(session, exitstatus):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput["mc_counts"] = dict(MC_COUNTS)
        return
    if MC_COUNTS["comparisons"] and false_failure_bound() > MAX_FALSE_FAILURE:
        session.exitstatus = 1


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _merge(getattr(node, "workeroutput", {}).get("mc_counts", {}))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "workeroutput", None) is not None or not MC_COUNTS["comparisons"]:
        return
    bound = false_failure_bound()
    verdict = "within" if bound <= MAX_FALSE_FAILURE else "ABOVE (the session fails)"
    terminalreporter.write_line(
        f"Monte Carlo checks: {MC_COUNTS['comparisons']} comparisons at |z| < {Z_TOL:g} and {MC_COUNTS['power']} "
        f"power checks, {MC_COUNTS['tests']} goodness-of-fit tests; probability that any fails falsely <= {bound:.1e}, {verdict} the limit {MAX_FALSE_FAILURE:g}")


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


def assert_mc_matches(mc, se, exact, label="", power=POWER):
    """Simulation within Z_TOL standard errors of the exact value, and far from an error of
    ``power`` (5% unless a test says why it can only resolve a larger one)."""
    mc, se, exact = (np.asarray(x, dtype=float) for x in (mc, se, exact))
    assert_z_within((mc - exact) / se, label)
    # Power: the distance to a 5% error is delta = POWER |exact| / se standard errors, exactly.
    MC_COUNTS["power"] += 2 * int(np.size(exact))
    _add_false("power_false", 2 * float(np.sum(_normal_within(power * np.abs(exact) / se))), label)
    for wrong in (exact * (1 + power), exact * (1 - power)):
        z_wrong = (mc - wrong) / se
        assert np.all(np.abs(z_wrong) > Z_TOL), f"{label}: too few replications to detect a {power:.0%} error, z = {z_wrong}"


@pytest.fixture
def sigma3():
    """A non-identity, non-diagonal 3 x 3 covariance."""
    return np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 0.5]])
