"""Empirical CDF and categorical models: exact distances, exact theory, Monte Carlo."""

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

import lib
from lib import nonparametric_theory as nt, theory
from lib.nonparametric import CategoricalModel, EmpiricalCDFModel, cvm_distance, cvm_two_samples
from conftest import assert_mc_matches


def _brute_force_cvm(u, mass):
    G = lambda v: mass[u <= v].sum()
    return integrate.quad(lambda v: (G(v) - v) ** 2, 0, 1, points=np.sort(u), limit=500, epsabs=1e-13)[0]


@pytest.mark.parametrize("N", [1, 2, 5, 40])
def test_exact_cvm_matches_numerical_integral(N):
    rng = np.random.default_rng(N)
    for _ in range(5):
        u, mass = rng.random(N), rng.random(N)
        mass /= mass.sum()
        assert cvm_distance(u[:, None], mass[:, None])[0] == pytest.approx(_brute_force_cvm(u, mass), abs=1e-12)


def test_two_sample_formula_equals_general_formula():
    rng = np.random.default_rng(0)
    real, syn, w = rng.random((7, 1, 9)), rng.random((7, 4, 13)), rng.random((7, 4))
    fast = cvm_two_samples(real, syn, w)
    atoms = np.concatenate([np.broadcast_to(real, (7, 4, 9)), syn], axis=-1)
    mass = np.concatenate([np.broadcast_to((w / 9)[..., None], (7, 4, 9)),
                           np.broadcast_to(((1 - w) / 13)[..., None], (7, 4, 13))], axis=-1)
    slow = cvm_distance(np.moveaxis(atoms, -1, 0), np.moveaxis(mass, -1, 0))
    np.testing.assert_allclose(fast, slow, atol=1e-14)


def test_single_atom_and_uniform_grid():
    # One atom at u: u^2 - u + 1/3. The uniform grid (i - 1/2)/N: 1/(12 N^2).
    assert cvm_distance(np.array([[0.3]]), np.array([[1.0]]))[0] == pytest.approx(0.09 - 0.3 + 1 / 3)
    N = 50
    grid = (np.arange(1, N + 1) - 0.5) / N
    assert cvm_distance(grid[:, None], np.full((N, 1), 1 / N))[0] == pytest.approx(1 / (12 * N**2))


def test_theory_identities():
    u = nt.u
    terms = nt.pointwise_terms()
    assert [sp.simplify(c) for c, _ in terms] == [theory.w, 1 - theory.w, 1 - theory.w]
    rec = nt.factor_recursion()
    w, n, m = theory.w, theory.n, theory.m
    assert sp.simplify(rec - (w**2 / n + (1 - w) ** 2 / m + (1 - w) ** 2 * (1 - 1 / m) * nt.h_prev)) == 0
    assert sp.integrate(u * (1 - u), (u, 0, 1)) == sp.Rational(1, 6)
    # Asymptotically the same V(w, k).
    k = theory.k
    lim = sp.limit(sp.simplify(n * nt.factor_limit_expr().subs(m, n / k)), n, sp.oo)
    assert sp.simplify(lim - theory.limiting_error_expr()) == 0
    # Exact finite-sample optima quoted in paper-notes: 0.6170 (n = m = 100), 0.6178 (500).
    assert nt.optimal_weight(100, 100) == pytest.approx(0.6170, abs=5e-5)
    assert nt.optimal_weight(500, 500) == pytest.approx(0.6178, abs=5e-5)
    N = sp.Symbol("N", positive=True)
    assert sp.simplify(sp.limit(nt.optimal_weight_expr().subs({n: N, m: N}), N, sp.oo) - (sp.sqrt(5) - 1) / 2) == 0


def test_fully_synthetic_fixation():
    t = np.arange(0, 300)
    np.testing.assert_allclose(nt.cvm_expected(0.0, 40, 40, t), (1 - (1 - 1 / 40) ** (t + 1)) / 6, rtol=1e-12)
    assert nt.error_factor_limit(0.0, 40, 40) == pytest.approx(1.0)


def test_cdf_model_matches_exact_theory():
    weights, n, m, T, start = [0.15, 0.45, 0.8], 15, 40, 40, 15
    res = lib.run_loop(EmpiricalCDFModel(), weights, n, m, T, 40000, seed=21)
    mc, se = res.window_mean("cvm", start)
    exact = [np.mean(nt.cvm_expected(wi, n, m, np.arange(start, T + 1))) for wi in weights]
    assert_mc_matches(mc, se, exact, "CvM")


def test_cdf_model_fully_synthetic_path():
    res = lib.run_loop(EmpiricalCDFModel(), 0.0, 10, 10, 12, 40000, seed=22)
    t = res.generations
    assert_mc_matches(res.mean("cvm")[:, 0], res.sem("cvm")[:, 0], nt.cvm_expected(0.0, 10, 10, t), "CvM, w = 0")


def test_categorical_model_matches_exact_theory():
    probs = np.array([0.45, 0.25, 0.2, 0.07, 0.03])
    weights, n, m, T, start = [0.2, 0.5, 0.9], 25, 12, 40, 15
    res = lib.run_loop(CategoricalModel(probs), weights, n, m, T, 40000, seed=23)
    mc, se = res.window_mean("mse", start)
    factor = [np.mean(nt.error_factor(wi, n, m, np.arange(start, T + 1))) for wi in weights]
    assert_mc_matches(mc, se, np.array(factor) * np.mean(probs * (1 - probs)), "categorical")


def test_categorical_loses_categories_only_without_fresh_data():
    res = lib.run_loop(CategoricalModel([0.9, 0.08, 0.02]), [0.0, 0.5], 20, 20, 200, 200, seed=24)
    zeros = res.values["zero"]
    # w = 0: a category at zero can never be drawn again, so the count of lost categories never falls.
    assert np.all(np.diff(zeros[:, 0, :], axis=0) >= 0)
    assert zeros[-1, 0].mean() > 1.0
    # w > 0: a category missing from one generation comes back with fresh real data.
    assert np.any(np.diff(zeros[:, 1, :], axis=0) < 0)
    assert zeros[-1, 1].mean() < zeros[-1, 0].mean()


def test_bad_input():
    with pytest.raises(ValueError, match="probs"):
        CategoricalModel([0.5, 0.6])
    with pytest.raises(ValueError, match="probs"):
        CategoricalModel([1.0])
    with pytest.raises(ValueError, match="probs"):
        CategoricalModel([0.5, np.nan])
    with pytest.raises(ValueError, match=r"\bn\b"):
        nt.cvm_expected(0.5, 0, 10, 3)
    with pytest.raises(ValueError, match=r"\bw\b"):
        nt.error_factor(1.2, 10, 10, 3)


def test_exact_optimum_at_every_synthetic_sample_size():
    """The exact optimum minimises the exact limiting factor, checked by a bounded scalar search
    on the factor itself (another route than the closed form), for m = 1 (where the textbook
    root is 0/0 and the optimum is n/(n+1)) and for other sizes."""
    from scipy.optimize import minimize_scalar
    from lib import nonparametric_theory as nt
    assert nt.optimal_weight(10, 1) == pytest.approx(10 / 11, rel=1e-14)
    for n_, m_ in [(1, 1), (10, 1), (3, 2), (100, 100), (7, 5000), (5000, 7)]:
        found = minimize_scalar(lambda x: nt.error_factor(x, n_, m_, 4000), bounds=(1e-6, 1), method="bounded",
                                options=dict(xatol=1e-10)).x
        assert nt.optimal_weight(n_, m_) == pytest.approx(found, abs=1e-6), (n_, m_)


def test_synthetic_sampler_draws_the_atoms_it_picks():
    """The CDF model's synthetic draws, recomputed with the same random numbers by numpy's
    take_along_axis and a mask (the direct route): the same atoms, component by component."""
    rng = np.random.default_rng(3)
    real, syn = rng.random((1, 5, 7)), rng.random((4, 5, 9))
    w = np.array([0.0, 0.3, 0.7, 1.0])[:, None]
    got = EmpiricalCDFModel().sample_synthetic(np.random.default_rng(8), (real, syn, w), 11, (4, 5))
    draw = np.random.default_rng(8)
    ridx = draw.integers(7, size=(4, 5, 11))
    from_syn = draw.random((4, 5, 11)) >= w[..., None]
    sidx = draw.integers(9, size=(4, 5, 11))
    want = np.where(from_syn, np.take_along_axis(syn, sidx, axis=-1),
                    np.take_along_axis(np.broadcast_to(real, (4, 5, 7)), ridx, axis=-1))
    assert np.array_equal(got, want)
    assert np.all(np.isin(got[0], syn[0])) and np.all(np.isin(got[3], real))  # w = 0: synthetic only; w = 1: real
    first = EmpiricalCDFModel().sample_synthetic(np.random.default_rng(8), (real, None, 1.0), 11, (4, 5))
    assert np.array_equal(first, np.take_along_axis(np.broadcast_to(real, (4, 5, 7)),
                                                    np.random.default_rng(8).integers(7, size=(4, 5, 11)), axis=-1))
