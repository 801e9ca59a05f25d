"""Regression models in the weighted loop (paper-notes Sec. 3, "GLMs").

* :class:`GLMModel`: random design. Covariates x ~ N(0, I_p), fresh for the real sample and drawn
  from the same (known) design distribution for the synthetic one; responses from the true
  coefficients (real) or from the previous generation's fit (synthetic). Families: "linear"
  (y = x'theta + N(0, sigma^2), sigma known), "logistic", "poisson" (canonical links).
* :class:`FixedDesignLinearModel`: the same design X every generation for the real and the
  synthetic responses (so m = n), as in the authors' fixed-design experiment.

Per-sample weights are w/n (real) and (1-w)/m (synthetic), as in the paper. Metrics: ``"coef"`` =
|beta-hat_t - beta|^2 (beta the true, or pseudo-true, coefficients) and, for the iterative fits,
``"failed"`` = 1 where this generation's fit failed to converge (a ConvergenceWarning with the
count is also issued). Failed fits are never averaged in: :func:`lib.engine.run_loop` marks such
a replication failed from that generation on, records NaN errors for it, counts it in
``LoopResult.failed_count`` and leaves it out of every mean and standard error. (The model's
state keeps the failed fit's last finite iterate only so that the loop can carry on drawing the
same random numbers for every replication; that iterate is never recorded.)

The linear family has an exact sufficient-statistic sampler: for Gaussian covariates
G = X'X ~ Wishart(N, I) and, given G, X'eps ~ N(0, sigma^2 G), i.e. X'eps = sigma A z with A the
Bartlett factor of G (which is its Cholesky factor). The fit solves (w G_r/n + (1-w) G_s/m) theta
= w b_r/n + (1-w) b_s/m with b = X'y.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import batched, glm, validate
from .gaussian import standard_wishart_factor

__all__ = ["GLMModel", "FixedDesignLinearModel", "PopulationLogisticModel"]

SAMPLERS = ("full", "suffstat")


def _weighted_parts(real, synthetic, w, p):
    """The loop's weighted fit in the solver's terms: parts (design, response, weight), the Newton
    start (the coefficients that generated the synthetic sample; zeros at generation 0) and the
    number of points, and the parts' means at the start where known (the synthetic sample's,
    from drawing its responses). Samples are (design, response, size[, generating coefficients[,
    means]])."""
    A_r, c_r, n = real
    if synthetic is None:
        return [(A_r, c_r, 1.0 / n)], np.zeros((p,) + (1,) * (c_r.ndim - 1)), n, None
    A_s, c_s, m, start, *means = synthetic
    return [(A_r, c_r, w / n), (A_s, c_s, (1 - w) / m)], start, n + m, [None, means[0] if means else None]


def _newton_fit(fam, parts, start, tol, max_iter, **options):
    """(coefficients, failed) by :func:`lib.glm.newton`, warning once with the count of failures."""
    theta, ok, _ = glm.newton(fam, parts, start, tol=tol, max_iter=max_iter, **options)
    if not np.all(ok):
        glm.warn_failures(fam.name, int(np.sum(~ok)), ok.size, max_iter)
    return theta, ~ok


@dataclass(frozen=True)
class GLMModel:
    """A GLM with N(0, I_p) covariates in the weighted loop; see the module docstring.

    ``sampler``: "full" draws every covariate and response; "suffstat" (linear family only, and its
    default) draws X'X and X'y directly, exactly in distribution.

    ``penalty``: lambda >= 0 adds (lambda / 2) |theta|^2 to the weighted mean loss (ridge; 0, the
    default, is the maximum-likelihood fit of the theory). scikit-learn's L2 penalty with parameter
    C on a fit of N unit-weight points is lambda = 1 / (C N); the authors' fully synthetic logistic
    fits (Fig. 7) fall back to C = 1e6, see :mod:`lib.experiments`. ``max_step`` bounds Newton's
    steps (:func:`lib.glm.newton`); penalised fits of separated data converge faster with ~10.
    """

    family: str
    coef: np.ndarray
    sigma: float = 1.0
    sampler: str | None = None
    tol: float = 1e-7
    max_iter: int = 50
    penalty: float = 0.0
    max_step: float = 2.0
    metrics: tuple[str, ...] = field(default=("coef", "failed"), init=False)

    def __post_init__(self):
        fam = glm.family(self.family)
        tol, max_iter, max_step = glm.check_solver_settings(self.tol, self.max_iter, self.max_step)
        penalty = validate.non_negative(self.penalty, "penalty")
        coef = validate.mean_vector(self.coef, "coef")
        sigma = validate.positive(self.sigma, "sigma")
        sampler = self.sampler or ("suffstat" if fam.name == "linear" else "full")
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        if sampler == "suffstat" and fam.name != "linear":
            raise ValueError("sampler 'suffstat' is exact only for the linear family; use 'full'")
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "sampler", sampler)
        object.__setattr__(self, "penalty", penalty)
        object.__setattr__(self, "tol", tol)
        object.__setattr__(self, "max_iter", max_iter)
        object.__setattr__(self, "max_step", max_step)
        object.__setattr__(self, "_fam", fam)

    @property
    def dim(self) -> int:
        return self.coef.size

    def check_sizes(self, n: int, m: int) -> None:
        why = f" (a regression with {self.dim} coefficients needs at least {self.dim} points)"
        validate.sample_size(n, "n", self.dim, why)
        validate.sample_size(m, "m", self.dim, why)

    def chunk_pairs(self, n: int, m: int) -> int:
        """(weight, replication) pairs per chunk: the full sampler holds ~(p + 4) (n + m) floats
        per pair, so bound that to about 50 MB per array."""
        return 100_000 if self.sampler == "suffstat" else max(1, 6_000_000 // (n + m))

    # --- sampling -------------------------------------------------------------------------------
    def _draw(self, rng, theta, size, shape):
        """(design part, response part, size) for ``size`` points whose responses follow ``theta``:
        (X, y) for the full sampler, (X'X, X'y) for the sufficient-statistic one."""
        p = self.dim
        if self.sampler == "suffstat":
            A = standard_wishart_factor(rng, size, p, shape)  # G = A A', A lower triangular
            G = batched.gram(A)
            b = batched.matvec(G, theta) + self.sigma * batched.matvec(A, rng.standard_normal((p,) + shape))
            return G, b, size
        X = rng.standard_normal((p, size) + shape)
        # fam.sample's draws and numbers, keeping the means mu = h(x' theta): they are the first
        # Newton iteration's means when theta starts the fit (logistic: -eta formed directly)
        if self._fam.name == "logistic":
            u = rng.random((size,) + np.broadcast_shapes(shape, theta.shape[1:]))
            mu = glm._expit(glm.linear_predictor(X, -theta), out="negated")
            return X, (u < mu).astype(float), size, mu
        eta = glm.linear_predictor(X, theta)
        if self._fam.name == "poisson":
            mu = np.exp(np.minimum(eta, glm._ETA_MAX, out=eta), out=eta)
            return X, rng.poisson(mu).astype(float), size, mu
        if self._fam.name == "linear":
            return X, eta + self.sigma * rng.standard_normal(eta.shape), size
        return X, self._fam.sample(rng, eta), size

    def sample_real(self, rng, n, shape):
        return self._draw(rng, batched.lift(self.coef, len(shape)), n, shape)[:3]

    def sample_synthetic(self, rng, state, m, shape):
        theta = state[0]
        # The generating coefficients travel with the sample: they are the warm start of the fit
        # (and the means at them, where drawn, its first iteration's means).
        X, y, size, *means = self._draw(rng, theta, m, shape)
        return (X, y, size, theta, *means)

    # --- fitting --------------------------------------------------------------------------------
    def fit(self, real, synthetic, w):
        weighted, start, _, means = _weighted_parts(real, synthetic, w, self.dim)
        if self.sampler == "suffstat":
            # Weighted least squares from X'X and X'y: (sum a G) theta = sum a b.
            H = sum(a * G for G, _, a in weighted)
            if self.penalty:
                H = H + self.penalty * batched.lift(np.eye(self.dim), H.ndim - 2)
            theta = batched.solve_spd(H, sum(a * b for _, b, a in weighted))
            return theta, np.zeros(theta.shape[1:], dtype=bool)
        # (For the linear family the first Newton step is the least-squares solution; the second
        # confirms it.)
        return _newton_fit(self._fam, weighted, start, self.tol, self.max_iter,
                           max_step=np.inf if self._fam.name == "linear" else self.max_step,
                           penalty=np.full(self.dim, self.penalty) if self.penalty else None, start_means=means)

    def evaluate(self, state):
        theta, failed = state
        return {"coef": np.sum((theta - batched.lift(self.coef, theta.ndim - 1)) ** 2, axis=0),
                "failed": failed.astype(float)}


@dataclass(frozen=True)
class FixedDesignLinearModel:
    """Least squares with the same design X (N x p) every generation, for the real and the
    synthetic responses alike (so n = m = N), as in the authors' fixed-design experiment.

    With the same X, the weighted least-squares fit is theta_t = w b_real + (1 - w) b_syn, the
    weighted average of two ordinary least-squares estimates b = (X'X)^{-1} X'y. Given the
    coefficients that generated the responses, b ~ N(coefficients, sigma^2 (X'X)^{-1}) exactly:
    the "suffstat" sampler draws b directly, the "full" sampler draws y and solves.
    """

    X: np.ndarray
    coef: np.ndarray
    sigma: float = 1.0
    sampler: str = "suffstat"
    metrics: tuple[str, ...] = field(default=("coef",), init=False)

    def __post_init__(self):
        coef = validate.mean_vector(self.coef, "coef")
        X = np.asarray(self.X, dtype=float)
        if X.ndim != 2 or X.shape[1] != coef.size:
            raise ValueError(f"X must be an N x {coef.size} matrix to match coef, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite (no NaN or infinity)")
        if np.linalg.matrix_rank(X) < coef.size:
            raise ValueError(f"X is singular (rank < {coef.size}): the least-squares fit is not unique")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {self.sampler!r}")
        sigma = validate.positive(self.sigma, "sigma")
        gram_inv = np.linalg.inv(X.T @ X)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "sigma", sigma)
        object.__setattr__(self, "_solve", gram_inv @ X.T)  # (X'X)^{-1} X'
        object.__setattr__(self, "_chol", np.linalg.cholesky(sigma**2 * gram_inv))

    def check_sizes(self, n: int, m: int) -> None:
        N = self.X.shape[0]
        for name, value in (("n", n), ("m", m)):
            if validate.sample_size(value, name) != N:
                raise ValueError(f"{name} must equal the number of rows of the fixed design X ({N}), got {value}")

    def _draw(self, rng, theta, shape):
        p = self.coef.size
        if self.sampler == "suffstat":
            return theta + batched.matvec(batched.lift(self._chol, len(shape)), rng.standard_normal((p,) + shape))
        N = self.X.shape[0]
        eps = self.sigma * rng.standard_normal((N,) + shape)
        mean = np.einsum("nj,j...->n...", self.X, np.broadcast_to(theta, (p,) + shape))
        return np.einsum("jn,n...->j...", self._solve, mean + eps)

    def sample_real(self, rng, n, shape):
        return self._draw(rng, batched.lift(self.coef, len(shape)), shape)

    def sample_synthetic(self, rng, state, m, shape):
        return self._draw(rng, state, shape)

    def fit(self, real, synthetic, w):
        return real if synthetic is None else synthetic + w * (real - synthetic)

    def evaluate(self, state):
        return {"coef": np.sum((state - batched.lift(self.coef, state.ndim - 1)) ** 2, axis=0)}


@dataclass(frozen=True)
class PopulationLogisticModel:
    """Logistic regression on a finite population (X, y), as in the paper's Adult experiment.

    Real rows are drawn with replacement from the population; synthetic rows take covariates
    drawn from the population and labels Bernoulli(s(x' theta_{t-1})). ``X`` includes any intercept
    column. ``coef`` is the pseudo-truth the error is measured against (the fit on the whole
    population, see :func:`lib.glm.fit_glm`).

    ``C``: None fits the maximum-likelihood estimate; a number adds scikit-learn's L2 penalty
    |theta|^2 / 2 (all but the first coefficient, the intercept) to C times the weighted loss
    with weights w (n + m)/n and (1 - w)(n + m)/m, which is what the paper's code does, i.e. a
    penalty 1 / (C N) relative to the weighted mean loss of a fit on N points.
    """

    X: np.ndarray
    y: np.ndarray
    coef: np.ndarray
    C: float | None = None
    tol: float = 1e-7
    max_iter: int = 50
    metrics: tuple[str, ...] = field(default=("coef", "failed"), init=False)

    def __post_init__(self):
        X = np.asarray(self.X, dtype=float)
        y = np.asarray(self.y, dtype=float)
        coef = validate.mean_vector(self.coef, "coef")
        if X.ndim != 2 or X.shape[1] != coef.size or y.shape != (X.shape[0],):
            raise ValueError(f"X must be N x {coef.size} and y of length N; got X {X.shape}, y {y.shape}")
        glm.family("logistic").check_response(y)
        if self.C is not None:
            validate.positive(self.C, "C")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite (no NaN or infinity)")
        tol, max_iter = glm.check_solver_settings(self.tol, self.max_iter)
        object.__setattr__(self, "tol", tol)
        object.__setattr__(self, "max_iter", max_iter)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "coef", coef)
        object.__setattr__(self, "_XT", np.ascontiguousarray(X.T))

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n", self.coef.size)
        validate.sample_size(m, "m", self.coef.size)

    def chunk_pairs(self, n: int, m: int) -> int:
        return max(1, 2_000_000 // (n + m))

    def _penalty(self, size):
        if self.C is None:
            return None
        lam = np.full(self.coef.size, 1.0 / (self.C * size))
        lam[0] = 0.0
        return lam

    def sample_real(self, rng, n, shape):
        idx = rng.integers(len(self.y), size=(n,) + shape)
        return self._XT[:, idx], self.y[idx], n

    def sample_synthetic(self, rng, state, m, shape):
        theta = state[0]
        X = self._XT[:, rng.integers(len(self.y), size=(m,) + shape)]
        # The family's draws and numbers (see GLMModel._draw), keeping the means for the fit.
        u = rng.random((m,) + np.broadcast_shapes(shape, theta.shape[1:]))
        mu = glm._expit(glm.linear_predictor(X, -theta), out="negated")
        return X, (u < mu).astype(float), m, theta, mu

    def fit(self, real, synthetic, w):
        parts, start, size, means = _weighted_parts(real, synthetic, w, self.coef.size)
        return _newton_fit(glm.family("logistic"), parts, start, self.tol, self.max_iter,
                           penalty=self._penalty(size), start_means=means)

    def evaluate(self, state):
        theta, failed = state
        return {"coef": np.sum((theta - batched.lift(self.coef, theta.ndim - 1)) ** 2, axis=0),
                "failed": failed.astype(float)}
