"""Weighted EM for Gaussian mixtures (lib.generative.mixture): against scikit-learn's EM on
replicated data, the closed-form L2 distance against numerical integration, the one-component
loop against its exact recursion, and bad input."""

import warnings

import numpy as np
import pytest

import lib
from lib.generative import mixture as mx
from conftest import assert_mc_matches

TRUTH = dict(weights=[0.3, 0.7], means=[[-2.0, 0.0], [1.5, 1.0]],
             covs=[np.eye(2), np.array([[1.0, 0.5], [0.5, 1.5]])])


def _model(**kw):
    return mx.GaussianMixtureModel(**TRUTH, **kw)


def test_weighted_em_equals_sklearn_on_replicated_data():
    """Integer weights c_i / sum c: weighted EM on the distinct points equals scikit-learn's
    (unweighted) EM on the data with point i repeated c_i times, iterate for iterate."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(3)
    model = _model()
    x = model.sample_real(rng, 40, ())  # (2, 40)
    counts = rng.integers(1, 4, size=40)
    init = mx.Mixture(np.array([0.5, 0.5]), np.array([[-1.0, 0.5], [1.0, 0.5]]), np.stack([np.eye(2)] * 2))
    for iters in (1, 7):
        ours = mx.weighted_em(x, counts / counts.sum(), init, tol=0.0, max_iter=iters, covariance_floor=1e-6).mixture
        rep = np.repeat(x.T, counts, axis=0)
        gm = GaussianMixture(2, covariance_type="full", reg_covar=1e-6, max_iter=iters, tol=0.0,
                             weights_init=init.weights, means_init=init.means,
                             precisions_init=np.linalg.inv(init.covs))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gm.fit(rep)
        np.testing.assert_allclose(ours.weights, gm.weights_, rtol=1e-9)
        np.testing.assert_allclose(ours.means, gm.means_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.covs, gm.covariances_, rtol=1e-8, atol=1e-12)


def test_em_increases_the_weighted_likelihood_and_stops_by_its_criterion():
    rng = np.random.default_rng(4)
    x = _model().sample_real(rng, 80, (3,))
    a = np.full((80, 3), 1 / 80)
    init = mx.Mixture(np.array([0.5, 0.5]), np.array([[-1.0, 0.0], [1.0, 0.0]]), np.stack([np.eye(2)] * 2)).lift(1)
    ells = [mx.weighted_em(x, a, init, tol=0.0, max_iter=k).loglik for k in range(1, 12)]
    assert np.all(np.diff(np.array(ells), axis=0) >= -1e-12)
    res = mx.weighted_em(x, a, init, tol=1e-8, max_iter=500)
    assert np.all(res.converged) and not np.any(res.failed)
    # one more step changes ell by less than the criterion
    again = mx.weighted_em(x, a, res.mixture, tol=0.0, max_iter=1)
    assert np.all(np.abs(again.loglik - res.loglik) <= 1e-8 * np.maximum(1, np.abs(res.loglik)) * 10)


def test_l2_distance_against_numerical_integration():
    f = mx.Mixture(np.array([0.4, 0.6]), np.array([[0.0, 0.0], [1.0, -1.0]]),
                   np.array([[[1.0, 0.2], [0.2, 0.5]], [[0.7, -0.1], [-0.1, 1.2]]]))
    g = mx.Mixture(np.array([1.0]), np.array([[0.3, -0.2]]), np.array([[[1.5, 0.0], [0.0, 1.5]]]))
    grid = np.linspace(-9, 9, 601)
    X, Y = np.meshgrid(grid, grid, indexing="ij")
    pts = np.stack([X.ravel(), Y.ravel()])
    diff = np.exp(mx.log_pdf(pts, f)) - np.exp(mx.log_pdf(pts, g))
    numeric = np.sum(diff**2) * (grid[1] - grid[0]) ** 2
    np.testing.assert_allclose(mx.l2_distance(f, g), numeric, rtol=1e-6)
    assert mx.l2_distance(f, f) == pytest.approx(0.0, abs=1e-14)


def test_mean_error_ignores_label_switching():
    truth = _model().truth
    swapped = mx.Mixture(truth.weights[::-1], truth.means[::-1] + 0.1, truth.covs[::-1])
    assert mx.mean_error(swapped, truth) == pytest.approx(2 * 2 * 0.01)


def test_sample_mixture_moments():
    rng = np.random.default_rng(5)
    truth = _model().truth
    x = mx.sample_mixture(rng, truth, 2_000_000, ())
    mean = np.sum(truth.weights[:, None] * truth.means, axis=0)
    second = np.sum(truth.weights[:, None, None] * (truth.covs + truth.means[:, :, None] * truth.means[:, None, :]), axis=0)
    cov = second - np.outer(mean, mean)
    se = np.sqrt(np.diag(cov) / x.shape[1])
    assert_mc_matches(x.mean(axis=1), se, mean, "mixture mean")
    np.testing.assert_allclose(np.cov(x), cov, rtol=0.02)


def test_w_one_is_the_fit_on_real_data_alone():
    model = _model()
    rng = np.random.default_rng(6)
    real = model.sample_real(rng, 60, (1, 3))
    prev = model.fit(real, None, np.ones((1, 1)))
    syn = model.sample_synthetic(rng, prev, 60, (2, 3))
    both = model.fit(real, syn, np.array([[1.0], [1.0]]))
    alone = mx.weighted_em(real, np.full((60, 1, 3), 1 / 60), prev.mixture)
    np.testing.assert_allclose(both.mixture.means[:, :, 0], alone.mixture.means[:, :, 0], rtol=1e-12)
    np.testing.assert_allclose(both.mixture.covs[:, :, :, 1], alone.mixture.covs[:, :, :, 0], rtol=1e-12)


def _one_component_theory(w, n, m, T, p=2):
    """E|mu_t - mu|^2 and E tr S_t for one Gaussian (trace of the true covariance = p, identity):
    the fit is the weighted mean and the weighted ddof = 0 covariance, so, with a = E tr S,
    a_t = w (1 - 1/n) p + (1 - w)(1 - 1/m) a_{t-1} and
    e_t = w^2 p / n + (1 - w)^2 (a_{t-1} / m + e_{t-1}); the covariance floor adds p * floor to a."""
    e, a = p / n, p * (1 - 1 / n) + p * 1e-6
    es = [e]
    for _ in range(T):
        e = w**2 * p / n + (1 - w) ** 2 * (a / m + e)
        a = w * (1 - 1 / n) * p + (1 - w) * (1 - 1 / m) * a + p * 1e-6
        es.append(e)
    return np.array(es)


def test_one_component_loop_matches_its_exact_recursion():
    """With one component EM is the weighted mean and covariance (one step): the mean error
    follows an exact recursion, including the fully synthetic loop w = 0 (whose error grows)."""
    model = mx.GaussianMixtureModel([1.0], [[0.5, -0.5]], [np.eye(2)])
    n, m, T = 20, 30, 8
    ws = [0.6, 0.9]
    res = lib.run_loop(model, ws, n, m, T, 20000, seed=11)
    mc, se = res.window_mean("means", 1)  # averaged over generations 1..T, per replication
    exact = [_one_component_theory(w, n, m, T)[1:].mean() for w in ws]
    assert_mc_matches(mc, se, exact, "one-component mean error")
    # the fully synthetic loop: its error grows without bound, as the recursion says
    res0 = lib.run_loop(model, [0.0], n, m, T, 3000, seed=12)
    assert res0.mean("means")[-1, 0] > 2.5 * res0.mean("means")[1, 0]
    exact0 = _one_component_theory(0.0, n, m, T)
    assert exact0[-1] > 2.5 * exact0[1]


def test_loop_is_deterministic_by_seed_and_records_convergence():
    model = _model()
    a = lib.run_loop(model, [0.3, 0.8], 50, 50, 3, 6, seed=2)
    b = lib.run_loop(model, [0.3, 0.8], 50, 50, 3, 6, seed=2)
    c = lib.run_loop(model, [0.3, 0.8], 50, 50, 3, 6, seed=3)
    np.testing.assert_array_equal(a.values["l2"], b.values["l2"])
    assert not np.array_equal(a.values["l2"], c.values["l2"])
    assert np.all(a.values["converged"] == 1) and np.all(a.values["iterations"] >= 1)


def test_degenerate_component_is_a_failed_fit():
    """A component started on a lone far point shrinks onto it: unbounded likelihood, flagged."""
    rng = np.random.default_rng(8)
    x = np.concatenate([rng.standard_normal((2, 50)), np.array([[30.0], [30.0]])], axis=1)
    init = mx.Mixture(np.array([0.9, 0.1]), np.array([[0.0, 0.0], [30.0, 30.0]]),
                      np.stack([np.eye(2), 0.5 * np.eye(2)]))
    res = mx.weighted_em(x, np.full(51, 1 / 51), init)
    assert bool(res.failed) and np.all(np.isfinite(res.mixture.covs))


@pytest.mark.parametrize("kwargs, match", [
    (dict(weights=[0.5, 0.6]), "sum to 1"),
    (dict(weights=[1.0, 0.0]), "positive"),
    (dict(covs=[np.eye(2), -np.eye(2)]), "positive definite"),
    (dict(means=[[0.0, 0.0]]), "shape"),
])
def test_bad_mixture_raises(kwargs, match):
    args = dict(TRUTH, **kwargs)
    with pytest.raises(ValueError, match=match):
        mx.GaussianMixtureModel(**args)


def test_bad_loop_input_raises():
    model = _model()
    with pytest.raises(ValueError, match="w must lie in"):
        lib.run_loop(model, [1.2], 50, 50, 2, 4)
    with pytest.raises(ValueError, match="needs at least"):
        lib.run_loop(model, [0.5], 5, 50, 2, 4)  # too few samples for the components
    with pytest.raises(ValueError, match="m must be"):
        lib.run_loop(model, [0.5], 50, 0, 2, 4)  # k = n/m with m = 0
    x = np.zeros((2, 10))
    init = model.truth
    with pytest.raises(ValueError, match="summing to 1"):
        mx.weighted_em(x, np.full(10, 0.2), init)
    with pytest.raises(ValueError, match="one weight per point"):
        mx.weighted_em(x, np.full(9, 1 / 9), init)
    with pytest.raises(ValueError, match="too few points"):
        mx.weighted_em(np.zeros((2, 1)), np.ones(1), init)
    with pytest.raises(ValueError, match="max_iter"):
        mx.weighted_em(x, np.full(10, 0.1), init, max_iter=True)
    with pytest.raises(ValueError, match="per_rep"):
        mx.argmin_interval(np.zeros((2, 5)), [0.1, 0.2])
