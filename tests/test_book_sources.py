"""Checks of the chapter sources that keep words, figures and theorems honest.

- Every theorem, lemma, proposition and corollary says where it comes from: the paper, or this
  book (exact or to first order), in a "**Source:**" line that opens its body.
- Every chapter opens with the question it answers and its answer, before any code.
- Alt text, which is static, states no computed number, and a figure whose alt text or caption
  states a direction or a shape ("rises", "lowest", "settles") asserts it with ``prose.claim`` in
  the same cell or in the hidden cell right after it.
"""

import re

import jupytext
import pytest
import yaml

from conftest import REPO, toc_notebooks

PRF_RESULT = re.compile(r"^```\{prf:(theorem|lemma|proposition|corollary)\}[^\n]*\n(.*?)^```", re.M | re.S)
# Words in alt text that describe what the data do, and so must be asserted.
SHAPE_WORDS = re.compile(
    r"\b(rises?|rising|falls?|falling|grows?|growing|drops?|declines?|decreas\w*|increas\w*|lowest|"
    r"highest|above|below|settles?|flat|straight|concave|convex|explod\w*|diverg\w*|shrinks?|"
    r"closer|farther|coincid\w*|near(ly)?|close to|minimum|maximum|peaks?|U-shaped|steeper|"
    r"faster|slower|larger|smaller|higher|lower)\b", re.I)
# A computed number: a decimal, or a number in scientific notation.
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+|\d(\.\d+)?e[+-]?\d+", re.I)
NO_OPENING = {"problem_set"}  # a list of problems, not a question


def _sources():
    return [(p.stem, p.read_text()) for p in toc_notebooks()]


@pytest.mark.parametrize("name, text", _sources(), ids=[n for n, _ in _sources()])
def test_every_result_states_its_source(name, text):
    for kind, body in PRF_RESULT.findall(text):
        lines = [ln for ln in body.splitlines() if ln.strip() and not ln.startswith(":")]
        assert lines, f"{name}: empty prf:{kind}"
        first = lines[0]
        assert first.startswith("**Source:**"), f"{name}: prf:{kind} does not open with **Source:** ({first!r})"
        assert "the paper" in first or "this book" in first, f"{name}: Source line names neither: {first!r}"


@pytest.mark.parametrize("name, text", _sources(), ids=[n for n, _ in _sources()])
def test_every_chapter_opens_with_its_question(name, text):
    if name in NO_OPENING:
        return
    body = text.split("---", 2)[2]
    first_code = body.find("```{code-cell}")
    question, answer = body.find("**The question.**"), body.find("**The answer.**")
    assert 0 <= question < answer < first_code, f"{name}: no question and answer before the first code cell"
    goals = body.find("Learning goals")
    assert goals < 0 or answer < goals, f"{name}: the learning goals come before the question"


def _figure_cells(path):
    nb = jupytext.read(path)
    for i, cell in enumerate(nb.cells):
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt")
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption", "")
        if cell.cell_type == "code" and (alt or caption):
            following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            yield alt or "", caption, cell, following


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.stem)
def test_alt_text_and_captions_are_asserted(path):
    for alt, caption, cell, following in _figure_cells(path):
        assert not DECIMAL.search(alt), f"{path.stem}: alt text states a number: {alt!r}"
        # Captions are as static as alt text: the same words need the same assertion.
        words = sorted({m.group(0).lower() for m in SHAPE_WORDS.finditer(alt + " " + caption)})
        if not words:
            continue
        nearby = cell.source
        if following is not None and "remove-cell" in following.metadata.get("tags", []):
            nearby += following.source
        assert "prose.claim" in nearby, (
            f"{path.stem}: alt text says {words} but the figure cell asserts nothing: {alt[:80]!r}")


def test_every_figure_has_alt_text():
    for path in toc_notebooks():
        nb = jupytext.read(path)
        for cell in nb.cells:
            figure = cell.metadata.get("mystnb", {}).get("figure")
            if figure:
                alt = cell.metadata["mystnb"].get("image", {}).get("alt", "")
                assert len(alt) > 40, f"{path.stem}: figure {figure.get('name')} has no alt text"


def test_chapters_are_numbered():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    for part in toc["parts"]:
        if part["caption"] != "Reference":
            assert part.get("numbered") is True, part["caption"]


# A glue call whose value is a literal string or Phrase: its text is inserted as is, never typeset.
GLUED_TEXT = re.compile(r'glue\(\s*"(?P<name>[^"]+)",\s*(?:prose\.)?(?:Phrase\()?(?P<body>.*?)display\s*=', re.S)
STRING = re.compile(r'(?:f|r|rf|fr)?"(?:[^"\\]|\\.)*"|(?:f|r|rf|fr)?\'(?:[^\'\\]|\\.)*\'')


def test_glued_words_carry_no_math():
    """Glued text is inserted as plain text, so "$1/\\varphi$" in a glued phrase reaches the page as
    raw TeX (the site checks found it in a built page): keep the symbols in the prose and glue only
    the words."""
    bad = []
    for path in toc_notebooks():
        for cell in jupytext.read(path).cells:
            if cell.cell_type != "code":
                continue
            for m in GLUED_TEXT.finditer(cell.source):
                if any("$" in s.group(0) for s in STRING.finditer(m.group("body"))):
                    bad.append(f"{path.stem}: {m.group('name')}")
    assert not bad, f"glued phrases with math: {bad}"
