"""Summaries and figures of a reproduction table (:func:`lib.reproduce.run_figure`).

Each panel shows the simulation as points with 95% error bars (mean +- 1.96 standard errors over
replications) and the theory of :func:`lib.experiments.theory_curve` as a line: solid where it is
exact, dashed where it is first order in 1/n. The argmin of a curve against the weight is given
with a bootstrap interval over replications.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from . import plotting
from .experiments import FIGURES, panel_title, theory_curve
from .theory import GOLDEN_WEIGHT

__all__ = ["curve", "against_theory", "error_matrix", "argmin", "theory_argmin", "generations", "plot", "report"]

_RC = Path(__file__).resolve().parent.parent / "matplotlibrc"
_SCHEME_COLORS = {"naive": "C1", "optimal": "C0"}


def _rows(table, panel, scheme=None):
    keep = table["panel"] == panel
    if scheme is not None:
        keep &= table["scheme"] == scheme
    if not np.any(keep):
        raise ValueError(f"the table has no rows for panel {panel!r}" + ("" if scheme is None else f", scheme {scheme!r}"))
    return keep


def curve(table, panel, scheme=None):
    """(x, mean, standard error, share of failed fits) of one curve: against the generation for a
    path (Fig. 7), against the table's x otherwise."""
    keep = _rows(table, panel, scheme)
    path = table["figure"][keep][0] == "fig7"
    key = table["gen_from"][keep] if path else table["x"][keep]
    xs, inv = np.unique(key, return_inverse=True)
    err = table["error"][keep]
    count = np.bincount(inv)
    mean = np.bincount(inv, err) / count
    var = np.bincount(inv, (err - mean[inv]) ** 2) / (count - 1)
    failed = np.bincount(inv, table["failed"][keep]) / count
    return xs.astype(float), mean, np.sqrt(var / count), failed


def against_theory(table, figure, panel, scheme=None):
    """(z, ratio, kind) of a curve against its theory: z = (simulation - theory) / standard error
    and ratio = simulation / theory at every point; kind is "exact" or "first order"."""
    x, mean, se, _ = curve(table, panel, scheme)
    T = generations(table)
    if figure == "fig7":
        th, kind = theory_curve(figure, panel, x=x.astype(int), generations=T)[1:]
    elif scheme is None:
        th, kind = theory_curve(figure, panel, x=x, generations=T)[1:]
    else:
        th, kind = theory_curve(figure, panel, scheme, generations=T)[1:]
    return (mean - th) / se, mean / th, kind


def error_matrix(table, panel, scheme=None):
    """(x values, errors of shape (len(x), replications)) for a windowed figure."""
    keep = _rows(table, panel, scheme)
    xs, xi = np.unique(table["x"][keep], return_inverse=True)
    reps, ri = np.unique(table["replication"][keep], return_inverse=True)
    out = np.full((xs.size, reps.size), np.nan)
    out[xi, ri] = table["error"][keep]
    if np.isnan(out).any():
        raise ValueError(f"panel {panel!r} does not have one result per (x, replication)")
    return xs, out


def argmin(table, panel, boot: int = 1000, seed: int = 0):
    """The weight with the smallest mean error, and a 95% bootstrap interval for it (replications
    resampled jointly across weights, which share their real samples)."""
    xs, E = error_matrix(table, panel)
    best = xs[np.argmin(E.mean(axis=1))]
    rng = np.random.default_rng(seed)
    draws = np.array([xs[np.argmin(E[:, rng.integers(E.shape[1], size=E.shape[1])].mean(axis=1))]
                      for _ in range(boot)])
    return float(best), (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))


def generations(table) -> int:
    """The last generation of the run that produced ``table``."""
    return int(table["gen_to"].max())


def theory_argmin(figure, panel, T=None):
    """The weight minimising the theory curve (on a grid of step 1e-4) of a run with T
    generations (default: the paper's), or None without theory."""
    fig = FIGURES[figure]
    grid = np.arange(fig.settings[0].w, fig.settings[-1].w + 1e-9, 1e-4)
    tc = theory_curve(figure, panel, x=grid, generations=T)
    return None if tc is None else float(grid[np.argmin(tc[1])])


@contextmanager
def _style():
    """The book's matplotlibrc (without its backend) when the repository is at hand."""
    params = {}
    if _RC.exists():
        params = {k: v for k, v in matplotlib.rc_params_from_file(_RC, use_default_template=False).items()
                  if k != "backend"}
    with matplotlib.rc_context(params):
        yield


def plot(table, figure):
    """The figure in the paper's layout (2 x 3 panels; Fig. 10: 1 x 4) with theory curves."""
    fig_spec = FIGURES[figure]
    panels = fig_spec.panels
    with _style():
        rows, cols = (1, 4) if len(panels) == 4 else (2, 3)
        fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.3 * rows + 0.4))
        reps = np.unique(table["replication"]).size
        for ax, panel in zip(np.ravel(axes), panels):
            if figure == "fig9":
                for scheme in ("naive", "optimal"):
                    _draw(ax, table, figure, panel, scheme, label=f"{scheme}")
            else:
                _draw(ax, table, figure, panel)
            ax.set_title(f"({chr(97 + panels.index(panel))}) {panel_title(panel)}")
            ax.set_xlabel(fig_spec.xlabel)
            if figure in ("fig8", "fig10"):
                plotting.mark_golden(ax)
            if figure == "fig7":
                ax.set_yscale("log")
        np.ravel(axes)[0].set_ylabel("error" + (" (averaged over the window)" if fig_spec.window else ""))
        np.ravel(axes)[0].legend(fontsize=8)
        fig.suptitle(f"Fig. {fig_spec.number} of the paper, reproduced: {reps} replications per point")
    return fig


def _draw(ax, table, figure, panel, scheme=None, label=None):
    color = _SCHEME_COLORS.get(scheme, "C1")
    tc = theory_curve(figure, panel, scheme, generations=generations(table))
    if tc is not None:
        x, y, kind = tc
        plotting.theory_line(ax, x, y, color="C0" if scheme is None else color,
                             linestyle="-" if kind == "exact" else "--",
                             label=f"theory ({kind})" if scheme is None else f"{label}: theory ({kind})")
    xs, mean, se, _ = curve(table, panel, scheme)
    plotting.mc_points(ax, xs, mean, se, color=color, markersize=3.5 if figure == "fig7" else 5,
                       label="simulation" if scheme is None else f"{label}: simulation")
    if figure in ("fig8", "fig10"):
        i = int(np.argmin(mean))
        ax.plot(xs[i], mean[i], marker="*", markersize=13, color="C2", zorder=4, label="simulated minimum",
                linestyle="none")


def report(table, figure) -> str:
    """A plain-text summary: argmins (Figs. 8, 10), naive/optimal ratios (Fig. 9), final errors (Fig. 7)."""
    fig = FIGURES[figure]
    lines = [f"Fig. {fig.number}: {np.unique(table['replication']).size} replications"]
    if figure in ("fig8", "fig10"):
        lines.append(f"{'panel':28s} {'argmin':>7s} {'95% interval':>15s} {'theory':>7s}   (1/phi = {GOLDEN_WEIGHT:.4f})")
        for panel in fig.panels:
            best, (lo, hi) = argmin(table, panel)
            th = theory_argmin(figure, panel, generations(table))
            lines.append(f"{panel_title(panel):28s} {best:7.2f} {f'[{lo:.2f}, {hi:.2f}]':>15s} "
                         f"{'-' if th is None else f'{th:.4f}':>7s}")
    elif figure == "fig9":
        lines.append(f"{'panel':28s} naive/optimal error ratio at k = " +
                     " ".join(f"{k:g}" for k in curve(table, fig.panels[0], 'naive')[0]))
        for panel in fig.panels:
            ratio = curve(table, panel, "naive")[1] / curve(table, panel, "optimal")[1]
            lines.append(f"{panel_title(panel):28s} " + " ".join(f"{r:.2f}" for r in ratio))
    else:
        lines.append(f"{'panel':28s} {'t':>5s} {'mean error':>12s} {'theory':>12s} {'failed fits':>11s}")
        for panel in fig.panels:
            t, mean, se, failed = curve(table, panel)
            th = theory_curve(figure, panel, x=t[-1:].astype(int), generations=generations(table))
            lines.append(f"{panel_title(panel):28s} {int(t[-1]):5d} {mean[-1]:12.4g} {th[1][0]:12.4g} {failed.mean():11.2%}")
    return "\n".join(lines)
