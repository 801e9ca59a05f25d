"""The Kalman view and weight schedules: identities, optimality, Monte Carlo, engine schedules."""

import numpy as np
import pytest
import sympy as sp

import lib
from lib import kalman, theory
from conftest import assert_mc_matches


def test_gain_and_steady_state():
    e_prev, k = kalman.e_prev, theory.k
    assert sp.simplify(kalman.gain_expr() - (e_prev + k) / (e_prev + k + 1)) == 0
    K, e = kalman.steady_state()
    assert sp.simplify(K - theory.optimal_weight_expr()) == 0
    assert sp.simplify(e - theory.optimal_weight_expr()) == 0
    assert sp.simplify(K**2 + k * K - k) == 0


@pytest.mark.parametrize("k", [0.003, 0.2, 1.0, 7.0])
def test_schedule_is_optimal_and_converges(k):
    ws, e = kalman.optimal_schedule(k, 200)
    assert ws[0] == pytest.approx((1 + k) / (2 + k))
    assert np.all(np.diff(ws) <= 1e-15)  # decreasing from e_0 = 1 when w*(k) < 1
    assert ws[-1] == pytest.approx(lib.optimal_weight(k), rel=1e-6)
    const = kalman.schedule_error(np.full(200, lib.optimal_weight(k)), k)
    np.testing.assert_allclose(const, lib.finite_error(lib.optimal_weight(k), k, np.arange(201)), rtol=1e-12)
    assert np.all(e <= const + 1e-12)  # never worse, at any generation
    # Any other schedule is worse somewhere: perturbing one weight raises the error from then on.
    perturbed = ws.copy()
    perturbed[3] += 0.05
    assert kalman.schedule_error(perturbed, k)[4] > e[4]


def test_schedule_beats_constant_in_simulation():
    n, m, T = 80, 1600, 15  # k = 0.05
    kk = n / m
    ws, _ = kalman.optimal_schedule(kk, T)
    schedule = np.column_stack([ws, np.full(T, lib.optimal_weight(kk))])
    model = lib.GaussianModel(np.zeros(3), np.diag([1.0, 2.0, 0.5]))
    res = lib.run_loop(model, schedule, n, m, T, 20000, seed=31, metrics=["mean"])
    scale = n / 3.5
    exact = kalman.schedule_error(schedule, kk)
    for j in range(2):
        assert_mc_matches(scale * res.mean("mean")[3:, j], scale * res.sem("mean")[3:, j], exact[3:, j],
                          f"schedule column {j}", power=0.10)  # 5% is ~6 standard errors away
    d = scale * (res.window("mean", 1)[1] - res.window("mean", 1)[0])
    assert d.mean() / (d.std(ddof=1) / np.sqrt(d.size)) > 5


def test_engine_schedules():
    model = lib.GaussianModel(np.zeros(2), np.eye(2))
    const = lib.run_loop(model, [0.3, 0.7], 10, 10, 4, 6, seed=3)
    sched = lib.run_loop(model, np.tile([0.3, 0.7], (4, 1)), 10, 10, 4, 6, seed=3)
    assert np.array_equal(const.values["mean"], sched.values["mean"])  # a constant schedule is a weight
    with pytest.raises(ValueError, match="one row per generation"):
        lib.run_loop(model, np.full((3, 2), 0.5), 10, 10, 4, 6)
    with pytest.raises(ValueError, match=r"\bw\b"):
        lib.run_loop(model, np.full((4, 2), 1.5), 10, 10, 4, 6)
    with pytest.raises(ValueError, match=r"\bk\b"):
        kalman.optimal_schedule(-1.0, 5)


def test_drift_gain_and_steady_state():
    e_prev, k, q = kalman.e_prev, theory.k, kalman.q
    assert sp.simplify(kalman.drift_gain_expr() - (e_prev + k + q) / (e_prev + k + q + 1)) == 0
    K, e = kalman.drift_steady_state()
    assert sp.simplify(K - theory.optimal_weight_expr().subs(k, k + q)) == 0
    assert sp.simplify(e - K) == 0
    # Brute force: iterate the drifting recursion at the steady gain, and minimise its limit on a grid.
    for kk, qq in [(1.0, 0.0), (0.2, 0.5), (3.0, 2.0)]:
        grid = np.linspace(0.01, 1.0, 991)
        err = np.ones_like(grid)
        for _ in range(5000):
            err = (1 - grid) ** 2 * (err + qq) + grid**2 + kk * (1 - grid) ** 2
        np.testing.assert_allclose(kalman.drift_limiting_error(grid, kk, qq), err, rtol=1e-9)
        assert kalman.drift_optimal_weight(kk, qq) == pytest.approx(grid[np.argmin(err)], abs=1e-3)
        assert kalman.drift_optimal_weight(kk, qq) == pytest.approx(lib.optimal_weight(kk + qq), rel=1e-12)


@pytest.mark.parametrize("call, name", [
    (lambda: kalman.drift_optimal_weight(1.0, -0.1), "q"),
    (lambda: kalman.drift_optimal_weight(0.0, 0.1), "k"),
    (lambda: kalman.drift_limiting_error(0.0, 1.0, 0.1), "w"),
    (lambda: kalman.drift_limiting_error(0.5, 1.0, True), "q"),
])
def test_drift_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
