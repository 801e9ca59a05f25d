"""The SymPy derivations give the paper's formulas, and their numeric versions agree with them."""

import numpy as np
import pytest
import sympy as sp

import lib
from lib import covariance_theory as ct, theory
from lib.theory import k, m, n, t, w

# The paper's formulas, typed once here to check that the derivation reproduces them.
V_PAPER = (w**2 + k * (1 - w) ** 2) / (1 - (1 - w) ** 2)
W_STAR_PAPER = (sp.sqrt(k**2 + 4 * k) - k) / 2


def test_recursion_is_sum_of_squared_coefficients_times_variances():
    expected = (1 - w) ** 2 * theory.e_prev + w**2 / n + (1 - w) ** 2 / m
    assert sp.simplify(theory.error_recursion() - expected) == 0


def test_limiting_error_is_the_papers_V():
    assert sp.simplify(theory.limiting_error_expr() - V_PAPER) == 0


def test_fixed_point_is_a_fixed_point():
    e = theory.limiting_error_abs_expr()
    assert sp.simplify(theory.error_recursion().subs(theory.e_prev, e) - e) == 0


def test_derivative_numerator_and_optimal_weight():
    num, den = sp.fraction(theory.dV_dw_expr())
    assert sp.simplify(num - 2 * (w**2 + k * w - k)) == 0
    assert sp.simplify(theory.optimal_weight_expr() - W_STAR_PAPER) == 0
    ws = theory.optimal_weight_expr()
    assert sp.simplify(ws**2 + k * ws - k) == 0  # it solves the quadratic
    assert sp.simplify(ws**2 - k * (1 - ws)) == 0  # equivalently w*^2 = k (1 - w*)


def test_golden_ratio_exactly_at_k_equal_1():
    w1 = theory.optimal_weight_expr().subs(k, 1)
    assert sp.simplify((w1 - 1 / sp.GoldenRatio).rewrite(sp.sqrt)) == 0
    assert sp.simplify(w1 - (sp.sqrt(5) - 1) / 2) == 0
    assert lib.GOLDEN_WEIGHT == pytest.approx(float((sp.sqrt(5) - 1) / 2), abs=1e-15)
    assert lib.optimal_weight(1.0) == pytest.approx(lib.GOLDEN_WEIGHT, abs=1e-15)


def test_minimum_value_equals_the_weight():
    ws = theory.optimal_weight_expr()
    assert sp.simplify(theory.limiting_error_expr().subs(w, ws) - ws) == 0
    kk = np.logspace(-3, 3, 50)
    assert np.allclose(lib.limiting_error(lib.optimal_weight(kk), kk), lib.optimal_weight(kk), rtol=1e-12)


def test_optimal_weight_is_the_numerical_minimiser():
    grid = np.linspace(1e-4, 1, 200001)
    for kk in [0.01, 0.3, 1.0, 3.0, 50.0]:
        assert grid[np.argmin(lib.limiting_error(grid, kk))] == pytest.approx(lib.optimal_weight(kk), abs=1e-4)


def test_naive_pooling():
    assert sp.simplify(theory.naive_error_expr() - (k + 1) / (k + 2)) == 0
    num, _ = sp.fraction(theory.dV_dw_expr())
    # Negative slope at the naive weight: naive pooling always under-weights real data.
    assert sp.simplify(num.subs(w, theory.naive_weight_expr()) + 2 * k / (k + 1) ** 2) == 0
    assert lib.naive_error(1.0) == pytest.approx(2 / 3, rel=1e-14)
    kk = np.logspace(-3, 3, 40)
    assert np.all(lib.naive_weight(kk) < lib.optimal_weight(kk))
    assert np.all(lib.naive_error(kk) > lib.optimal_weight(kk))
    # The paper-notes ratios naive/optimal.
    assert lib.naive_error(0.01) / lib.optimal_weight(0.01) == pytest.approx(5.28, abs=0.01)
    assert lib.naive_error(0.05) / lib.optimal_weight(0.05) == pytest.approx(2.56, abs=0.01)


def test_limits_and_series():
    assert sp.limit(theory.naive_error_expr(), k, 0) == sp.Rational(1, 2)
    assert sp.limit(theory.optimal_weight_expr(), k, 0) == 0
    assert sp.limit(theory.optimal_weight_expr(), k, sp.oo) == 1
    assert sp.limit(w * theory.limiting_error_expr(), w, 0) == k / 2  # V ~ k/(2w): collapse
    s0 = theory.optimal_weight_series(0, 2).removeO()
    assert sp.simplify(s0 - (sp.sqrt(k) - k / 2 + k ** sp.Rational(3, 2) / 8)) == 0
    soo = theory.optimal_weight_series(sp.oo, 3).removeO()
    assert sp.simplify(soo - (1 - 1 / k + 2 / k**2)) == 0


def test_fixed_golden_weight_at_large_k():
    assert lib.limiting_error(lib.GOLDEN_WEIGHT, 4.0) == pytest.approx(1.13, abs=0.005)
    assert lib.limiting_error(lib.GOLDEN_WEIGHT, 10.0) == pytest.approx(2.16, abs=0.005)
    # The break-even ratio is 2 w / (1 - w) = 2 phi at the golden weight.
    assert lib.limiting_error(lib.GOLDEN_WEIGHT, 2 * float(sp.GoldenRatio)) == pytest.approx(1.0, abs=1e-12)


def test_finite_t_closed_form():
    f = theory.finite_error_expr()
    V = theory.limiting_error_expr()
    assert sp.simplify(f.args[1][0] - (V + (1 - V) * (1 - w) ** (2 * t))) == 0
    # Numeric: matches iterating the recursion, including w = 0 (linear growth 1 + k t).
    for ww, kk in [(0.0, 0.5), (0.2, 0.1), (0.618, 1.0), (1.0, 3.0)]:
        e = 1.0
        values = [e]
        for _ in range(30):
            e = (1 - ww) ** 2 * e + ww**2 + kk * (1 - ww) ** 2
            values.append(e)
        assert np.allclose(lib.finite_error(ww, kk, np.arange(31)), values, rtol=1e-12)
    assert lib.finite_error(0.0, 2.0, 7) == pytest.approx(1 + 2.0 * 7)


def test_gaussian_mean_error_absolute_units():
    # w = 0: tr Sigma (1/n + t/m); w = 1: tr Sigma / n at every t.
    assert lib.gaussian_mean_error(0.0, 20, 5, 4, trace_cov=3.0) == pytest.approx(3.0 * (1 / 20 + 4 / 5))
    assert lib.gaussian_mean_error(1.0, 20, 5, 9, trace_cov=3.0) == pytest.approx(3.0 / 20)
    # Relative and absolute versions agree: n e_t / tr = finite_error(w, n/m, t).
    assert 20 * lib.gaussian_mean_error(0.3, 20, 50, 6) == pytest.approx(lib.finite_error(0.3, 20 / 50, 6))


def test_window_error_is_the_mean_of_the_path():
    ts = np.arange(10, 21)
    assert theory.window_error(0.3, 0.5, 10, 20) == pytest.approx(np.mean(lib.finite_error(0.3, 0.5, ts)))


def test_limiting_error_edge_values():
    assert lib.limiting_error(0.0, 1.0) == np.inf
    assert lib.limiting_error(1.0, 123.0) == 1.0
    out = lib.limiting_error([0.2, 0.5], [[1.0], [2.0]])
    assert out.shape == (2, 2) and np.all(np.isfinite(out))


# --- covariance ------------------------------------------------------------------------------

def test_covariance_recursion_matrix_and_stability():
    M, c, x0 = ct.covariance_recursion()
    expected_M = (1 - w) ** 2 * sp.Matrix([[m / (m - 1), 1 / (m - 1)], [2 / (m - 1), 1]])
    assert sp.simplify(M - expected_M) == sp.zeros(2, 2)
    eig = {sp.factor(e) for e in ct.stability_eigenvalues()}
    assert eig == {sp.factor((1 - w) ** 2 * (m + 1) / (m - 1)), sp.factor((1 - w) ** 2 * (m - 2) / (m - 1))}
    assert sp.simplify(x0[0] - (ct.tr2 + ct.trsq) / (n - 1)) == 0


def test_one_dimensional_variance_recursion():
    # With p = 1 the first row is U_t = (1-w)^2 (m+1)/(m-1) U_{t-1} + 2 (w^2/(n-1) + (1-w)^2/(m-1)).
    M, c, _ = ct.covariance_recursion()
    U = sp.Symbol("U")
    row = (M[0, 0] * U + M[0, 1] * U + c[0]).subs({ct.tr2: 1, ct.trsq: 1})
    expected = (1 - w) ** 2 * (m + 1) / (m - 1) * U + 2 * (w**2 / (n - 1) + (1 - w) ** 2 / (m - 1))
    assert sp.simplify(row - expected) == 0
    row_b = (M[1, 0] * U + M[1, 1] * U + c[1]).subs({ct.tr2: 1, ct.trsq: 1})
    assert sp.simplify(row_b - expected) == 0


def test_covariance_asymptotics_is_V():
    assert sp.simplify(ct.asymptotic_covariance_limit_expr() - (ct.tr2 + ct.trsq) * V_PAPER) == 0


def test_exact_variance_optimum():
    # paper-notes Sec. 3: 0.6202 at n = m = 100, 0.6185 at n = m = 500.
    assert ct.variance_optimal_weight(100, 100) == pytest.approx(0.6202, abs=5e-5)
    assert ct.variance_optimal_weight(500, 500) == pytest.approx(0.6185, abs=5e-5)
    # The closed form is the minimiser of the exact 1-D limit.
    for nn, mm in [(10, 10), (30, 7), (5, 40)]:
        numeric = ct.covariance_optimal_weight(nn, mm, [[2.5]])
        assert ct.variance_optimal_weight(nn, mm) == pytest.approx(numeric, abs=1e-7)
    N = sp.Symbol("N", positive=True)
    lim = sp.limit(ct.variance_optimal_weight_expr().subs({n: N, m: N}), N, sp.oo)
    assert sp.simplify(lim - (sp.sqrt(5) - 1) / 2) == 0


def test_covariance_path_converges_to_fixed_point(sigma3):
    ws = np.array([0.3, 0.6, 1.0])
    path = ct.covariance_error_path(ws, 40, 25, 400, sigma3)
    assert np.allclose(path[-1], ct.covariance_limit(ws, 40, 25, sigma3), rtol=1e-10)
    # w = 1: every generation is one fresh fit, A_t = A_0.
    assert np.allclose(path[:, 2], path[0, 2])
    # Unstable below the threshold: infinite limit, growing path.
    w_bad = 0.5 * (1 - np.sqrt(24 / 26))
    assert ct.covariance_limit(w_bad, 40, 25, sigma3) == np.inf
    grow = ct.covariance_error_path(w_bad, 40, 25, 2000, sigma3)[:, 0]
    assert grow[-1] > 10 * grow[100]


def test_log_variance_drift_is_negative():
    t_ = np.arange(0, 50)
    mean = ct.log_variance_mean(20, 20, t_)
    assert np.all(np.diff(mean) < 0)
    assert np.all(np.diff(ct.log_variance_sd(20, 20, t_)) > 0)


def test_optimal_weight_is_accurate_at_every_magnitude():
    """Against the defining formula (sqrt(k^2 + 4k) - k) / 2 in arbitrary precision, with enough
    digits to resolve its cancellation, over k from 1e-300 to 1e300: a relative error of a few
    units in the last place, a weight in (0, 1], and w*(1) = 1/phi. (The textbook form in double
    precision gave 8.0 at k = 1e17 and 0.0 at 1e20.)"""
    mpmath = pytest.importorskip("mpmath")
    ks = np.concatenate([np.logspace(-300, 300, 121), np.logspace(-12, 12, 97), [1e17, 1e20]])
    got = lib.optimal_weight(ks)
    for kk, g in zip(ks, got):
        with mpmath.workdps(40 + max(0, int(np.log10(kk)))):
            K = mpmath.mpf(kk)
            exact = (mpmath.sqrt(K * K + 4 * K) - K) / 2
            assert abs(mpmath.mpf(g) - exact) <= 4e-16 * exact, (kk, g, exact)
    assert np.all((got > 0) & (got <= 1))
    assert lib.optimal_weight(1.0) == pytest.approx(lib.GOLDEN_WEIGHT, rel=2e-16)
    assert lib.practice.recommend_weight(10**17, 1) == pytest.approx(1.0)


def test_finite_error_is_accurate_for_tiny_weights():
    """Against the geometric sum in 700-digit arithmetic (no cancellation left): a few units in
    the last place for w from 0 to 1, the tiniest included (the expanded form was 10% off at
    w = 1e-16), and the w = 0 and w = 1 ends exact."""
    mpmath = pytest.importorskip("mpmath")

    def exact(w_, k_, t_):
        with mpmath.workdps(700):
            W, K = mpmath.mpf(w_), mpmath.mpf(k_)
            if W == 0:
                return 1 + K * t_
            q = (1 - W) ** 2
            return q ** t_ + (W ** 2 + K * (1 - W) ** 2) * (1 - q ** t_) / (1 - q)

    for w_ in [0.0, 1e-300, 1e-16, 1e-10, 1e-6, 0.01, 0.3, 0.618, 0.999999, 1.0]:
        for k_ in [1e-6, 0.01, 1.0, 100.0]:
            for t_ in [0, 1, 2, 50, 10**6]:
                got = lib.finite_error(w_, k_, t_)
                assert abs(got - float(exact(w_, k_, t_))) <= 2e-15 * float(exact(w_, k_, t_)), (w_, k_, t_, got)
    assert lib.window_error(1e-16, 1.0, 0, 50) == pytest.approx(1 + 25.0, rel=1e-12)


def test_stability_threshold_of_the_covariance_limit_against_iterating_the_recursion(sigma3):
    """The limit is finite exactly when the iterated recursion settles: 2% above the threshold
    1 - sqrt((m-1)/(m+1)) the path of 20,000 generations reaches the stated limit, 2% below it
    keeps growing, and the limit says inf (a threshold off by more than 2% fails)."""
    n_, m_ = 30, 25
    w_min = 1 - np.sqrt((m_ - 1) / (m_ + 1))
    ws = np.array([w_min * 1.02, w_min * 0.98])
    path = ct.covariance_error_path(ws, n_, m_, 20_000, sigma3)
    limit = ct.covariance_limit(ws, n_, m_, sigma3)
    assert np.isfinite(limit[0]) and path[-1, 0] == pytest.approx(limit[0], rel=1e-6)
    assert limit[1] == np.inf and path[-1, 1] > 100 * path[-10_000, 1]


def test_log_variance_moments_against_chi_square_closed_forms():
    """Under w = 0, sigma_t^2 / sigma^2 is a product of independent chi2(n-1)/(n-1) and t factors
    chi2(m-1)/(m-1), and E log chi2_d = digamma(d/2) + log 2, Var log chi2_d = trigamma(d/2)
    (scipy's special functions, not the SymPy expressions of lib)."""
    from scipy.special import digamma, polygamma

    t_ = np.array([0, 1, 7, 60])
    for n_, m_ in [(5, 9), (20, 20), (200, 12)]:
        mean = (digamma((n_ - 1) / 2) + np.log(2 / (n_ - 1))
                + t_ * (digamma((m_ - 1) / 2) + np.log(2 / (m_ - 1))))
        sd = np.sqrt(polygamma(1, (n_ - 1) / 2) + t_ * polygamma(1, (m_ - 1) / 2))
        assert np.allclose(ct.log_variance_mean(n_, m_, t_), mean, rtol=1e-12, atol=1e-14)
        assert np.allclose(ct.log_variance_sd(n_, m_, t_), sd, rtol=1e-12)


def test_limiting_error_is_accurate_at_every_magnitude():
    """V(w, k) against arbitrary precision at the same (floating-point) w, over w from 1e-12 to 1
    and k from 1e-12 to 1e12: a relative error of a few units in the last place (the expanded
    form lost k times the rounding error near w = 1: 1e-11 at k = 2e5, 1e-4 at k = 1e12). And the
    naive-pooling error (k + 1)/(k + 2) exactly, never below V(w*, k)."""
    mpmath = pytest.importorskip("mpmath")
    ws = np.concatenate([np.logspace(-12, -1, 12), 1 - np.logspace(-12, -1, 12), [0.5, 1.0]])
    ks = np.logspace(-12, 12, 25)
    W, K = np.meshgrid(ws, ks)
    got = lib.limiting_error(W, K)
    with mpmath.workdps(60):
        for w_, k_, g in zip(W.ravel(), K.ravel(), got.ravel()):
            x, kk = mpmath.mpf(float(w_)), mpmath.mpf(float(k_))
            exact = (x * x + kk * (1 - x) ** 2) / (1 - (1 - x) ** 2)
            assert abs(mpmath.mpf(g) - exact) <= 8e-16 * exact, (w_, k_, g, exact)
        for k_ in np.logspace(-12, 12, 49):
            kk = mpmath.mpf(float(k_))
            assert abs(mpmath.mpf(lib.naive_error(k_)) - (kk + 1) / (kk + 2)) <= 2.3e-16 * (kk + 1) / (kk + 2)
    ks = np.logspace(-8, 8, 33)  # the gap is ~1/k^3 at large k: equal to rounding there, never below
    assert np.all(lib.naive_error(ks) >= lib.limiting_error(lib.optimal_weight(ks), ks) * (1 - 4.5e-16))


def test_naive_weight_is_the_pooled_share_of_real_samples():
    """k/(1+k) with k = n/m is n/(n+m), the share of real samples in the pooled fit, in exact
    fractions; and the naive error is V at that weight."""
    from fractions import Fraction

    for n_, m_ in [(1, 1), (100, 100), (7, 300), (2000, 3), (10**6, 17)]:
        exact = Fraction(n_, n_ + m_)
        assert lib.naive_weight(n_ / m_) == pytest.approx(float(exact), rel=4e-16)
        kk = Fraction(n_, m_)
        V = (exact**2 + kk * (1 - exact) ** 2) / (1 - (1 - exact) ** 2)
        assert lib.naive_error(n_ / m_) == pytest.approx(float(V), rel=1e-15)
