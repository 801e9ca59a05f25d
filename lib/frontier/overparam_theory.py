"""Exact stationary risk of min-norm interpolation and ridge in the fixed-design weighted loop.

The setting (frontier-notes Sec. 1; Garg, Bhattacharya and Sur, arXiv 2509.22341, re-derived here
for a fixed design): a design X (n x p, p > n allowed) is the same at every generation. Fresh real
labels are y_t = X beta + eps_t and synthetic labels y~_t = X b_{t-1} + eps~_t, both with noise
N(0, sigma^2 I_n). The fit minimises

    w |y_t - X b|^2 / n + (1 - w) |y~_t - X b|^2 / n + lambda |b|^2,

whose solution is b_t = S (w y_t + (1 - w) y~_t) with S = (X'X/n + lambda I)^+ X'/n: ridge for
lambda > 0 and the minimum-norm interpolator X^+ for lambda = 0. In the eigenbasis of the sample
second-moment matrix X'X/n = sum_i d_i v_i v_i', every direction evolves on its own. With the
shrinkage a_i = d_i / (d_i + lambda) (a_i = 1 on the row space and 0 on the null space when
lambda = 0) and one fit's noise variance s_i = sigma^2 d_i / (n (d_i + lambda)^2), the error
e_t = <b_t - beta, v_i> obeys

    e_t = (1 - w) a_i e_{t-1} + (a_i - 1) beta_i + (noise of variance (w^2 + (1 - w)^2) s_i),

so its stationary mean is (a_i - 1) beta_i / (1 - (1 - w) a_i) and its stationary variance
(w^2 + (1 - w)^2) s_i / (1 - (1 - w)^2 a_i^2). For min-norm interpolation this is the null-space
bias |(I - P) beta|^2, which no weight changes, plus sigma^2 tr((X'X)^+) V(w, 1) with V of the
paper: the optimal weight is 1/phi for *every* design.

Everything is derived with SymPy from the one-step map below (:func:`direction_step`); the
numeric functions are lambdified from the derived expressions. Eigenvalues that an eigensolver
returns for the null space (about 1e-15 instead of 0) are set to zero before any division
(:func:`clean_spectrum`): otherwise s_i ~ 1/d_i at lambda -> 0 and the risk and w* come out wrong.
This module never runs a simulation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize

from .. import validate
from ..theory import _numeric, limiting_error_expr, k as k_sym, w

__all__ = [
    "a", "d", "lam", "beta_i", "s", "sigma", "n",
    "direction_step", "stationary_mean_expr", "stationary_variance_expr", "direction_risk_expr",
    "minnorm_variance_factor_expr", "risk_derivative_terms", "path_step_exprs",
    "clean_spectrum", "design_spectrum", "direction_risk", "ridge_stationary_risk",
    "ridge_risk_path", "ridge_optimal_weight", "minnorm_stationary_risk", "minnorm_risk_parts",
    "require_full_rank", "ridge_optimal_weight_map", "fixed_labels_risk_expr", "fixed_labels_risk_path",
    "redrawn_step_expr", "redrawn_stationary_expr", "redrawn_risk_path", "redrawn_stationary_risk",
]

a = sp.Symbol("a", nonnegative=True)  # shrinkage d / (d + lambda) of one eigen-direction, in [0, 1]
d = sp.Symbol("d", nonnegative=True)  # eigenvalue of X'X / n
lam = sp.Symbol("lambda", nonnegative=True)  # ridge penalty
beta_i = sp.Symbol("beta_i", real=True)  # coordinate of the true coefficients in that direction
s = sp.Symbol("s", nonnegative=True)  # variance of one fit's noise in that direction
sigma = sp.Symbol("sigma", positive=True)
n = sp.Symbol("n", positive=True)
mean_prev = sp.Symbol(r"\bar e_{t-1}", real=True)
var_prev = sp.Symbol("v_{t-1}", nonnegative=True)


# --- symbolic derivation ---------------------------------------------------------------------

def direction_step():
    """One generation in one eigen-direction: (mean map, variance map) of the error e_t.

    The fit's coordinate is w (a beta_i + xi) + (1 - w) (a b_{t-1} + xi~) with independent
    noises xi, xi~ of variance s each (real labels follow beta, synthetic ones b_{t-1}); with
    b_{t-1} = beta_i + e_{t-1}, SymPy expands e_t = fit - beta_i and reads off the coefficient
    of e_{t-1}, the constant and the noise coefficients.
    """
    e_prev, xi, xi_s = sp.symbols("e_{t-1} xi xi_s", real=True)
    fit = w * (a * beta_i + xi) + (1 - w) * (a * (beta_i + e_prev) + xi_s)
    e_t = sp.expand(fit - beta_i)
    slope = e_t.coeff(e_prev)
    const = e_t.subs({e_prev: 0, xi: 0, xi_s: 0})
    noise = e_t.coeff(xi) ** 2 * s + e_t.coeff(xi_s) ** 2 * s
    return sp.factor(slope) * mean_prev + sp.factor(const), sp.factor(slope) ** 2 * var_prev + sp.factor(noise)


@lru_cache(maxsize=None)
def stationary_mean_expr():
    """Fixed point of the mean map: (a - 1) beta_i / (1 - (1 - w) a)."""
    mean_map, _ = direction_step()
    (sol,) = sp.solve(sp.Eq(mean_prev, mean_map), mean_prev)
    return sp.factor(sol)


@lru_cache(maxsize=None)
def stationary_variance_expr():
    """Fixed point of the variance map: (w^2 + (1 - w)^2) s / (1 - (1 - w)^2 a^2)."""
    _, var_map = direction_step()
    (sol,) = sp.solve(sp.Eq(var_prev, var_map), var_prev)
    return sp.factor(sol)


@lru_cache(maxsize=None)
def direction_risk_expr():
    """Stationary E e^2 of one direction in terms of d, lambda, n, sigma, beta_i^2 and w, with
    a = d / (d + lambda) and s = sigma^2 d / (n (d + lambda)^2)."""
    b2 = sp.Symbol("beta_i^2", nonnegative=True)
    risk = stationary_mean_expr() ** 2 + stationary_variance_expr()
    risk = sp.expand(risk).subs(beta_i**2, b2)
    return risk.subs({a: d / (d + lam), s: sigma**2 * d / (n * (d + lam) ** 2)})


@lru_cache(maxsize=None)
def minnorm_variance_factor_expr():
    """The variance factor of min-norm interpolation: the stationary variance over s at a = 1,
    checked by SymPy to be V(w, 1) of :func:`lib.theory.limiting_error_expr`."""
    factor = sp.simplify(stationary_variance_expr().subs(a, 1) / s)
    if sp.simplify(factor - limiting_error_expr().subs(k_sym, 1)) != 0:
        raise AssertionError("the min-norm variance factor is not V(w, 1)")
    return factor


@lru_cache(maxsize=None)
def risk_derivative_terms():
    """d/dw of the two parts of a direction's stationary risk, factored: the squared mean
    (a - 1)^2 beta_i^2 / (1 - (1 - w) a)^2 and the variance factor (w^2 + (1 - w)^2) /
    (1 - (1 - w)^2 a^2). Both are negative for w in [0, 1/2] when 0 < a < 1 (the bias one for
    every w < 1), which is why the ridge optimum lies above 1/2."""
    mean2 = stationary_mean_expr() ** 2
    vfac = stationary_variance_expr() / s
    return sp.factor(sp.diff(mean2, w)), sp.factor(sp.diff(vfac, w))


@lru_cache(maxsize=None)
def path_step_exprs():
    """The mean and variance maps in terms of d and lambda (for the exact finite-t path)."""
    mean_map, var_map = direction_step()
    sub = {a: d / (d + lam), s: sigma**2 * d / (n * (d + lam) ** 2)}
    return mean_map.subs(sub), var_map.subs(sub)


# --- numeric versions ------------------------------------------------------------------------

def clean_spectrum(eigenvalues, name: str = "eigenvalues"):
    """Eigenvalues of X'X/n with the numerical zeros of the null space set to exactly 0.

    An eigensolver returns about 1e-15 (of either sign) for the p - rank null directions; every
    value below ``max(len) * eps * max(eigenvalue)`` is set to 0 here, before anything divides
    by d or by (d + lambda)^2.

    Examples
    --------
    >>> clean_spectrum([4.0, 1.0, 3e-16, -2e-16])
    array([4., 1., 0., 0.])
    """
    ev = np.asarray(validate.mean_vector(eigenvalues, name), dtype=float)
    top = float(np.max(np.abs(ev)))
    tol = max(ev.size, 1) * np.finfo(float).eps * top * 10
    if np.any(ev < -tol):
        raise ValueError(f"{name} must be >= 0 (eigenvalues of X'X/n), got a minimum {ev.min()!r}")
    return np.where(ev <= tol, 0.0, ev)


def design_spectrum(X):
    """(d, V): eigenvalues of X'X/n (null ones exactly 0) and the p x p orthonormal eigenvectors,
    from the SVD of X (more accurate than eigh of X'X). Raises ValueError for p < 1 or n < 1.

    Examples
    --------
    >>> d, V = design_spectrum(np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]))
    >>> d
    array([2. , 0.5, 0. ])
    """
    X = _design(X)
    nrow, p = X.shape
    U, sv, Vt = np.linalg.svd(X, full_matrices=True)
    ev = np.zeros(p)
    ev[: sv.size] = sv**2 / nrow
    return clean_spectrum(ev, "eigenvalues of X'X/n"), Vt.T


def _design(X, name: str = "X"):
    X = np.asarray(validate._finite_array(X, name), dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{name} must be an n x p matrix, got shape {X.shape}")
    if X.shape[1] < 1:
        raise ValueError(f"p (the number of columns of {name}) must be >= 1, got p = {X.shape[1]}")
    if X.shape[0] < 1:
        raise ValueError(f"n (the number of rows of {name}) must be >= 1, got n = {X.shape[0]}")
    return X


@lru_cache(maxsize=None)
def _direction_parts_fn():
    b2 = sp.Symbol("beta2", nonnegative=True)
    mean2 = (stationary_mean_expr() ** 2).subs(beta_i**2, b2).subs(a, d / (d + lam))
    var = stationary_variance_expr().subs({a: d / (d + lam), s: sigma**2 * d / (n * (d + lam) ** 2)})
    return _numeric(mean2, (w, d, lam, b2)), _numeric(var, (w, d, lam, sigma, n))


def _path_terms(w, d_values, beta2, lam, sigma, n_rows, T):
    """The checked inputs of the risk paths and, per eigen-direction, the ridge shrinkage
    a_i = d_i / (d_i + lambda) and the one-fit variance s_i = sigma^2 d_i / (n (d_i + lambda)^2),
    both 0 on the null directions (d_i = 0, zeroed by :func:`clean_spectrum`)."""
    wv, lv, sv, nv = _check_common(w, lam, sigma, n_rows)
    T = validate.positive_int(T, "T")
    dv = clean_spectrum(d_values, "d_values")
    b2 = np.broadcast_to(np.asarray(validate._finite_array(beta2, "beta2"), dtype=float), dv.shape)
    W = np.asarray(wv, dtype=float)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        av = np.where(dv == 0, 0.0, dv / (dv + lv))
        s_i = np.where(dv == 0, 0.0, sv**2 * dv / (nv * (dv + lv) ** 2))
    return wv, W, T, dv, b2, av, s_i


def _check_common(w_, lam_, sigma_, n_):
    wv = validate.weights(w_)
    lv = validate.non_negative(lam_, "lam")
    sv = float(validate.ratio(sigma_, "sigma"))
    nv = validate.sample_size(n_, "n")
    return wv, lv, sv, nv


def direction_risk(w, d_values, lam, beta2, sigma, n_rows):
    """Stationary (squared mean, variance) per direction, shapes broadcast of w[..., None] and d.

    ``d_values`` are eigenvalues of X'X/n (cleaned by :func:`clean_spectrum`); ``beta2`` the
    squared coordinates of beta along them (same length, or a scalar: an isotropic prior).
    Directions with d = 0 (the null space) have squared mean beta_i^2 and variance 0 for every
    lambda, lambda = 0 included; with d > 0 and lambda = 0 the squared mean is 0.
    """
    wv, lv, sv, nv = _check_common(w, lam, sigma, n_rows)
    dv = clean_spectrum(d_values, "d_values")
    b2 = np.broadcast_to(np.asarray(validate._finite_array(beta2, "beta2"), dtype=float), dv.shape)
    if np.any(b2 < 0):
        raise ValueError("beta2 (squared coordinates of beta) must be >= 0")
    mean_fn, var_fn = _direction_parts_fn()
    W = np.asarray(wv, dtype=float)[..., None]
    null = dv == 0
    dd = np.where(null, 1.0, dv)  # placeholder where d = 0, replaced below
    with np.errstate(divide="ignore", invalid="ignore"):
        mean2 = np.where(null, b2, (mean_fn(W, dd, lv, b2) if lv > 0 else 0.0) * np.ones_like(W))
        var = np.where(null, 0.0, var_fn(W, dd, lv, sv, nv) * np.ones_like(W))
    if np.any(wv == 0) and lv == 0:
        # w = 0 without shrinkage: the variance of the row-space directions has no limit.
        var = np.where((W == 0) & ~null, np.inf, var)
    return mean2, var


def ridge_stationary_risk(w, d_values, lam, beta2, sigma, n_rows):
    """Stationary E|b_inf - beta|^2 of ridge (lambda > 0) or min-norm (lambda = 0) in the loop:
    sum over directions of (a_i - 1)^2 beta_i^2 / (1 - (1 - w) a_i)^2
    + (w^2 + (1 - w)^2) s_i / (1 - (1 - w)^2 a_i^2). Vectorised over ``w``.

    Examples
    --------
    >>> round(ridge_stationary_risk(1.0, [1.0, 0.0], 0.0, [2.0, 3.0], 1.0, 10), 6)
    3.1
    >>> round(ridge_stationary_risk((np.sqrt(5) - 1) / 2, [1.0], 0.0, 0.0, 1.0, 10), 4)  # 1/phi / 10
    0.0618
    """
    mean2, var = direction_risk(w, d_values, lam, beta2, sigma, n_rows)
    out = (mean2 + var).sum(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def ridge_risk_path(w, d_values, lam, beta2, sigma, n_rows, T):
    """Exact E|b_t - beta|^2 for t = 0..T (shape (T + 1,) + shape of w) from the fit on real
    labels only at t = 0: mean_0 = (a - 1) beta_i (per direction, in absolute value), v_0 = s_i,
    then the maps of :func:`direction_step`. The mean of the error is a signed quantity; with
    only beta_i^2 known its square is propagated as |mean|, which is exact because every map
    multiplies the mean by a non-negative factor and adds (a - 1) beta_i of the same sign.
    """
    wv, W, T, dv, b2, av, sv_i = _path_terms(w, d_values, beta2, lam, sigma, n_rows, T)
    bias = (1 - av) * np.sqrt(b2)  # |(a - 1) beta_i|
    mean = np.broadcast_to(bias, np.broadcast_shapes(W.shape, bias.shape)).copy()
    var = np.broadcast_to(sv_i, mean.shape).copy()
    out = np.empty((T + 1,) + np.shape(wv))
    out[0] = (mean**2 + var).sum(axis=-1)
    for t in range(1, T + 1):
        mean = (1 - W) * av * mean + bias
        var = (1 - W) ** 2 * av**2 * var + (W**2 + (1 - W) ** 2) * sv_i
        out[t] = (mean**2 + var).sum(axis=-1)
    return out


def ridge_optimal_weight(d_values, lam, beta2, sigma, n_rows, grid: int = 201):
    """The weight in [0, 1] minimising :func:`ridge_stationary_risk`: the best point of a grid
    of ``grid`` weights, refined by bounded Brent search between its neighbours (to 1e-7).
    At lambda = 0 the risk is the null-space bias plus V(w, 1) times the variance, so the
    answer is 1/phi.

    Examples
    --------
    >>> round(ridge_optimal_weight([2.0, 1.0, 0.0], 0.0, 1.0, 1.0, 50), 5)
    0.61803
    """
    validate.sample_size(grid, "grid", 3)
    ws = np.linspace(0.0, 1.0, grid)
    with np.errstate(over="ignore"):
        risk = ridge_stationary_risk(ws, d_values, lam, beta2, sigma, n_rows)
    i = int(np.nanargmin(risk))
    lo, hi = ws[max(i - 1, 0)], ws[min(i + 1, grid - 1)]
    f = lambda x: ridge_stationary_risk(float(np.clip(x, 0.0, 1.0)), d_values, lam, beta2, sigma, n_rows)
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-8})
    best = min([(res.fun, float(res.x)), (risk[i], float(ws[i]))])
    return best[1]


def minnorm_risk_parts(X, beta, sigma):
    """(null-space bias |(I - P) beta|^2, one-shot variance sigma^2 tr((X'X)^+)) of the
    minimum-norm interpolator on the design X. X must have full rank min(n, p): for p >= n the
    interpolator then exists (X X' invertible), for p < n it is least squares.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> minnorm_risk_parts(X, np.array([1.0, 1.0, 3.0]), 1.0)
    (9.0, 1.25)
    """
    X = _design(X)
    beta = validate.mean_vector(beta, "beta")
    if beta.size != X.shape[1]:
        raise ValueError(f"beta must have p = {X.shape[1]} entries to match X, got {beta.size}")
    sv = float(validate.ratio(sigma, "sigma"))
    sing = require_full_rank(X)
    U, _, Vt = np.linalg.svd(X, full_matrices=False)
    row = Vt[: sing.size] @ beta
    bias = float(beta @ beta - row @ row)
    return max(bias, 0.0), float(sv**2 * np.sum(1.0 / sing**2))


def require_full_rank(X, name: str = "X"):
    """The singular values of X if it has full rank min(n, p), else a ValueError naming it."""
    sing = np.linalg.svd(X, compute_uv=False)
    tol = max(X.shape) * np.finfo(float).eps * (sing[0] if sing.size else 0.0)
    rank = int(np.sum(sing > tol))
    if rank < min(X.shape):
        raise ValueError(f"{name} is rank-deficient (rank {rank} < min(n, p) = {min(X.shape)}): the "
                         "minimum-norm interpolator needs full rank; use a ridge penalty lam > 0")
    return sing


def minnorm_stationary_risk(w, X, beta, sigma):
    """E|b_inf - beta|^2 = |(I - P) beta|^2 + sigma^2 tr((X'X)^+) V(w, 1) for min-norm
    interpolation in the loop (inf at w = 0). Vectorised over ``w``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    >>> float(minnorm_stationary_risk(1.0, X, np.array([1.0, 1.0, 3.0]), 1.0))
    10.25
    """
    from ..theory import limiting_error
    bias, var = minnorm_risk_parts(X, beta, sigma)
    wv = validate.weights(w)
    out = bias + var * np.asarray(limiting_error(wv, 1.0), dtype=float)
    return float(out) if np.ndim(out) == 0 else out


def ridge_optimal_weight_map(d_values, lams, snrs, sigma, n_rows, grid: int = 401, iterations: int = 40):
    """w* of :func:`ridge_optimal_weight` for an isotropic prior on beta, for every penalty in
    ``lams`` (each >= 0) and signal-to-noise ratio in ``snrs`` (|beta|^2 / sigma^2 for covariates
    of unit variance, each > 0; analyses that scale the covariates to variance 1/n and drop the
    1/n of the loss keep lambda but call n times this the SNR): shape (len(lams), len(snrs)). Each direction then has E beta_i^2 = snr sigma^2 / p, so the
    risk is snr sigma^2 / p times a bias sum plus a variance sum; both are evaluated on a grid
    of ``grid`` weights and the best grid point is refined by a golden-section search, run for
    all ratios at once (``iterations`` steps shrink the bracket by 0.618 each).

    Examples
    --------
    >>> wmap = ridge_optimal_weight_map([2.0, 1.0, 0.0], [0.0, 1.0], [0.1, 100.0], 1.0, 1)
    >>> np.round(wmap, 4)
    array([[0.618 , 0.618 ],
           [0.5572, 1.    ]])
    """
    validate.sample_size(grid, "grid", 3)
    validate.positive_int(iterations, "iterations")
    dv = clean_spectrum(d_values, "d_values")
    lam_v = np.atleast_1d(validate._finite_array(lams, "lams")).astype(float)
    if lam_v.ndim != 1 or np.any(lam_v < 0):
        raise ValueError(f"lams must be a 1-D array of penalties >= 0, got {lams!r}")
    snr_v = np.atleast_1d(validate.ratio(snrs, "snrs")).astype(float)
    sv = float(validate.ratio(sigma, "sigma"))
    scale = snr_v * sv**2 / dv.size  # E beta_i^2 per direction

    def parts(wv, lv):
        # (bias sum per unit beta_i^2, variance sum), each of the shape of wv
        m2, var = direction_risk(wv, dv, lv, 1.0, sv, n_rows)
        return m2.sum(axis=-1), var.sum(axis=-1)

    ws = np.linspace(0.0, 1.0, grid)
    out = np.empty((lam_v.size, snr_v.size))
    for i, lv in enumerate(lam_v):
        with np.errstate(over="ignore", invalid="ignore"):
            B, V = parts(ws, lv)
        risk = scale[:, None] * B[None] + V[None]  # (S, G)
        j = np.nanargmin(risk, axis=1)
        lo, hi = ws[np.maximum(j - 1, 0)], ws[np.minimum(j + 1, grid - 1)]
        g = (np.sqrt(5) - 1) / 2
        x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
        for _ in range(iterations):
            B1, V1 = parts(x1, lv)
            B2, V2 = parts(x2, lv)
            left = scale * B1 + V1 <= scale * B2 + V2
            hi = np.where(left, x2, hi)
            lo = np.where(left, lo, x1)
            x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
        best = (lo + hi) / 2
        Bb, Vb = parts(best, lv)
        grid_best = risk[np.arange(snr_v.size), j]
        out[i] = np.where(scale * Bb + Vb <= grid_best, best, ws[j])
    return out


# --- v2 setting: fixed real labels, no fresh real data ---------------------------------------

c0 = sp.Symbol("c_0", real=True)  # the fit's coordinate on the one fixed set of real labels


@lru_cache(maxsize=None)
def fixed_labels_risk_expr():
    """Stationary E e^2 of one direction when the real labels are drawn once and reused every
    generation (Garg et al.'s v2 setting; this book's derivation). The fit's coordinate is
    c_t = w c_0 + (1 - w) (a c_{t-1} + xi~_t): given c_0 its stationary mean m solves
    m = w c_0 + (1 - w) a m and its variance v = (1 - w)^2 a^2 v + (1 - w)^2 s; then
    c_0 = a beta_i + xi_0 with E xi_0^2 = s is averaged out. At a = 1 the result is
    s / (w (2 - w)): minimised at w = 1."""
    m_, v_, xi0 = sp.symbols("m v xi_0", real=True)
    (mean,) = sp.solve(sp.Eq(m_, w * c0 + (1 - w) * a * m_), m_)
    (var,) = sp.solve(sp.Eq(v_, (1 - w) ** 2 * a**2 * v_ + (1 - w) ** 2 * s), v_)
    sq = sp.expand((mean.subs(c0, a * beta_i + xi0) - beta_i) ** 2)
    expected = sq.coeff(xi0, 0) + sq.coeff(xi0, 2) * s  # E xi_0 = 0, E xi_0^2 = s
    return sp.factor(expected) + sp.factor(var)


def fixed_labels_risk_path(w, d_values, lam, beta2, sigma, n_rows, T):
    """Exact E|b_t - beta|^2, t = 0..T, with the real labels fixed (drawn once at t = 0): per
    direction c_t = alpha_t c_0 + eta_t with alpha_t = w + (1 - w) a alpha_{t-1}, alpha_0 = 1,
    Var eta_t = (1 - w)^2 a^2 Var eta_{t-1} + (1 - w)^2 s, so
    E e_t^2 = (alpha_t a - 1)^2 beta_i^2 + alpha_t^2 s + Var eta_t. Its limit is
    :func:`fixed_labels_risk_expr` summed over directions.

    Examples
    --------
    >>> path = fixed_labels_risk_path(0.5, [1.0], 0.0, 0.0, 1.0, 1, 200)
    >>> round(float(path[-1]), 6)   # s / (w (2 - w)) = 4/3
    1.333333
    """
    wv, W, T, dv, b2, av, si = _path_terms(w, d_values, beta2, lam, sigma, n_rows, T)
    shape = np.broadcast_shapes(W.shape, dv.shape)
    alpha_t = np.ones(shape)
    eta = np.zeros(shape)
    out = np.empty((T + 1,) + np.shape(wv))
    out[0] = ((av - 1) ** 2 * b2 + si).sum(axis=-1) * np.ones(np.shape(wv))
    for t in range(1, T + 1):
        alpha_t = W + (1 - W) * av * alpha_t
        eta = (1 - W) ** 2 * av**2 * eta + (1 - W) ** 2 * si
        out[t] = ((alpha_t * av - 1) ** 2 * b2 + alpha_t**2 * si + eta).sum(axis=-1)
    return out


# --- v2 setting: covariates redrawn every generation (isotropic Gaussian) ----------------------

gamma = sp.Symbol("gamma", positive=True)  # n / p, the share of directions one design learns
B = sp.Symbol("B", nonnegative=True)  # |beta|^2
c_noise = sp.Symbol("c", nonnegative=True)  # sigma^2 E tr((X X')^{-1}) = sigma^2 n / (p - n - 1)


def redrawn_step_expr():
    """E|e_t|^2 from E|e_{t-1}|^2 when every generation draws a new design X_t (n x p, p > n + 1,
    iid N(0, 1) entries), used for its real and its synthetic labels alike. With P_t the
    projection on the row space of X_t, e_t = (1 - w) P_t e_{t-1} - (I - P_t) beta + X_t^+ noise;
    P_t is independent of e_{t-1} with E P_t = gamma I, P_t (I - P_t) = 0, and
    E|X_t^+ eps|^2 = sigma^2 n / (p - n - 1) (the inverse-Wishart mean), so
    m_t = (1 - w)^2 gamma m_{t-1} + (1 - gamma) |beta|^2 + (w^2 + (1 - w)^2) c."""
    m_prev = sp.Symbol("m_{t-1}", nonnegative=True)
    return (1 - w) ** 2 * gamma * m_prev + (1 - gamma) * B + (w**2 + (1 - w) ** 2) * c_noise


@lru_cache(maxsize=None)
def redrawn_stationary_expr():
    """The fixed point of :func:`redrawn_step_expr`."""
    m_ = sp.Symbol("m", nonnegative=True)
    step = redrawn_step_expr().subs(sp.Symbol("m_{t-1}", nonnegative=True), m_)
    (sol,) = sp.solve(sp.Eq(m_, step), m_)
    return sp.factor(sol)


def _redrawn_args(n_rows, p, beta_norm2, sigma):
    nv = validate.sample_size(n_rows, "n")
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ValueError(f"p must be an integer >= 1 (the number of covariates), got {p!r}")
    if p <= nv + 1:
        raise ValueError(f"p must exceed n + 1 for redrawn designs (E tr((XX')^-1) is finite), got p = {p}, n = {nv}")
    b = validate.non_negative(beta_norm2, "beta_norm2")
    sv = float(validate.ratio(sigma, "sigma"))
    return nv / p, b, sv**2 * nv / (p - nv - 1)


def redrawn_risk_path(w, n_rows, p, beta_norm2, sigma, T):
    """Exact E|b_t - beta|^2, t = 0..T, of min-norm interpolation when the isotropic Gaussian
    design is redrawn every generation (:func:`redrawn_step_expr`), from m_0 = (1 - gamma)|beta|^2
    + c. Shape (T + 1,) + shape of w.

    Examples
    --------
    >>> float(redrawn_risk_path(1.0, 10, 40, 0.0, 1.0, 3)[-1])   # one fit: n / (p - n - 1)
    0.3448275862068966
    """
    wv = np.asarray(validate.weights(w), dtype=float)
    g, b, c = _redrawn_args(n_rows, p, beta_norm2, sigma)
    T = validate.positive_int(T, "T")
    out = np.empty((T + 1,) + wv.shape)
    out[0] = (1 - g) * b + c
    for t in range(1, T + 1):
        out[t] = (1 - wv) ** 2 * g * out[t - 1] + (1 - g) * b + (wv**2 + (1 - wv) ** 2) * c
    return out


def redrawn_stationary_risk(w, n_rows, p, beta_norm2, sigma):
    """The limit of :func:`redrawn_risk_path`: ((1 - gamma)|beta|^2 + (w^2 + (1 - w)^2) c) /
    (1 - (1 - w)^2 gamma).

    Examples
    --------
    >>> round(float(redrawn_stationary_risk(0.5, 10, 40, 0.0, 1.0)), 6)
    0.183908
    """
    wv = np.asarray(validate.weights(w), dtype=float)
    g, b, c = _redrawn_args(n_rows, p, beta_norm2, sigma)
    out = ((1 - g) * b + (wv**2 + (1 - wv) ** 2) * c) / (1 - (1 - wv) ** 2 * g)
    return float(out) if out.ndim == 0 else out
