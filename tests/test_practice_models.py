"""The practitioner's models against their exact (or first-order) theory in lib.practice."""

import numpy as np
import pytest

import lib
from lib import practice
from lib.practice_models import MeanLoopModel, SGDMeanModel, SampledGaussianModel, TopKCategoricalModel
from conftest import assert_mc_matches, assert_z_within

N, T, START = 50, 40, 20


def _window_exact(w, k, opts):
    return np.array([practice.loop_error_path(x, k, T, *opts)[START:].mean() for x in w])


@pytest.mark.parametrize("kwargs, opts, m", [
    ({}, (), 50),
    ({"step_fraction": 0.3}, (0.3,), 50),
    ({"contamination": 0.4}, (1.0, 0.4), 100),
    ({"drift_sd": np.sqrt(0.8 / N)}, (1.0, 0.0, 0.8), 25),
    ({"cluster_size": 5, "icc": 0.4}, (1.0, 0.0, 0.0, 1.0, 1 + 4 * 0.4), 50),
    ({"step_fraction": 0.5, "contamination": 0.2, "drift_sd": np.sqrt(0.3 / N)}, (0.5, 0.2, 0.3), 50),
])
def test_mean_loop_model_matches_the_recursion(kwargs, opts, m):
    ws = [0.3, 0.6, 0.95]
    res = lib.run_loop(MeanLoopModel(**kwargs), ws, N, m, T, 50000, seed=7)
    mc, se = res.window_mean("err", START)
    assert_mc_matches(N * mc, N * se, _window_exact(ws, N / m, opts), str(kwargs))


def test_heldout_metrics_estimate_the_gain():
    ws = [0.3, 0.618, 0.9]
    res = lib.run_loop(MeanLoopModel(), ws, N, N, T, 20000, seed=8)
    num = res.values["num"][START:].mean(axis=0)
    den = res.values["den"][START:].mean(axis=0)
    ratio = num.mean(axis=1) / den.mean(axis=1)
    se = np.array([np.std(num[j] - ratio[j] * den[j], ddof=1) for j in range(3)]) / np.sqrt(num.shape[1]) / den.mean(axis=1)
    # The exact finite-T value: (P + ... ) over the window, P_t = e_{t-1} + k; gain = E num / E den.
    e = np.array([practice.loop_error_path(x, 1.0, T) for x in ws])
    P = e[:, START - 1:T] + 1.0
    exact = P.mean(axis=1) / (P + 1).mean(axis=1)
    assert_mc_matches(ratio, se, exact, "held-out gain")
    np.testing.assert_allclose(exact, practice.heldout_gain(np.array(ws), 1.0), rtol=1e-3)


@pytest.mark.parametrize("scheme", ["weights", "mixing"])
def test_sgd_model_matches_first_order_theory(scheme):
    n, m, eta, batch = 200, 800, 0.3, 4
    ws = [0.25, 0.6]
    res = lib.run_loop(SGDMeanModel(eta, batch, 30, scheme), ws, n, m, 12, 1500, seed=9)
    mc, se = res.window_mean("err", 4)
    th = practice.sgd_limit(np.array(ws), n / m, n, eta, batch, scheme)
    assert_z_within((n * mc - th) / (n * se), scheme)  # first order in 1/n: no power check at this size


def test_sgd_schemes_share_their_random_numbers_at_naive_pooling():
    # At w = n / (n + m) both schemes draw every example uniformly from the pool with weight 1.
    n, m = 20, 60
    a = lib.run_loop(SGDMeanModel(0.2, 3, 5, "weights"), [n / (n + m)], n, m, 3, 5, seed=1).values["err"]
    b = lib.run_loop(SGDMeanModel(0.2, 3, 5, "mixing"), [n / (n + m)], n, m, 3, 5, seed=1).values["err"]
    np.testing.assert_allclose(a, b, rtol=1e-9)


@pytest.mark.parametrize("kwargs", [{}, {"temperature": 0.7}, {"temperature": 1.3}, {"truncate": 1.2}])
def test_sampled_gaussian_matches_the_exact_variance_theory(kwargs):
    n = m = 30
    if "truncate" in kwargs:
        lam, kap = practice.truncated_normal_moments(kwargs["truncate"])
    else:
        lam, kap = kwargs.get("temperature", 1.0), 3.0
    ws = [0.5, 0.8]
    res = lib.run_loop(SampledGaussianModel(**kwargs), ws, n, m, 60, 12000, seed=10)
    mc, se = res.window_mean("var_err", 30)
    assert_mc_matches((n - 1) / 2 * mc, (n - 1) / 2 * se, practice.variance_limit(np.array(ws), n, m, lam, kap), str(kwargs))
    fv, fse = res.window_mean("var", 30)
    assert_z_within((fv - practice.fitted_variance_limit(np.array(ws), lam)) / fse, "fitted variance")


def test_topk_tail_mass():
    probs = np.array([0.35, 0.3, 0.25, 0.05, 0.03, 0.02])
    ws = [0.4, 0.8]
    res = lib.run_loop(TopKCategoricalModel(probs, top_k=3), ws, 400, 400, 30, 4000, seed=11)
    mc, se = res.window_mean("tail", 15)
    assert_mc_matches(mc, se, np.array(ws) * 0.1, "top-k tail")


@pytest.mark.parametrize("make, name", [
    (lambda: MeanLoopModel(step_fraction=0.0), "step_fraction"),
    (lambda: MeanLoopModel(contamination=1.0), "contamination"),
    (lambda: MeanLoopModel(drift_sd=-0.1), "drift_sd"),
    (lambda: MeanLoopModel(cluster_size=0), "cluster_size"),
    (lambda: MeanLoopModel(icc=1.5), "icc"),
    (lambda: SGDMeanModel(0.0, 4, 10), "step_size"),
    (lambda: SGDMeanModel(0.1, True, 10), "batch"),
    (lambda: SGDMeanModel(0.1, 4, 10, "adam"), "scheme"),
    (lambda: SampledGaussianModel(temperature=0.0), "temperature"),
    (lambda: SampledGaussianModel(truncate=-1.0), "truncate"),
    (lambda: TopKCategoricalModel(np.array([0.5, 0.5]), top_k=2), "top_k"),
])
def test_bad_parameters(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="cluster_size"):
        MeanLoopModel(cluster_size=3).check_sizes(10, 10)
    with pytest.raises(ValueError, match="m"):
        SampledGaussianModel().check_sizes(10, 1)
