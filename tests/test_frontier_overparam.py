"""lib.frontier.overparam and overparam_theory against independent computation: least squares
by numpy's lstsq on stacked systems, the stationary risk by the p-dimensional mean and Lyapunov
equations (scipy), and the loop by simulation with both samplers."""

import numpy as np
import pytest
from scipy import linalg

import lib
from conftest import assert_mc_matches, assert_z_within
from lib.frontier import overparam as op
from lib.frontier import overparam_theory as ot

GOLDEN = (np.sqrt(5) - 1) / 2


def _design(seed, n, p, kind="iso"):
    rng = np.random.default_rng(seed)
    if kind == "iso":
        return op.gaussian_design(rng, n, p)
    return op.gaussian_design(rng, n, p, cov=op.ar1_covariance(p, 0.7), df=5)


def _direct(X, beta, sigma, lam, w, T=None):
    """Stationary (or time-T) E|b - beta|^2 by p-dimensional matrix algebra: S from lstsq-free
    normal equations, mean from (I - M) mu = (S X - I) beta, covariance from the discrete
    Lyapunov equation C = M C M' + (w^2 + (1 - w)^2) sigma^2 S S'."""
    n, p = X.shape
    S = np.linalg.pinv(X.T @ X / n + lam * np.eye(p)) @ X.T / n if lam > 0 else np.linalg.pinv(X)
    M = (1 - w) * S @ X
    c = (S @ X - np.eye(p)) @ beta
    Q = (w**2 + (1 - w) ** 2) * sigma**2 * S @ S.T
    if T is None:
        mu = np.linalg.solve(np.eye(p) - M, c)
        C = linalg.solve_discrete_lyapunov(M, Q)
        return mu @ mu + np.trace(C)
    mu, C = c.copy(), sigma**2 * S @ S.T
    out = [mu @ mu + np.trace(C)]
    for _ in range(T):
        mu, C = M @ mu + c, M @ C @ M.T + Q
        out.append(mu @ mu + np.trace(C))
    return np.array(out)


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_weighted_fit_is_the_stacked_least_squares_solution(lam):
    X = _design(0, 6, 15, "ar")
    rng = np.random.default_rng(1)
    y, ys, w = rng.standard_normal(6), rng.standard_normal(6), 0.37
    A = np.vstack([np.sqrt(w / 6) * X, np.sqrt((1 - w) / 6) * X] + ([np.sqrt(lam) * np.eye(15)] if lam else []))
    rhs = np.concatenate([np.sqrt(w / 6) * y, np.sqrt((1 - w) / 6) * ys] + ([np.zeros(15)] if lam else []))
    expected = np.linalg.lstsq(A, rhs, rcond=None)[0]  # the minimum-norm solution at lam = 0
    np.testing.assert_allclose(op.fit_weighted(X, y, ys, w, lam), expected, rtol=1e-9, atol=1e-12)
    # batched labels: (n, W, R)
    Y = rng.standard_normal((6, 2, 3))
    got = op.fit_weighted(X, Y, lam=lam)
    np.testing.assert_allclose(got[:, 1, 2], op.fit_weighted(X, Y[:, 1, 2], lam=lam), rtol=1e-12)


@pytest.mark.parametrize("n, p, lam, kind", [(8, 20, 0.0, "iso"), (8, 20, 0.5, "ar"), (12, 5, 0.0, "ar"),
                                            (10, 10, 0.05, "iso"), (6, 30, 0.0, "ar")])
@pytest.mark.parametrize("w", [0.2, GOLDEN, 0.9, 1.0])
def test_stationary_risk_matches_matrix_algebra(n, p, lam, kind, w):
    X = _design(2, n, p, kind)
    beta = np.random.default_rng(3).standard_normal(p)
    d, V = ot.design_spectrum(X)
    got = ot.ridge_stationary_risk(w, d, lam, (V.T @ beta) ** 2, 1.3, n)
    assert got == pytest.approx(_direct(X, beta, 1.3, lam, w), rel=1e-8)
    if lam == 0:
        assert ot.minnorm_stationary_risk(w, X, beta, 1.3) == pytest.approx(got, rel=1e-10)
    # the same from eigvalsh of X'X/n, whose null-space eigenvalues are ~1e-15 until cleaned
    ev, Ve = np.linalg.eigh(X.T @ X / n)
    assert ot.ridge_stationary_risk(w, ev, lam, (Ve.T @ beta) ** 2, 1.3, n) == pytest.approx(got, rel=1e-6)


def test_risk_path_matches_matrix_recursion():
    X = _design(4, 7, 18, "ar")
    beta = np.random.default_rng(5).standard_normal(18)
    d, V = ot.design_spectrum(X)
    for lam, w in [(0.0, 0.4), (0.2, 0.7), (1.0, 0.0)]:
        got = ot.ridge_risk_path(w, d, lam, (V.T @ beta) ** 2, 0.8, 7, 12)
        np.testing.assert_allclose(got, _direct(X, beta, 0.8, lam, w, T=12), rtol=1e-9)


def test_minnorm_parts_and_golden_optimum():
    X = _design(6, 5, 12, "ar")
    beta = np.random.default_rng(7).standard_normal(12)
    bias, var = ot.minnorm_risk_parts(X, beta, 2.0)
    P = np.linalg.pinv(X) @ X
    assert bias == pytest.approx(np.sum(((np.eye(12) - P) @ beta) ** 2), rel=1e-10)
    assert var == pytest.approx(4.0 * np.trace(np.linalg.pinv(X.T @ X)), rel=1e-8)
    ws = np.linspace(0.01, 1, 991)
    assert ws[np.argmin(ot.minnorm_stationary_risk(ws, X, beta, 2.0))] == pytest.approx(GOLDEN, abs=1e-3)
    d, V = ot.design_spectrum(X)
    assert ot.ridge_optimal_weight(d, 0.0, (V.T @ beta) ** 2, 2.0, 5) == pytest.approx(GOLDEN, abs=1e-6)


def test_optimal_weight_map_against_brute_force_and_reference_values():
    rng = np.random.default_rng(0)
    n, p = 200, 400
    X = rng.standard_normal((n, p))
    ev = np.linalg.eigvalsh(X.T @ X / n)
    snr = np.array([1.0, 100.0, 1e4]) / n  # frontier-notes' SNR is n times |beta|^2 / sigma^2 here
    wmap = ot.ridge_optimal_weight_map(ev, [1e-8, 0.1, 1.0], snr, 1.0, n)
    dense = np.linspace(0, 1, 5001)
    for i, lam in enumerate([1e-8, 0.1, 1.0]):
        for j, sn in enumerate(snr):
            brute = dense[np.argmin(ot.ridge_stationary_risk(dense, ev, lam, sn / p, 1.0, n))]
            assert wmap[i, j] == pytest.approx(brute, abs=2e-4)
    # frontier-notes Sec. 1 (another draw of the design): within 0.01
    ref = np.array([[0.618, 0.618, 0.618], [0.592, 0.596, 0.819], [0.548, 0.635, 1.000]])
    np.testing.assert_allclose(wmap, ref, atol=0.01)


def test_ridge_optimum_above_one_half_on_random_spectra():
    rng = np.random.default_rng(8)
    for _ in range(30):
        d = np.concatenate([rng.gamma(0.5, 2.0, size=rng.integers(1, 30)), np.zeros(rng.integers(0, 20))])
        b2 = rng.gamma(0.5, 1.0, size=d.size) * 10 ** rng.uniform(-3, 3)
        wstar = ot.ridge_optimal_weight(d, 10 ** rng.uniform(-3, 1), b2, 1.0, int(rng.integers(1, 100)))
        assert wstar > 0.5


@pytest.mark.parametrize("n, p, lam, kind, sampler", [(40, 120, 0.0, "iso", "suffstat"),
                                                      (30, 90, 0.0, "ar", "full"),
                                                      (40, 120, 0.5, "ar", "suffstat"),
                                                      (25, 10, 0.0, "iso", "full"),
                                                      (20, 60, 0.05, "iso", "full")])
def test_loop_simulation_matches_exact_path(n, p, lam, kind, sampler):
    X = _design(9, n, p, kind)
    beta = np.random.default_rng(10).standard_normal(p) / np.sqrt(p)
    ws = np.array([0.3, GOLDEN, 1.0])
    T, start = 30, 15
    model = op.FixedDesignRidgeModel(X, beta, 1.0, lam, sampler)
    res = lib.run_loop(model, ws, n, n, T, 600 if p > n else 3000, seed=11)
    mc, se = res.window_mean("coef", start)
    d, V = ot.design_spectrum(X)
    exact = ot.ridge_risk_path(ws, d, lam, (V.T @ beta) ** 2, 1.0, n, T)[start:].mean(axis=0)
    assert_mc_matches(mc, se, exact, f"{n}x{p}, lam={lam}, {kind}, {sampler}")
    for wrong in (0.98 * exact, 1.02 * exact):
        assert np.all(np.abs(mc - wrong) / se > 3), "a 2% error would go unnoticed"


def test_samplers_agree_in_distribution_at_generation_zero():
    X = _design(12, 10, 25, "ar")
    beta = np.ones(25)
    res = [lib.run_loop(op.FixedDesignRidgeModel(X, beta, 1.0, 0.2, s), [0.5], 10, 10, 1, 4000, seed=1)
           for s in ("suffstat", "full")]
    (m1, s1), (m2, s2) = [(r.mean("coef")[0, 0], r.sem("coef")[0, 0]) for r in res]
    assert_z_within((m1 - m2) / np.hypot(s1, s2), "suffstat against full sampler")


def test_bad_input_raises_naming_the_argument():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="p must"):
        op.gaussian_design(rng, 5, 0)
    with pytest.raises(ValueError, match="p must"):
        op.ar1_covariance(0, 0.5)
    with pytest.raises(ValueError, match="rho"):
        op.ar1_covariance(3, 1.0)
    with pytest.raises(ValueError, match=r"p \(the number of columns"):
        op.FixedDesignRidgeModel(np.zeros((4, 0)), np.zeros(0) + 1.0)
    X = rng.standard_normal((4, 9))
    with pytest.raises(ValueError, match="lam"):
        op.FixedDesignRidgeModel(X, np.ones(9), lam=-0.1)
    with pytest.raises(ValueError, match="lam"):
        ot.ridge_stationary_risk(0.5, [1.0, 0.0], -1e-3, 1.0, 1.0, 4)
    with pytest.raises(ValueError, match="lam"):
        op.fit_weighted(X, np.ones(4), lam=True)
    deficient = np.vstack([X[:3], X[0] + X[1]])  # rank 3 < min(4, 9)
    with pytest.raises(ValueError, match="X is rank-deficient"):
        op.FixedDesignRidgeModel(deficient, np.ones(9))
    with pytest.raises(ValueError, match="X is rank-deficient"):
        ot.minnorm_stationary_risk(0.5, deficient, np.ones(9), 1.0)
    op.FixedDesignRidgeModel(deficient, np.ones(9), lam=0.1)  # ridge takes any design
    with pytest.raises(ValueError, match="coef"):
        op.FixedDesignRidgeModel(X, np.ones(8))
    with pytest.raises(ValueError, match="w must"):
        ot.ridge_stationary_risk(1.2, [1.0], 0.1, 1.0, 1.0, 4)
    with pytest.raises(ValueError, match="d_values"):
        ot.ridge_stationary_risk(0.5, [1.0, -0.5], 0.1, 1.0, 1.0, 4)
    with pytest.raises(ValueError, match="sigma"):
        ot.minnorm_risk_parts(X, np.ones(9), 0.0)
    with pytest.raises(ValueError, match="snrs"):
        ot.ridge_optimal_weight_map([1.0], [0.1], [0.0], 1.0, 4)
    with pytest.raises(ValueError, match="lams"):
        ot.ridge_optimal_weight_map([1.0], [-0.1], [1.0], 1.0, 4)
    with pytest.raises(ValueError, match="n must"):
        op.FixedDesignRidgeModel(X, np.ones(9)).check_sizes(5, 4)


def test_symbolic_parts():
    import sympy as sp
    from lib.theory import w
    mean = ot.stationary_mean_expr()
    var = ot.stationary_variance_expr()
    # fixed points of the one-step maps, checked by substitution
    mean_map, var_map = ot.direction_step()
    assert sp.simplify(mean_map.subs(ot.mean_prev, mean) - mean) == 0
    assert sp.simplify(var_map.subs(ot.var_prev, var) - var) == 0
    assert sp.simplify(ot.minnorm_variance_factor_expr() - (w**2 + (1 - w) ** 2) / (1 - (1 - w) ** 2)) == 0
    # the derivatives are negative on [0, 1/2] for a in (0, 1)
    f_bias, f_var = [sp.lambdify((w, ot.a, ot.beta_i), e) for e in ot.risk_derivative_terms()]
    W, A = np.meshgrid(np.linspace(0, 0.5, 51), np.linspace(0.01, 0.99, 50))
    assert np.all(f_bias(W, A, 1.0) < 0) and np.all(f_var(W, A, 1.0) < 0)


def _direct_fixed_labels(X, beta, sigma, lam, w, T):
    """E|b_t - beta|^2 with the real labels fixed, from the 2p-dimensional linear system of
    u_t = (e_t, xi_0): e_t = (1 - w) A e_{t-1} + w xi_0 + (A - I) beta + (1 - w) S eps~_t."""
    n, p = X.shape
    S = np.linalg.pinv(X.T @ X / n + lam * np.eye(p)) @ X.T / n if lam > 0 else np.linalg.pinv(X)
    A, I, Z = S @ X, np.eye(p), np.zeros((p, p))
    C = sigma**2 * S @ S.T
    M = np.block([[(1 - w) * A, w * I], [Z, I]])
    c = np.concatenate([(A - I) @ beta, np.zeros(p)])
    Q = np.block([[(1 - w) ** 2 * C, Z], [Z, Z]])
    mu, cov = c.copy(), np.block([[C, C], [C, C]])
    out = [mu[:p] @ mu[:p] + np.trace(cov[:p, :p])]
    for _ in range(T):
        mu, cov = M @ mu + c, M @ cov @ M.T + Q
        out.append(mu[:p] @ mu[:p] + np.trace(cov[:p, :p]))
    return np.array(out)


@pytest.mark.parametrize("lam, w", [(0.0, 0.4), (0.3, 0.7), (1.0, 0.2), (0.0, 1.0)])
def test_fixed_labels_path_matches_matrix_recursion(lam, w):
    X = _design(13, 7, 16, "ar")
    beta = np.random.default_rng(14).standard_normal(16)
    d, V = ot.design_spectrum(X)
    got = ot.fixed_labels_risk_path(w, d, lam, (V.T @ beta) ** 2, 0.9, 7, 15)
    np.testing.assert_allclose(got, _direct_fixed_labels(X, beta, 0.9, lam, w, 15), rtol=1e-9)
    # the SymPy stationary risk is the limit of the path
    f = sp_lambdify_fixed()
    with np.errstate(divide="ignore", invalid="ignore"):
        a_ = np.where(d > 0, d / (d + lam), 0.0)
        s_ = np.where(d > 0, 0.81 * d / (7 * (d + lam) ** 2), 0.0)
        terms = np.where(d > 0, f(w, a_, s_, V.T @ beta), (V.T @ beta) ** 2)
    long = ot.fixed_labels_risk_path(w, d, lam, (V.T @ beta) ** 2, 0.9, 7, 400)[-1]
    assert terms.sum() == pytest.approx(long, rel=1e-8)


def sp_lambdify_fixed():
    import sympy as sp
    from lib.theory import w
    return sp.lambdify((w, ot.a, ot.s, ot.beta_i), ot.fixed_labels_risk_expr())


@pytest.mark.parametrize("lam, sampler", [(0.0, "full"), (0.4, "suffstat")])
def test_fixed_labels_loop_matches_exact_path(lam, sampler):
    X = _design(15, 30, 90, "ar")
    beta = np.random.default_rng(16).standard_normal(90) * 0.2
    ws = np.array([0.3, 0.6, 1.0])
    model = op.FixedDesignRidgeModel(X, beta, 1.0, lam, sampler, fresh_real=False)
    res = lib.run_loop(model, ws, 30, 30, 25, 1500, seed=17)
    mc, se = res.window_mean("coef", 10)
    d, V = ot.design_spectrum(X)
    exact = ot.fixed_labels_risk_path(ws, d, lam, (V.T @ beta) ** 2, 1.0, 30, 25)[10:].mean(axis=0)
    assert_mc_matches(mc, se, exact, f"fixed labels, lam={lam}")
    for wrong in (0.98 * exact, 1.02 * exact):
        assert np.all(np.abs(mc - wrong) / se > 3), "a 2% error would go unnoticed"
    with pytest.raises(ValueError, match="fresh_real"):
        op.FixedDesignRidgeModel(X, beta, fresh_real=1)


def test_redrawn_design_theory_against_simulation_and_algebra():
    import sympy as sp
    from lib.theory import w
    # the stationary expression is the fixed point of the step, and the path converges to it
    m_prev = sp.Symbol("m_{t-1}", nonnegative=True)
    stat = ot.redrawn_stationary_expr()
    assert sp.simplify(ot.redrawn_step_expr().subs(m_prev, stat) - stat) == 0
    assert ot.redrawn_risk_path(0.4, 10, 40, 2.0, 1.3, 200)[-1] == pytest.approx(
        ot.redrawn_stationary_risk(0.4, 10, 40, 2.0, 1.3), rel=1e-12)
    # E tr((X X')^{-1}) = n / (p - n - 1), by brute force
    rng = np.random.default_rng(18)
    X = rng.standard_normal((20000, 6, 15))
    tr = np.trace(np.linalg.inv(X @ np.swapaxes(X, 1, 2)), axis1=1, axis2=2)
    assert abs(tr.mean() - 6 / 8) < 5 * tr.std() / np.sqrt(tr.size)
    # the loop itself, sample by sample
    n, p, T, R = 12, 36, 12, 6000
    beta = rng.standard_normal(p)
    beta *= 1.5 / np.linalg.norm(beta)
    ws = np.array([0.3, 0.618, 1.0])
    e = op.simulate_redrawn(rng, n, p, beta, 1.0, ws, T, R)
    exact = ot.redrawn_risk_path(ws, n, p, 2.25, 1.0, T)
    for t in (0, 2, T):
        mc, se = e[t].mean(axis=-1), e[t].std(axis=-1, ddof=1) / np.sqrt(R)
        assert_mc_matches(mc, se, exact[t], f"redrawn designs, t={t}")
        assert np.all(np.abs(mc - 1.02 * exact[t]) / se > 3) and np.all(np.abs(mc - 0.98 * exact[t]) / se > 3)
    with pytest.raises(ValueError, match="p must exceed"):
        ot.redrawn_risk_path(0.5, 10, 11, 1.0, 1.0, 3)
    with pytest.raises(ValueError, match="p must"):
        op.simulate_redrawn(rng, 5, 0, np.ones(1), 1.0, [0.5], 2, 3)
