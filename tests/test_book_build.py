"""The strict build: `jupyter-book build --all -W -n --keep-going .` passes with the book's full
parameters, and every page is complete as a reader sees it.

Marked ``build`` and left out of the default run (it executes the whole book, about 2.5 minutes):
``make check-book`` builds the book and runs these checks on ``_build/html`` (``BOOK_SITE``); run
alone (``pytest -m build``) the module builds the book into a temporary folder itself."""

import os
import re
import subprocess
import sys
import urllib.parse
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


# --- the site as a reader sees it: headless Chromium ---------------------------------------------

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TEX = re.compile(r"\\(frac|sqrt|mathbb|varphi|operatorname|begin|left|right|infty)\b|\$\$")


def toc_pages():
    """Every page in _toc.yml (notebooks and plain pages), as paths relative to the repository."""
    import yaml
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [Path(f) for f in files]


@pytest.fixture(scope="module")
def browser():
    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).exists(), (f"{binary} is missing: install Debian's chromium and chromium-driver "
                                       f"(apt-get install chromium chromium-driver); .ci/run does")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--window-size=1280,2000",
                 "--allow-file-access-from-files"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _wait_for_mathjax(driver):
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) { done("no MathJax"); return; }
        MathJax.startup.promise.then(() => done("ok")).catch(e => done(String(e)));""")


@pytest.mark.parametrize("page", toc_pages(), ids=lambda p: p.stem)
def test_page_in_browser(site, browser, page):
    path = (site / page).with_suffix(".html")
    browser.get(path.resolve().as_uri())
    html = path.read_text()
    if 'class="math' in html:  # Sphinx loads MathJax only on pages with math
        assert _wait_for_mathjax(browser) == "ok"
        assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0
    # Prose only: code blocks legitimately contain TeX strings (figure labels).
    prose = browser.execute_script("""
        const body = document.querySelector('main') || document.body;
        const copy = body.cloneNode(true);
        copy.querySelectorAll('pre, code, .highlight, mjx-container, script, style, .cell_input').forEach(e => e.remove());
        return copy.innerText;""")
    leftover = TEX.search(prose)
    assert leftover is None, f"raw TeX left in {page}: ...{prose[max(0, leftover.start() - 60):leftover.end() + 60]}..."
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert not broken, f"images that did not load: {broken}"
    remote = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith('file:'))")
    assert not remote, f"{page} loaded from the network: {remote}"
    # Every internal link and cross-reference resolves to an existing page and anchor.
    for href in browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"):
        if not href.startswith("file:"):
            continue
        target, _, anchor = href.partition("#")
        target_path = Path(urllib.parse.unquote(urllib.parse.urlparse(target).path))
        assert target_path.exists(), f"{page}: broken link {href}"
        if anchor and target_path.suffix == ".html":
            text = target_path.read_text()
            assert f'id="{anchor}"' in text, f"{page}: missing anchor {href}"
    shots = site.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    browser.save_screenshot(str(shots / f"{page.stem}.png"))


def test_every_chapter_offers_its_notebook(site):
    """Each chapter links to its .ipynb, a valid notebook with one `parameters` cell that runs in
    Jupyter after `pip install -e .` (the notebook tests run the same content)."""
    import nbformat
    for p in toc_notebooks():
        page = (site / p.relative_to(REPO)).with_suffix(".html")
        assert f"_notebooks/{p.stem}.ipynb" in page.read_text(), f"{p.stem} has no notebook link"
        nb = nbformat.read(site / "_notebooks" / f"{p.stem}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"
        assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1


def test_chapters_figures_and_problems_are_numbered(site):
    """Chapters carry their number in the sidebar, figures and theorems are numbered per chapter
    ("Fig. 4.2"), the problem set's problems are headings "Problem 1" to "Problem 10", and no
    parameters cell opens a chapter unfolded."""
    import yaml
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    numbered = [c["file"] for part in toc["parts"] if part.get("numbered") for c in part["chapters"]]
    preface = (site / "book" / "preface.html").read_text()
    for number, file in enumerate(numbered, start=1):
        page = site / f"{file}.html"
        stem = Path(file).stem
        assert re.search(rf'href="{stem}.html">\s*{number}\. ', preface), f"{stem} is not chapter {number} in the sidebar"
        html = page.read_text()
        captions = re.findall(r'<span class="caption-number">(?:Fig\.|Theorem|Lemma|Exercise) ([\d.]+)', html)
        assert all(c.startswith(f"{number}.") for c in captions), f"{stem}: numbers {captions[:5]} not per chapter"
        if stem == "problem_set":
            headings = re.findall(r'<h2>(?:<span class="section-number">[\d.]+\s*</span>)?Problem (\d+)', html)
            assert headings == [str(i) for i in range(1, 11)], headings
    for stem, page in chapter_pages(site).items():
        html = page.read_text()
        cell = html.find("tag_parameters")
        if cell >= 0:
            assert "tag_hide-cell" in html[max(0, cell - 300):cell + 300], f"{stem}: parameters cell not folded"


def _alnum(text):
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _titles():
    import yaml
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return {f: next(ln[2:] for ln in (REPO / f"{f}.md").read_text().splitlines() if ln.startswith("# "))
            for f in files}


def test_pdfs_hold_the_whole_book_and_the_handout(site):
    """make pdf (part of make check-book) put the book and the handout next to the site: every
    chapter title is in the book's text, no reference prints as "??", and the handout has the ten
    problems and no solution."""
    downloads = site / "_downloads"
    book, handout = downloads / "book.pdf", downloads / "handout.pdf"
    assert book.exists() and handout.exists(), "run make pdf after the build (make check-book does)"
    text = subprocess.run(["pdftotext", str(book), "-"], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(book)], capture_output=True,
                                                              text=True, check=True).stdout).group(1))
    assert pages > 100, pages
    flat = _alnum(text)
    for file, title in _titles().items():
        assert _alnum(title) in flat, f"{file}: chapter title {title!r} not in book.pdf"
    assert "??" not in text
    hand = subprocess.run(["pdftotext", str(handout), "-"], capture_output=True, text=True, check=True).stdout
    for i in range(1, 11):
        assert f"Problem {i}" in hand, i
    assert "Solution to" not in hand and "??" not in hand  # the solutions' headings


def test_downloads_are_linked_and_resolve(site):
    """The preface links the PDF, the handout and the reader's bundle; every page links the bundle."""
    preface = (site / "book" / "preface.html").read_text()
    for name in ("book.pdf", "handout.pdf", "golden-ratio-companion.zip"):
        assert f"_downloads/{name}" in preface, name
        assert (site / "_downloads" / name).exists(), name
    for page in toc_pages():
        assert "_downloads/golden-ratio-companion.zip" in (site / page).with_suffix(".html").read_text(), page


def test_interactive_figure_renders_offline(site, browser):
    """The V(w, k) explorer draws with the site's own plotly.js (no network), and its slider's
    frames move the optimum to w*(k) (checked against lib for two frames)."""
    import time
    import lib
    page = site / "book" / "gaussian_mean.html"
    html = page.read_text()
    assert "_static/plotly.min.js" in html and "cdn.plot.ly" not in html
    assert "plotly.min.js" not in (site / "book" / "glm.html").read_text(), "plotly.js loaded on a page without a figure"
    browser.get(page.resolve().as_uri())
    deadline = time.time() + 30
    while time.time() < deadline and not browser.execute_script(
            "return document.querySelectorAll('#weight_explorer .main-svg').length"):
        time.sleep(0.2)
    assert browser.execute_script("return document.querySelectorAll('#weight_explorer .main-svg').length") > 0
    assert browser.execute_script("return document.querySelectorAll('#weight_explorer .slider-container').length") == 1
    for k in ("100", "0.01"):
        x = browser.execute_async_script("""
            const done = arguments[arguments.length - 1], gd = document.getElementById('weight_explorer');
            Plotly.animate(gd, [arguments[0]], {frame: {duration: 0}, transition: {duration: 0}})
                  .then(() => done(gd.data[1].x[0]));""", k)
        assert abs(x - float(lib.optimal_weight(float(k)))) < 1e-9, (k, x)
    remote = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name).filter(n => !n.startsWith('file:'))")
    assert not remote, remote


def test_glued_values_are_marked_not_bold(site):
    """Glued values carry myst-nb's pasted-text class, which the book's _static/glued.css marks
    with a dotted underline instead of bold (the preface says so)."""
    assert (site / "_static" / "glued.css").exists()
    page = (site / "book" / "glm.html").read_text()
    assert "_static/glued.css" in page and 'class="pasted-text"' in page
