"""Regimes side by side (lib.regimes): every formula against an independent check (a SymPy identity,
a hand-derived recursion, a direct sum, or exact enumeration), every simulated regime against its
exact theory (|z| < 5, with enough replications to detect a 5% error), and input validation."""

import itertools

import numpy as np
import pytest
import sympy as sp
from scipy import special

import lib
from lib import regimes as rg, theory
from conftest import Z_TOL, assert_mc_matches, assert_z_beyond, assert_z_within

k, m, n, t = theory.k, theory.m, theory.n, theory.t


# --- formulas: symbolic identities -----------------------------------------------------------

def test_replace_is_the_weighted_loop_at_w_zero():
    assert sp.simplify(rg.replace_error_expr() - (1 / n + t / m)) == 0
    assert sp.simplify(theory.gaussian_mean_error_expr().subs(theory.w, 0) - rg.replace_error_expr()) == 0
    np.testing.assert_allclose(rg.regime_error("replace", 30, 12, 40, 2.5),
                               lib.gaussian_mean_error(0.0, 30, 12, np.arange(41), 2.5), rtol=1e-13)


def test_accumulate_closed_form():
    assert sp.simplify(rg.accumulate_increment_expr() - m / (n + rg.s * m) ** 2) == 0
    rel = rg.accumulate_relative_expr()
    assert sp.simplify(rel.subs(t, 0)) == 1
    # Telescoping: e_t - e_{t-1} = k / (t + k)^2 (polygamma recurrence psi_1(x + 1) = psi_1(x) - 1/x^2).
    step = sp.expand_func(rel - rel.subs(t, t - 1))
    assert sp.simplify(step - k / (t + k) ** 2) == 0
    lim = rg.accumulate_limit_expr()
    assert sp.simplify(lim.subs(k, 1) - sp.pi**2 / 6) == 0
    assert sp.limit(lim, k, 0) == 1 and sp.limit(lim, k, sp.oo) == 2


@pytest.mark.parametrize("n_, m_", [(100, 100), (30, 7), (5, 200)])
def test_accumulate_against_direct_sum(n_, m_):
    T = 60
    direct = 1 / n_ + np.concatenate([[0.0], np.cumsum([m_ / (n_ + s * m_) ** 2 for s in range(1, T + 1)])])
    np.testing.assert_allclose(rg.regime_error("accumulate", n_, m_, T, covariance="known"), direct, rtol=1e-12)
    # The pool recursion gives the same: a subsample never smaller than the pool is the pool.
    whole = rg.regime_error("subsample", n_, m_, T, covariance="known", subsample_size=n_ + T * m_)
    np.testing.assert_allclose(whole, direct, rtol=1e-12)


def test_accumulate_limit_values():
    kk = np.array([0.01, 0.3, 1.0, 4.0, 100.0])
    np.testing.assert_allclose(rg.accumulate_limit(kk), 1 + kk * special.polygamma(1, 1 + kk), rtol=1e-13)
    assert rg.accumulate_limit(1.0) == pytest.approx(np.pi**2 / 6, rel=1e-14)
    # The finite-t error converges to it (tail of the sum ~ k / t).
    assert rg.regime_error("accumulate", 50, 50, 20000, covariance="known")[-1] * 50 == pytest.approx(
        np.pi**2 / 6 - 1 / 20001, rel=1e-6)
    assert rg.limiting_relative_error("accumulate", 1.0) == pytest.approx(np.pi**2 / 6)


def test_accumulate_fitted_covariance_shrinks_exactly():
    N = rg.N
    assert sp.simplify(rg.accumulate_cov_factor_expr() - (1 - m / ((N + m) * (N + m - 1)))) == 0
    n_, m_, T, tr = 12, 8, 30, 3.0
    sizes = n_ + m_ * np.arange(1, T + 1)
    factors = 1 - m_ / (sizes * (sizes - 1))
    G = tr * np.concatenate([[1.0], np.cumprod(factors)])
    np.testing.assert_allclose(rg.expected_cov_trace("accumulate", n_, m_, T, tr), G, rtol=1e-12)
    # Mean error: e_t = e_{t-1} + m G_{t-1} / N_t^2, a hand recursion.
    e = [tr / n_]
    for s in range(1, T + 1):
        e.append(e[-1] + m_ * G[s - 1] / sizes[s - 1] ** 2)
    np.testing.assert_allclose(rg.regime_error("accumulate", n_, m_, T, tr), e, rtol=1e-12)
    assert np.all(rg.regime_error("accumulate", n_, m_, T, tr) <= rg.regime_error("accumulate", n_, m_, T, tr, "known"))


def _hand_recursion(n_, m_, T, tr, M_=None, with_replacement=False, fresh=False, fitted=True):
    """The pool recursion derived by hand (not from lib.regimes' SymPy), for an independent check.

    Pool N, mean error A, E tr C = G; fitted mean b with E|b - a|^2 = beta G; synthetic batch of m
    around b with covariance trace H (gamma G if fitted, tr if known); optional fresh real batch of n.
    """
    A, G, N = tr / n_, tr, n_
    beta, gamma = 0.0, 1.0
    err, cov = [A], [G]
    for _ in range(T):
        H = gamma * G if fitted else tr
        r = n_ if fresh else 0
        Nn = N + m_ + r
        A_new = ((N + m_) ** 2 * A + m_**2 * beta * G + m_ * H + r * tr) / Nn**2
        # pooled scatter = within + pairwise between-group terms
        within = (N - 1) * G + (m_ - 1) * H + ((r - 1) * tr if fresh else 0)
        between = N * m_ * (beta * G + H / m_)  # pool vs synthetic
        if fresh:
            between += N * r * (A + tr / r) + r * m_ * (tr / r + A + beta * G + H / m_)
        G = (within + between / Nn) / (Nn - 1)
        A, N = A_new, Nn
        if M_ is not None and (with_replacement or N > M_):
            beta, gamma = ((N - 1) / (N * M_), (N - 1) / N) if with_replacement else (1 / M_ - 1 / N, 1.0)
        else:
            beta, gamma = 0.0, 1.0
        err.append(A + beta * G)
        cov.append(gamma * G)
    return np.array(err), np.array(cov)


@pytest.mark.parametrize("regime, kw, hand", [
    ("subsample", dict(), dict(M_=20)),
    ("subsample", dict(subsample_size=7), dict(M_=7)),
    ("subsample", dict(with_replacement=True), dict(M_=20, with_replacement=True)),
    ("subsample", dict(covariance="known", subsample_size=9), dict(M_=9, fitted=False)),
    ("accumulate_all", dict(), dict(fresh=True)),
    ("accumulate_all", dict(covariance="known"), dict(fresh=True, fitted=False)),
    ("accumulate", dict(), dict()),
])
def test_pool_recursion_against_hand_derivation(regime, kw, hand):
    n_, m_, T, tr = 12, 8, 25, 2.0
    err, cov = _hand_recursion(n_, m_, T, tr, **hand)
    np.testing.assert_allclose(rg.regime_error(regime, n_, m_, T, tr, **kw), err, rtol=1e-12)
    np.testing.assert_allclose(rg.expected_cov_trace(regime, n_, m_, T, tr, **kw), cov, rtol=1e-12)


@pytest.mark.parametrize("with_replacement", [False, True])
def test_subsample_moments_by_enumeration(with_replacement):
    """beta and gamma of a uniform subsample, exactly, by listing every subsample of a small pool."""
    rng = np.random.default_rng(3)
    pool = rng.normal(size=6)
    N_, M_ = pool.size, 3
    a, C = pool.mean(), pool.var(ddof=1)
    if with_replacement:
        subs = [pool[list(ix)] for ix in itertools.product(range(N_), repeat=M_)]
    else:
        subs = [pool[list(ix)] for ix in itertools.combinations(range(N_), M_)]
    E_dev = np.mean([(s.mean() - a) ** 2 for s in subs])
    E_var = np.mean([s.var(ddof=1) for s in subs])
    beta, gamma = rg.subsample_moments_expr(with_replacement)
    assert E_dev == pytest.approx(float(beta.subs({rg.N: N_, rg.M: M_})) * C, rel=1e-12)
    assert E_var == pytest.approx(float(gamma.subs({rg.N: N_, rg.M: M_})) * C, rel=1e-12)


def test_fresh_data_regimes_are_the_weighted_loop():
    n_, m_, T = 40, 160, 30
    ts = np.arange(T + 1)
    for regime, w in [("fresh", 1.0), ("naive", 0.2), ("optimal", lib.optimal_weight(0.25))]:
        assert rg.regime_weight(regime, n_, m_) == pytest.approx(w)
        np.testing.assert_allclose(rg.regime_error(regime, n_, m_, T, 3.0), lib.gaussian_mean_error(w, n_, m_, ts, 3.0))
        np.testing.assert_allclose(rg.expected_cov_trace(regime, n_, m_, T, 3.0), 3.0)
    np.testing.assert_allclose(rg.regime_error("weighted", n_, m_, T, w=0.3), lib.gaussian_mean_error(0.3, n_, m_, ts))
    for regime in ("fresh", "naive", "optimal"):
        long = rg.regime_error(regime, n_, m_, 4000)[-1] * n_
        assert long == pytest.approx(rg.limiting_relative_error(regime, 0.25), rel=1e-10)
    assert rg.limiting_relative_error("replace", 0.5) == np.inf
    assert rg.limiting_relative_error("accumulate_all", 0.5) == 0


def test_asymptotic_rates():
    # Accumulate everything: error ~ t^(-min(1, 2k/(1+k))).
    for n_, m_ in [(20, 60), (60, 20)]:
        e = rg.regime_error("accumulate_all", n_, m_, 8000)
        slope = np.log(e[8000] / e[4000]) / np.log(2)
        kk = n_ / m_
        assert slope == pytest.approx(-min(1, 2 * kk / (1 + kk)), abs=0.02)
    # Subsample with the fitted covariance: the pool covariance creeps up like t^(1/M).
    c = rg.expected_cov_trace("subsample", 10, 10, 8000, subsample_size=5)
    assert np.log(c[8000] / c[4000]) / np.log(2) == pytest.approx(1 / 5, rel=0.01)
    # ... and with the known covariance it converges.
    c = rg.expected_cov_trace("subsample", 10, 10, 8000, subsample_size=5, covariance="known")
    assert abs(np.log(c[8000] / c[4000])) < 1e-3


# --- Monte Carlo against theory --------------------------------------------------------------

SIGMA = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 0.5]])
MU = np.array([1.0, -2.0, 0.5])
N_, M_, T_ = 12, 8, 12

CASES = [
    ("replace", dict()),
    ("replace", dict(covariance="known")),
    ("accumulate", dict()),
    ("accumulate", dict(covariance="known")),
    ("subsample", dict()),
    ("subsample", dict(with_replacement=True)),
    ("subsample", dict(covariance="known", subsample_size=15)),
    ("accumulate_all", dict()),
    ("accumulate_all", dict(covariance="known")),
]


@pytest.mark.parametrize("regime, kw", CASES, ids=[f"{r}-{'-'.join(map(str, kw.values())) or 'default'}" for r, kw in CASES])
def test_simulation_matches_theory(regime, kw):
    run = rg.simulate(regime, MU, SIGMA, N_, M_, T_, 40000, seed=17, **kw)
    tr = np.trace(SIGMA)
    err = rg.regime_error(regime, N_, M_, T_, tr, **kw)
    cov = rg.expected_cov_trace(regime, N_, M_, T_, tr, **kw)
    for what, exact in [("errors", err), ("cov_trace", cov)]:
        assert_z_within((run.mean(what) - exact) / run.sem(what), what)
    # Each run's error averaged over the second half: precise enough to detect a 5% error (10% for
    # replace, whose error grows linearly with a spread to match: 5% is only 5.2 standard errors).
    half = run.errors[T_ // 2:].mean(axis=0)
    assert_mc_matches(half.mean(), half.std(ddof=1) / np.sqrt(half.size), err[T_ // 2:].mean(), regime,
                      power=0.10 if regime == "replace" else 0.05)


def test_simulation_tells_the_sampling_schemes_apart():
    """Power: the simulation with replacement rejects the theory without replacement, and the
    fitted pooled covariance rejects an expectation of tr(Sigma) (no shrinkage)."""
    tr = np.trace(SIGMA)
    run = rg.simulate("subsample", MU, SIGMA, N_, M_, T_, 20000, seed=18, with_replacement=True)
    wrong = rg.regime_error("subsample", N_, M_, T_, tr)
    assert_z_beyond((run.mean() - wrong) / run.sem(), "with against without replacement", every=False)
    acc = rg.simulate("accumulate", MU, SIGMA, N_, M_, T_, 20000, seed=19)
    assert_z_beyond((acc.mean("cov_trace") - tr) / acc.sem("cov_trace"), "no shrinkage", every=False)


def test_replace_simulation_agrees_with_run_loop_theory():
    # The weighted loop at w = 0 is replace; its simulation (lib.run_loop) matches the same theory.
    model = lib.GaussianModel(MU, SIGMA)
    res = lib.run_loop(model, 0.0, N_, M_, T_, 20000, seed=20, metrics=["mean"])
    exact = rg.regime_error("replace", N_, M_, T_, np.trace(SIGMA))
    assert_z_within((res.mean("mean")[:, 0] - exact) / res.sem("mean")[:, 0], "replace through run_loop")


def test_simulation_is_deterministic_and_shaped():
    a = rg.simulate("subsample", [0.0, 0.0], np.eye(2), 5, 4, 6, 7, seed=3, chunk_size=3)
    b = rg.simulate("subsample", [0.0, 0.0], np.eye(2), 5, 4, 6, 7, seed=3, chunk_size=3)
    assert a.errors.shape == a.cov_trace.shape == (7, 7) and a.replications == 7
    assert np.array_equal(a.errors, b.errors) and np.array_equal(a.cov_trace, b.cov_trace)
    c = rg.simulate("subsample", [0.0, 0.0], np.eye(2), 5, 4, 6, 7, seed=4, chunk_size=3)
    assert not np.array_equal(a.errors, c.errors)
    assert np.all(np.isfinite(a.errors)) and np.all(a.cov_trace > 0)


# --- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, name", [
    (dict(n=2.5), "n"), (dict(n=True), "n"), (dict(m=1), "m"), (dict(T=0), "T"), (dict(T=3.0), "T"),
    (dict(trace_cov=float("nan")), "trace_cov"), (dict(trace_cov=-1.0), "trace_cov"),
    (dict(subsample_size=10.5), "subsample_size"), (dict(covariance="estimated"), "covariance"),
    (dict(with_replacement="yes"), "with_replacement"), (dict(regime="mixed"), "regime"),
])
def test_theory_rejects(kwargs, name):
    args = dict(regime="subsample", n=10, m=10, T=5) | kwargs
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        rg.regime_error(**args)


def test_weights_and_ratios_rejected():
    with pytest.raises(ValueError, match=r"\bw\b"):
        rg.regime_error("weighted", 10, 10, 5, w=1.5)
    with pytest.raises(ValueError, match=r"\bw\b"):
        rg.regime_error("weighted", 10, 10, 5, w=float("nan"))
    with pytest.raises(ValueError, match=r"\bw\b"):
        rg.regime_error("weighted", 10, 10, 5)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"\bk\b"):
            rg.accumulate_limit(bad)
        with pytest.raises(ValueError, match=r"\bk\b"):
            rg.limiting_relative_error("optimal", bad)
    with pytest.raises(ValueError, match="subsample"):
        rg.limiting_relative_error("subsample", 1.0)
    with pytest.raises(ValueError, match="regime"):
        rg.regime_weight("replace", 10, 10)


@pytest.mark.parametrize("kwargs, name", [
    (dict(regime="optimal"), "regime"), (dict(n=3), "n"), (dict(m=2.0), "m"), (dict(replications=1), "replications"),
    (dict(seed=-1), "seed"), (dict(chunk_size=0), "chunk_size"), (dict(mean=[0.0, float("nan"), 0.0]), "mean"),
    (dict(cov=-np.eye(3)), "cov"), (dict(cov=np.eye(2)), "cov"), (dict(subsample_size=2), "subsample_size"),
    (dict(covariance="wishart"), "covariance"), (dict(T=-2), "T"),
])
def test_simulate_rejects(kwargs, name):
    args = dict(regime="subsample", mean=np.zeros(3), cov=np.eye(3), n=6, m=6, T=3, replications=4) | kwargs
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        rg.simulate(**args)
