"""The practitioner's functions: recommended weight, per-sample weights, misjudged-k excess."""

import numpy as np
import pytest
import sympy as sp

import lib
from lib import practice, theory
from conftest import assert_mc_matches, assert_z_within


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


# --- the general recursion ----------------------------------------------------------------------

def _brute_limit(wv, k, alpha=1.0, pi=0.0, q=0.0, rho=1.0, d=1.0, iters=20000):
    """Iterate the recursion of eq. (practice-step), typed here from its definition."""
    e = np.ones_like(np.asarray(wv, dtype=float))
    a = alpha * (1 - pi)
    for _ in range(iters):
        e = (1 - a * wv) ** 2 * (e + q) + alpha**2 * wv**2 * (1 - pi + pi * rho) + alpha**2 * (1 - wv) ** 2 * k * rho * d
    return e


@pytest.mark.parametrize("k, opts", [(1.0, {}), (0.1, {"step_fraction_": 0.3}), (1.0, {"contamination": 0.3}),
                                     (0.5, {"drift": 0.7}), (2.0, {"rho_": 0.6, "design_effect_": 3.0}),
                                     (0.2, {"step_fraction_": 0.5, "contamination": 0.2, "drift": 0.1})])
def test_loop_limit_and_optimum_by_brute_force(k, opts):
    names = {"step_fraction_": "alpha", "contamination": "pi", "drift": "q", "rho_": "rho", "design_effect_": "d"}
    kw = {names[a]: v for a, v in opts.items()}
    grid = np.linspace(0.01, 1.0, 991)
    brute = _brute_limit(grid, k, **kw)
    np.testing.assert_allclose(practice.loop_limit(grid, k, **opts), brute, rtol=1e-9)
    w_opt = practice.loop_optimal_weight(k, **opts)
    assert w_opt == pytest.approx(grid[np.argmin(brute)], abs=1e-3)
    assert practice.loop_limit(w_opt, k, **opts) <= brute.min() + 1e-12


def test_special_cases_of_the_optimum():
    for k in (0.05, 1.0, 6.0):
        assert practice.loop_optimal_weight(k) == pytest.approx(lib.optimal_weight(k), rel=1e-10)
        assert practice.loop_optimal_weight(k, drift=0.4) == pytest.approx(lib.optimal_weight(k + 0.4), rel=1e-10)
        assert practice.loop_optimal_weight(k, design_effect_=3.0) == pytest.approx(lib.optimal_weight(3 * k), rel=1e-10)
        # Tiny fine-tune steps: sqrt(k / (1 + k)), from the limit alpha -> 0 of the SymPy root.
        assert practice.loop_optimal_weight(k, step_fraction_=1e-7) == pytest.approx(np.sqrt(k / (1 + k)), rel=1e-5)
    assert practice.recommend_weight(100, 100, drift=0.5) == pytest.approx(lib.optimal_weight(1.5))
    assert practice.recommend_weight(100, 100, contamination=0.3) > lib.GOLDEN_WEIGHT
    ke = practice.contamination_effective_k(1.0, 0.3)
    assert lib.optimal_weight(ke) == pytest.approx(practice.loop_optimal_weight(1.0, contamination=0.3))
    # The finite path from e_0 = 1 is the paper's at the defaults.
    np.testing.assert_allclose(practice.loop_error_path(0.4, 0.3, 30), lib.finite_error(0.4, 0.3, np.arange(31)), rtol=1e-12)


def test_step_fraction_and_design_effect():
    # s full-batch steps of size eta on (theta - target)^2 / 2, by iteration.
    theta = 0.0
    for _ in range(7):
        theta -= 0.2 * (theta - 1.0)
    assert practice.step_fraction(7, 0.2) == pytest.approx(theta)
    assert practice.design_effect(1, 0.7) == 1.0
    # The variance of a mean of m = G c correlated samples, brute force.
    rng = np.random.default_rng(3)
    G, c, icc = 400, 5, 0.3
    x = np.sqrt(icc) * rng.standard_normal((3000, G, 1)) + np.sqrt(1 - icc) * rng.standard_normal((3000, G, c))
    ratio = x.mean(axis=(1, 2)).var() * G * c
    assert ratio == pytest.approx(practice.design_effect(c, icc), rel=0.1)
    est = np.array([practice.estimate_icc(x[i]) for i in range(200)])
    assert abs(est.mean() - icc) < 5 * est.std(ddof=1) / np.sqrt(est.size)


def test_expected_loss_identity():
    mixing, weighted = practice.expected_loss_identity()
    Lr, Ls = sp.symbols("L_r L_s")
    assert sp.simplify(mixing - weighted) == 0
    assert sp.simplify(mixing - (theory.w * Lr + (1 - theory.w) * Ls)) == 0


@pytest.mark.parametrize("scheme", ["weights", "mixing"])
def test_sgd_noise_on_a_pool_where_it_is_exact(scheme):
    """Pools of +-1 points have mean 0 and mean square 1 around the argmin 0, where the
    first-order formula is exact: run many SGD chains to stationarity and compare."""
    n, m, eta, batch, wv = 20, 80, 0.3, 4, 0.45
    pool = np.concatenate([np.tile([1.0, -1.0], n // 2), np.tile([1.0, -1.0], m // 2)])
    a = np.where(np.arange(n + m) < n, wv * (n + m) / n, (1 - wv) * (n + m) / m)
    rng = np.random.default_rng(5)
    chains = 100000
    theta = np.zeros(chains)
    for _ in range(80):
        if scheme == "weights":
            idx = rng.integers(n + m, size=(batch, chains))
            g = a[idx] * (theta - pool[idx])
        else:
            real = rng.random((batch, chains)) < wv
            idx = np.where(real, rng.integers(n, size=(batch, chains)), n + rng.integers(m, size=(batch, chains)))
            g = theta - pool[idx]
        theta = theta - eta * g.mean(axis=0)
    expr = practice.sgd_noise_expr(scheme).subs({practice.n_s: n, practice.eta: eta, practice.B: batch,
                                                 theory.k: n / m, theory.w: wv})
    v = n * theta**2
    assert_mc_matches(v.mean(), v.std(ddof=1) / np.sqrt(chains), float(expr), scheme)
    # The loop limit adds s / (w (2 - w)) to V(w, k).
    assert practice.sgd_limit(wv, n / m, n, eta, batch, scheme) == pytest.approx(
        lib.limiting_error(wv, n / m) + float(expr) / (wv * (2 - wv)))


def test_sgd_weights_equal_mixing_at_naive_pooling():
    k = 0.25
    wn = lib.naive_weight(k)
    assert practice.sgd_limit(wn, k, 100, 0.1, 8, "weights") == pytest.approx(practice.sgd_limit(wn, k, 100, 0.1, 8, "mixing"))
    assert practice.sgd_limit(0.6, k, 100, 0.1, 8, "weights") > practice.sgd_limit(0.6, k, 100, 0.1, 8, "mixing")
    assert practice.sgd_optimal_weight(k, 100, 0.1, 8, "mixing") > lib.optimal_weight(k)


def test_truncated_normal_and_variance_limit():
    from scipy import stats
    for c in (0.8, 1.5, 3.0):
        lam, kap = practice.truncated_normal_moments(c)
        dist = stats.truncnorm(-c, c)
        assert lam == pytest.approx(dist.var(), rel=1e-10)
        assert kap == pytest.approx(dist.moment(4) / dist.var() ** 2, rel=1e-9)
    # Exact samples (lambda = 1, kappa = 3): the book's exact variance optimum.
    from lib import covariance_theory as ct
    for n in (20, 100):
        assert practice.variance_optimal_weight(n, n) == pytest.approx(ct.variance_optimal_weight(n, n), abs=1e-7)
    # The moment recursion iterated directly.
    n, m, lam, kap, wv = 30, 60, 0.7, 2.4, 0.5
    Eb2 = 1 + (kap - (m - 3) / (m - 1)) / m
    M1, M2 = 1.0, 1 + 2 / (n - 1)
    for _ in range(3000):
        M1, M2 = wv + (1 - wv) * lam * M1, wv**2 * (1 + 2 / (n - 1)) + 2 * wv * (1 - wv) * lam * M1 + (1 - wv) ** 2 * lam**2 * Eb2 * M2
    assert practice.variance_limit(wv, n, m, lam, kap) == pytest.approx((M2 - 2 * M1 + 1) * (n - 1) / 2, rel=1e-9)
    assert practice.fitted_variance_limit(wv, lam) == pytest.approx(M1, rel=1e-12)
    # Tail truncation moves the optimum towards the real data.
    assert practice.variance_optimal_weight(50, 50, *practice.truncated_normal_moments(1.5)) > practice.variance_optimal_weight(50, 50)
    assert practice.variance_limit(0.01, 50, 50, 1.5, 3.0) == np.inf


def test_topk_tail_mass_expr():
    T_true = sp.Symbol("T_true", positive=True)
    assert sp.simplify(practice.topk_tail_mass_expr() - theory.w * T_true) == 0


# --- estimating the inputs ----------------------------------------------------------------------

def test_sandwich_rho_known_answers():
    from lib import glm_theory
    rng = np.random.default_rng(11)
    N = 40000
    X = np.column_stack([np.ones(N), rng.standard_normal(N), rng.standard_normal(N)])
    # Poisson counts doubled: variance twice the mean, so K = 2 J and rho = 1/2.
    y = 2.0 * rng.poisson(np.exp(X @ [0.2, 0.3, -0.2]) / 2)
    assert practice.sandwich_rho(X, y, "poisson") == pytest.approx(0.5, abs=0.03)
    # A well-specified logistic model: rho = 1; and the same traces as lib.glm_theory.
    yl = (rng.random(N) < 1 / (1 + np.exp(-(X @ [0.1, 1.0, -0.5])))).astype(float)
    r = practice.sandwich_rho(X, yl, "logistic")
    assert r == pytest.approx(1.0, abs=0.03)
    coef = lib.glm.fit_glm("logistic", X, yl).coef
    s_J, s_K = glm_theory.sandwich_traces(X, yl, coef)
    assert r == pytest.approx(s_J / s_K, rel=1e-10)


def test_bootstrap_rho_agrees_with_sandwich():
    rng = np.random.default_rng(12)
    N = 1000
    X = np.column_stack([np.ones(N), rng.standard_normal(N)])
    y = 2.0 * rng.poisson(np.exp(X @ [0.5, 0.3]) / 2)
    data = np.column_stack([X, y])
    fit = lambda D: lib.glm.fit_glm("poisson", D[..., :2], D[..., 2]).coef

    def simulate(g, theta, D, b):
        rows = D[g.integers(D.shape[0], size=(b, D.shape[0]))]
        rows[..., 2] = g.poisson(np.exp(rows[..., :2] @ theta))
        return rows
    r, se = practice.bootstrap_rho(rng, data, fit, simulate, 600)
    sw = practice.sandwich_rho(X, y, "poisson")
    assert_z_within((r - sw) / se, "bootstrap against sandwich rho")
    assert abs(r - 0.5) < 0.15


def test_heldout_gain():
    ks = np.array([0.05, 1.0, 4.0])
    for kk in ks:
        grid = np.linspace(0.05, 1.0, 96)
        V = lib.limiting_error(grid, kk)
        np.testing.assert_allclose(practice.heldout_gain(grid, kk), (V + kk) / (V + kk + 1), rtol=1e-12)
        assert np.all(practice.heldout_gain(grid, kk) >= lib.optimal_weight(kk) - 1e-12)
        assert practice.heldout_gain(lib.optimal_weight(kk), kk) == pytest.approx(lib.optimal_weight(kk), rel=1e-12)
        # The closed forms of the docstring and of prop-practice-heldout.
        np.testing.assert_allclose(practice.heldout_gain(grid, kk), (kk + grid**2) / (kk + 2 * grid), rtol=1e-12)
        np.testing.assert_allclose(practice.heldout_gain(grid, kk) - lib.optimal_weight(kk),
                                   (grid - lib.optimal_weight(kk)) ** 2 / (kk + 2 * grid), atol=1e-12)
    c = np.array([0.3, 0.5, 0.7, 0.9])
    assert practice.heldout_best_weight(c, 2 + 3 * (c - 0.62) ** 2) == pytest.approx(0.62)
    assert practice.heldout_best_weight(c, np.tile(2 + 3 * (c - 0.62) ** 2, (5, 1))) == pytest.approx(0.62)


# --- diagnostics ---------------------------------------------------------------------------------

def test_diagnostics():
    from scipy import stats
    x = np.random.default_rng(2).normal(size=50)
    mu, v = np.array([0.0, 0.3]), np.array([1.0, 0.4])
    np.testing.assert_allclose(practice.gaussian_heldout_loglik(x, mu, v),
                               [stats.norm(mu[i], np.sqrt(v[i])).logpdf(x).mean() for i in range(2)], rtol=1e-12)
    assert practice.gaussian_tail_mass(0.5, 2.0, -1.0, 2.0) == pytest.approx(
        stats.norm(0.5, np.sqrt(2)).cdf(-1) + stats.norm(0.5, np.sqrt(2)).sf(2), rel=1e-12)
    retained, lost = practice.rare_mass(np.array([[0.6, 0.5], [0.4, 0.45], [0.0, 0.05]]), [0.5, 0.4, 0.1], 0.2)
    np.testing.assert_allclose(retained, [0.0, 0.5])
    np.testing.assert_array_equal(lost, [1, 0])
    stable = practice.collapse_report(np.full(20, -1.4), spread=np.ones(20), rare=np.ones(20))
    assert not stable["collapsing"] and stable["loglik_drop"] == 0
    falling = practice.collapse_report(np.linspace(-1.4, -1.6, 20), spread=np.linspace(1, 0.5, 20))
    assert falling["collapsing"] and falling["spread_ratio"] < 0.6
    rare_only = practice.collapse_report(rare=np.full(12, 0.6), window=3)
    assert rare_only["collapsing"] and rare_only["rare_ratio"] == pytest.approx(0.6) and rare_only["loglik_drop"] is None
    ref = practice.collapse_report(np.full(12, -1.5), spread=np.full(12, 0.8), window=3, loglik_reference=-1.4,
                                   spread_reference=1.0)
    assert ref["loglik_drop"] == pytest.approx(0.1) and ref["spread_ratio"] == pytest.approx(0.8)


@pytest.mark.parametrize("call, name", [
    (lambda: practice.recommend_weight(10, 10, step_fraction=0.0), "step_fraction"),
    (lambda: practice.recommend_weight(10, 10, contamination=1.0), "contamination"),
    (lambda: practice.recommend_weight(10, 10, drift=-1.0), "drift"),
    (lambda: practice.recommend_weight(10, 10, rho=True), "rho"),
    (lambda: practice.recommend_weight(10, 10, design_effect=0.0), "design_effect"),
    (lambda: practice.loop_limit(0.0, 1.0), "w"),
    (lambda: practice.loop_error_path(0.5, 1.0, 0), "T"),
    (lambda: practice.step_fraction(3, 1.5), "step_size"),
    (lambda: practice.design_effect(0, 0.2), "cluster_size"),
    (lambda: practice.estimate_icc(np.ones(5)), "groups"),
    (lambda: practice.sgd_limit(0.5, 1.0, 100, 0.1, 8, "adam"), "scheme"),
    (lambda: practice.sgd_limit(0.5, 1.0, 100, 0.1, 0, "mixing"), "batch"),
    (lambda: practice.truncated_normal_moments(-1.0), "c"),
    (lambda: practice.variance_limit(0.5, 1, 10), "n"),
    (lambda: practice.variance_optimal_weight(10, 10, 1.0, 0.5), "kappa"),
    (lambda: practice.fitted_variance_limit(0.5, 0.0), "lam"),
    (lambda: practice.sandwich_rho(np.ones((5, 1)), np.ones(5), "gamma"), "family"),
    (lambda: practice.sandwich_rho(np.ones((5, 1)), np.ones(4)), "X"),
    (lambda: practice.bootstrap_rho(np.random.default_rng(0), np.ones(5), np.mean, np.mean, 3), "replicates"),
    (lambda: practice.bootstrap_rho(0, np.ones(5), np.mean, np.mean), "rng"),
    (lambda: practice.heldout_gain(0.0, 1.0), "w"),
    (lambda: practice.heldout_best_weight([0.1, 0.2], [1.0, 2.0]), "candidates"),
    (lambda: practice.heldout_best_weight([0.1, 0.2, 0.3], [1.0, 2.0]), "heldout_losses"),
    (lambda: practice.gaussian_heldout_loglik([], 0.0, 1.0), "x"),
    (lambda: practice.gaussian_heldout_loglik([1.0], 0.0, -1.0), "var"),
    (lambda: practice.gaussian_tail_mass(0.0, 1.0, 1.0, -1.0), "lower"),
    (lambda: practice.rare_mass([0.5, 0.5], [0.5, 0.5], 0.1), "rare_below"),
    (lambda: practice.collapse_report([1.0, 2.0], window=2), "window"),
    (lambda: practice.collapse_report(np.ones(10), spread=np.ones(9)), "spread"),
    (lambda: practice.collapse_report(), "heldout_loglik"),
    (lambda: practice.collapse_report(np.ones(10), spread_reference=0.0), "spread_reference"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
