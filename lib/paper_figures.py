"""Summaries and figures of a reproduction table (:func:`lib.reproduce.run_figure`).

Each panel shows the simulation as points with 95% error bars and the theory of
:func:`lib.experiments.theory_curve` as a line: solid where it is exact, dashed where it is first
order in 1/n. The argmin of a curve against the weight is given with a bootstrap interval over
replications.

Failed fits: a replication whose fit failed is recorded with error NaN and ``failed`` = 1 from
that generation on (:mod:`lib.engine`). Every mean, standard error, quantile and argmin here is
over the *surviving* replications of each point (the rows with a finite error), and
:func:`survivors` gives their number; the figures print the count of failed replications in the
title of every panel that has any. Survivors are a selected set, so a mean over them describes
the replications that did not fail, not all of them.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from . import plotting
from .experiments import FIGURES, panel_title, theory_curve
from .theory import GOLDEN_WEIGHT

__all__ = ["curve", "survivors", "spread", "mean_interval", "against_theory", "against_archive", "error_matrix",
           "argmin", "theory_argmin", "generations", "plot", "report"]

_RC = Path(__file__).resolve().parent.parent / "matplotlibrc"
# One colour per meaning within a figure.
_THEORY, _SIMULATION, _MINIMUM, _SPREAD = "C0", "C1", "C2", "0.45"
_SCHEME_COLORS = {"naive": "C1", "optimal": "C0"}
_SCHEME_LABELS = {"naive": "naive pooling $w = k/(1+k)$", "optimal": "optimal weight $w^*(k)$"}


def _rows(table, panel, scheme=None):
    keep = table["panel"] == panel
    if scheme is not None:
        keep &= table["scheme"] == scheme
    if not np.any(keep):
        raise ValueError(f"the table has no rows for panel {panel!r}" + ("" if scheme is None else f", scheme {scheme!r}"))
    return keep


def _groups(table, panel, scheme=None):
    """(x values, group index of every row, errors, alive mask) of one curve: grouped by the
    generation for a path (Fig. 7), by the table's x otherwise."""
    keep = _rows(table, panel, scheme)
    path = table["figure"][keep][0] == "fig7"
    key = table["gen_from"][keep] if path else table["x"][keep]
    xs, inv = np.unique(key, return_inverse=True)
    err = np.asarray(table["error"][keep], dtype=float)
    alive = np.isfinite(err) & (np.asarray(table["failed"][keep]) == 0)
    return xs.astype(float), inv, err, alive


def curve(table, panel, scheme=None):
    """(x, mean, standard error, share of failed replications) of one curve: against the
    generation for a path (Fig. 7), against the table's x otherwise. Mean and standard error are
    over the surviving replications of each point (NaN where fewer than one or two survive)."""
    xs, inv, err, alive = _groups(table, panel, scheme)
    count = np.bincount(inv, minlength=xs.size)
    n = np.bincount(inv, alive, minlength=xs.size)
    e = np.where(alive, err, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(inv, e, minlength=xs.size) / n
        dev = np.where(alive, err - mean[inv], 0.0)
        var = np.bincount(inv, dev ** 2, minlength=xs.size) / (n - 1)
        se = np.sqrt(var / n)
    mean = np.where(n >= 1, mean, np.nan)
    se = np.where(n >= 2, se, np.nan)
    return xs, mean, se, 1 - n / count


def survivors(table, panel, scheme=None):
    """(x, surviving replications, all replications) of every point of a curve."""
    xs, inv, err, alive = _groups(table, panel, scheme)
    return xs, np.bincount(inv, alive, minlength=xs.size).astype(int), np.bincount(inv, minlength=xs.size)


def _by_point(table, panel, scheme=None):
    """(x, one array of surviving errors per point)."""
    xs, inv, err, alive = _groups(table, panel, scheme)
    order = np.argsort(inv, kind="stable")
    inv, err, alive = inv[order], err[order], alive[order]
    parts = np.split(np.where(alive, err, np.nan), np.cumsum(np.bincount(inv, minlength=xs.size))[:-1])
    return xs, [p[np.isfinite(p)] for p in parts]


def spread(table, panel, scheme=None, quantiles=(0.1, 0.5, 0.9)):
    """(x, q) with q[i] the ``quantiles[i]`` quantile of the surviving replications' errors at
    every point (NaN where none survive): the median path and a band of the paths."""
    xs, parts = _by_point(table, panel, scheme)
    q = np.array([np.quantile(p, quantiles) if p.size else np.full(len(quantiles), np.nan) for p in parts]).T
    return xs, q


def mean_interval(table, panel, scheme=None, boot: int = 1000, seed: int = 0, at=None):
    """(x, mean, low, high): the mean over surviving replications and its 95% bootstrap
    percentile interval. For positive errors the interval is positive, so it stays on a log axis
    however skewed the errors are (a mean +- 1.96 standard errors need not). ``at``: indices of
    the points to compute (default: all; the others are NaN)."""
    xs, parts = _by_point(table, panel, scheme)
    rng = np.random.default_rng(seed)
    mean, lo, hi = (np.full(xs.size, np.nan) for _ in range(3))
    for i in range(xs.size) if at is None else at:
        p = parts[i]
        if p.size == 0:
            continue
        mean[i] = p.mean()
        if p.size >= 2:
            draws = p[rng.integers(p.size, size=(boot, p.size))].mean(axis=1)
            lo[i], hi[i] = np.quantile(draws, [0.025, 0.975])
    return xs, mean, lo, hi


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


def against_archive(table, archive, panel, scheme=None):
    """z = (mean of ``table`` - mean of ``archive``) / (s sqrt(1/R + 1/R_archive)) at every point of
    a curve, for two independent runs of the same figure and generations (for example a small
    run with another seed against a shipped full run). s is the archive's standard deviation
    across replications, which its many replications estimate well, so z is meaningful even
    when ``table`` has only a few replications. Counts are of surviving replications."""
    if generations(table) != generations(archive):
        raise ValueError(f"the runs differ in their generations ({generations(table)} and {generations(archive)})")
    x, mean, _, _ = curve(table, panel, scheme)
    xa, mean_a, se_a, _ = curve(archive, panel, scheme)
    if not np.array_equal(x, xa):
        raise ValueError(f"the runs differ in their x values for panel {panel!r}")
    n, n_a = survivors(table, panel, scheme)[1], survivors(archive, panel, scheme)[1]
    s = se_a * np.sqrt(n_a)
    return (mean - mean_a) / (s * np.sqrt(1 / n + 1 / n_a))


def error_matrix(table, panel, scheme=None):
    """(x values, errors of shape (len(x), replications)) for a windowed figure; NaN marks a
    failed replication."""
    keep = _rows(table, panel, scheme)
    xs, xi = np.unique(table["x"][keep], return_inverse=True)
    reps, ri = np.unique(table["replication"][keep], return_inverse=True)
    out = np.full((xs.size, reps.size), np.nan)
    have = np.zeros(out.shape, dtype=bool)
    err = np.asarray(table["error"][keep], dtype=float)
    out[xi, ri] = np.where(np.asarray(table["failed"][keep]) == 0, err, np.nan)
    have[xi, ri] = True
    if not have.all():
        raise ValueError(f"panel {panel!r} does not have one result per (x, replication)")
    return xs, out


def argmin(table, panel, boot: int = 1000, seed: int = 0):
    """The weight with the smallest mean error (over surviving replications), and a 95% bootstrap
    interval for it (replications resampled jointly across weights, which share their real
    samples)."""
    xs, E = error_matrix(table, panel)
    alive = np.isfinite(E)
    if not alive.any(axis=1).all():
        raise ValueError(f"panel {panel!r} has a weight at which every replication failed")
    E0, A = np.where(alive, E, 0.0), alive.astype(float)
    best = xs[np.argmin(E0.sum(axis=1) / A.sum(axis=1))]
    R = E.shape[1]
    rng = np.random.default_rng(seed)
    draws = np.empty(boot)
    for first in range(0, boot, 250):  # a resample as counts per replication: one product per chunk
        size = min(250, boot - first)
        idx = rng.integers(R, size=(size, R))
        counts = np.bincount((idx + R * np.arange(size)[:, None]).ravel(), minlength=size * R).reshape(size, R)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (counts @ E0.T) / (counts @ A.T)  # (size, weights); NaN where none survive
        means = np.where(np.isnan(means), np.inf, means)
        draws[first:first + size] = xs[np.argmin(means, axis=1)]
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


def _path_points(xs, T, count=21):
    """The recorded generations nearest to ``count`` evenly spaced ones: where a path figure
    draws its mean points (the median and band use every recorded generation)."""
    targets = np.linspace(0, T, count)
    return np.unique([int(np.argmin(np.abs(xs - t))) for t in targets])


def plot(table, figure, columns: int = 3, width: float | None = None):
    """The figure with its theory curves: the paper's panels (a)-(f) (Fig. 10: four) in rows of
    ``columns`` panels, with one legend below them. ``columns=3`` is the paper's 2 x 3 layout
    (the command line's PNG); the book uses ``columns=2`` (3 x 2) at ``width`` 7.5 inches, so
    that its fonts stay legible at the page's width.

    Fig. 7 (paths, log axis): the mean of the surviving replications as points with 95%
    bootstrap intervals at 21 generations, the median path as a grey line and the 10%-90% range
    of the paths as a grey band. Figs. 8-10: mean +- 1.96 standard errors at every setting, the
    simulated minimum starred (Figs. 8 and 10). A panel with failed replications says how many
    in its title.
    """
    fig_spec = FIGURES[figure]
    panels = fig_spec.panels
    cols = min(columns, len(panels))
    rows = -(-len(panels) // cols)
    width = width or 4.0 * cols
    height = (2.45 if cols <= 2 else 3.0) * rows + 1.3
    with _style():
        fig, axes = plt.subplots(rows, cols, figsize=(width, height), sharex=True, squeeze=False,
                                 layout="constrained")
        reps = np.unique(table["replication"]).size
        T = generations(table)
        for ax, panel in zip(axes.ravel(), panels):
            if figure == "fig9":
                for scheme in ("naive", "optimal"):
                    _draw(ax, table, figure, panel, scheme)
            else:
                _draw(ax, table, figure, panel)
            # Failures only accumulate along a path: its last generation has them all. A windowed
            # figure can lose different replications at different settings: the most of them.
            failed = max(reps - survivors(table, panel, s)[1].min()
                         for s in (("naive", "optimal") if figure == "fig9" else (None,)))
            title = f"({chr(97 + panels.index(panel))}) {panel_title(panel)}"
            if failed:
                title += (f"\n{failed} of {reps} replications failed by $t = {T}$" if not fig_spec.window
                          else f"\nup to {failed} of {reps} replications failed")
            ax.set_title(title)
            if figure in ("fig8", "fig10"):
                plotting.mark_golden(ax)
            if figure == "fig7":
                ax.set_yscale("log")
                ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        for ax in axes.ravel()[len(panels):]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel(fig_spec.xlabel)
        for ax in axes[:, 0]:
            ax.set_ylabel("error" + (" (window mean)" if fig_spec.window else ""))
        handles = _legend_handles(axes.ravel()[:len(panels)], figure)
        fig.legend(handles=handles, loc="outside lower center", ncol=2 if cols <= 2 else 3)
        fig.suptitle(f"Fig. {fig_spec.number} of the paper, rerun at its settings: {reps} replications")
    return fig


def _legend_handles(axes, figure):
    """One legend entry per meaning, in a fixed order."""
    if figure == "fig9":
        kinds = {line.get_linestyle() for ax in axes for line in ax.get_lines()}
        out = [Line2D([], [], color=_SCHEME_COLORS[s], marker="o", markerfacecolor="white", label=_SCHEME_LABELS[s])
               for s in ("naive", "optimal")]
        out.append(Line2D([], [], color="0.2", marker="o", markerfacecolor="white", linestyle="none",
                          label="simulation, 95% interval"))
        if "-" in kinds:
            out.append(Line2D([], [], color="0.2", label="exact theory"))
        if "--" in kinds:
            out.append(Line2D([], [], color="0.2", linestyle="--", label="first-order theory"))
        return out
    seen = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, h)
    order = ["expected error, exact", "expected error, first order in $1/n$", "theory (exact)",
             "theory (first order in $1/n$)", "mean of the paths, 95% interval", "simulation, 95% interval",
             "median path", "10%-90% of the paths", "simulated minimum", r"$w = 1/\varphi$"]
    return [seen[label] for label in sorted(seen, key=lambda s: order.index(s) if s in order else len(order))]


def _draw(ax, table, figure, panel, scheme=None):
    path = figure == "fig7"
    color = _SCHEME_COLORS[scheme] if scheme else _SIMULATION
    tc = theory_curve(figure, panel, scheme, generations=generations(table))
    if tc is not None:
        x, y, kind = tc
        kind_label = "exact" if kind == "exact" else "first order in $1/n$"
        label = None if scheme else (f"expected error, {kind_label}" if path else f"theory ({kind_label})")
        plotting.theory_line(ax, x, y, color=color if scheme else _THEORY,
                             linestyle="-" if kind == "exact" else "--", label=label)
    if path:
        xs, q = spread(table, panel)
        ax.fill_between(xs, q[0], q[2], color=_SPREAD, alpha=0.22, linewidth=0, zorder=1,
                        label="10%-90% of the paths")
        ax.plot(xs, q[1], color=_SPREAD, linewidth=1.3, zorder=1.5, label="median path")
        show = _path_points(xs, generations(table))
        xs, mean, lo, hi = mean_interval(table, panel, at=show)
        show = show[np.isfinite(mean[show])]
        gaps = np.array([mean[show] - lo[show], hi[show] - mean[show]])
        # mc_points draws mean +- Z95 * sem; here the (asymmetric) bootstrap interval itself.
        plotting.mc_points(ax, xs[show], mean[show], np.nan_to_num(gaps) / plotting.Z95, color=color,
                           markersize=4, label="mean of the paths, 95% interval")
        return
    xs, mean, se, _ = curve(table, panel, scheme)
    plotting.mc_points(ax, xs, mean, se, color=color, markersize=4.5,
                       label=None if scheme else "simulation, 95% interval")
    if figure in ("fig8", "fig10"):
        i = int(np.nanargmin(mean))
        ax.plot(xs[i], mean[i], marker="*", markersize=13, color=_MINIMUM, zorder=4, label="simulated minimum",
                linestyle="none")


def report(table, figure) -> str:
    """A plain-text summary: argmins (Figs. 8, 10), naive/optimal ratios (Fig. 9), final errors (Fig. 7),
    each with the count of failed replications where there are any."""
    fig = FIGURES[figure]
    reps = np.unique(table["replication"]).size
    lines = [f"Fig. {fig.number}: {reps} replications"]
    if figure in ("fig8", "fig10"):
        lines.append(f"{'panel':28s} {'argmin':>7s} {'95% interval':>15s} {'theory':>7s} {'failed':>7s}"
                     f"   (1/phi = {GOLDEN_WEIGHT:.4f})")
        for panel in fig.panels:
            best, (lo, hi) = argmin(table, panel)
            th = theory_argmin(figure, panel, generations(table))
            failed = reps - survivors(table, panel)[1].min()
            lines.append(f"{panel_title(panel):28s} {best:7.2f} {f'[{lo:.2f}, {hi:.2f}]':>15s} "
                         f"{'-' if th is None else f'{th:.4f}':>7s} {failed:7d}")
    elif figure == "fig9":
        lines.append(f"{'panel':28s} naive/optimal error ratio at k = " +
                     " ".join(f"{k:g}" for k in curve(table, fig.panels[0], 'naive')[0]) + "   failed")
        for panel in fig.panels:
            ratio = curve(table, panel, "naive")[1] / curve(table, panel, "optimal")[1]
            failed = sum(reps - survivors(table, panel, s)[1].min() for s in ("naive", "optimal"))
            lines.append(f"{panel_title(panel):28s} " + " ".join(f"{r:.2f}" for r in ratio) + f"   {failed}")
    else:
        lines.append(f"{'panel':28s} {'t':>5s} {'mean error':>12s} {'theory':>12s} {'failed':>16s}")
        for panel in fig.panels:
            t, mean, se, failed = curve(table, panel)
            th = theory_curve(figure, panel, x=t[-1:].astype(int), generations=generations(table))
            alive = survivors(table, panel)[1][-1]
            lines.append(f"{panel_title(panel):28s} {int(t[-1]):5d} {mean[-1]:12.4g} {th[1][0]:12.4g} "
                         f"{f'{reps - alive} of {reps}':>16s}")
    return "\n".join(lines)
