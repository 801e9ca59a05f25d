"""Min-norm interpolation and ridge on a fixed design in the weighted loop (p > n allowed).

The model of :mod:`lib.frontier.overparam_theory` for :func:`lib.engine.run_loop`: the design X
(n x p) is the same at every generation, real labels follow the true coefficients and synthetic
labels the previous fit, and the fit minimises

    w |y - X b|^2 / n + (1 - w) |y~ - X b|^2 / n + lambda |b|^2            (eq-op-loss)

(the minimum-norm minimiser when lambda = 0). Because the design is shared, the minimiser is
S (w y + (1 - w) y~) with S = (X'X/n + lambda I)^+ X'/n, the weighted average of two one-sample
fits S y and S y~: :meth:`FixedDesignRidgeModel.fit` averages them, as
:class:`lib.regression.FixedDesignLinearModel` does for least squares.

Samplers: ``"full"`` draws every label and applies S (p x n); ``"suffstat"`` (default) draws the
fit's coordinates in the right-singular basis directly. With X = U diag(s) V' (rank r), a fit on
labels X c + sigma z is V_r (a * V_r'c + sigma s / (s^2 + n lambda) * z') with z' = U_r'z ~ N(0, I_r)
exactly and a = s^2 / (s^2 + n lambda); the null-space part of every fit is zero, so its error
|(I - P) beta|^2 is added once. Both are exact in law.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import batched, validate
from .overparam_theory import _design, require_full_rank

__all__ = ["gaussian_design", "ar1_covariance", "fit_weighted", "FixedDesignRidgeModel", "simulate_redrawn"]


def ar1_covariance(p, rho):
    """The p x p covariance rho^|i - j| (a non-isotropic design), rho in (-1, 1).

    Examples
    --------
    >>> ar1_covariance(3, 0.5)
    array([[1.  , 0.5 , 0.25],
           [0.5 , 1.  , 0.5 ],
           [0.25, 0.5 , 1.  ]])
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be an integer >= 1 (the number of covariates), got {p!r}")
    r = float(validate._finite_array(rho, "rho"))
    if not -1 < r < 1:
        raise ValueError(f"rho must lie in (-1, 1), got {rho!r}")
    i = np.arange(p)
    return r ** np.abs(i[:, None] - i[None, :])


def gaussian_design(rng, n, p, cov=None, df=None):
    """An n x p design with rows N(0, cov) (default identity), or multivariate t with ``df``
    degrees of freedom (heavy tails, same covariance for df > 2). Raises ValueError for p < 1.

    Examples
    --------
    >>> gaussian_design(np.random.default_rng(0), 2, 3).shape
    (2, 3)
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be an integer >= 1 (the number of covariates), got {p!r}")
    n = validate.sample_size(n, "n")
    Z = rng.standard_normal((n, p))
    if cov is not None:
        Z = Z @ np.linalg.cholesky(validate.covariance(cov, p, "cov")).T
    if df is not None:
        dfv = float(validate.ratio(df, "df"))
        if dfv <= 2:
            raise ValueError(f"df must be > 2 (finite covariance), got {df!r}")
        Z = Z * np.sqrt((dfv - 2) / rng.chisquare(dfv, size=(n, 1)))
    return Z


def _operator(X, lam):
    """(U_r, s_r, V_r): the thin SVD of X with singular values below the rank tolerance dropped
    (min-norm: X must have full rank min(n, p))."""
    if lam == 0:
        require_full_rank(X)
    U, sv, Vt = np.linalg.svd(X, full_matrices=False)
    tol = max(X.shape) * np.finfo(float).eps * (sv[0] if sv.size else 0.0)
    r = int(np.sum(sv > tol))
    return U[:, :r], sv[:r], Vt[:r].T


def fit_weighted(X, y, y_syn=None, w=1.0, lam=0.0):
    """The minimiser of (eq-op-loss) for label arrays of shape (n, ...) (batch axes last):
    S (w y + (1 - w) y~), S = (X'X/n + lambda I)^+ X'/n; the minimum-norm one at lambda = 0.
    Returns coefficients of shape (p, ...).

    Examples
    --------
    >>> X = np.array([[1.0, 1.0]])
    >>> fit_weighted(X, np.array([2.0]))
    array([1., 1.])
    >>> fit_weighted(X, np.array([2.0]), lam=1.0)
    array([0.66666667, 0.66666667])
    """
    X = _design(X)
    lam = validate.non_negative(lam, "lam")
    wv = validate.weights(w)
    y = np.asarray(validate._finite_array(y, "y"), dtype=float)
    if y.shape[:1] != (X.shape[0],):
        raise ValueError(f"y must have n = {X.shape[0]} rows (batch axes last), got shape {y.shape}")
    if y_syn is not None:
        y_syn = np.asarray(validate._finite_array(y_syn, "y_syn"), dtype=float)
        y = wv * y + (1 - wv) * y_syn
    U, sv, V = _operator(X, lam)
    nrow = X.shape[0]
    coef = sv / (sv**2 + nrow * lam)
    return np.einsum("pr,r...->p...", V, coef.reshape((-1,) + (1,) * (y.ndim - 1)) *
                     np.einsum("nr,n...->r...", U, y))


@dataclass(frozen=True)
class FixedDesignRidgeModel:
    """Ridge (``lam`` > 0) or min-norm interpolation (``lam`` = 0) with a fixed design X
    (n x p, any p >= 1) in the weighted loop; see the module docstring. n = m = the rows of X.

    Metric ``"coef"`` = |b_t - beta|^2. Min-norm needs X of full rank min(n, p) (else a
    ValueError naming X); ridge takes any X.

    ``fresh_real=False`` is the v2 setting of Garg et al. without fresh real data: the real labels
    of generation 0 are reused at every generation (the state carries their fit), and only the
    synthetic labels are redrawn; see :func:`lib.frontier.overparam_theory.fixed_labels_risk_path`.
    """

    X: np.ndarray
    coef: np.ndarray
    sigma: float = 1.0
    lam: float = 0.0
    sampler: str = "suffstat"
    fresh_real: bool = True
    metrics: tuple[str, ...] = field(default=("coef",), init=False)

    def __post_init__(self):
        if not isinstance(self.fresh_real, (bool, np.bool_)):
            raise ValueError(f"fresh_real must be True or False, got {self.fresh_real!r}")
        X = _design(self.X)
        coef = validate.mean_vector(self.coef, "coef")
        if coef.size != X.shape[1]:
            raise ValueError(f"coef must have p = {X.shape[1]} entries to match X, got {coef.size}")
        lam = validate.non_negative(self.lam, "lam")
        sigma = float(validate.ratio(self.sigma, "sigma"))
        if self.sampler not in ("suffstat", "full"):
            raise ValueError(f"sampler must be 'suffstat' or 'full', got {self.sampler!r}")
        U, sv, V = _operator(X, lam)
        nrow = X.shape[0]
        set_ = lambda k, v: object.__setattr__(self, k, v)
        set_("X", X)
        set_("coef", coef)
        set_("lam", lam)
        set_("sigma", sigma)
        set_("_U", U)
        set_("_V", V)
        set_("_shrink", sv**2 / (sv**2 + nrow * lam))  # a_i
        set_("_noise", sigma * sv / (sv**2 + nrow * lam))  # sd of a fit's coordinate
        set_("_S", V @ ((sv / (sv**2 + nrow * lam))[:, None] * U.T))  # p x n
        row = V.T @ coef
        set_("_row", row)
        set_("_null_bias", max(float(coef @ coef - row @ row), 0.0))

    @property
    def rank(self) -> int:
        return self._V.shape[1]

    def check_sizes(self, n: int, m: int) -> None:
        N = self.X.shape[0]
        for name, value in (("n", n), ("m", m)):
            if validate.sample_size(value, name) != N:
                raise ValueError(f"{name} must equal the number of rows of the fixed design X ({N}), got {value}")

    def chunk_pairs(self, n: int, m: int) -> int:
        per = self.rank if self.sampler == "suffstat" else self.X.shape[0] + self.X.shape[1]
        return max(1, 4_000_000 // per)

    def _draw(self, rng, c, shape):
        """A one-sample fit on labels X c + noise; ``c`` is the generating state (row-space
        coordinates for "suffstat", coefficients for "full")."""
        if self.sampler == "suffstat":
            a = batched.lift(self._shrink, len(shape))
            sd = batched.lift(self._noise, len(shape))
            return a * c + sd * rng.standard_normal((self.rank,) + shape)
        nrow = self.X.shape[0]
        mean = np.einsum("np,p...->n...", self.X, np.broadcast_to(c, (self.X.shape[1],) + shape))
        y = mean + self.sigma * rng.standard_normal((nrow,) + shape)
        return np.einsum("pn,n...->p...", self._S, y)

    def _truth(self, ndim):
        return batched.lift(self._row if self.sampler == "suffstat" else self.coef, ndim)

    def sample_real(self, rng, n, shape):
        return self._draw(rng, self._truth(len(shape)), shape)

    def sample_synthetic(self, rng, state, m, shape):
        if not self.fresh_real:
            b, real0 = state
            return self._draw(rng, b, shape), real0
        return self._draw(rng, state, shape)

    def fit(self, real, synthetic, w):
        if not self.fresh_real:
            if synthetic is None:
                return real, real
            syn, real0 = synthetic  # the fresh real sample is ignored: the labels are fixed
            return syn + w * (real0 - syn), real0
        return real if synthetic is None else synthetic + w * (real - synthetic)

    def evaluate(self, state):
        if not self.fresh_real:
            state = state[0]
        err = np.sum((state - self._truth(state.ndim - 1)) ** 2, axis=0)
        return {"coef": err + self._null_bias if self.sampler == "suffstat" else err}


def simulate_redrawn(rng, n, p, beta, sigma, w, T, replications):
    """Min-norm interpolation in the weighted loop with a new design at every generation (the
    v2 setting of Garg et al.): X_t with iid N(0, 1) entries, used for the real labels
    X_t beta + eps_t and the synthetic labels X_t b_{t-1} + eps~_t alike, and
    b_t = X_t^+ (w y_t + (1 - w) y~_t). Returns |b_t - beta|^2 of shape (T + 1, W, R) for the
    weights ``w`` (shape (W,)); generation 0 is the fit on real labels. Every replication and
    generation draws its own design; all weights share it (common random numbers).

    Examples
    --------
    >>> simulate_redrawn(np.random.default_rng(0), 5, 12, np.ones(12), 1.0, [0.5, 1.0], 3, 4).shape
    (4, 2, 4)
    """
    n = validate.sample_size(n, "n")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be an integer >= 1 (the number of covariates), got {p!r}")
    if p < n:
        raise ValueError(f"p must be >= n for min-norm interpolation, got p = {p}, n = {n}")
    beta = validate.mean_vector(beta, "beta")
    if beta.size != p:
        raise ValueError(f"beta must have p = {p} entries, got {beta.size}")
    sd = float(validate.ratio(sigma, "sigma"))
    wv = np.atleast_1d(validate.weights(w)).astype(float)
    T = validate.positive_int(T, "T")
    R = validate.sample_size(replications, "replications", 2, " (standard errors need two)")
    out = np.empty((T + 1, wv.size, R))

    def pinv_apply(X, y):
        # X (R, n, p), y (..., R, n): X'(XX')^{-1} y for every replication, one inverse per design
        Xt = np.swapaxes(X, 1, 2)  # (R, p, n)
        G_inv = np.linalg.inv(X @ Xt)  # (R, n, n)
        return (Xt @ (G_inv @ y[..., None]))[..., 0]

    X = rng.standard_normal((R, n, p))
    b = pinv_apply(X, X @ beta + sd * rng.standard_normal((R, n)))  # (R, p)
    b = np.broadcast_to(b, (wv.size, R, p)).copy()
    out[0] = np.sum((b - beta) ** 2, axis=-1)
    W = wv[:, None, None]
    for t in range(1, T + 1):
        X = rng.standard_normal((R, n, p))
        y = X @ beta + sd * rng.standard_normal((R, n))  # (R, n), shared by the weights
        y_syn = (X @ b[..., None])[..., 0] + sd * rng.standard_normal((wv.size, R, n))
        b = pinv_apply(X, W * y[None] + (1 - W) * y_syn)
        out[t] = np.sum((b - beta) ** 2, axis=-1)
    return out
