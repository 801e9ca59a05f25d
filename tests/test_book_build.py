"""The strict build: `jupyter-book build --all -W -n --keep-going .` passes with the book's full
parameters, and every page is complete as a reader sees it.

Marked ``build`` and left out of the default run (it executes the whole book, about 2.5 minutes):
``make check-book`` builds the book and runs these checks on ``_build/html`` (``BOOK_SITE``); run
alone (``pytest -m build``) the module builds the book into a temporary folder itself."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, toc_notebooks

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if os.environ.get("BOOK_SITE"):
        html = Path(os.environ["BOOK_SITE"])
        assert (html / "index.html").exists(), f"BOOK_SITE={html} holds no built book"
        return html
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", "--all", "-W", "-n", "--keep-going", "--path-output", str(out), str(REPO)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert "build succeeded" in log, log[-3000:]
    return out / "_build" / "html"


def chapter_pages(site):
    return {p.stem: site / p.relative_to(REPO).with_suffix(".html") for p in toc_notebooks()}


def test_every_chapter_page_exists_with_figures(site):
    for stem, page in chapter_pages(site).items():
        html = page.read_text()
        if stem != "preface":
            assert "<img" in html, f"{stem} has no figure"
            imgs = re.findall(r'<img[^>]*src="([^"]+)"', html)
            for src in imgs:
                assert (page.parent / src).resolve().exists(), f"{stem}: missing image {src}"
            assert all('alt="' in tag for tag in re.findall(r"<img[^>]*>", html)), f"{stem}: image without alt text"


def test_math_is_served_locally(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    for stem, page in chapter_pages(site).items():
        html = page.read_text()
        assert "cdn.jsdelivr.net" not in html and "mathjax@3" not in html, stem
        assert "_static/mathjax/tex-chtml.js" in html, stem


def test_no_unresolved_glue_or_stderr(site):
    """Every glued number was resolved, and no page shows a warning printed by its code."""
    for stem, page in chapter_pages(site).items():
        html = page.read_text()
        assert "{glue" not in html, stem
        assert "output stderr" not in html, f"{stem} shows stderr output"


def test_execution_status_lists_every_notebook(site):
    html = (site / "book" / "execution_status.html").read_text()
    for p in toc_notebooks():
        assert p.stem in html
