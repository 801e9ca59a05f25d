"""lib.paper_figures: the argmin of a windowed figure and its bootstrap interval, checked against a
plain bootstrap loop written here (resampling replication indices with numpy's choice)."""

import numpy as np
import pytest

from lib import paper_figures
from lib.experiments import COLUMNS


def _table(xs, E):
    """A tidy table of one panel: errors E[x index, replication]."""
    W, R = E.shape
    cols = {name: np.zeros(W * R) for name in COLUMNS}
    cols.update(figure=np.full(W * R, "fig8"), panel=np.full(W * R, "mean"), scheme=np.full(W * R, "weighted"),
                x=np.repeat(xs, R), w=np.repeat(xs, R), replication=np.tile(np.arange(R), W),
                error=E.ravel(), failed=np.zeros(W * R), n=np.full(W * R, 100), m=np.full(W * R, 100),
                gen_from=np.full(W * R, 150), gen_to=np.full(W * R, 199))
    return cols


def test_argmin_interval_is_the_95_percent_bootstrap_percentile_interval():
    rng = np.random.default_rng(3)
    xs = np.round(np.arange(0.40, 0.80001, 0.005), 3)
    R = 60
    # A shallow bowl plus replication noise shared across weights (as the real samples are).
    E = (xs[:, None] - 0.6) ** 2 + 0.02 * rng.standard_normal((xs.size, R)) + 0.01 * rng.random(R)
    best, (lo, hi) = paper_figures.argmin(_table(xs, E), "mean", boot=4000, seed=1)
    assert best == xs[np.argmin(E.mean(axis=1))]
    other = np.random.default_rng(99)
    draws = np.array([xs[np.argmin(E[:, other.choice(R, R)].mean(axis=1))] for _ in range(4000)])
    step = 0.005
    for level, (a, b) in {0.95: (lo, hi)}.items():
        assert abs(a - np.quantile(draws, (1 - level) / 2)) <= 2 * step + 1e-12
        assert abs(b - np.quantile(draws, (1 + level) / 2)) <= 2 * step + 1e-12
    # A 50% or a 99.9% interval would be told apart: their ends lie further away.
    narrow = np.quantile(draws, [0.25, 0.75])
    wide = np.quantile(draws, [0.0005, 0.9995])
    assert (hi - lo) - (narrow[1] - narrow[0]) > 2 * step and (wide[1] - wide[0]) - (hi - lo) > 2 * step


def test_argmin_refuses_a_weight_where_every_replication_failed():
    xs = np.array([0.3, 0.5])
    E = np.array([[np.nan, np.nan], [0.1, 0.2]])
    with pytest.raises(ValueError, match="every replication failed"):
        paper_figures.argmin(_table(xs, E), "mean")
