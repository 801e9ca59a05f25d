"""Handwritten digits in the loop: a Gaussian mixture in a PCA space, fitted by weighted EM.

The data are scikit-learn's copy of the UCI optical-recognition digits (1797 images of 8 x 8
pixels with grey levels 0..16; ``sklearn.datasets.load_digits``, shipped with scikit-learn, no
download). The images are split once, by a fixed seed, into a *pool* from which the real
samples of every generation are drawn (with replacement: the true distribution is the pool's
empirical distribution) and a *test* set that no fit sees. Each image is reduced to its first
``dim`` principal components (computed from the pool); a mixture of ``components`` Gaussians in
that space is fitted by :func:`lib.generative.mixture.weighted_em`, and a generated image is a
sampled point mapped back to pixels (mean + scores x components, clipped to 0..16).

Error: the excess cross-entropy on the test set, mean_x [log f_ref(x) - log f_t(x)] over the
test images in the PCA space (nats per image), where f_ref is the mixture fitted to the whole
pool (the best this model family does with all the data; the loop starts from it). It is 0 for
the reference fit and grows as the fit loses the digits' variety.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import validate
from .mixture import EMResult, Mixture, log_pdf, _loop_fit, sample_mixture, weighted_em

__all__ = ["DigitsData", "load", "DigitsMixtureModel", "to_images", "snapshots"]


@dataclass(frozen=True)
class DigitsData:
    """The split and projected digits: ``pool`` (p, N_pool) and ``test`` (p, N_test) PCA scores,
    ``mean`` (64,) and ``basis`` (64, p) of the projection, the pool's labels, and the reference
    mixture fitted to the pool."""

    pool: np.ndarray
    test: np.ndarray
    mean: np.ndarray
    basis: np.ndarray
    pool_labels: np.ndarray
    reference: Mixture
    explained: float
    floor: float


@lru_cache(maxsize=8)
def load(dim: int = 6, components: int = 10, test_fraction: float = 0.3, seed: int = 0,
         floor: float = 1.0) -> DigitsData:
    """Load, split (fixed ``seed``), project on ``dim`` principal components of the pool, and fit
    the reference mixture: scikit-learn's ``GaussianMixture`` (k-means start, ``random_state =
    seed``) refined by :func:`weighted_em` with equal weights to its own convergence criterion.
    ``floor`` is the covariance floor of every fit (grey levels squared, added to each diagonal;
    the smallest principal variance of the pool is about 60 at ``dim = 6``): it bounds the
    likelihood, so that no component can shrink onto a single image.

    Examples
    --------
    >>> data = load(dim=4, components=5)
    >>> data.pool.shape[0], data.basis.shape, data.reference.components
    (4, (64, 4), 5)

    The smallest principal variance at ``dim = 6``, against the floor of 1:

    >>> import numpy as np
    >>> round(float(np.var(load(dim=6, components=10).pool, axis=1).min()))
    60
    """
    from sklearn.datasets import load_digits
    from sklearn.mixture import GaussianMixture

    dim = validate.positive_int(dim, "dim")
    components = validate.positive_int(components, "components")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    X, y = load_digits(return_X_y=True)
    if dim > X.shape[1]:
        raise ValueError(f"dim must be at most {X.shape[1]} (pixels), got {dim}")
    order = np.random.default_rng(seed).permutation(X.shape[0])
    n_test = int(round(test_fraction * X.shape[0]))
    test_idx, pool_idx = order[:n_test], order[n_test:]
    pool_X = X[pool_idx]
    mean = pool_X.mean(axis=0)
    _, sv, vt = np.linalg.svd(pool_X - mean, full_matrices=False)
    basis = vt[:dim].T
    explained = float(np.sum(sv[:dim] ** 2) / np.sum(sv**2))
    pool = ((pool_X - mean) @ basis).T
    test = ((X[test_idx] - mean) @ basis).T
    floor = validate.non_negative(floor, "floor")
    gm = GaussianMixture(components, covariance_type="full", random_state=seed, reg_covar=max(floor, 1e-6)).fit(pool.T)
    init = Mixture(gm.weights_, gm.means_, gm.covariances_)
    a = np.full(pool.shape[1], 1.0 / pool.shape[1])
    ref = weighted_em(pool, a, init, tol=1e-9, max_iter=1000, covariance_floor=floor).mixture
    return DigitsData(pool, test, mean, basis, y[pool_idx], ref, explained, floor)


def _test_loglik(f: Mixture, test: np.ndarray) -> np.ndarray:
    """Mean log f(x) over the test points (p, N_test), for a batched mixture f: shape *batch."""
    b = f.weights.ndim - 1
    x = test.reshape(test.shape + (1,) * b)
    return np.mean(log_pdf(x, f), axis=0)


def to_images(points: np.ndarray, data: DigitsData) -> np.ndarray:
    """PCA scores (p, N) back to 8 x 8 images (N, 8, 8), clipped to the grey levels 0..16."""
    pixels = data.mean[None] + np.asarray(points).T @ data.basis.T
    return np.clip(pixels, 0, 16).reshape(-1, 8, 8)


@dataclass(frozen=True)
class DigitsMixtureModel:
    """The digits mixture in the weighted loop; see the module docstring.

    Metrics: ``"excess_ce"`` (nats per test image; 0 for the reference fit), ``"components"``
    (how many components the mixture still has: a component whose weight falls below 1e-6 is
    dropped, see :func:`lib.generative.mixture.weighted_em`), ``"min_weight"``,
    ``"iterations"``, ``"converged"``, ``"failed"``. Generation 0 is warm-started from the
    reference fit, every later fit from the previous one; EM stops at ``tol`` or ``max_iter``.
    The covariance floor is the data's (:func:`load`) and bounds the likelihood, so a component may
    settle on a few images without failing; a component that loses its weight is dropped (the
    mixture has fewer components from then on), and a fit fails (the engine's policy) only when an
    iterate is not finite (the default ``min_points = 0.5`` is below the smallest possible
    effective number of points, 1).

    Examples
    --------
    >>> import lib
    >>> model = DigitsMixtureModel(load(dim=4, components=5))
    >>> res = lib.run_loop(model, [0.5], 200, 200, 1, 2, seed=0)
    >>> res.values["excess_ce"].shape
    (2, 1, 2)
    """

    data: DigitsData
    tol: float = 1e-5
    max_iter: int = 100
    min_points: float = 0.5
    metrics: tuple[str, ...] = field(default=("excess_ce", "components", "min_weight", "iterations", "converged",
                                              "failed"),
                                     init=False)

    def __post_init__(self):
        validate.non_negative(self.tol, "tol")
        validate.positive_int(self.max_iter, "max_iter")

    @property
    def reference_loglik(self) -> float:
        return float(_test_loglik(self.data.reference, self.data.test))

    def check_sizes(self, n: int, m: int) -> None:
        K, p = self.data.reference.components, self.data.pool.shape[0]
        need = K * (p + 1)
        why = f" (a mixture of {K} components in {p} dimensions needs at least K (p + 1) = {need} points)"
        validate.sample_size(n, "n", need, why)
        validate.sample_size(m, "m", need, why)

    def chunk_pairs(self, n: int, m: int) -> int:
        return max(1, 2_000_000 // ((n + m) * self.data.reference.components))

    def sample_real(self, rng, n, shape):
        idx = rng.integers(self.data.pool.shape[1], size=(n,) + tuple(shape))
        return self.data.pool[:, idx]

    def sample_synthetic(self, rng, state, m, shape):
        return sample_mixture(rng, state.mixture, m, shape), state

    def fit(self, real, synthetic, w):
        return _loop_fit(real, synthetic, w, self.data.reference, tol=self.tol, max_iter=self.max_iter,
                        covariance_floor=self.data.floor, min_points=self.min_points, drop_components=True)

    def evaluate(self, state):
        f = state.mixture
        return {"excess_ce": self.reference_loglik - _test_loglik(f, self.data.test),
                "components": np.sum(f.weights > 0, axis=0).astype(float),
                "min_weight": np.min(f.weights, axis=0), "iterations": state.iterations.astype(float),
                "converged": state.converged.astype(float), "failed": state.failed.astype(float)}


def snapshots(model, weights, n: int, m: int, generations, seed: int = 0) -> dict:
    """One run of the loop per weight (the engine's steps: fit on real data, then sample, refit),
    keeping the fitted states at the given generations: ``{t: state}``, each state batched over
    the weights (shape (W, 1)). For pictures of what a fit generates; the statistics come from
    :func:`lib.engine.run_loop`."""
    ws = np.atleast_1d(validate.weights(weights)).astype(float)
    keep = sorted(set(int(t) for t in generations))
    if not keep or keep[0] < 0:
        raise ValueError(f"generations must be non-negative integers, got {generations!r}")
    rng = np.random.default_rng(seed)
    W = ws.size
    state = model.fit(model.sample_real(rng, n, (1, 1)), None, np.ones((1, 1)))
    state = EMResult(Mixture(*(np.broadcast_to(z, z.shape[:-2] + (W, 1)).copy() for z in
                               (state.mixture.weights, state.mixture.means, state.mixture.covs))),
                     *(np.broadcast_to(z, (W, 1)).copy() for z in
                       (state.loglik, state.iterations, state.converged, state.failed)))
    out = {0: state} if 0 in keep else {}
    for t in range(1, keep[-1] + 1):
        real = model.sample_real(rng, n, (1, 1))
        syn = model.sample_synthetic(rng, state, m, (W, 1))
        state = model.fit(real, syn, ws[:, None])
        if t in keep:
            out[t] = state
    return out
