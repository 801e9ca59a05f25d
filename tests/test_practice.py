"""The practitioner's functions: recommended weight, per-sample weights, misjudged-k excess."""

import numpy as np
import pytest
import sympy as sp

import lib
from lib import practice, theory


@pytest.mark.parametrize("n, m", [(100, 100), (1000, 10000), (1000, 250), (1, 7)])
def test_recommend_weight_is_w_star(n, m):
    w = practice.recommend_weight(n, m)
    assert w == pytest.approx(lib.optimal_weight(n / m), rel=1e-14)
    real_w, syn_w = practice.sample_weights(n, m)
    # Average per-sample weight 1, and the weighted shares are w and 1 - w.
    assert (n * real_w + m * syn_w) / (n + m) == pytest.approx(1.0)
    assert n * real_w / (n + m) == pytest.approx(w)


def test_golden_ratio_at_equal_sizes():
    assert practice.recommend_weight(500, 500) == pytest.approx((np.sqrt(5) - 1) / 2, rel=1e-14)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, np.nan])
def test_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_real"):
        practice.recommend_weight(bad, 10)
    with pytest.raises(ValueError, match="n_synthetic"):
        practice.sample_weights(10, bad)


def test_misjudged_excess():
    assert practice.misjudged_excess(0.3, 0.3) == pytest.approx(0.0, abs=1e-12)
    ks = np.logspace(-3, 2, 30)
    for r in (0.25, 0.5, 2.0, 4.0):
        ex = practice.misjudged_excess(ks, ks * r)
        assert np.all(ex > 0)
        # Erring towards a larger k_hat is never the more expensive side.
        assert np.all(practice.misjudged_excess(ks, ks * max(r, 1 / r)) <= practice.misjudged_excess(ks, ks * min(r, 1 / r)) + 1e-12)
    r = sp.Symbol("r", positive=True)
    limit = sp.limit(practice.misjudged_excess_expr().subs(practice.k_hat, r * theory.k), theory.k, 0)
    assert sp.simplify(limit - (sp.sqrt(r) - 1) ** 2 / (2 * sp.sqrt(r))) == 0
    # Values from the Gaussian-mean formulas directly.
    assert practice.misjudged_excess(1.0, 4.0) == pytest.approx(
        lib.limiting_error(lib.optimal_weight(4.0), 1.0) / lib.GOLDEN_WEIGHT - 1)
    with pytest.raises(ValueError, match="k_believed"):
        practice.misjudged_excess(1.0, 0.0)
