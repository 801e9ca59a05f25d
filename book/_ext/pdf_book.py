"""Build the book as a PDF, and the problem set as a student handout without solutions.

    python book/_ext/pdf_book.py          (``make pdf``; after ``make book``)

Both PDFs are made from the notebooks that the HTML build executed (``_build/jupyter_execute``),
so nothing is computed twice: a copy of the book's sources is laid out in ``_build/pdf-src`` with
each chapter replaced by its executed ``.ipynb``, built with Jupyter Book's LaTeX builder with
execution off, and typeset with latexmk and XeLaTeX (Debian TeX Live; the jupyterBook class's
``bbm`` is stood in by ``book/_ext/latex/bbm.sty``, figures are placed where they stand).

Cross-references to exercises, which sphinx-exercise labels differently in LaTeX, are rewritten
to the exercise's own label and printed number. The build fails if any reference prints as "??"
(tests/test_book_build.py checks the page count and chapter titles). Outputs, written atomically:
``_build/pdf/book.pdf``, ``_build/pdf/handout.pdf``, and copies in ``_build/html/_downloads/``
when the site is there, where the pages link to them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "_build"
EXECUTED = BUILD / "jupyter_execute"
OUT = BUILD / "pdf"
JB = Path(sys.executable).with_name("jupyter-book")

PREAMBLE = r"""
\usepackage{float}
\floatplacement{figure}{H}
"""


def _toc_files(toc: dict) -> list[str]:
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]


def _is_notebook(path: Path) -> bool:
    text = path.read_text()
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def _strip_solutions(nb: dict) -> dict:
    """The notebook without its solutions (``solution-start`` ... ``solution-end`` and single
    ``solution`` blocks) and without hidden cells."""
    start = re.compile(r"^```\{solution-start\}.*?^```\n?", re.M | re.S)
    end = re.compile(r"^```\{solution-end\}\n```\n?", re.M)
    single = re.compile(r"^```\{solution\}.*?^```\n?", re.M | re.S)
    cells, inside = [], False
    for cell in nb["cells"]:
        if "remove-cell" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "markdown":
            if not inside:
                cells.append(cell)
            continue
        kept = ""
        while source:
            if inside:
                m = end.search(source)
                if not m:
                    source = ""
                    break
                source, inside = source[m.end():], False
            else:
                m = start.search(source)
                if not m:
                    kept += source
                    break
                kept, source, inside = kept + source[:m.start()], source[m.end():], True
        kept = single.sub("", kept)
        if kept.strip():
            cells.append(dict(cell, source=kept))
    return dict(nb, cells=cells)


def _layout(src: Path, files: list[str], *, handout: bool) -> None:
    """Copy the book's sources into ``src``, chapters as their executed notebooks."""
    if src.exists():
        shutil.rmtree(src)
    (src / "book").mkdir(parents=True)
    shutil.copytree(REPO / "book" / "_ext", src / "book" / "_ext")
    shutil.copy(REPO / "book" / "references.bib", src / "book" / "references.bib")
    for file in files:
        source = REPO / f"{file}.md"
        if not _is_notebook(source):
            shutil.copy(source, src / f"{file}.md")
            continue
        executed = EXECUTED / f"{file}.ipynb"
        if not executed.exists():
            raise SystemExit(f"{executed} is missing: build the site first (make book), whose "
                             f"executed notebooks the PDF reuses")
        nb = json.loads(executed.read_text())
        if handout:
            nb = _strip_solutions(nb)
        (src / f"{file}.ipynb").write_text(json.dumps(nb))


def _config(handout: bool) -> dict:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    config["only_build_toc_files"] = True
    target = "handout" if handout else "book"
    if handout:
        config["title"] = "Problem set: golden-ratio weighting (student handout, without solutions)"
    config["latex"] = {"latex_documents": {"targetname": f"{target}.tex"}}
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["latex_engine"] = "xelatex"  # unicode (phi, mu) in the text
    sphinx["latex_additional_files"] = ["book/_ext/latex/bbm.sty"]
    # Figures stay where they stand: a float inside a cell output is "not in outer par mode".
    sphinx["latex_elements"] = {"preamble": PREAMBLE, "figure_align": "H"}
    if handout:
        sphinx["hide_solutions"] = True
    return config


def _fix_exercise_refs(tex: str) -> str:
    """sphinx-exercise labels an exercise ``exercise:LABEL`` in LaTeX and numbers it in its
    heading, while references point to ``DOC:LABEL``: point them at the exercise and print its
    number."""
    numbers = dict(re.findall(r"\\label\{exercise:([^}]+)\}\s*\\begin\{sphinxadmonition\}\{note\}\{Exercise ([\d.]+)", tex))

    def replace(m):
        label = m.group(1)
        if label not in numbers:
            return m.group(0)
        return rf"\hyperref[exercise:{label}]{{Exercise {numbers[label]}}}"

    return re.sub(r"\\hyperref\[\\detokenize\{[^}:]+:([^}]+)\}\]\{Exercise \\ref\{\\detokenize\{[^}]+\}\}\}", replace, tex)


def build(handout: bool) -> Path:
    name = "handout" if handout else "book"
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = ["book/problem_set"] if handout else _toc_files(toc)
    src = BUILD / f"pdf-src-{name}"
    _layout(src, files, handout=handout)
    if handout:
        toc = {"format": "jb-book", "root": "book/problem_set"}
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    (src / "_config.yml").write_text(yaml.safe_dump(_config(handout), sort_keys=False))
    proc = subprocess.run([str(JB), "build", "--builder", "latex", "--keep-going", str(src)],
                          capture_output=True, text=True)
    latex = src / "_build" / "latex"
    if proc.returncode != 0 or not (latex / f"{name}.tex").exists():
        raise SystemExit(f"the LaTeX build of the {name} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    tex = latex / f"{name}.tex"
    tex.write_text(_fix_exercise_refs(tex.read_text()))
    proc = subprocess.run(["make", "-C", str(latex), "all-pdf", "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error"],
                          capture_output=True, text=True)
    pdf = latex / f"{name}.pdf"
    if proc.returncode != 0 or not pdf.exists():
        raise SystemExit(f"typesetting {name}.pdf failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    log = (latex / f"{name}.log").read_text(errors="replace")
    undefined = sorted(set(re.findall(r"Reference `([^']+)' on page", log)))
    if "??" in text or undefined:
        raise SystemExit(f"{name}.pdf has unresolved references: {undefined}")
    OUT.mkdir(parents=True, exist_ok=True)
    partial = OUT / f"{name}.pdf.partial"
    shutil.copy(pdf, partial)
    os.replace(partial, OUT / f"{name}.pdf")
    downloads = BUILD / "html" / "_downloads"
    if downloads.is_dir():
        shutil.copy(OUT / f"{name}.pdf", downloads / f"{name}.pdf")
    return OUT / f"{name}.pdf"


def main():
    for handout in (False, True):
        print(f"wrote {build(handout)}")


if __name__ == "__main__":
    main()
