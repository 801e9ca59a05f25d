"""The book's figure conventions: theory as a line, simulation as points with 95% error bars,
the golden-ratio weight marked. The style itself (fonts, colours, white background) is the
top-level ``matplotlibrc``."""

from __future__ import annotations

import numpy as np

from .theory import GOLDEN_WEIGHT

__all__ = ["Z95", "theory_line", "mc_points", "mark_golden", "mark_weight"]

Z95 = 1.959963984540054  # two-sided 95% normal quantile, for error bars


def theory_line(ax, x, y, label=None, **kwargs):
    """Theory: a solid line (pass ``linestyle="--"`` for an approximation)."""
    kwargs.setdefault("zorder", 2)
    kwargs.setdefault("linestyle", "-")
    return ax.plot(x, y, label=label, **kwargs)[0]


def mc_points(ax, x, mean, sem, label=None, color=None, floor=None, **kwargs):
    """Monte Carlo: markers with 95% confidence bars (mean +- 1.96 standard errors).

    ``floor``: on a log axis that starts at ``floor``, lower bars are clipped there instead of
    running off the axis (the upper bars are unchanged).
    """
    kwargs.setdefault("zorder", 3)
    half = Z95 * np.asarray(sem, dtype=float)
    yerr = half if floor is None else [np.minimum(half, np.asarray(mean, dtype=float) - floor), half]
    return ax.errorbar(x, mean, yerr=yerr, fmt="o", color=color, label=label,
                       markerfacecolor="white", markeredgewidth=1.4, elinewidth=1.2, **kwargs)


def mark_weight(ax, w, label, color="0.35", **kwargs):
    """A vertical dashed line at weight ``w``."""
    return ax.axvline(w, color=color, linestyle="--", linewidth=1.2, label=label, zorder=1, **kwargs)


def mark_golden(ax, label=r"$w = 1/\varphi$"):
    """The golden-ratio weight 1/phi, the optimum at n = m."""
    return mark_weight(ax, GOLDEN_WEIGHT, label, color="#B8860B")
