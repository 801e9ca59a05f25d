"""The code a teacher copies from book/teaching.md (a plain page, not executed by the book build)
runs as printed, and does what the page says it does."""

import contextlib
import io
import re

import jupytext
import numpy as np
import pytest

from conftest import REPO, Z_TOL, assert_z_within
import lib

PAGE = REPO / "book" / "teaching.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(), flags=re.S | re.M)


def run_block(source: str, cwd) -> tuple[dict, str]:
    """Execute one block as a script in ``cwd``; return its namespace and what it printed."""
    namespace: dict = {"__name__": "__main__"}
    out = io.StringIO()
    with contextlib.chdir(cwd), contextlib.redirect_stdout(out):
        exec(compile(source, str(PAGE), "exec"), namespace)
    return namespace, out.getvalue()


@pytest.fixture
def workdir(tmp_path):
    """A folder like the repository root (the page's code reads book/...), writing nowhere in it."""
    (tmp_path / "book").symlink_to(REPO / "book")
    return tmp_path


def test_page_has_the_blocks_tested_here():
    assert len(python_blocks()) == 5


def test_lecture_demo_matches_exact_theory(workdir):
    ns, printed = run_block(python_blocks()[0], workdir)
    res, t, n = ns["res"], ns["t"], ns["n"]
    mean, se = res.mean("mean")[t] * n / 2, res.sem("mean")[t] * n / 2
    exact = lib.finite_error(np.array(ns["weights"]), ns["k"], t[:, None])
    assert_z_within((mean - exact) / se, "lecture demo")
    assert printed.count("\n") >= 6


def test_collapse_demo_heads_to_one_sixth(workdir):
    ns, _ = run_block(python_blocks()[1], workdir)
    res, t = ns["res"], ns["t"]
    exact = ns["nt"].cvm_expected(0.0, 20, 20, t)
    assert_z_within((res.mean("cvm")[t, 0] - exact) / res.sem("cvm")[t, 0], "collapse demo")
    assert exact[-1] == pytest.approx(1 / 6, abs=0.02)


def test_finite_sample_optima_table(workdir):
    _, printed = run_block(python_blocks()[2], workdir)
    rows = [line.split() for line in printed.splitlines()[1:]]
    assert [int(r[0]) for r in rows] == [5, 10, 100, 1000]
    # The exact finite-sample optima approach 1/phi as n = m grows.
    gaps = [abs(float(r[1]) - float(r[3])) + abs(float(r[2]) - float(r[3])) for r in rows]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-3


def test_practice_demo(workdir):
    ns, _ = run_block(python_blocks()[3], workdir)
    # The schedule falls from the one-shot fit's gain towards the constant w*(k), never below it.
    gains, w_star = ns["gains"], lib.optimal_weight(0.01)
    assert np.all(np.diff(gains) < 0) and np.all(gains > w_star) and gains[0] > 0.5
    assert lib.recommend_weight(1000, 5000) == pytest.approx(lib.optimal_weight(0.2))


def test_handout_has_the_problems_without_solutions_or_checks(workdir):
    run_block(python_blocks()[4], workdir)
    handout = jupytext.read(workdir / "problem_set_handout.ipynb")
    full = jupytext.read(REPO / "book" / "problem_set.md")
    text = "\n".join(c.source for c in handout.cells)
    assert "{solution-start}" not in text and "{solution-end}" not in text
    assert not any("remove-cell" in c.metadata.get("tags", []) for c in handout.cells)
    # Every problem statement survives, and the parameters cell with it.
    assert text.count("{exercise}") == "\n".join(c.source for c in full.cells).count("{exercise}") > 0
    assert sum("parameters" in c.metadata.get("tags", []) for c in handout.cells) == 1
