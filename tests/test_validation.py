"""Bad input raises ValueError naming the argument; it never becomes a wrong number."""

import math

import numpy as np
import pytest

import lib
from lib import covariance_theory as ct, theory


@pytest.mark.parametrize("w", [-0.1, 1.1, math.nan, math.inf, [0.5, 2.0], "a"])
def test_weight_out_of_range(w):
    with pytest.raises(ValueError, match=r"\bw\b"):
        lib.limiting_error(w, 1.0)


@pytest.mark.parametrize("k", [0, -1, math.nan, math.inf, [1.0, 0.0]])
def test_ratio_not_positive_finite(k):
    with pytest.raises(ValueError, match=r"\bk\b"):
        lib.optimal_weight(k)
    with pytest.raises(ValueError, match=r"\bk\b"):
        lib.limiting_error(0.5, k)
    with pytest.raises(ValueError, match=r"\bk\b"):
        lib.naive_weight(k)


@pytest.mark.parametrize("t", [-1, 1.5, [0, -2]])
def test_generation_not_nonnegative_integer(t):
    with pytest.raises(ValueError, match=r"\bt\b"):
        lib.finite_error(0.5, 1.0, t)


@pytest.mark.parametrize("name, kwargs", [
    ("n", dict(n=10.5)), ("n", dict(n=0)), ("n", dict(n=True)), ("n", dict(n=math.nan)),
    ("m", dict(m=2.0)), ("m", dict(m=-3)),
    ("T", dict(T=0)), ("T", dict(T=3.0)),
    ("replications", dict(replications=1)), ("replications", dict(replications=10.0)),
    ("w", dict(w=[0.2, 1.5])), ("w", dict(w=math.nan)), ("w", dict(w=[[0.1, 0.2]])),
    ("seed", dict(seed=-1)), ("seed", dict(seed=1.5)),
    ("chunk_size", dict(chunk_size=0)),
    ("metrics", dict(metrics=["nope"])), ("metrics", dict(metrics=[])),
])
def test_run_loop_rejects(name, kwargs):
    args = dict(model=lib.GaussianModel(np.zeros(2), np.eye(2)), w=0.5, n=10, m=10, T=2, replications=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        lib.run_loop(**args)


def test_covariance_needs_more_points_than_dimensions():
    model = lib.GaussianModel(np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match=r"\bn\b.*4 points"):
        lib.run_loop(model, 0.5, n=3, m=10, T=2, replications=4)
    with pytest.raises(ValueError, match=r"\bm\b.*4 points"):
        lib.run_loop(model, 0.5, n=10, m=3, T=2, replications=4)
    one_d = lib.GaussianModel(np.zeros(1), np.eye(1))
    with pytest.raises(ValueError, match=r"\bm\b.*2 points"):
        lib.run_loop(one_d, 0.5, n=10, m=1, T=2, replications=4)


@pytest.mark.parametrize("cov, pattern", [
    ([[1.0, 0.5], [0.4, 1.0]], "symmetric"),
    ([[1.0, 2.0], [2.0, 1.0]], "positive definite"),
    ([[1.0, 0.0], [0.0, math.nan]], "finite"),
    (np.eye(3), "2 x 2"),
])
def test_gaussian_model_rejects_bad_covariance(cov, pattern):
    with pytest.raises(ValueError, match=pattern):
        lib.GaussianModel(np.zeros(2), cov)


def test_gaussian_model_rejects_bad_mean_and_sampler():
    with pytest.raises(ValueError, match="mean"):
        lib.GaussianModel([0.0, math.nan], np.eye(2))
    with pytest.raises(ValueError, match="mean"):
        lib.GaussianModel(np.zeros((2, 2)), np.eye(2))
    with pytest.raises(ValueError, match="sampler"):
        lib.GaussianModel(np.zeros(2), np.eye(2), sampler="exact")


def test_exact_gaussian_formulas_reject_bad_input(sigma3):
    with pytest.raises(ValueError, match=r"\bn\b"):
        theory.gaussian_mean_error(0.5, 10.5, 10, 3)
    with pytest.raises(ValueError, match="trace_cov"):
        theory.gaussian_mean_error(0.5, 10, 10, 3, trace_cov=-1.0)
    with pytest.raises(ValueError, match=r"\bm\b"):
        ct.covariance_error_path(0.5, 10, 1, 3, sigma3)
    with pytest.raises(ValueError, match="cov"):
        ct.covariance_limit(0.5, 10, 10, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match=r"\bT\b"):
        ct.covariance_error_path(0.5, 10, 10, 0, sigma3)
    with pytest.raises(ValueError, match=r"\bw\b"):
        ct.covariance_limit(1.5, 10, 10, sigma3)
    with pytest.raises(ValueError, match=r"\bn\b"):
        ct.variance_optimal_weight(1, 10)
    with pytest.raises(ValueError, match=r"stop"):
        theory.window_error(0.5, 1.0, 10, 5)
    with pytest.raises(ValueError, match=r"\bt\b"):
        ct.log_variance_mean(10, 10, [0, -1])


def test_batched_cholesky_refuses_indefinite():
    from lib import batched
    S = np.zeros((2, 2, 3))
    S[0, 0] = S[1, 1] = 1.0
    S[0, 1] = S[1, 0] = np.array([0.0, 0.5, 2.0])  # the last is indefinite
    with pytest.raises(ValueError, match="positive definite"):
        batched.cholesky(S)


@pytest.mark.parametrize("bad", [True, False, "0.5", b"1", [0.5, True], np.array([True]), np.array(["0.5"]),
                                 np.array([0.5, "x"], dtype=object)])
def test_booleans_and_strings_are_not_numbers(bad):
    """True would silently be a weight of 1 and "0.5" a weight of 0.5: both are refused, naming
    the argument, like booleans as sample sizes."""
    with pytest.raises(ValueError, match="^w must be a real number"):
        lib.limiting_error(bad, 1.0)
    with pytest.raises(ValueError, match="^k must be a real number"):
        lib.optimal_weight(bad)


def test_empty_weights_and_bad_solver_settings_are_refused():
    """An empty grid of weights was a ZeroDivisionError deep in the engine, and fit_glm(tol=-1)
    ran and warned "failed": both are refused up front, naming the argument."""
    from lib import glm
    model = lib.GaussianModel(mean=np.zeros(1), cov=np.eye(1))
    with pytest.raises(ValueError, match="^w must hold at least one weight"):
        lib.run_loop(model, w=[], n=10, m=10, T=2, replications=3, seed=0)
    X, y = np.column_stack([np.ones(20), np.linspace(-1, 1, 20)]), np.linspace(0, 1, 20)
    for bad in (-1, 0, 1.5, np.nan, True, "1e-7"):
        with pytest.raises(ValueError, match="^tol must be"):
            glm.fit_glm("linear", X, y, tol=bad)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_iter"):
            glm.fit_glm("linear", X, y, max_iter=bad)
    assert np.allclose(glm.fit_glm("linear", X, y).coef, np.polyfit(X[:, 1], y, 1)[::-1])


# --- glm_theory: each argument checked, each message naming it ---------------------------------

def test_glm_theory_refuses_what_would_give_a_wrong_number():
    from lib import glm_theory as gt

    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    good = gt.fixed_design_coef_error(0.6, X, 5)
    # sigma = -1 used to be squared into sigma = 1.
    with pytest.raises(ValueError, match="sigma must be a single finite number > 0"):
        gt.fixed_design_coef_error(0.6, X, 5, sigma=-1)
    # A transposed design gave 1.4e16; a singular one raised LinAlgError.
    with pytest.raises(ValueError, match="X has 3 rows and 50 columns.*transposed"):
        gt.fixed_design_coef_error(0.6, X.T, 5)
    with pytest.raises(ValueError, match="X has rank 2 < 3"):
        gt.fixed_design_coef_error(0.6, np.column_stack([X[:, :2], X[:, 0] + X[:, 1]]), 5)
    with pytest.raises(ValueError, match="X must be a non-empty 2-D"):
        gt.fixed_design_coef_error(0.6, X[:, 0], 5)
    assert np.isfinite(good) and good > 0
    # Negative traces gave a negative mean squared error.
    with pytest.raises(ValueError, match="s_K must be a single finite number > 0"):
        gt.misspecified_coef_error(0.5, 1.0, 100, 1.0, -2.0)
    with pytest.raises(ValueError, match="s_J must be"):
        gt.misspecified_coef_error(0.5, 1.0, 100, -1.0, 2.0)
    with pytest.raises(ValueError, match="k must be > 0"):
        gt.misspecified_coef_error(0.5, -1.0, 100, 1.0, 2.0)
    y = (rng.random(50) < 0.5).astype(float)
    with pytest.raises(ValueError, match="y must be a vector of 50 labels"):
        gt.sandwich_traces(X, y[:40], np.zeros(3))
    with pytest.raises(ValueError, match="coef must have 3 entries"):
        gt.sandwich_traces(X, y, np.zeros(2))
    with pytest.raises(ValueError, match="y must hold logistic labels"):
        gt.sandwich_traces(X, y + 2, np.zeros(3))
    with pytest.raises(ValueError, match="information at coef is singular"):
        gt.sandwich_traces(X, y, np.full(3, 1e4))
    for f in (lambda: gt.fisher_information("linear", [1.0], sigma=0),
              lambda: gt.fully_synthetic_linear_error(20, 20, 3, 2, sigma=-1)):
        with pytest.raises(ValueError, match="sigma must be a single finite number > 0"):
            f()


def test_positive_quantities_other_than_k_do_not_mention_k():
    from lib import validate

    with pytest.raises(ValueError) as err:
        validate.ratio(-1.0, "trace_cov")
    assert "k = n/m" not in str(err.value) and "trace_cov must be > 0" in str(err.value)
    with pytest.raises(ValueError, match=r"k must be > 0 \(k = n/m"):
        validate.ratio(-1.0, "k")


def test_loop_result_and_schedule_refuse_bad_arguments():
    from lib import kalman

    res = lib.run_loop(lib.GaussianModel(np.zeros(1), np.eye(1)), [0.5], 10, 10, 4, 3, seed=0, metrics=["mean"])
    with pytest.raises(ValueError, match="metric must be one of the recorded metrics"):
        res.mean("nope")
    with pytest.raises(ValueError, match="metric must be one of"):
        res.window_mean("cov", 1)
    with pytest.raises(ValueError, match="start must be an integer generation"):
        res.window_mean("mean", 1.5)
    with pytest.raises(ValueError, match="stop must be an integer generation"):
        res.window("mean", 1, True)
    for bad in ([], [[[0.5]]]):
        with pytest.raises(ValueError, match="weights must be a schedule"):
            kalman.schedule_error(bad, 1.0)


def test_fit_glm_refuses_complex_responses_and_misshaped_penalties():
    from lib import glm

    X = np.random.default_rng(0).standard_normal((20, 2))
    y = (X[:, 0] > 0).astype(float)
    with pytest.raises(ValueError, match="y must be a real number"):
        glm.fit_glm("linear", X, X[:, 0] + 1j)  # was cut to its real part with a ComplexWarning
    with pytest.raises(ValueError, match="penalty must be one number or one per coefficient"):
        glm.fit_glm("logistic", X, y, penalty=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="penalty must be non-negative"):
        glm.fit_glm("logistic", X, y, penalty=-1.0)
    with pytest.raises(ValueError, match="w must be a real number"):
        lib.limiting_error(0.5 + 0j, 1.0)


def test_standard_errors_are_the_sample_sd_over_root_r():
    """LoopResult.sem against numpy on the recorded values: std(ddof=1) / sqrt(R), per generation
    and weight (no failed replications), and window_mean's against the per-replication window."""
    res = lib.run_loop(lib.GaussianModel(np.zeros(2), np.eye(2)), [0.3, 0.8], 20, 20, 5, 37, seed=3,
                       metrics=["mean"])
    v = res.values["mean"]  # (T + 1, W, R)
    assert np.allclose(res.sem("mean"), v.std(axis=-1, ddof=1) / np.sqrt(37), rtol=1e-13)
    assert np.allclose(res.mean("mean"), v.mean(axis=-1), rtol=1e-13)
    per_rep = v[2:].mean(axis=0)
    mean, se = res.window_mean("mean", 2)
    assert np.allclose(mean, per_rep.mean(axis=-1)) and np.allclose(se, per_rep.std(axis=-1, ddof=1) / np.sqrt(37))
