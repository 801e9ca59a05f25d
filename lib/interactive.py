"""Interactive figures that need no kernel: plotly figures from precomputed frames.

A static page cannot run Python, so every state of the figure is computed when the page is built
and the browser only switches between them (plotly ``frames`` and a slider). The page loads
``plotly.min.js`` from the site itself (the book's Sphinx extension copies the file that the
plotly wheel ships into ``_static``), never from a CDN, so the figure works offline.

:func:`weight_explorer` is the limiting error V(w, k) over w, one frame per k,
with the optimum w*(k) and naive pooling marked; :func:`html` is what a notebook displays.
"""

from __future__ import annotations

import numpy as np

from . import theory, validate

__all__ = ["weight_explorer", "html"]


def weight_explorer(k_values, w_grid=None):
    """A plotly figure of V(w, k) against w with a slider over ``k_values`` (each > 0).

    V(w, k) = (w^2 + k (1 - w)^2) / (1 - (1 - w)^2) (``lib.theory.limiting_error``); the optimum
    w*(k) = (sqrt(k^2 + 4k) - k) / 2 and naive pooling w = k / (k + 1) are marked with their
    errors V(w*, k) = w* and (k + 1) / (k + 2). The vertical axis is logarithmic.
    """
    import plotly.graph_objects as go

    k_values = np.atleast_1d(validate.ratio(k_values, "k_values")).astype(float)
    if k_values.ndim != 1 or k_values.size < 2:
        raise ValueError(f"k_values must be a list of at least two ratios, got {k_values!r}")
    w = np.linspace(0.02, 1.0, 197) if w_grid is None else validate.weights(w_grid, "w_grid")
    if np.any(w <= 0):
        raise ValueError("w_grid must be positive: V(0, k) is infinite")

    def traces(kk):
        w_opt, w_naive = float(theory.optimal_weight(kk)), float(theory.naive_weight(kk))
        v = theory.limiting_error(w, kk)
        return [
            go.Scatter(x=w, y=v, mode="lines", name="V(w, k)", line=dict(color="#0072B2", width=2.5),
                       hovertemplate="w = %{x:.3f}<br>V = %{y:.4f}<extra></extra>"),
            go.Scatter(x=[w_opt], y=[float(theory.limiting_error(w_opt, kk))], mode="markers",
                       name="optimal w*(k)", marker=dict(color="#B8860B", size=12, symbol="diamond"),
                       hovertemplate="w* = %{x:.4f}<br>V = %{y:.4f}<extra></extra>"),
            go.Scatter(x=[w_naive], y=[float(theory.limiting_error(w_naive, kk))], mode="markers",
                       name="naive pooling n/(n+m)", marker=dict(color="#D55E00", size=11, symbol="circle"),
                       hovertemplate="naive w = %{x:.4f}<br>V = %{y:.4f}<extra></extra>"),
        ]

    label = [f"{kk:g}" for kk in k_values]
    start = int(np.argmin(np.abs(np.log(k_values))))  # the frame closest to k = 1
    fig = go.Figure(data=traces(k_values[start]),
                    frames=[go.Frame(data=traces(kk), name=lab) for kk, lab in zip(k_values, label)])
    v_all = np.concatenate([theory.limiting_error(w, kk) for kk in k_values])
    fig.update_layout(
        template="simple_white", height=460, margin=dict(l=70, r=20, t=30, b=110),
        xaxis=dict(title="weight w on the real data", range=[0, 1.02]),
        yaxis=dict(title="limiting error V(w, k), relative to real data only", type="log",
                   range=[np.log10(v_all.min()) - 0.1, np.log10(min(v_all.max(), 100.0)) + 0.05]),
        legend=dict(orientation="h", x=0, y=1.08),
        sliders=[dict(active=start, currentvalue=dict(prefix="k = n/m = "), pad=dict(t=45),
                      steps=[dict(label=lab, method="animate",
                                  args=[[lab], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                    transition=dict(duration=0))])
                             for lab in label])])
    return fig


def html(fig, div_id: str) -> dict:
    """A display bundle for a notebook: the figure as HTML that uses the page's own plotly.js, and
    a plain-text stand-in for output formats that cannot run it (the PDF)."""
    if not div_id.isidentifier():
        raise ValueError(f"div_id must be a simple name (letters, digits, _), got {div_id!r}")
    return {"text/html": fig.to_html(include_plotlyjs=False, full_html=False, div_id=div_id,
                                     config={"displaylogo": False, "responsive": True}),
            "text/plain": "(An interactive figure: the online book shows it.)"}
