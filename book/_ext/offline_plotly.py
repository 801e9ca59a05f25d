"""Sphinx extension: interactive plotly figures that work offline.

A chapter displays a plotly figure as HTML without its library (``lib.interactive.html``). This
extension copies the ``plotly.min.js`` that the plotly wheel ships into the site's ``_static``
and loads it only on the pages that hold a plotly figure, so no page needs a CDN or a network.
"""

import shutil
from pathlib import Path

SCRIPT = "plotly.min.js"


def _source() -> Path:
    import plotly
    return Path(plotly.__file__).parent / "package_data" / SCRIPT


def _add_script(app, pagename, templatename, context, doctree):
    if app.builder.format == "html" and "plotly-graph-div" in context.get("body", ""):
        app.add_js_file(SCRIPT)


def _copy_script(app, exception):
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        static.mkdir(exist_ok=True)
        shutil.copy(_source(), static / SCRIPT)


def setup(app):
    app.connect("html-page-context", _add_script)
    app.connect("build-finished", _copy_script)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
