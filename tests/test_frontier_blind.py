"""lib.frontier.blind against independent computation: exact rational arithmetic of their
Theorem 1 at small t, brute-force simulation of the loop sample by sample, and a direct
simulation of the weighted estimator."""

import numpy as np
import pytest
import sympy as sp

from lib.frontier import blind as bl
from conftest import assert_z_beyond, assert_z_within


def _check_mc(mc, se, exact, label):
    assert_z_within((mc - exact) / se, label)
    for wrong in (0.95 * exact, 1.05 * exact):  # a 5% error in the formula is rejected
        assert_z_beyond((mc - wrong) / se, f"{label}: a 5% error")


def test_variance_matches_theorem_in_exact_arithmetic():
    a = sp.Rational(3, 10)
    expr = bl.theorem_variance_expr().subs(bl.alpha, a)
    exact = [float(sp.nsimplify(sp.gammasimp(expr.subs(bl.t, tt).doit()))) for tt in range(1, 8)]
    np.testing.assert_allclose(bl.blind_variance(0.3, 7), exact, rtol=1e-12)
    # and the recursion v_t = ((t - 1 + alpha)/t)^2 v_{t-1} + 1/t^2 in fractions
    v, vs = sp.Integer(1), [1.0]
    for tt in range(2, 8):
        v = ((tt - 1 + a) / tt) ** 2 * v + sp.Rational(1, tt**2)
        vs.append(float(v))
    np.testing.assert_allclose(vs, exact, rtol=1e-12)


def test_closed_form_is_stable_and_limits():
    assert bl.blind_variance(0.0, 1000)[-1] == pytest.approx(1e-3, rel=1e-12)  # no contamination: 1/t
    v = bl.blind_variance(np.array([0.2, 0.8]), 200_000)
    assert np.all(np.isfinite(v))
    assert 200_000 * v[-1, 0] == pytest.approx(1 / (1 - 0.4), rel=0.01)
    # alpha > 1/2: the local slope of log Var in log t tends to -2 (1 - alpha)
    slope = np.log(v[-1, 1] / v[99_999, 1]) / np.log(2.0)
    assert slope == pytest.approx(-0.4, abs=0.01)
    np.testing.assert_allclose(bl.rate_exponent([0.1, 0.5, 0.9]), [1.0, 1.0, 0.2])


@pytest.mark.parametrize("a", [0.3, 0.8])
def test_variance_matches_brute_force_simulation(a):
    T, R = 30, 200_000
    e = bl.simulate_mean(np.random.default_rng(1), [a], T, R)[:, 0]  # (T, R)
    sq = e**2
    idx = [0, 4, 29]
    mc, se = sq.mean(axis=1)[idx], sq.std(axis=1, ddof=1)[idx] / np.sqrt(R)
    _check_mc(mc, se, bl.blind_variance(a, T)[idx], f"alpha={a}")


def test_pool_of_samples_matches_both_formulas():
    B, T, R = 10, 25, 40_000
    for a in (0.3, 0.8):
        blind, known = bl.simulate_pool(np.random.default_rng(2), a, T, R, batch=B)
        for errors, exact, label in ((blind, bl.blind_variance(a, T) / B, "blind"),
                                     (known, bl.known_provenance_variance(a, T, batch=B), "known")):
            sq = errors[[0, 9, 24]] ** 2
            mc, se = sq.mean(axis=1), sq.std(axis=1, ddof=1) / np.sqrt(R)
            assert_z_within((mc - exact[[0, 9, 24]]) / se, f"{a} {label}")


def test_weighted_variance_against_direct_simulation():
    a, T, R = 0.8, 40, 200_000
    c = np.arange(1, T + 1, dtype=float) ** 3.0
    rng = np.random.default_rng(3)
    num, den, Y = np.zeros(R), 0.0, np.zeros(R)
    for i in range(T):
        X = (0.0 if i == 0 else a * Y) + rng.standard_normal(R)
        num += c[i] * X
        den += c[i]
        Y = num / den
    sq = Y**2
    _check_mc(sq.mean(), sq.std(ddof=1) / np.sqrt(R), bl.weighted_variance(a, c)[-1], "s^3 weights")
    np.testing.assert_allclose(bl.weighted_variance(a, np.ones(T)), bl.blind_variance(a, T), rtol=1e-12)


def test_bad_input_raises_naming_the_argument():
    rng = np.random.default_rng(0)
    for bad in (1.0, -0.1, 1.5, np.nan, True):
        with pytest.raises(ValueError, match="alpha"):
            bl.blind_variance(bad, 10)
    with pytest.raises(ValueError, match="alpha"):
        bl.simulate_mean(rng, [0.2, 1.0], 5, 10)
    with pytest.raises(ValueError, match="alpha"):
        bl.weighted_variance(1.0, np.ones(3))
    with pytest.raises(ValueError, match="alpha \\* batch"):
        bl.simulate_pool(rng, 0.25, 5, 10, batch=10)
    with pytest.raises(ValueError, match="T must"):
        bl.blind_variance(0.3, 0)
    with pytest.raises(ValueError, match="weights"):
        bl.weighted_variance(0.3, [1.0, 0.0])
    with pytest.raises(ValueError, match="batch"):
        bl.known_provenance_variance(0.3, 5, batch=0)


def test_known_alpha_bound_is_attained():
    """The Cramer-Rao bound 1 / (1 + (t - 1)(1 - alpha)^2): its SymPy information, a direct
    simulation in which the learner regresses X_s - alpha Y_{s-1} on (1 - alpha), and the
    library's simulator."""
    a, T, R = 0.8, 40, 200_000
    info = bl.fisher_information_expr().subs(bl.alpha, sp.Rational(4, 5))
    np.testing.assert_allclose(1 / np.array([float(info.subs(bl.t, tt)) for tt in range(1, T + 1)]),
                               bl.known_alpha_variance(a, T), rtol=1e-12)
    rng = np.random.default_rng(4)
    X, Y = np.empty((T, R)), np.zeros(R)
    for i in range(T):
        X[i] = (0.0 if i == 0 else a * Y) + rng.standard_normal(R)
        Y = X[: i + 1].mean(axis=0)  # the blind ERM contaminates the next sample
    Ys = np.cumsum(X, axis=0) / np.arange(1, T + 1)[:, None]
    z = np.r_[1.0, np.full(T - 1, 1 - a)]  # regressors of the Gaussian linear model in mu
    r = np.vstack([X[:1], X[1:] - a * Ys[:-1]])  # responses
    est = (z @ r) / (z @ z)
    sq = est**2
    _check_mc(sq.mean(), sq.std(ddof=1) / np.sqrt(R), bl.known_alpha_variance(a, T)[-1], "known alpha")
    erm, dec = bl.simulate_known_alpha(np.random.default_rng(5), a, T, R)
    for errors, exact, label in ((dec, bl.known_alpha_variance(a, T), "lib de-contaminated"),
                                 (erm, bl.blind_variance(a, T), "lib ERM")):
        sq = errors[[0, 9, T - 1]] ** 2
        _check_mc(sq.mean(axis=1), sq.std(axis=1, ddof=1) / np.sqrt(R), exact[[0, 9, T - 1]], label)
    with pytest.raises(ValueError, match="alpha"):
        bl.known_alpha_variance(1.0, 5)
