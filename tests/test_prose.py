"""lib.prose: comparative words computed from their numbers, and claims that fail a run.

The expected phrases are written out by hand from the arithmetic (a different route than the
module's formatting code), and the last tests show the mechanism end to end: a notebook whose
numbers flip a comparison fails to run, in a toy notebook and in a real chapter.
"""

import math

import jupytext
import numpy as np
import papermill
import pytest

from conftest import REPO
from lib import prose


@pytest.mark.parametrize("value, reference, phrase", [
    (2.5, 1.0, "a factor 2.5 above"),        # 2.5 / 1
    (0.4, 1.0, "a factor 2.5 below"),        # 1 / 0.4 = 2.5
    (1.0, 8.3e8 ** -1, "a factor 8.3e+08 above"),
    (3.0, 3.0, "equal to"),
    (1.004, 1.0, "equal to"),                # 1.004 rounds to 1.0 at two significant digits
    (0.026, 0.024, "a factor 1.1 above"),    # 1.0833
])
def test_factor(value, reference, phrase):
    assert prose.factor(value, reference) == phrase


@pytest.mark.parametrize("value, reference, phrase", [
    (1.19, 1.0, "19% above"),
    (0.974, 1.0, "2.6% below"),
    (1.0, 1.0, "equal to"),
    (0.0, 2.0, "100% below"),
])
def test_relative(value, reference, phrase):
    assert prose.relative(value, reference) == phrase


def test_more_or_less_and_counts():
    assert prose.more_or_less(0.026, 0.024, more="farther from", less="closer to") == "farther from"
    assert prose.more_or_less(np.float64(0.5), 2 / 3, more="above", less="below") == "below"
    with pytest.raises(prose.ClaimError):
        prose.more_or_less(1.0, 1.0, more="above", less="below")
    assert prose.count(3, "departure") == "three departures"
    assert prose.count(1, "departure") == "one departure"
    assert prose.count(0, "fit") == "no fits"
    assert prose.count(40, "failed fit") == "40 failed fits"
    assert prose.count(2, "sample", "samples drawn") == "two samples drawn"


@pytest.mark.parametrize("text", ["a factor 2.5 above", "48,842", "0.10", "1, 1", "it's \"quoted\"", "(3, 4)"])
def test_phrase_reaches_the_page_exactly(text):
    """myst-nb's {glue:text} literal-evaluates a value's text/plain to drop a string's quotes; a
    Phrase's text/plain must come back as exactly its text (an unquoted repr printed "48,842" as
    the tuple "(48, 842)" and "0.10" as "0.1")."""
    from IPython.core.formatters import format_display_data
    from myst_nb.core.variables import format_plain_text
    plain = format_display_data(prose.Phrase(text))[0]["text/plain"]
    assert format_plain_text(plain, "") == text


def test_claim():
    assert prose.claim(np.float64(0.667) > 0.5, "above naive pooling") == "above naive pooling"
    with pytest.raises(prose.ClaimError, match="far above naive pooling"):
        prose.claim(0.667 < 0.5, "far above naive pooling")
    with pytest.raises(ValueError, match="single boolean"):
        prose.claim(np.array([True, False]), "every point agrees")
    with pytest.raises(ValueError, match="statement"):
        prose.claim(True, "  ")


@pytest.mark.parametrize("bad", [math.nan, math.inf, "2", None, True])
def test_bad_numbers_raise(bad):
    with pytest.raises(ValueError, match="value"):
        prose.factor(bad, 1.0)
    with pytest.raises(ValueError):
        prose.relative(bad, 1.0)


def test_factor_needs_positive_numbers():
    with pytest.raises(ValueError, match="positive"):
        prose.factor(-1.0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        prose.relative(1.0, 0.0)
    with pytest.raises(ValueError, match="non-negative integer"):
        prose.count(2.0, "fit")


TOY = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst, format_version: 0.13}
kernelspec: {display_name: Python 3, language: python, name: python3}
---

```{code-cell} ipython3
:tags: [parameters]
simulated = 2.5
expected = 1.0
```

The simulation lies {glue:text}`direction` the theory, and it is above it.

```{code-cell} ipython3
:tags: [remove-cell]
from myst_nb import glue
from lib import prose
glue("direction", prose.factor(simulated, expected), display=False)
prose.claim(simulated > expected, "the simulation is above the theory")
```
"""


def test_a_flipped_comparison_fails_the_run(tmp_path):
    """The same notebook runs with numbers that support its words and fails with numbers that
    flip them: the glued phrase follows the numbers, the hard-coded word is guarded."""
    src = tmp_path / "toy.md"
    src.write_text(TOY)
    ok = papermill.execute_notebook(jupytext.read(src), str(tmp_path / "ok.ipynb"), cwd=str(tmp_path),
                                    kernel_name="python3", progress_bar=False)
    glued = [o for c in ok.cells for o in c.get("outputs", [])
             if o.get("metadata", {}).get("scrapbook", {}).get("name") == "direction"]
    assert "a factor 2.5 above" in str(glued[0]["data"])
    with pytest.raises(papermill.PapermillExecutionError, match="ClaimError"):
        papermill.execute_notebook(jupytext.read(src), str(tmp_path / "flipped.ipynb"), cwd=str(tmp_path),
                                   parameters={"simulated": 0.4}, kernel_name="python3", progress_bar=False)


def test_a_real_chapter_fails_when_its_comparison_flips(tmp_path):
    """The preface says naive pooling is "far worse" than the optimal weight at the smallest k of
    its table. With a table that stops at k = 1 the claim is false (naive/optimal = 1.08), and the
    chapter must refuse to run rather than print the sentence."""
    nb = jupytext.read(REPO / "book" / "preface.md")
    with pytest.raises(papermill.PapermillExecutionError, match="far worse"):
        papermill.execute_notebook(nb, str(tmp_path / "preface.ipynb"), cwd=str(REPO / "book"),
                                   parameters=dict(k_table=[1.0, 4.0], replications=50, generations=20),
                                   kernel_name="python3", progress_bar=False)


@pytest.mark.parametrize("value, text", [(4.02, "4.1"), (3.009, "3.1"), (3.14, "3.2"), (4.0, "4.0"),
                                         (0.00995, "0.010"), (123.4, "130"), (9.99, "10"), (0.0, "0")])
def test_bound_rounds_up(value, text):
    """A stated bound is never below the value it bounds (ordinary rounding printed 4.0 for 4.02)."""
    assert prose.bound(value) == text
    assert float(text) >= value


def test_bound_holds_for_many_values():
    rng = np.random.default_rng(0)
    for v in np.exp(rng.uniform(-12, 12, 2000)):
        for d in (1, 2, 3):
            assert float(prose.bound(v, d)) >= v
            assert float(prose.bound(v, d)) <= v * (1 + 10.0 ** (1 - d)) + 1e-300
