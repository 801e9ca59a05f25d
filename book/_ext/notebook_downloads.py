"""Sphinx extension: publish every chapter as a Jupyter notebook (.ipynb) next to the site.

The chapters are MyST text notebooks; readers who want to run them in Jupyter or Colab need
.ipynb files. At the end of an HTML build, each source that is a notebook (it names a kernel) is
converted with jupytext, without outputs, into ``_notebooks/<name>.ipynb`` in the output folder,
and each such page gets a link to its file under its title. The site tests check that every
chapter has the link and that it resolves.
"""

from pathlib import Path

import jupytext


def _is_notebook(path: Path) -> bool:
    text = path.read_text() if path.suffix == ".md" else ""
    return text.startswith("---") and "kernelspec:" in text.split("---", 2)[1]


def _add_link(app, pagename, templatename, context, doctree):
    if doctree is None or "body" not in context:
        return
    source = Path(app.env.doc2path(pagename))
    if not _is_notebook(source):
        return
    depth = pagename.count("/")
    href = "../" * depth + f"_notebooks/{source.stem}.ipynb"
    link = (f'<p class="notebook-download">Run this chapter yourself: <a href="{href}" download>'
            f"{source.stem}.ipynb</a> (inside the repository, after <code>pip install -e .</code>; "
            f"see the preface).</p>\n")
    body = context["body"]
    # Just under the chapter title (or at the top if there is none).
    context["body"] = body.replace("</h1>", "</h1>\n" + link, 1) if "</h1>" in body else link + body


def _write_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir) / "_notebooks"
    out.mkdir(exist_ok=True)
    for docname in sorted(app.env.found_docs):
        source = Path(app.env.doc2path(docname))
        if _is_notebook(source):
            jupytext.write(jupytext.read(source), out / f"{source.stem}.ipynb")


def setup(app):
    app.connect("html-page-context", _add_link)
    app.connect("build-finished", _write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
