"""Multivariate Gaussian estimation in the weighted loop (paper-notes Sec. 1, "Gaussian instance").

The weighted negative log-likelihood is minimised by the weighted combination of the two samples'
statistics, so a fitted model is ``(mean, cov)`` with

    mean_t = w xbar_real + (1 - w) xbar_syn,      cov_t = w S_real + (1 - w) S_syn,

S the unbiased (ddof = 1) sample covariance, as in the authors' code. Synthetic samples are drawn
from N(mean_{t-1}, cov_{t-1}).

A sample enters the fit only through (xbar, S), so the model draws those statistics. Two samplers
produce them, identical in distribution:

* ``"full"``: draw all points, X = mu + L Z with Z standard normal and L L' = cov, and reduce.
  The affine map is applied to the statistics of Z (xbar = mu + L zbar, S = L S_Z L'), which is
  algebraically the same as reducing X and saves a matrix product per point.
* ``"suffstat"``: draw the statistics directly, xbar ~ N(mu, cov / size) and
  (size - 1) S ~ Wishart(size - 1, cov) by the Bartlett decomposition, independent of each other
  (Cochran's theorem). Cost no longer grows with the sample size.

Arrays are laid out parameters first, batch last (see :mod:`lib.batched`): a mean has shape
(p, W, R) and a covariance (p, p, W, R).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import batched, validate

__all__ = ["GaussianModel", "standard_wishart_factor", "sample_statistics", "SAMPLERS"]

SAMPLERS = ("suffstat", "full")


def standard_wishart_factor(rng: np.random.Generator, df: int, p: int, shape: tuple[int, ...]) -> np.ndarray:
    """Bartlett factor A, lower triangular of shape (p, p, *shape), with A A' ~ Wishart(df, I_p).

    A_ii = sqrt(chi2_{df - i}) for i = 0..p-1 and A_ij ~ N(0, 1) below the diagonal, all
    independent (Bartlett 1933). Needs df >= p.
    """
    A = np.zeros((p, p) + shape)
    for i in range(p):
        # chi2_nu = 2 Gamma(nu / 2); a scalar shape per call is ~1.5x faster than an array of dfs.
        g = rng.standard_gamma((df - i) / 2.0, size=shape)
        np.sqrt(np.multiply(g, 2.0, out=g), out=A[i, i])
        for j in range(i):
            A[i, j] = rng.standard_normal(shape)
    return A


def covariance_factor(cov: np.ndarray) -> np.ndarray:
    """F with F F' = cov for every batch element (p, p, ...): the Cholesky factor, or, where
    rounding has made a nearly singular covariance slightly indefinite (late in a fully synthetic
    run the covariance collapses towards a singular matrix), its symmetric square root with
    negative eigenvalues clipped to zero, as numpy's ``multivariate_normal`` does. Any F with
    F F' = cov gives the same law of samples and of Wishart statistics."""
    L = batched.cholesky(cov, check=False)
    bad = ~np.all(np.isfinite(L), axis=(0, 1))
    if np.any(bad):
        vals, vecs = np.linalg.eigh(np.moveaxis(cov[:, :, bad], -1, 0))  # (B, p), (B, p, p)
        root = vecs * np.sqrt(np.clip(vals, 0.0, None))[:, None, :]
        L[:, :, bad] = np.moveaxis(root, 0, -1)
    return L


def sample_statistics(rng: np.random.Generator, mu: np.ndarray, chol: np.ndarray, size: int,
                      shape: tuple[int, ...], sampler: str) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and unbiased covariance of ``size`` points from N(mu, chol chol').

    ``mu`` (p, ...) and ``chol`` (p, p, ...) broadcast against the batch ``shape``. Returns arrays
    of shape (p, *shape) and (p, p, *shape).
    """
    p = mu.shape[0]
    if sampler == "full":
        Z = rng.standard_normal((p, size) + shape)
        zbar = Z.mean(axis=1)
        Z -= zbar[:, None]
        scatter = np.einsum("im...,jm...->ij...", Z, Z)
        cov = batched.matmul(batched.matmul(chol, scatter), np.swapaxes(chol, 0, 1)) / (size - 1)
    elif sampler == "suffstat":
        zbar = rng.standard_normal((p,) + shape) / np.sqrt(size)
        cov = batched.gram(batched.matmul(chol, standard_wishart_factor(rng, size - 1, p, shape))) / (size - 1)
    else:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    return mu + batched.matvec(chol, zbar), cov


@dataclass(frozen=True)
class GaussianModel:
    """Estimate the mean and covariance of N(mean, cov) in the weighted loop.

    Metrics: ``"mean"`` = |mu_t - mu|^2 (squared Euclidean norm) and ``"cov"`` =
    |Sigma_t - Sigma|_F^2 (squared Frobenius norm), the errors of the paper's Figs. 7-9; and, to
    look at the fitted distribution itself, ``"mean_1"`` and ``"var_1"``, the fitted mean and
    variance of the first coordinate.
    """

    mean: np.ndarray
    cov: np.ndarray
    sampler: str = "suffstat"
    metrics: tuple[str, ...] = field(default=("mean", "cov", "mean_1", "var_1"), init=False)

    def __post_init__(self):
        mean = validate.mean_vector(self.mean, "mean")
        cov = validate.covariance(np.atleast_2d(self.cov), mean.size, "cov")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)

    @property
    def dim(self) -> int:
        return self.mean.size

    def check_sizes(self, n: int, m: int) -> None:
        # The fitted covariance must be positive definite to sample from it: more points than dims.
        need = self.dim + 1 if self.dim > 1 else 2
        why = f" (an unbiased covariance in {self.dim} dimension(s) needs {need} points)"
        validate.sample_size(n, "n", need, why)
        validate.sample_size(m, "m", need, why)

    def sample_real(self, rng, n, shape):
        b = len(shape)
        return sample_statistics(rng, batched.lift(self.mean, b), batched.lift(np.linalg.cholesky(self.cov), b),
                                 n, shape, self.sampler)

    def sample_synthetic(self, rng, state, m, shape):
        mu, cov = state
        return sample_statistics(rng, mu, covariance_factor(cov), m, shape, self.sampler)

    def fit(self, real, synthetic, w):
        if synthetic is None:
            return real
        (mr, Sr), (ms, Ss) = real, synthetic
        # w * real + (1 - w) * synthetic, written as synthetic + w * (real - synthetic) in place
        # (the synthetic statistics are fresh arrays of the full batch shape, owned by this step).
        ms += w * (mr - ms)
        Ss += w * (Sr - Ss)
        return ms, Ss

    def evaluate(self, state):
        mu, cov = state
        b = mu.ndim - 1
        return {
            "mean": np.sum((mu - batched.lift(self.mean, b)) ** 2, axis=0),
            "cov": np.sum((cov - batched.lift(self.cov, b)) ** 2, axis=(0, 1)),
            "mean_1": mu[0],
            "var_1": cov[0, 0],
        }
