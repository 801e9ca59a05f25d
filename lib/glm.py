"""Weighted generalised linear models with canonical links, fitted many at once.

The weighted loop fits, at every generation, the minimiser of

    w (1/n) sum_real nll(theta; x_i, y_i) + (1 - w) (1/m) sum_syn nll(theta; x_j, y_j),

i.e. a GLM with per-sample weights w/n (real) and (1-w)/m (synthetic), exactly as in the paper
(and the authors' ``sample_weight``). With a canonical link the gradient and Hessian of the
weighted negative log-likelihood are

    g = -sum_i a_i x_i (y_i - mu_i),      H = sum_i a_i v_i x_i x_i',

with mu = h(x' theta) the inverse link and v = h'(x' theta) the variance function. :func:`newton`
solves g = 0 for every batch element at once: damped Newton steps, a p x p Cholesky solve per
element, stopping when max |g| < ``tol`` for every element or after ``max_iter`` steps.

Arrays are parameters first, batch last (:mod:`lib.batched`): a design is (p, N, *batch), a
response (N, *batch), coefficients (p, *batch).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import batched, validate

__all__ = ["Family", "FAMILIES", "family", "newton", "fit_glm", "GLMFitResult", "ConvergenceWarning",
           "linear_predictor", "warn_failures"]

# exp() overflows above ~709; a Poisson linear predictor this large means a diverged fit, which is
# flagged as not converged rather than turned into inf/NaN.
_ETA_MAX = 700.0
_FINISH_FRACTION = 0.25
# A step ends a fit when the next one is predicted below this fraction of the tolerance.
_PREDICTED_FRACTION = 0.01


class ConvergenceWarning(UserWarning):
    """Some fits did not reach the gradient tolerance (for logistic regression, typically because
    the data are separable and no maximum-likelihood estimate exists)."""


def _check_binary(y):
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must contain only 0 and 1 for logistic regression")


def _check_counts(y):
    if np.any(y < 0) or not np.all(y == np.round(y)):
        raise ValueError("y must contain non-negative integer counts for Poisson regression")


def _check_real(y):
    pass


def _expit(eta, out=None):
    """1 / (1 + exp(-eta)), into ``out`` (may be ``eta`` itself), several times faster than scipy's
    expit on large arrays; exp overflows to inf for eta < -709, which correctly gives 0. With
    ``out="negated"``, ``eta`` holds -eta already and is overwritten (one pass fewer)."""
    mu = eta if isinstance(out, str) and out == "negated" else np.negative(eta, out=out)
    with np.errstate(over="ignore"):
        np.exp(mu, out=mu)
    mu += 1.0
    return np.reciprocal(mu, out=mu)


def _logistic_mean_var(eta):
    mu = _expit(eta)
    return mu, mu * (1.0 - mu)


def _poisson_mean_var(eta):
    mu = np.exp(np.minimum(eta, _ETA_MAX))
    return mu, mu


def _linear_mean_var(eta):
    return eta, np.ones_like(eta)


@dataclass(frozen=True)
class Family:
    """A GLM family with its canonical link: ``mean_var(eta) -> (mu, v)``, a response sampler
    ``sample(rng, eta)``, a response check, and ``eta_limit``: a fit with a linear predictor beyond
    it is flagged as failed (Poisson: the fitted mean would overflow)."""

    name: str
    mean_var: Callable
    sample: Callable
    check_response: Callable
    eta_limit: float = np.inf


FAMILIES = {
    "linear": Family("linear", _linear_mean_var, lambda rng, eta: eta + rng.standard_normal(eta.shape), _check_real),
    "logistic": Family("logistic", _logistic_mean_var,
                       lambda rng, eta: (rng.random(eta.shape) < _expit(eta)).astype(float),
                       _check_binary),
    "poisson": Family("poisson", _poisson_mean_var,
                      lambda rng, eta: rng.poisson(np.exp(np.minimum(eta, _ETA_MAX))).astype(float), _check_counts,
                      _ETA_MAX),
}


def family(name: str) -> Family:
    """The family called ``name`` ("linear", "logistic" or "poisson")."""
    if name not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {name!r}")
    return FAMILIES[name]


def linear_predictor(X: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """eta[n] = sum_j X[j, n] theta[j]; X (p, N, ...) and theta (p, ...) broadcast over the batch.
    (One einsum: it writes eta once, where a sum of p products writes it p times plus temporaries.)"""
    return np.einsum("kn...,k...->n...", X, theta)


def _pairs(p):
    """Index pairs (i, j), i >= j, of the Hessian's distinct entries."""
    return [(i, j) for i in range(p) for j in range(i + 1)]


def _products(X):
    """x_i x_j for each distinct Hessian entry: (p (p + 1) / 2, N, ...). They do not change
    between Newton iterations, so they are formed once per fit."""
    pairs = _pairs(X.shape[0])
    out = np.empty((len(pairs),) + X.shape[1:], dtype=X.dtype)
    for q, (i, j) in enumerate(pairs):  # into one array: no per-pair temporaries to stack
        np.multiply(X[i], X[j], out=out[q])
    return out


def _sum_over_samples(A, b):
    """sum_n A[k, n, ...] b[n, ...] for every k, A broadcast to b's batch shape. (The real sample
    is shared by all weights; einsum on an explicit broadcast view is ~4x faster than letting it
    broadcast, and one call for all k is up to 3x faster than one call per k on small batches.)"""
    return np.einsum("kn...,n...->k...", np.broadcast_to(A, A.shape[:1] + b.shape), b)


def _prepare(part):
    """A part (X, y, a[, s]) with what stays fixed during a fit: the products XX and the per-sample
    weights s (or None)."""
    X, y, a, *rest = part
    return X, y, a, _products(X), rest[0] if rest else None


def _residual_variance(fam: Family, X, y, theta):
    """(y - mu, v) at theta for every sample, with as few passes over the samples as the family
    allows: the linear predictor is formed once, by one einsum, and overwritten in place. The
    numbers are those of ``fam.mean_var``: logistic regression forms -eta directly (the same
    numbers with the sign flipped, as rounding is symmetric); Poisson regression skips the clamp
    at ``_ETA_MAX`` unless some exp overflows, and then recomputes with it."""
    if fam.name == "logistic":
        mu = _expit(linear_predictor(X, -theta), out="negated")
        v = np.subtract(1.0, mu)
        v *= mu
        return np.subtract(y, mu, out=mu), v
    if fam.name == "poisson":
        eta = linear_predictor(X, theta)
        with np.errstate(over="ignore"):
            mu = np.exp(eta, out=eta)
        if not np.isfinite(np.max(mu)):  # one reduction: cheaper than clamping every sample
            mu = np.exp(np.minimum(linear_predictor(X, theta), _ETA_MAX))
        return y - mu, mu
    mu, v = fam.mean_var(linear_predictor(X, theta))
    return y - mu, v


def _gradient_hessian(fam: Family, parts, theta, means=None):
    """g = sum_parts a sum_i s_i x_i (y_i - mu_i) (ascent direction of the weighted
    log-likelihood) and H = sum_parts a sum_i s_i v_i x_i x_i' (Hessian of its negative).
    ``parts`` holds (X, y, a, XX, s) from :func:`_prepare`. (The residual y - mu is formed sample
    by sample, not as sum y x - sum mu x: under separation the residuals are far below the
    rounding error of those sums, and they are what shows that the fit does not converge.)
    ``means``: the parts' mu at theta where known (see :func:`newton`), else None."""
    p = theta.shape[0]
    g = H_flat = None
    for q, (X, y, a, XX, s) in enumerate(parts):
        mu = None if means is None or fam.name not in ("logistic", "poisson") else means[q]
        if mu is None:
            r, v = _residual_variance(fam, X, y, theta)
        else:  # the same numbers from the given means, which are left unchanged
            r, v = y - mu, (mu * (1.0 - mu) if fam.name == "logistic" else mu)
        if s is not None:  # weights inside the sums over samples
            r *= s
            v = v * s
        g_part = a * _sum_over_samples(X, r)
        H_part = a * _sum_over_samples(XX, v)
        g = g_part if g is None else g + g_part
        H_flat = H_part if H_flat is None else H_flat + H_part
    H = np.empty((p, p) + H_flat.shape[1:])
    for q, (i, j) in enumerate(_pairs(p)):
        H[i, j] = H[j, i] = H_flat[q]
    return g, H


def newton(fam: Family, parts, theta0: np.ndarray, tol: float = 1e-7, max_iter: int = 50,
           max_step: float = 2.0, penalty=None, start_means=None):
    """Maximise the weighted log-likelihood for every batch element.

    ``parts`` is a list of ``(X, y, a)`` or ``(X, y, a, s)``: design (p, N, ...), response
    (N, ...), a weight ``a`` shared by the part's samples (scalar or broadcastable to the batch; the
    loop's w/n and (1-w)/m) and optional per-sample weights ``s`` of the response's shape.
    ``theta0`` (p, ...) is the starting point (the loop passes the previous generation's fit: a
    few steps suffice). Steps longer than ``max_step`` (in the norm below) are shortened, which keeps
    Newton stable far from the optimum without changing its fixed point. ``penalty`` (p,) adds
    (1/2) sum_j penalty_j theta_j^2 to the weighted negative log-likelihood (ridge; 0 leaves a
    coefficient, such as an intercept, unpenalised). ``start_means``: optionally, one entry per
    part, the means mu = h(x' theta0) of its samples at the start (None where not known); the loop
    has them from drawing the synthetic responses, and the first iteration then skips computing
    them. They must be the numbers the family computes (they are not checked).

    Step lengths are measured by their effect on the linear predictor, |s|_G = sqrt(s' G s) with
    G = sum_parts a sum_i x_i x_i' (the root-mean-square change of x' theta over the weighted
    samples): unlike |s| this does not depend on the units of the covariates. An element has
    converged when its Newton step s = H^-1 g has |s|_G < ``tol``; the step is then applied,
    leaving an error of order |s|^2 (Newton converges quadratically). It has also converged, one
    evaluation earlier, when the step after a full step s_k is predicted below tol / 100: near
    the optimum |s_(k+1)|_G ~ c |s_k|_G^2 with c ~ |s_k|_G / |s_(k-1)|_G^2, so the prediction is
    |s_k|^3 / |s_(k-1)|^2 (taken only where the steps shrink and s_(k-1) was not shortened); that
    evaluation would only have confirmed convergence. Under separation the gradient
    vanishes but the likelihood keeps rising along a direction in which H is nearly singular, so
    the step never shrinks: those fits end after ``max_iter`` steps, flagged.

    Returns ``(theta, converged, iterations)``; ``converged`` is a boolean array over the batch,
    also False where the linear predictor of some sample exceeds ``fam.eta_limit`` or a step was
    not finite. This low-level solver leaves the last finite iterate in ``theta`` where an element
    failed, so that a batch keeps its shape and a loop can carry on; that iterate is not an
    estimate, and the callers never report it as one: :func:`fit_glm` returns NaN for it, and
    :func:`lib.engine.run_loop` records the replication as failed (NaN errors) from that
    generation on.
    """
    # A part with weight zero everywhere (the real sample of the fully synthetic loop, w = 0)
    # changes nothing but the cost.
    means = list(start_means) if start_means is not None else [None] * len(parts)
    keep = [q for q, part in enumerate(parts) if np.any(np.asarray(part[2]) != 0)] or [0]
    raw_parts = [parts[q] for q in keep]
    means = [means[q] for q in keep]
    parts = [_prepare(part) for part in raw_parts]
    p = np.shape(theta0)[0]
    gram_flat = sum(a * (XX.sum(axis=1) if s is None else _sum_over_samples(XX, s)) for X, y, a, XX, s in parts)
    gram = np.empty((p, p) + gram_flat.shape[1:])
    for q, (i, j) in enumerate(_pairs(p)):
        gram[i, j] = gram[j, i] = gram_flat[q]
    theta = np.array(theta0, dtype=float)
    for it in range(max_iter + 1):
        g, H = _gradient_hessian(fam, parts, theta, means if it == 0 else None)
        if penalty is not None:
            lam = batched.lift(np.asarray(penalty, dtype=float), g.ndim - 1)
            g = g - lam * theta
            H = H + lam[:, None] * batched.lift(np.eye(g.shape[0]), g.ndim - 1)
        if it == 0:  # the first step broadcasts a shared start over the batch
            theta = np.broadcast_to(theta, g.shape).copy()
            failed = np.zeros(g.shape[1:], dtype=bool)
        p = g.shape[0]
        # A tiny ridge keeps the solve defined where H is nearly singular (separation) without
        # moving the solution: it changes the step, not the point where g = 0.
        trace = H[0, 0].copy()
        for i in range(1, p):
            trace += H[i, i]
        ridge = 1e-12 * trace / p + 1e-300
        for i in range(p):  # H + ridge I, in place (H is this iteration's own array)
            H[i, i] += ridge
        step = batched.solve_spd(H, g, check=False)
        bad = ~np.all(np.isfinite(step), axis=0)
        if bad.any():
            failed |= bad
            step[:, bad] = 0.0
        norm = np.sqrt(np.maximum(np.einsum("i...,ij...,j...->...", step, gram, step), 0.0))
        converged = (norm < tol) & ~failed
        if it >= 1:
            # Newton converges quadratically: the step after this one would be about
            # norm^3 / previous^2. Where that is far below tol, this step ends the fit, and the
            # evaluation that would only confirm it is skipped (see the docstring).
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                predicted = norm**3 / previous**2
            converged |= (predicted < _PREDICTED_FRACTION * tol) & (norm < previous) & (previous <= max_step) & ~failed
        previous = norm
        if it == max_iter:
            break
        step *= np.minimum(1.0, max_step / np.maximum(norm, 1e-300))
        candidate = theta + step
        ok = np.all(np.isfinite(candidate), axis=0)
        failed |= ~ok
        theta = np.where(ok, candidate, theta)
        if np.all(converged | failed):
            break
        active = ~(converged | failed)
        if it >= 1 and active.size >= 64 and np.count_nonzero(active) <= _FINISH_FRACTION * active.size:
            # A few slow elements (near separation, say) would otherwise keep the whole batch
            # iterating: finish them on their own, with the steps they have left.
            idx = np.nonzero(active)
            sub = [_take(part, idx, active.shape) for part in raw_parts]
            theta_sub, conv_sub, it_sub = newton(fam, sub, theta[(slice(None),) + idx], tol=tol,
                                                 max_iter=max_iter - it - 1, max_step=max_step, penalty=penalty)
            theta[(slice(None),) + idx] = theta_sub
            converged[idx] = conv_sub
            it += 1 + it_sub
            break
    if np.isfinite(fam.eta_limit):
        for X, y, a, XX, s in parts:
            extreme = np.abs(linear_predictor(X, theta)) > fam.eta_limit
            if s is not None:
                extreme &= s > 0
            converged &= ~np.any(extreme, axis=0)
    return theta, converged, it


def _take(part, idx, batch_shape):
    """A part of :func:`newton`'s problem restricted to the batch elements ``idx`` (a tuple of
    index arrays over ``batch_shape``); shared (broadcast) data are copied for those elements only."""
    X, y, a, *rest = part
    pick = lambda arr, lead: np.broadcast_to(arr, arr.shape[:lead] + batch_shape)[(slice(None),) * lead + idx]
    return (pick(X, 2), pick(y, 1), pick(np.asarray(a, dtype=float), 0)) + tuple(pick(s, 1) for s in rest)


def warn_failures(name: str, failed: int, total: int, max_iter: int) -> None:
    """The one warning for fits that failed (see :func:`newton`)."""
    warnings.warn(f"{failed} of {total} {name} fits failed: Newton step not below tolerance "
                  f"after {max_iter} Newton steps (for logistic regression typically separation: no "
                  f"maximum-likelihood estimate exists), or the fitted mean overflowed",
                  ConvergenceWarning, stacklevel=3)


@dataclass(frozen=True)
class GLMFitResult:
    """``coef``: the fitted coefficients, NaN for a fit that failed (``converged`` False; there is
    no maximum-likelihood estimate to return, e.g. under separation). ``last_iterate``: the
    solver's last finite iterate, also for failed fits, for diagnosis only (under separation it
    points along the separating direction); it is not an estimate."""

    coef: np.ndarray
    converged: np.ndarray
    iterations: int
    last_iterate: np.ndarray


_NO_STEP = object()


def check_solver_settings(tol, max_iter, max_step=_NO_STEP):
    """Validate Newton's settings: ``tol`` in (0, 1), ``max_iter`` an integer >= 1, ``max_step``
    (if given) a finite number > 0. Returns them as (float, int[, float])."""
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not (0 < tol < 1):
        raise ValueError(f"tol must be a number in (0, 1) (the convergence tolerance), got {tol!r}")
    max_iter = validate.positive_int(max_iter, "max_iter")
    if max_step is _NO_STEP:
        return float(tol), max_iter
    return float(tol), max_iter, validate.positive(max_step, "max_step")


def fit_glm(family_name: str, X, y, sample_weight=None, tol: float = 1e-7, max_iter: int = 50,
            penalty=None) -> GLMFitResult:
    """Weighted GLM fit without intercept (add a column of ones to X for one), in the usual layout.

    Minimises sum_i a_i nll_i + (1/2) sum_j penalty_j theta_j^2 with a_i = sample_weight_i /
    sum(sample_weight): the penalty is relative to the weighted *mean* loss. (scikit-learn's
    ``LogisticRegression(C=C)`` minimises C sum_i sample_weight_i nll_i + |theta|^2 / 2, which is
    ``penalty = 1 / (C * sum(sample_weight))`` here, 0 for the intercept.)

    ``X`` is (N, p) or a batch (B, N, p); ``y`` is (N,) or (B, N); ``sample_weight`` (N,) or (B, N),
    non-negative (default: all 1). Returns a :class:`GLMFitResult` with coefficients (p,) or
    (B, p). A fit that does not converge (for example under separation) is never returned as a
    number: its coefficients are NaN, ``converged`` is False, and a ConvergenceWarning gives the
    number of such fits. Raises ValueError on invalid responses, weights or shapes and on a
    singular design.
    """
    fam = family(family_name)
    tol, max_iter = check_solver_settings(tol, max_iter)
    X = validate._finite_array(X, "X")
    y = validate._finite_array(y, "y")  # refuses complex values instead of dropping their imaginary part
    single = X.ndim == 2
    if single:
        X, y = X[None], y[None]
    if X.ndim != 3 or y.ndim != 2:
        raise ValueError(f"X must be (N, p) or (B, N, p) and y (N,) or (B, N); got X {X.shape}, y {y.shape}")
    if y.shape != X.shape[:2]:
        raise ValueError(f"y has shape {y.shape[1:] if single else y.shape}, but X has "
                         f"{X.shape[1]} rows{'' if single else f' in {X.shape[0]} problems'}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite (no NaN or infinity)")
    fam.check_response(y)
    if sample_weight is None:
        a = np.ones_like(y)
    else:
        a = np.asarray(sample_weight, dtype=float)
        a = a[None] if single else a
        if a.shape != y.shape:
            raise ValueError(f"sample_weight must have the shape of y, {y.shape[1:] if single else y.shape}; "
                             f"got {np.shape(sample_weight)}")
        if not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a.sum(axis=1) == 0):
            raise ValueError("sample_weight must be finite, non-negative and not all zero")
    a = a / a.sum(axis=1, keepdims=True)  # same solution; makes the gradient tolerance scale-free
    for b in range(X.shape[0]):  # a singular design has no unique fit at all: refuse it
        if np.linalg.matrix_rank(X[b][a[b] > 0]) < X.shape[2]:
            raise ValueError(f"X is singular (rank < {X.shape[2]} on the samples with positive weight)"
                             + ("" if single else f" in problem {b}"))
    max_iter = validate.positive_int(max_iter, "max_iter")
    # To the solver's layout: design (p, N, B), response and weights (N, B).
    Xb, yb, sb = np.moveaxis(X, (0, 1, 2), (2, 1, 0)), y.T, a.T
    if penalty is not None:
        pen = validate._finite_array(penalty, "penalty")
        if pen.ndim > 1 or pen.size not in (1, X.shape[2]):
            raise ValueError(f"penalty must be one number or one per coefficient ({X.shape[2]}), got shape {pen.shape}")
        if np.any(pen < 0):
            raise ValueError("penalty must be non-negative")
        penalty = np.broadcast_to(pen, (X.shape[2],))
    theta, converged, it = newton(fam, [(Xb, yb, 1.0, sb)], np.zeros((X.shape[2], X.shape[0])),
                                  tol=tol, max_iter=max_iter, penalty=penalty)
    if not np.all(converged):
        warn_failures(fam.name, int(np.sum(~converged)), converged.size, max_iter)
    last = theta.T
    coef = np.where(converged[:, None], last, np.nan)
    pick = (lambda a: a[0]) if single else (lambda a: a)
    return GLMFitResult(coef=pick(coef), converged=pick(converged), iterations=it, last_iterate=pick(last))
