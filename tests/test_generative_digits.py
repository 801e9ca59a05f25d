"""The digits mixture (lib.generative.digits): the split, the projection, the reference fit as a
fixed point of weighted EM, the loop model's w = 1 fit, the images, and bad input."""

import numpy as np
import pytest

import lib
from lib.generative import digits, mixture as mx


@pytest.fixture(scope="module")
def data():
    return digits.load(dim=4, components=5)


def test_split_and_projection(data):
    from sklearn.datasets import load_digits

    X = load_digits().data
    assert data.pool.shape[1] + data.test.shape[1] == X.shape[0]
    assert data.pool.shape[1] == data.pool_labels.size
    # the basis is orthonormal and the pool scores are centred (PCA of the pool)
    np.testing.assert_allclose(data.basis.T @ data.basis, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(data.pool.mean(axis=1), 0, atol=1e-10)
    # the explained share by a different route: eigenvalues of the pool's covariance
    assert 0 < data.explained < 1
    assert digits.load(dim=4, components=5) is data  # cached, deterministic


def test_reference_is_a_fixed_point_of_weighted_em(data):
    a = np.full(data.pool.shape[1], 1 / data.pool.shape[1])
    start = mx.weighted_em(data.pool, a, data.reference, tol=0.0, max_iter=1, covariance_floor=data.floor)
    again = mx.weighted_em(data.pool, a, data.reference, tol=0.0, max_iter=3, covariance_floor=data.floor)
    # the reference stopped by the criterion |d ell| <= 1e-9 |ell| (EM creeps: the means still
    # move, by a relative 1e-4 over three steps)
    assert abs(again.loglik - start.loglik) <= 3e-9 * abs(start.loglik)
    np.testing.assert_allclose(again.mixture.means, data.reference.means, rtol=1e-3, atol=1e-2)


def test_model_zero_at_reference_and_w_one_fit(data):
    model = digits.DigitsMixtureModel(data)
    ref_state = mx.EMResult(data.reference, np.zeros(()), np.zeros((), int), np.ones((), bool), np.zeros((), bool))
    assert model.evaluate(ref_state)["excess_ce"] == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    real = model.sample_real(rng, 150, (1, 2))
    prev = model.fit(real, None, np.ones((1, 1)))
    syn = model.sample_synthetic(rng, prev, 150, (1, 2))
    both = model.fit(real, syn, np.ones((1, 1)))
    alone = mx.weighted_em(real, np.full((150, 1, 2), 1 / 150), prev.mixture, model.tol, model.max_iter,
                           covariance_floor=data.floor, min_points=model.min_points, drop_components=True)
    np.testing.assert_allclose(both.mixture.means, alone.mixture.means, rtol=1e-12)


def test_images_and_snapshots(data):
    model = digits.DigitsMixtureModel(data)
    imgs = digits.to_images(data.pool[:, :5], data)
    assert imgs.shape == (5, 8, 8) and imgs.min() >= 0 and imgs.max() <= 16
    snaps = digits.snapshots(model, [0.0, 0.6], 100, 100, [0, 2], seed=1)
    assert sorted(snaps) == [0, 2] and snaps[2].mixture.weights.shape == (5, 2, 1)
    a = digits.snapshots(model, [0.0, 0.6], 100, 100, [2], seed=1)
    np.testing.assert_array_equal(a[2].mixture.means, snaps[2].mixture.means)  # deterministic by seed


def test_a_component_that_loses_its_weight_is_dropped():
    """drop_components: a component started far from every point gets no responsibility; it is
    dropped (weight 0, parameters kept finite) instead of failing the fit."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 60))
    init = mx.Mixture(np.array([0.5, 0.5]), np.array([[0.0, 0.0], [80.0, 80.0]]), np.stack([np.eye(2)] * 2))
    dropped = mx.weighted_em(x, np.full(60, 1 / 60), init, drop_components=True)
    assert dropped.mixture.weights[1] == 0 and not dropped.failed
    assert np.all(np.isfinite(dropped.mixture.means)) and dropped.converged
    assert mx.weighted_em(x, np.full(60, 1 / 60), init).failed  # without dropping: a failed fit


def test_bad_input_raises(data):
    with pytest.raises(ValueError, match="dim"):
        digits.load(dim=65)
    with pytest.raises(ValueError, match="test_fraction"):
        digits.load(test_fraction=1.0)
    model = digits.DigitsMixtureModel(data)
    with pytest.raises(ValueError, match="needs at least"):
        lib.run_loop(model, [0.5], 10, 100, 1, 2)
    with pytest.raises(ValueError, match="w must lie in"):
        lib.run_loop(model, [2.0], 100, 100, 1, 2)
    with pytest.raises(ValueError, match="generations"):
        digits.snapshots(model, [0.5], 100, 100, [])
