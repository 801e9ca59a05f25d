"""The batched GLM solver, the regression models in the loop, and their theory."""

import warnings

import numpy as np
import pytest
import sympy as sp
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor

import lib
from lib import glm, glm_theory, theory
from lib.regression import FixedDesignLinearModel, GLMModel
from conftest import Z_TOL, assert_mc_matches, assert_pvalue_above, assert_z_beyond, assert_z_within


def _sklearn(family, X, y, sw):
    if family == "logistic":
        est = LogisticRegression(C=np.inf, fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=500)
    elif family == "poisson":
        est = PoissonRegressor(alpha=0.0, fit_intercept=False, solver="newton-cholesky", tol=1e-12, max_iter=500)
    else:
        est = LinearRegression(fit_intercept=False)
    return est.fit(X, y, sample_weight=sw).coef_.ravel()


def _problem(rng, family, N, p):
    X = rng.standard_normal((N, p)) * rng.uniform(0.5, 2.0, p)
    beta = rng.uniform(-0.8, 0.8, p)
    eta = X @ beta
    y = {"linear": eta + rng.standard_normal(N),
         "logistic": (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float),
         "poisson": rng.poisson(np.exp(eta)).astype(float)}[family]
    return X, y


@pytest.mark.parametrize("family", ["linear", "logistic", "poisson"])
def test_solver_matches_sklearn_with_unequal_weights(family):
    rng = np.random.default_rng(sum(map(ord, family)))
    for _ in range(5):
        N, p = int(rng.integers(40, 300)), int(rng.integers(1, 6))
        X, y = _problem(rng, family, N, p)
        sw = rng.uniform(0.05, 5.0, N)  # unequal weights
        ours = glm.fit_glm(family, X, y, sw)
        assert ours.converged
        np.testing.assert_allclose(ours.coef, _sklearn(family, X, y, sw), atol=1e-6, rtol=0)


def test_batched_fit_equals_separate_fits():
    rng = np.random.default_rng(1)
    problems = [_problem(rng, "logistic", 120, 3) for _ in range(4)]
    X = np.stack([P[0] for P in problems])
    y = np.stack([P[1] for P in problems])
    sw = rng.uniform(0.1, 2, y.shape)
    batch = glm.fit_glm("logistic", X, y, sw)
    for b in range(4):
        np.testing.assert_allclose(batch.coef[b], glm.fit_glm("logistic", X[b], y[b], sw[b]).coef, atol=1e-10)


@pytest.mark.parametrize("X, y", [
    (np.c_[np.r_[-np.ones(5), np.ones(5)]], np.r_[np.zeros(5), np.ones(5)]),  # complete separation
    (np.c_[np.ones(8), np.r_[-2, -1, 0, 0, 1, 2, 3, 4]], np.r_[0, 0, 0, 1, 1, 1, 1, 1.0]),  # quasi-complete
])
def test_separation_is_reported_not_hidden(X, y):
    """A separated logistic problem has no maximum-likelihood estimate: the fit is flagged, warned
    about, and returned as NaN, never as a number (its last iterate is kept for diagnosis only)."""
    with pytest.warns(glm.ConvergenceWarning, match="1 of 1 logistic fits failed"):
        res = glm.fit_glm("logistic", X, y)
    assert not res.converged and np.all(np.isnan(res.coef))
    assert np.all(np.isfinite(res.last_iterate))


def test_batch_with_one_separated_problem_keeps_the_others():
    rng = np.random.default_rng(2)
    X, y = _problem(rng, "logistic", 60, 1)
    Xs = np.stack([X, np.c_[np.r_[-np.ones(30), np.ones(30)]]])
    ys = np.stack([y, np.r_[np.zeros(30), np.ones(30)]])
    with pytest.warns(glm.ConvergenceWarning, match="1 of 2 logistic fits failed"):
        res = glm.fit_glm("logistic", Xs, ys)
    assert res.converged.tolist() == [True, False]
    np.testing.assert_allclose(res.coef[0], glm.fit_glm("logistic", X, y).coef, atol=1e-10)
    assert np.isnan(res.coef[1]).all() and np.isfinite(res.last_iterate).all()


@pytest.mark.parametrize("family, y, pattern", [
    ("logistic", [0, 1, 2, 0, 1, 0], "only 0 and 1"),
    ("logistic", [0, 1, 0.5, 0, 1, 0], "only 0 and 1"),
    ("poisson", [0, 1, -1, 0, 1, 0], "non-negative integer"),
    ("poisson", [0, 1, 1.5, 0, 1, 0], "non-negative integer"),
    ("linear", [0, 1, np.nan, 0, 1, 0], "finite"),
])
def test_invalid_responses(family, y, pattern):
    X = np.random.default_rng(0).standard_normal((6, 2))
    with pytest.raises(ValueError, match=pattern):
        glm.fit_glm(family, X, y)


def test_invalid_designs_and_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    y = (rng.random(10) < 0.5).astype(float)
    with pytest.raises(ValueError, match="singular"):
        glm.fit_glm("logistic", np.c_[X[:, 0], 2 * X[:, 0]], y)
    with pytest.raises(ValueError, match="rows"):
        glm.fit_glm("logistic", X, y[:9])
    with pytest.raises(ValueError, match="X must be"):
        glm.fit_glm("logistic", X[:, 0], y)
    with pytest.raises(ValueError, match="sample_weight"):
        glm.fit_glm("logistic", X, y, -np.ones(10))
    with pytest.raises(ValueError, match="sample_weight"):
        glm.fit_glm("logistic", X, y, np.ones(9))
    with pytest.raises(ValueError, match="family"):
        glm.fit_glm("probit", X, y)
    with pytest.raises(ValueError, match="coef"):
        GLMModel("logistic", [1.0, np.nan])
    with pytest.raises(ValueError, match="suffstat"):
        GLMModel("logistic", [1.0, 1.0], sampler="suffstat")
    with pytest.raises(ValueError, match="singular"):
        FixedDesignLinearModel(np.c_[X[:, 0], X[:, 0]], [1.0, 1.0])
    with pytest.raises(ValueError, match="rows of the fixed design"):
        lib.run_loop(FixedDesignLinearModel(X, [1.0, 1.0]), 0.5, 10, 12, 2, 4)
    with pytest.raises(ValueError, match="N x 3"):
        FixedDesignLinearModel(X, [1.0, 1.0, 1.0])


# --- theory ------------------------------------------------------------------------------------

def test_linearised_step_has_the_gaussian_mean_structure():
    terms = glm_theory.linearised_error_terms()
    assert sp.simplify(sum(c**2 * v for c, v in terms) - theory.error_recursion()) == 0
    step = glm_theory.linearised_step()
    expected = (1 - theory.w) * (glm_theory.theta_prev - glm_theory.theta_star) + (
        theory.w * glm_theory.U_real + (1 - theory.w) * glm_theory.U_syn) / glm_theory.info
    assert sp.simplify(step - expected) == 0


def test_linearised_step_as_a_matrix_equation():
    """The displayed step, with I a p x p matrix symbol, solves the matrix score equation, and is
    typeset in the book's notation with its terms in the order written."""
    eq = glm_theory.linearised_step_matrix()
    assert eq.residual == 0 or eq.residual.is_ZeroMatrix
    latex = eq._repr_latex_()
    assert latex.startswith("$") and latex.endswith("$")
    for piece in [r"\hat\beta_{t} - \beta", r"\hat\beta_{t-1} - \beta", "I^{-1}", r"U_{\text{real}}", r"U_{\text{syn}}"]:
        assert piece in latex, (piece, latex)
    assert "theta" not in latex and "U_real" not in latex


def test_poisson_information_closed_form_matches_quadrature():
    q, a, c = glm_theory.poisson_moments_expr()
    for qq in [0.0, 0.7, 1.9]:
        a_num = glm_theory._normal_expectation(lambda u: np.exp(qq * u) * u * u)
        c_num = glm_theory._normal_expectation(lambda u: np.exp(qq * u))
        assert float(a.subs(q, qq)) == pytest.approx(a_num, rel=1e-10)
        assert float(c.subs(q, qq)) == pytest.approx(c_num, rel=1e-10)


@pytest.mark.parametrize("family, beta", [("logistic", [0.8, -0.4, 1.1]), ("poisson", [0.3, -0.5, 0.2])])
def test_fisher_information_against_monte_carlo(family, beta):
    rng = np.random.default_rng(5)
    beta = np.array(beta)
    x = rng.standard_normal((1_000_000, 3))
    eta = x @ beta
    v = np.exp(eta) if family == "poisson" else 1 / (1 + np.exp(-eta)) / (1 + np.exp(eta))
    samples = v[:, None, None] * x[:, :, None] * x[:, None, :]
    mc, se = samples.mean(axis=0), samples.std(axis=0) / np.sqrt(len(x))
    exact = glm_theory.fisher_information(family, beta)
    assert_z_within((mc - exact) / (se + 1e-12 / Z_TOL), f"{family} information")


def test_fisher_information_linear_and_zero_coefficients():
    assert np.allclose(glm_theory.fisher_information("linear", [1.0, 2.0], sigma=2.0), np.eye(2) / 4)
    assert np.allclose(glm_theory.fisher_information("logistic", [0.0, 0.0]), np.eye(2) / 4, atol=1e-10)
    assert np.allclose(glm_theory.fisher_information("poisson", [0.0, 0.0]), np.eye(2))


# --- Monte Carlo against theory -----------------------------------------------------------------

@pytest.mark.parametrize("sampler", ["suffstat", "full"])
def test_fixed_design_exact(sampler):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((25, 3)) @ np.diag([1.0, 0.5, 2.0])
    model = FixedDesignLinearModel(X, [0.5, -1.0, 2.0], sigma=1.5, sampler=sampler)
    weights, T, start = [0.2, 0.5, 0.9], 40, 15
    res = lib.run_loop(model, weights, 25, 25, T, 20000, seed=4)
    mc, se = res.window_mean("coef", start)
    exact = [np.mean(glm_theory.fixed_design_coef_error(wi, X, np.arange(start, T + 1), sigma=1.5)) for wi in weights]
    assert_mc_matches(mc, se, exact, f"fixed design, {sampler}")
    # w = 0 grows linearly: relative error 1 + t.
    res0 = lib.run_loop(model, 0.0, 25, 25, 5, 60000, seed=5)
    assert_mc_matches(res0.mean("coef")[:, 0], res0.sem("coef")[:, 0],
                      glm_theory.fixed_design_coef_error(0.0, X, np.arange(6), sigma=1.5), "fixed design, w = 0")


def test_random_design_linear_samplers_agree():
    rng_weights = [0.3, 0.7]
    a = lib.run_loop(GLMModel("linear", [1.0, -0.5], sigma=0.7, sampler="suffstat"), rng_weights, 12, 30, 20, 20000, seed=6)
    b = lib.run_loop(GLMModel("linear", [1.0, -0.5], sigma=0.7, sampler="full"), rng_weights, 12, 30, 20, 20000, seed=7)
    ma, sa = a.window_mean("coef", 10)
    mb, sb = b.window_mean("coef", 10)
    assert_z_within((ma - mb) / np.hypot(sa, sb), "suffstat against full sampler")
    from scipy import stats
    assert_pvalue_above(stats.ks_2samp(a.values["coef"][-1, 0], b.values["coef"][-1, 0]).pvalue, 1e-6, "samplers")


def test_random_design_linear_asymptotics():
    # Large n: finite-n effects ~ (p + 1) / n = 0.3%, far below the tolerance; 5% errors detected.
    weights, n, m = [0.25, 0.55, 0.85], 1000, 2000
    model = GLMModel("linear", [1.0, -0.5, 0.2], sigma=0.8)
    res = lib.run_loop(model, weights, n, m, 60, 20000, seed=8)
    mc, se = res.window_mean("coef", 30)
    exact = glm_theory.asymptotic_coef_error("linear", [1.0, -0.5, 0.2], np.array(weights), n / m, n, sigma=0.8)
    assert_mc_matches(mc, se, exact, "random-design linear, asymptotic")


@pytest.mark.parametrize("family, beta", [("logistic", [0.5, -0.5]), ("poisson", [0.3, -0.4])])
def test_glm_asymptotics(family, beta):
    """At n = m = 1000 and small coefficients the finite-n excess is about 1%; the tolerance is
    5 standard errors and the replications are enough to detect a 15% error in the formula (the
    exact Fisher information is checked to 5 standard errors of a million draws above)."""
    weights, n = np.array([0.35, 0.7]), 1000
    res = lib.run_loop(GLMModel(family, beta), weights, n, n, 36, 600, seed=9)
    assert res.values["failed"].sum() == 0
    mc, se = res.window_mean("coef", 6)
    exact = glm_theory.asymptotic_coef_error(family, beta, weights, 1.0, n)
    assert_z_within((mc - exact) / se, family)
    for wrong in (1.15 * exact, 0.85 * exact):
        assert_z_beyond((mc - wrong) / se, f"{family}, 15% off")


def test_collapse_reports_failed_fits():
    """Fully synthetic logistic loop at small n: some samples separate (no maximum-likelihood
    estimate). Those fits are warned about; their replications are failed from then on (NaN
    errors), counted per generation, and left out of every mean and standard error."""
    with pytest.warns(glm.ConvergenceWarning):
        res = lib.run_loop(GLMModel("logistic", [1.5, 1.5]), [0.0, 0.5], 12, 12, 30, 200, seed=10)
    coef, failed, count = res.values["coef"], res.failed, res.failed_count
    assert 0 < count[-1, 1] and count[-1, 0] > count[0, 0] > 0  # some fail at once, more later
    assert np.all(np.diff(count, axis=0) >= 0)  # failed from the first failure on
    assert np.array_equal(np.isnan(coef), failed) and np.array_equal(res.values["failed"], failed.astype(float))
    assert np.array_equal(res.survivors, 200 - count)
    # Means and standard errors over the surviving replications only.
    t = 3
    alive = coef[t, 1][~failed[t, 1]]
    assert res.mean("coef")[t, 1] == pytest.approx(alive.mean(), rel=1e-12)
    assert res.sem("coef")[t, 1] == pytest.approx(alive.std(ddof=1) / np.sqrt(alive.size), rel=1e-12)
    mean, se = res.window_mean("coef", 2, 5)
    win = coef[2:6, 1].mean(axis=0)
    win = win[~failed[5, 1]]
    assert mean[1] == pytest.approx(win.mean(), rel=1e-12) and np.isfinite(mean[1])
    assert np.isnan(res.window("coef", 2, 5)[1][failed[5, 1]]).all()
    # Every replication failed at w = 0 by the end: no mean is reported, rather than a wrong one.
    if count[-1, 0] == 200:
        assert np.isnan(res.mean("coef")[-1, 0]) and np.isnan(res.sem("coef")[-1, 0])


class _FailingWalk:
    """A model for the engine's failure policy: a Gaussian random walk, averaged with fresh real
    draws; a fit "fails" when the state exceeds ``limit``."""

    metrics = ("err", "failed")

    def __init__(self, limit):
        self.limit = limit

    def check_sizes(self, n, m):
        pass

    def sample_real(self, rng, n, shape):
        return rng.standard_normal(shape) / np.sqrt(n)

    def sample_synthetic(self, rng, state, m, shape):
        return state + rng.standard_normal(shape) / np.sqrt(m)

    def fit(self, real, synthetic, w):
        return real if synthetic is None else synthetic + w * (real - synthetic)

    def evaluate(self, state):
        return {"err": state**2, "failed": (np.abs(state) > self.limit).astype(float)}


def test_failed_replications_are_masked_and_counted():
    """Failure never changes the other replications (the random streams are those of a run in
    which nothing fails), a replication is NaN from its first failed fit on, and the counts and
    means agree with a direct computation."""
    kwargs = dict(w=[0.0, 0.3], n=4, m=4, T=25, replications=300, seed=3, chunk_size=70)
    never = lib.run_loop(_FailingWalk(np.inf), **kwargs)
    res = lib.run_loop(_FailingWalk(1.0), **kwargs)
    state_abs = np.sqrt(never.values["err"])
    expected = np.maximum.accumulate(state_abs > 1.0, axis=0)
    assert np.array_equal(res.failed, expected)
    assert res.failed_count[-1, 0] > res.failed_count[-1, 1] > 0
    assert np.array_equal(np.isnan(res.values["err"]), expected)
    assert np.array_equal(res.values["err"][~expected], never.values["err"][~expected])
    assert not never.failed.any() and np.array_equal(never.failed_count, np.zeros((26, 2), dtype=int))
    for t in [0, 10, 25]:
        for j in range(2):
            alive = never.values["err"][t, j][~expected[t, j]]
            assert res.mean("err")[t, j] == pytest.approx(alive.mean(), rel=1e-12)
    # Without failures the statistics are exactly the plain ones.
    np.testing.assert_array_equal(never.mean("err"), never.values["err"].mean(axis=-1))
    # Failures are tracked even when "failed" is not recorded.
    only = lib.run_loop(_FailingWalk(1.0), metrics=["err"], **kwargs)
    assert np.array_equal(only.failed, expected) and "failed" not in only.values


def test_fully_synthetic_linear_error_is_exact():
    """Random-design least squares at w = 0 (Fig. 7(d)): sigma^2 p (1/(n-p-1) + t/(m-p-1)),
    against 40,000 runs of the exact sufficient-statistic sampler, with power against 5% errors."""
    res = lib.run_loop(GLMModel("linear", np.ones(4)), 0.0, 12, 9, 6, 40_000, seed=17, metrics=["coef"])
    t = res.generations
    exact = glm_theory.fully_synthetic_linear_error(12, 9, t, 4)
    assert_mc_matches(res.mean("coef")[:, 0], res.sem("coef")[:, 0], exact, "fully synthetic OLS")
    with pytest.raises(ValueError, match="m > p \\+ 1"):
        glm_theory.fully_synthetic_linear_error(100, 5, 1, 4)


def test_fisher_information_at_large_coefficients():
    """Logistic: against arbitrary-precision integration over u with the spike at 0 resolved, and
    against the large-|beta| limits c ~ phi(0)/q and a ~ phi(0) (pi^2/3)/q^3 (another route); the
    quadrature over u alone gave 1e-39 instead of 4e-4 at |beta| = 1000. Poisson: a clear error
    where exp(|beta|^2/2) overflows, instead of NaN."""
    import mpmath
    from lib import glm_theory
    phi0 = 1 / np.sqrt(2 * np.pi)
    for q in [1.5, 7.0, 50.0, 1000.0, 1e5]:
        info = glm_theory.fisher_information("logistic", [q, 0.0])
        v = lambda z: mpmath.exp(-abs(z)) / (1 + mpmath.exp(-abs(z))) ** 2
        dens = lambda u: mpmath.exp(-u * u / 2) / mpmath.sqrt(2 * mpmath.pi)
        cuts = [-40, -60 / q, -1 / q, 0, 1 / q, 60 / q, 40]
        a = mpmath.quad(lambda u: v(q * u) * u * u * dens(u), cuts)
        c = mpmath.quad(lambda u: v(q * u) * dens(u), cuts)
        assert info[0, 0] == pytest.approx(float(a), rel=1e-8), q
        assert info[1, 1] == pytest.approx(float(c), rel=1e-8), q
        if q >= 1000:
            assert info[1, 1] == pytest.approx(phi0 / q, rel=1e-5)
            assert info[0, 0] == pytest.approx(phi0 * np.pi**2 / 3 / q**3, rel=1e-5)
    with pytest.raises(ValueError, match="overflows double precision"):
        glm_theory.fisher_information("poisson", [42.0, 0.0])
    assert np.all(np.isfinite(glm_theory.fisher_information("poisson", [37.0, 0.0])))


@pytest.mark.parametrize("family", ["logistic", "poisson"])
def test_newton_start_means_change_nothing(family):
    """The loop hands Newton the means it computed while drawing the synthetic responses; the fit
    is then the same, to the last bit, as when Newton computes them itself."""
    model = GLMModel(family, np.ones(2))
    rng = np.random.default_rng(5)
    state = model.fit(model.sample_real(rng, 50, (1, 8)), None, np.ones((1, 1)))
    real, syn = model.sample_real(rng, 50, (1, 8)), model.sample_synthetic(rng, state, 60, (3, 8))
    X, y, m, start, mu = syn
    eta = np.einsum("kn...,k...->n...", X, start)
    np.testing.assert_allclose(mu, 1 / (1 + np.exp(-eta)) if family == "logistic" else np.exp(eta), rtol=1e-13)
    w = np.array([[0.2], [0.5], [0.9]])
    parts = [(real[0], real[1], w / 50), (X, y, (1 - w) / m)]
    fam = glm.family(family)
    with_means = glm.newton(fam, parts, start, start_means=[None, mu])
    without = glm.newton(fam, parts, start)
    assert np.array_equal(with_means[0], without[0]) and np.array_equal(with_means[1], without[1])
    assert np.array_equal(model.fit(real, syn, w)[0], without[0])


@pytest.mark.parametrize("family", ["logistic", "poisson"])
def test_newton_predicted_convergence_saves_an_evaluation_not_accuracy(family, monkeypatch):
    """A fit that stops because its next step is predicted below tol / 100 (quadratic
    convergence) is as close to the optimum as scikit-learn's at tol 1e-12, and stops one
    evaluation before the fit that waits for a step below tol."""
    model = GLMModel(family, np.ones(2))
    rng = np.random.default_rng(11)
    state = model.fit(model.sample_real(rng, 100, (1, 6)), None, np.ones((1, 1)))
    real, syn = model.sample_real(rng, 100, (1, 6)), model.sample_synthetic(rng, state, 100, (4, 6))
    w = np.array([[0.1], [0.4], [0.62], [0.9]])
    parts = [(real[0], real[1], w / 100), (syn[0], syn[1], (1 - w) / 100)]
    fam = glm.family(family)
    evaluated = []  # batch elements per gradient/Hessian evaluation
    inner = glm._gradient_hessian
    monkeypatch.setattr(glm, "_gradient_hessian", lambda fam, parts, theta, means=None: (
        evaluated.append(theta[0].size), inner(fam, parts, theta, means))[1])
    theta, ok, _ = glm.newton(fam, parts, syn[3])
    early = sum(evaluated)
    monkeypatch.setattr(glm, "_PREDICTED_FRACTION", 0.0)  # only |s| < tol ends a fit
    theta_wait, ok_wait, _ = glm.newton(fam, parts, syn[3])
    assert ok.all() and ok_wait.all()
    assert sum(evaluated) - early > early / 5  # about one evaluation of 4 or 5 per fit saved
    np.testing.assert_allclose(theta, theta_wait, atol=1e-9, rtol=0)
    for i in range(4):
        for j in range(6):
            X = np.r_[real[0][:, :, 0, j].T, syn[0][:, :, i, j].T]
            y = np.r_[real[1][:, 0, j], syn[1][:, i, j]]
            sw = np.r_[np.full(100, w[i, 0]), np.full(100, 1 - w[i, 0])]
            np.testing.assert_allclose(theta[:, i, j], _sklearn(family, X, y, sw), atol=1e-8, rtol=0)


def test_batched_cholesky_solve_match_lapack():
    """lib.batched's Cholesky factor and solve against numpy's LAPACK, matrix by matrix."""
    from lib import batched
    rng = np.random.default_rng(0)
    for p in (1, 2, 4, 6):
        A = rng.standard_normal((p, 2 * p, 3, 5))
        S = np.einsum("ik...,jk...->ij...", A, A)
        b = rng.standard_normal((p, 3, 5))
        L, x = batched.cholesky(S), batched.solve_spd(S, b)
        for i in range(3):
            for j in range(5):
                np.testing.assert_allclose(L[:, :, i, j], np.linalg.cholesky(S[:, :, i, j]), rtol=1e-12, atol=1e-12)
                np.testing.assert_allclose(x[:, i, j], np.linalg.solve(S[:, :, i, j], b[:, i, j]), rtol=1e-10)
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    assert np.isnan(batched.cholesky(bad, check=False)[1, 1])
    np.testing.assert_allclose(batched.solve_spd(bad[:1, :1] + 1.0, np.array([4.0])), [2.0])


def test_misspecified_limit_by_iterating_its_recursion():
    """(s_K / n) V(w, k s_J / s_K) is the fixed point of e <- (1-w)^2 e + w^2 s_K / n + (1-w)^2 s_J / m
    (real scores with the sandwich variance, synthetic ones with the model's), iterated here."""
    n, m, s_J, s_K = 200, 50, 1.3, 2.1
    for w in (0.2, 0.5, 0.9):
        e = 0.0
        for _ in range(5000):
            e = (1 - w) ** 2 * e + w**2 * s_K / n + (1 - w) ** 2 * s_J / m
        assert glm_theory.misspecified_coef_error(w, n / m, n, s_J, s_K) == pytest.approx(e, rel=1e-12)
