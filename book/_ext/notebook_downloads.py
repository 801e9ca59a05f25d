"""Sphinx extension: publish every chapter as a Jupyter notebook (.ipynb) next to the site.

The chapters are MyST text notebooks; readers who want to run them in Jupyter or Colab need
.ipynb files. At the end of an HTML build, each source that is a notebook (it names a kernel) is
converted with jupytext, without outputs, into ``_notebooks/<name>.ipynb`` in the output folder.
Each chapter links to its file; the site tests check that every such link resolves.
"""

from pathlib import Path

import jupytext


def _write_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_notebooks"
    out.mkdir(exist_ok=True)
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        text = source.read_text() if source.suffix == ".md" else ""
        if text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]:
            jupytext.write(jupytext.read(source), out / f"{source.stem}.ipynb")


def setup(app):
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
