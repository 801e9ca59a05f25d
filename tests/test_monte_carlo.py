"""Simulations of the loop agree with the exact theory, for both samplers, at parameter points
other than the book's (non-identity covariance, unequal n and m, several dimensions).

Tolerances come from the Monte Carlo standard error (see conftest.Z_TOL); each comparison also
asserts that a 5% error in the formula would have been detected.
"""

import numpy as np
import pytest
from scipy import stats

import lib
from lib import covariance_theory as ct, gaussian, theory
from conftest import assert_mc_matches, assert_pvalue_above, assert_pvalue_below, assert_z_beyond, assert_z_within

SAMPLERS = ["suffstat", "full"]


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("n, m, weights", [(30, 12, [0.25, 0.5, 0.8]), (12, 48, [0.15, 0.4, 1.0])])
def test_mean_error_matches_exact_recursion(sampler, n, m, weights, sigma3):
    model = lib.GaussianModel(mean=[1.0, -2.0, 0.5], cov=sigma3, sampler=sampler)
    T, start = 60, 20
    res = lib.run_loop(model, weights, n, m, T, 6000, seed=11, metrics=["mean"])
    mc, se = res.window_mean("mean", start)
    ts = np.arange(start, T + 1)
    exact = np.array([np.mean(theory.gaussian_mean_error(wi, n, m, ts, np.trace(sigma3))) for wi in weights])
    assert_mc_matches(mc, se, exact, f"mean error, {sampler}, n={n}, m={m}")


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_mean_error_fully_synthetic_grows_linearly(sampler):
    # w = 0, first generations, where the error is not yet heavy-tailed: tr(1/n + t/m).
    model = lib.GaussianModel(mean=np.zeros(2), cov=np.diag([1.0, 3.0]), sampler=sampler)
    res = lib.run_loop(model, 0.0, 25, 60, 6, 40000, seed=12, metrics=["mean"])
    t = res.generations
    assert_mc_matches(res.mean("mean")[:, 0], res.sem("mean")[:, 0], 4.0 * (1 / 25 + t / 60), f"w=0, {sampler}",
                      power=0.10)  # 5% is 8.4 standard errors away at t = 0: 2e-3 false failures


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_covariance_error_matches_exact_recursion(sampler, sigma3):
    weights = [0.3, 0.55, 0.9]
    model = lib.GaussianModel(mean=np.zeros(3), cov=sigma3, sampler=sampler)
    n, m, T, start = 40, 25, 50, 20
    res = lib.run_loop(model, weights, n, m, T, 8000, seed=13, metrics=["cov"])
    mc, se = res.window_mean("cov", start)
    exact = ct.covariance_error_path(weights, n, m, T, sigma3)[start:].mean(axis=0)
    assert_mc_matches(mc, se, exact, f"covariance error, {sampler}", power=0.10)  # 5%: ~7 standard errors


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_variance_error_small_sample(sampler):
    # 1-D, small n and m, variance 2.5: the exact finite-sample recursion, not the asymptotic one.
    weights = [0.45, 0.65, 0.85]
    model = lib.GaussianModel(mean=[3.0], cov=[[2.5]], sampler=sampler)
    n, m, T, start = 8, 15, 60, 30
    res = lib.run_loop(model, weights, n, m, T, 30000, seed=14, metrics=["cov"])
    mc, se = res.window_mean("cov", start)
    exact = ct.covariance_error_path(weights, n, m, T, [[2.5]])[start:].mean(axis=0)
    assert_mc_matches(mc, se, exact, f"variance error, {sampler}")


def test_log_variance_drift_under_fully_synthetic_loop():
    model = lib.GaussianModel(mean=[0.0], cov=[[4.0]])
    res = lib.run_loop(model, 0.0, 15, 30, 40, 20000, seed=15, metrics=["var_1"])
    logv = np.log(res.values["var_1"][:, 0, :] / 4.0)
    se = logv.std(axis=1, ddof=1) / np.sqrt(logv.shape[1])
    exact = ct.log_variance_mean(15, 30, res.generations)
    assert_z_within((logv.mean(axis=1) - exact) / se, "log-variance drift")
    # A drift 10% off is detected at the last generation (5% is only 7 standard errors away).
    assert_z_beyond((logv[-1].mean() - 1.10 * exact[-1]) / se[-1], "10% off")


# --- the two samplers agree in distribution ----------------------------------------------------

def _draw(sampler, size, draws, seed, chol, mu):
    rng = np.random.default_rng(seed)
    return gaussian.sample_statistics(rng, mu[:, None], chol[..., None], size, (draws,), sampler)


@pytest.mark.parametrize("size", [3, 6])
def test_samplers_agree_in_distribution(size):
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    chol, mu = np.linalg.cholesky(cov), np.array([1.0, -1.0])
    draws = 20000
    xs, Ss = _draw("suffstat", size, draws, 1, chol, mu)
    xf, Sf = _draw("full", size, draws, 2, chol, mu)
    functionals = {
        "xbar_1": (xs[0], xf[0]), "xbar_2": (xs[1], xf[1]),
        "S_11": (Ss[0, 0], Sf[0, 0]), "S_12": (Ss[0, 1], Sf[0, 1]), "S_22": (Ss[1, 1], Sf[1, 1]),
        "det S": (Ss[0, 0] * Ss[1, 1] - Ss[0, 1] ** 2, Sf[0, 0] * Sf[1, 1] - Sf[0, 1] ** 2),
        "xbar_1 * S_12": (xs[0] * Ss[0, 1], xf[0] * Sf[0, 1]),  # joint law of mean and covariance
    }
    for name, (a, b) in functionals.items():
        assert_pvalue_above(stats.ks_2samp(a, b).pvalue, 1e-6, name)
    # Both against the exact marginals: (size-1) S_11 / Sigma_11 ~ chi2(size-1), xbar_1 ~ N.
    for S, x in [(Ss, xs), (Sf, xf)]:
        assert_pvalue_above(stats.kstest((size - 1) * S[0, 0] / cov[0, 0], stats.chi2(size - 1).cdf).pvalue, 1e-6)
        assert_pvalue_above(stats.kstest(x[0], stats.norm(mu[0], np.sqrt(cov[0, 0] / size)).cdf).pvalue, 1e-6)
        # S is symmetric, its determinant positive.
        assert np.allclose(S[0, 1], S[1, 0]) and np.all(S[0, 0] * S[1, 1] - S[0, 1] ** 2 > 0)


def test_distribution_check_has_power():
    """The KS check above rejects a Wishart with one degree of freedom too many."""
    size, draws = 6, 20000
    rng = np.random.default_rng(3)
    good = stats.chi2(size - 1).rvs(draws, random_state=rng)
    wrong = stats.chi2(size).rvs(draws, random_state=rng)
    assert_pvalue_above(stats.kstest(good, stats.chi2(size - 1).cdf).pvalue, 1e-6, "right sampler")
    assert_pvalue_below(stats.kstest(wrong, stats.chi2(size - 1).cdf).pvalue, 1e-6, "wrong sampler")


# --- the engine ----------------------------------------------------------------------------------

def test_same_seed_same_result_and_chunk_order_irrelevant():
    model = lib.GaussianModel(np.zeros(2), np.eye(2))
    a = lib.run_loop(model, [0.2, 0.7], 10, 10, 5, 25, seed=5, chunk_size=10)
    b = lib.run_loop(model, [0.2, 0.7], 10, 10, 5, 25, seed=5, chunk_size=10)
    c = lib.run_loop(model, [0.2, 0.7], 10, 10, 5, 25, seed=6, chunk_size=10)
    for name in model.metrics:
        assert np.array_equal(a.values[name], b.values[name])
        assert not np.array_equal(a.values[name], c.values[name])
    # Chunks are seeded by their index: the full chunks (replications 0..19) are identical whether
    # 25 or 40 replications are run, so a chunk's result does not depend on what else runs.
    d = lib.run_loop(model, [0.2, 0.7], 10, 10, 5, 40, seed=5, chunk_size=10)
    assert np.array_equal(a.values["mean"][..., :20], d.values["mean"][..., :20])


def test_generation_zero_is_real_only_and_shared_across_weights():
    model = lib.GaussianModel(np.zeros(2), np.eye(2))
    res = lib.run_loop(model, [0.0, 0.5, 1.0], 10, 10, 3, 8, seed=1)
    assert np.array_equal(res.values["mean"][0, 0], res.values["mean"][0, 2])
    # With shared real data, w = 1 sees the same fresh samples at each generation as the others.
    indep = lib.run_loop(model, [0.0, 0.5, 1.0], 10, 10, 3, 8, seed=1, share_real=False)
    assert not np.array_equal(res.values["mean"][1:], indep.values["mean"][1:])


def test_result_shapes_and_window():
    model = lib.GaussianModel(np.zeros(1), np.eye(1))
    res = lib.run_loop(model, [0.3, 0.6], 5, 7, 4, 6, seed=0, metrics=["var_1"])
    assert set(res.values) == {"var_1"}
    assert res.values["var_1"].shape == (5, 2, 6)
    assert res.replications == 6 and list(res.generations) == [0, 1, 2, 3, 4]
    x = res.window("var_1", 2, 3)
    assert np.allclose(x, res.values["var_1"][2:4].mean(axis=0))
    with pytest.raises(ValueError, match="start"):
        res.window("var_1", 3, 9)
    assert np.all(res.values["var_1"] > 0)


def test_batched_linear_algebra_matches_numpy():
    from lib import batched
    rng = np.random.default_rng(0)
    p, B = 4, (3, 5)
    A = rng.standard_normal((p, p) + B)
    S = batched.gram(A) + 0.1 * batched.lift(np.eye(p), 2)
    L = batched.cholesky(S)
    S_np = np.moveaxis(S, (0, 1), (-2, -1))
    assert np.allclose(np.moveaxis(L, (0, 1), (-2, -1)), np.linalg.cholesky(S_np))
    assert np.allclose(batched.gram(L), S)
    x = rng.standard_normal((p,) + B)
    assert np.allclose(np.moveaxis(batched.matvec(A, x), 0, -1),
                       (np.moveaxis(A, (0, 1), (-2, -1)) @ np.moveaxis(x, 0, -1)[..., None])[..., 0])
