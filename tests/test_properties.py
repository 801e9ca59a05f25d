"""Property-based tests (hypothesis) over the public numeric functions of lib.

Random valid inputs give finite results inside the bounds the theory implies; random invalid
inputs always raise ValueError (never a NaN, never a hang).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import lib
from lib import covariance_theory as ct, nonparametric_theory as nt, theory
from lib.nonparametric import cvm_distance

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
weights = st.floats(0.0, 1.0, allow_nan=False)
# Extreme magnitudes included: weights down to 1e-12, ratios over 24 decades, sizes to 1e9.
positive_weights = st.one_of(st.floats(1e-3, 1.0), st.floats(1e-12, 1e-3))
ratios = st.one_of(st.floats(1e-4, 1e4), st.floats(1e-12, 1e12))
# Where V(k/(1+k), k) - V(w*, k) ~ 1/k^3 for large k is far above double precision.
moderate_ratios = st.floats(1e-8, 1e4)
sizes = st.one_of(st.integers(2, 10_000), st.integers(2, 10**9))
generations = st.one_of(st.integers(0, 500), st.integers(0, 10**6))
bad_weights = st.one_of(st.floats(-1e6, -1e-9), st.floats(1 + 1e-9, 1e6), st.just(math.nan), st.just(math.inf))
bad_ratios = st.one_of(st.floats(-1e6, 0.0), st.just(math.nan), st.just(math.inf), st.just(-math.inf))
bad_sizes = st.one_of(st.integers(-1000, 0), st.floats(1.5, 1e4).filter(lambda x: x != int(x)), st.just(True))


@SETTINGS
@given(w=positive_weights, k=ratios)
def test_limiting_error_is_at_least_the_optimum(w, k):
    V, ws = lib.limiting_error(w, k), lib.optimal_weight(k)
    assert np.isfinite(V) and 0 < ws < 1
    assert V >= ws * (1 - 1e-9)  # V(w*, k) = w* is the minimum
    assert V <= max(1.0, k) / w + 1e-9  # crude upper bound: w^2 + k (1-w)^2 <= max(1, k), 1-(1-w)^2 >= w


@SETTINGS
@given(k=moderate_ratios)
def test_naive_weight_is_never_optimal(k):
    assert lib.naive_weight(k) < lib.optimal_weight(k)
    assert lib.naive_error(k) > lib.optimal_weight(k)
    assert 0.5 < lib.naive_error(k) < 1.0


@SETTINGS
@given(w=positive_weights, k=ratios, t=generations)
def test_finite_error_moves_monotonically_from_one_to_V(w, k, t):
    e, V = lib.finite_error(w, k, t), lib.limiting_error(w, k)
    assert np.isfinite(e)
    assert min(1.0, V) * (1 - 1e-12) <= e <= max(1.0, V) * (1 + 1e-12)


@SETTINGS
@given(k=ratios, t=generations)
def test_fully_synthetic_error_grows_linearly(k, t):
    assert lib.finite_error(0.0, k, t) == pytest.approx(1 + k * t, rel=1e-9)


@SETTINGS
@given(w=weights, n=sizes, m=sizes, t=generations)
def test_gaussian_mean_error_is_positive_and_finite(w, n, m, t):
    e = lib.gaussian_mean_error(w, n, m, t, trace_cov=2.0)
    assert np.isfinite(e) and e > 0


@SETTINGS
@given(w=weights, n=sizes, m=sizes, t=generations)
def test_multinomial_error_factor_is_a_variance_fraction(w, n, m, t):
    h = nt.error_factor(w, n, m, t)
    assert 0 < h <= 1 + 1e-12  # Var F_t(u) <= u(1 - u)
    assert nt.cvm_expected(w, n, m, t) <= 1 / 6 + 1e-12


@SETTINGS
@given(w=st.floats(0.05, 1.0), n=st.integers(2, 500), m=st.integers(3, 500))
def test_covariance_limit_is_finite_exactly_when_stable(w, n, m):
    value = ct.covariance_limit(w, n, m, [[1.0, 0.2], [0.2, 2.0]])
    stable = (1 - w) ** 2 * (m + 1) / (m - 1) < 1
    assert (np.isfinite(value) and value > 0) if stable else value == np.inf


@SETTINGS
@given(data=st.data(), N=st.integers(1, 30))
def test_cvm_distance_is_bounded(data, N):
    u = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=N, max_size=N)))
    mass = np.array(data.draw(st.lists(st.floats(1e-3, 1.0), min_size=N, max_size=N)))
    d = cvm_distance(u[:, None], (mass / mass.sum())[:, None])[0]
    assert 0 <= d <= 1 / 3 + 1e-12  # a point mass at 0 or 1 is the worst case, 1/3


@SETTINGS
@given(w=bad_weights)
def test_bad_weights_raise(w):
    for f in (lambda: lib.limiting_error(w, 1.0), lambda: lib.finite_error(w, 1.0, 3),
              lambda: nt.error_factor(w, 10, 10, 3), lambda: lib.gaussian_mean_error(w, 10, 10, 3)):
        with pytest.raises(ValueError):
            f()


@SETTINGS
@given(k=bad_ratios)
def test_bad_ratios_raise(k):
    for f in (lambda: lib.optimal_weight(k), lambda: lib.limiting_error(0.5, k), lambda: lib.naive_weight(k)):
        with pytest.raises(ValueError):
            f()


@SETTINGS
@given(n=bad_sizes)
def test_bad_sample_sizes_raise(n):
    model = lib.GaussianModel(np.zeros(1), np.eye(1))
    for f in (lambda: lib.gaussian_mean_error(0.5, n, 10, 3), lambda: nt.error_factor(0.5, n, 10, 3),
              lambda: ct.variance_optimal_weight(n, 10), lambda: lib.run_loop(model, 0.5, n, 10, 2, 3)):
        with pytest.raises(ValueError):
            f()
