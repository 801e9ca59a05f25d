"""The weighted KDE in the loop (lib.generative.kde): the density against scipy's weighted
gaussian_kde, the ISE against numerical integration, the exact theory against simulation, and
bad input."""

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

import lib
from lib.generative import kde
from conftest import assert_mc_matches


def test_weighted_kde_equals_scipy_gaussian_kde():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(30)
    a = rng.random(30)
    a /= a.sum()
    h = 0.35
    ref = stats.gaussian_kde(x, weights=a)
    ref.set_bandwidth(h / np.sqrt(ref.covariance[0, 0] / ref.factor**2))  # kernel sd = h
    assert np.isclose(np.sqrt(ref.covariance[0, 0]), h)
    grid = np.linspace(-4, 4, 41)
    np.testing.assert_allclose(kde.kde_pdf(grid, x, a, h), ref(grid), rtol=1e-12)


def test_ise_exact_and_binned_against_quadrature():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(25) * 1.3
    a = np.full(25, 1 / 25)
    h, sd = 0.4, 1.2
    f = lambda t: (kde.kde_pdf(np.array([t]), x, a, h)[0] - stats.norm.pdf(t, scale=sd)) ** 2
    numeric = integrate.quad(f, -15, 15, limit=400, epsabs=1e-13)[0]
    assert kde.ise_exact(x, a, h, sd) == pytest.approx(numeric, rel=1e-8)
    xs = rng.standard_normal((10, 200))
    np.testing.assert_allclose(kde.ise_binned(xs, 1 / 200, 0.3), kde.ise_exact(xs, 1 / 200, 0.3), rtol=2e-3)


def test_expected_ise_generation_zero_and_frequency_integral():
    """Generation 0 against the Marron-Wand closed form, and the frequency integral against quad."""
    n, h = 40, 0.5
    mw = (1 / (2 * np.sqrt(np.pi))) * (1 / (n * h) + (1 - 1 / n) / np.sqrt(1 + h**2)
                                       - 2 * np.sqrt(2) / np.sqrt(2 + h**2) + 1)
    assert kde.expected_ise(0.7, n, 60, h)[0] == pytest.approx(mw, rel=1e-9)
    # the limit integrand by quad at one weight
    c_inf, s_inf = kde.frequency_limit_expr()
    fc = sp.lambdify((kde.w, kde.n, kde.m, kde.K_sym, kde.phi_sym), c_inf)
    fs = sp.lambdify((kde.w, kde.n, kde.m, kde.K_sym, kde.phi_sym), s_inf)

    def integrand(u):
        K, phi = np.exp(-0.5 * h**2 * u**2), np.exp(-0.5 * u**2)
        return fs(0.6, n, 60, K, phi) - 2 * phi * fc(0.6, n, 60, K, phi) + phi**2

    quad = integrate.quad(integrand, 0, np.inf, limit=200)[0] / np.pi
    assert kde.limit_ise(0.6, n, 60, h) == pytest.approx(quad, rel=1e-8)
    assert kde.expected_ise(0.6, n, 60, h, T=100)[-1] == pytest.approx(quad, rel=1e-8)


def test_loop_matches_the_exact_theory():
    """Simulated ISE (averaged over generations 1..T) and fitted variance against the exact
    recursions, at n = m and with much synthetic data, including the fully synthetic loop's
    variance (widening by h^2 per generation at first, the drift saturating it)."""
    h = kde.silverman_bandwidth(20)
    model = kde.KDEModel(bandwidth=h, ise="exact")
    ws, T = [0.5, 0.9], 3
    for n, m, seed in ((20, 20, 3), (10, 30, 4)):
        res = lib.run_loop(model, ws, n, m, T, 10000, seed=seed, metrics=["ise"])
        mc, se = res.window_mean("ise", 1)
        exact = kde.expected_ise(ws, n, m, h, T=T)[1:].mean(axis=0)
        assert_mc_matches(mc, se, exact, f"ISE n={n} m={m}")
    model = kde.KDEModel(bandwidth=kde.silverman_bandwidth(40), ise="none")
    ws, T = [0.0, 0.5, 0.9], 6
    for n, m, seed in ((40, 40, 5), (20, 100, 6)):
        res = lib.run_loop(model, ws, n, m, T, 6000, seed=seed, metrics=["var"])
        _, q = kde.expected_moments(ws, n, m, model.bandwidth, 1.0, T)
        assert_mc_matches(res.mean("var")[1:], res.sem("var")[1:], q[1:], f"variance n={n} m={m}")


def test_moment_recursion_at_w_zero():
    v_t, q_t = kde.moment_recursion_expr()
    # w = 0: the mean fit widens by h^2 per generation; the expected variance by h^2 less drift
    assert sp.simplify(v_t.subs(kde.w, 0) - (kde.v_prev + kde.h**2)) == 0
    assert sp.simplify(q_t.subs(kde.w, 0) - (kde.h**2 + (1 - 1 / kde.m) * kde.q_prev)) == 0
    v_inf, _ = kde.moment_limit_expr()
    assert sp.simplify(v_inf - (kde.sigma**2 + kde.h**2 / kde.w)) == 0


def test_w_one_is_the_kde_of_the_real_data():
    model = kde.KDEModel(bandwidth=0.3)
    rng = np.random.default_rng(5)
    real = model.sample_real(rng, 30, (1, 4))
    prev = model.fit(real, None, np.ones((1, 1)))
    syn = model.sample_synthetic(rng, prev, 50, (2, 4))
    ev = model.evaluate(model.fit(real, syn, np.array([[1.0], [1.0]])))
    np.testing.assert_allclose(ev["ise"], np.broadcast_to(kde.ise_binned(real, 1 / 30, 0.3), (2, 4)), rtol=1e-9)


def test_deterministic_by_seed():
    model = kde.KDEModel(bandwidth=0.3)
    a = lib.run_loop(model, [0.2, 0.7], 20, 20, 3, 5, seed=9)
    b = lib.run_loop(model, [0.2, 0.7], 20, 20, 3, 5, seed=9)
    np.testing.assert_array_equal(a.values["ise"], b.values["ise"])


def test_optimal_weight_is_the_minimiser():
    n, m, h = 50, 50, kde.silverman_bandwidth(50)
    w_opt = kde.optimal_weight(n, m, h)
    grid = np.linspace(0.05, 1.0, 400)
    assert abs(grid[np.argmin(kde.limit_ise(grid, n, m, h))] - w_opt) < 0.005


@pytest.mark.parametrize("kwargs", [dict(bandwidth=0.0), dict(bandwidth=-1.0), dict(bandwidth=True),
                                    dict(bandwidth=0.3, ise="grid"),
                                    dict(bandwidth=0.3, sd=0.0), dict(bandwidth=0.3, resolution=0)])
def test_bad_model_raises(kwargs):
    with pytest.raises(ValueError):
        kde.KDEModel(**kwargs)


def test_bad_input_raises():
    model = kde.KDEModel(bandwidth=0.3)
    with pytest.raises(ValueError, match="w must lie in"):
        lib.run_loop(model, [-0.1], 20, 20, 2, 4)
    with pytest.raises(ValueError, match="m must be"):
        lib.run_loop(model, [0.5], 20, 0, 2, 4)
    with pytest.raises(ValueError, match="w must be > 0"):
        kde.limit_ise(0.0, 20, 20, 0.3)
    with pytest.raises(ValueError, match="n_points"):
        kde.silverman_bandwidth(0)
