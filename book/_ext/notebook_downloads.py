"""Sphinx extension: publish every chapter as a Jupyter notebook, and the reader's bundle.

The chapters are MyST text notebooks; readers who want to run them in Jupyter need .ipynb files
and the package ``lib``. At the end of an HTML build:

- each source that is a notebook (it names a kernel) is converted with jupytext, without
  outputs, into ``_notebooks/<name>.ipynb`` in the output folder;
- the reader's bundle ``_downloads/golden-ratio-companion.zip`` is written (:func:`build_bundle`):
  the ``lib`` wheel built from this repository at build time (with the data inside it), every
  chapter as ``.ipynb``, the figure style, a ``requirements.txt`` and a README;
- each chapter page gets, under its title, a link to its notebook and to the bundle; every other
  page a link to the bundle.

The site tests check that every chapter has the links and that they resolve; ``tests/test_bundle.py``
unzips the bundle into an empty folder, installs it as its README says and runs two chapters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import jupytext

BUNDLE = "golden-ratio-companion"
BUNDLE_PATH = f"_downloads/{BUNDLE}.zip"

README = """\
# Golden-ratio weighting: an executable companion (reader's bundle)

This folder runs every chapter of the book on your own machine, without the repository:

- `{wheel}`: the book's simulation package `lib` (data included: the UCI Adult census and the
  shipped full runs of the paper's Figs. 8 and 9, verified by SHA-256 when they are used);
- `notebooks/`: every chapter as a Jupyter notebook, without outputs, and the figure style
  (`matplotlibrc`) the book uses;
- `requirements.txt`: the wheel with its `notebooks` extra (Jupyter, a kernel, `myst-nb` for the
  `glue` calls that put numbers into the text, papermill).

Needs Python 3.10 or newer. In this folder:

```bash
python -m venv .venv
. .venv/bin/activate          # on Windows: .venv\\Scripts\\activate
pip install -r requirements.txt
jupyter lab notebooks/
```

Each notebook has one cell tagged `parameters` whose values are the book's full run (each chapter
runs in under a minute on two cores). Smaller values give a quick run, for example

```bash
papermill notebooks/kalman.ipynb out.ipynb -p replications 300 --cwd notebooks
```

To use a copy of the data elsewhere, set `GOLDEN_RATIO_DATA` to a folder holding `adult/` and
`reproduction/`. Code: MIT; text and figures: CC BY 4.0 (`LICENSE`). Cite the book with
`CITATION.cff`, and the paper: He, Xu and Cheng, Recursive Learning Without Collapse: A
Weighting-Based Stabilization Framework, JRSSB (2026), doi:10.1093/jrsssb/qkag099 (arXiv 2502.18049).
"""


def _is_notebook(path: Path) -> bool:
    text = path.read_text() if path.suffix == ".md" else ""
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def build_wheel(repo: Path, out: Path) -> Path:
    """Build the ``lib`` wheel of ``repo`` into ``out`` (no dependencies, no network)."""
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy, so that the build leaves nothing (build/, *.egg-info) in the tree.
        src = Path(tmp) / "src"
        shutil.copytree(repo, src, ignore=shutil.ignore_patterns(
            ".git", ".venv", "_build", "book", "tests", "benchmarks", "build", "*.egg-info", "__pycache__"))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                               "--wheel-dir", str(out), str(src)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building the lib wheel of {repo} failed:\n{proc.stdout}{proc.stderr}")
    wheels = sorted(out.glob("golden_ratio_companion-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one wheel in {out}, found {[w.name for w in wheels]}")
    return wheels[0]


def build_bundle(repo: Path, notebooks: list[Path], out_zip: Path) -> Path:
    """Write the reader's bundle for ``notebooks`` (MyST sources) to ``out_zip``, atomically."""
    repo, out_zip = Path(repo), Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / BUNDLE
        (root / "notebooks").mkdir(parents=True)
        wheel = build_wheel(repo, root)
        for source in notebooks:
            jupytext.write(jupytext.read(source), root / "notebooks" / f"{source.stem}.ipynb")
        shutil.copy(repo / "matplotlibrc", root / "notebooks" / "matplotlibrc")
        for name in ("LICENSE", "CITATION.cff"):
            shutil.copy(repo / name, root / name)
        (root / "requirements.txt").write_text(f"./{wheel.name}[notebooks]\n")
        (root / "README.md").write_text(README.format(wheel=wheel.name))
        partial = out_zip.with_name(out_zip.name + ".partial")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(root.rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(root.parent))
        os.replace(partial, out_zip)
    return out_zip


def _add_link(app, pagename, templatename, context, doctree):
    if doctree is None or "body" not in context:
        return
    source = Path(app.env.doc2path(pagename))
    up = "../" * pagename.count("/")
    bundle = (f'<a href="{up}{BUNDLE_PATH}" download>the reader\'s bundle</a> (a zip; unzip, then follow '
              f"its README: a virtual environment, <code>pip install -r requirements.txt</code>, "
              f"<code>jupyter lab</code>)")
    if _is_notebook(source):
        link = (f'<p class="notebook-download">Run this chapter yourself: <a href="{up}_notebooks/{source.stem}.ipynb" '
                f"download>{source.stem}.ipynb</a>, or every chapter with the book's package and data: {bundle}.</p>\n")
    else:
        link = f'<p class="notebook-download">Every chapter with the book\'s package and data: {bundle}.</p>\n'
    body = context["body"]
    # Just under the chapter title (or at the top if there is none).
    context["body"] = body.replace("</h1>", "</h1>\n" + link, 1) if "</h1>" in body else link + body


def _write_downloads(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_notebooks"
    out.mkdir(exist_ok=True)
    sources = [Path(app.env.doc2path(d)) for d in sorted(app.env.found_docs)]
    sources = [s for s in sources if _is_notebook(s)]
    for source in sources:
        jupytext.write(jupytext.read(source), out / f"{source.stem}.ipynb")
    build_bundle(Path(app.srcdir), sources, Path(app.outdir) / BUNDLE_PATH)


def setup(app):
    app.connect("html-page-context", _add_link)
    app.connect("build-finished", _write_downloads)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
