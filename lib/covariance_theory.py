"""Exact error of the covariance estimate in the Gaussian loop (paper-notes Sec. 3).

The generation-t covariance is Sigma_t = w S_real + (1 - w) S_syn, with S the unbiased sample
covariance of n fresh real points and of m synthetic points drawn from N(mu_{t-1}, Sigma_{t-1}).
Two moments of an unbiased sample covariance S of d + 1 Gaussian points with covariance C,

    E |S - C|_F^2 = (tr C^2 + (tr C)^2) / d,      E (tr(S - C))^2 = 2 tr C^2 / d,

close the recursion for A_t = E|Sigma_t - Sigma|_F^2 and B_t = E (tr(Sigma_t - Sigma))^2,
because E Sigma_{t-1} = Sigma gives E tr Sigma_{t-1}^2 = tr Sigma^2 + A_{t-1} and
E (tr Sigma_{t-1})^2 = (tr Sigma)^2 + B_{t-1}. In one dimension A = B = E(sigma_t^2 - sigma^2)^2.
Only tr Sigma^2 and (tr Sigma)^2 enter, so those two numbers are the symbols here.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize

from . import validate
from .theory import _generation, _numeric, k, m, n, t, w

# tr(Sigma^2) and (tr Sigma)^2 of the true covariance; A, B of the previous generation.
# LaTeX names, so that the book shows them as typeset maths.
tr2 = sp.Symbol(r"\operatorname{tr}\Sigma^2", positive=True)
trsq = sp.Symbol(r"(\operatorname{tr}\Sigma)^2", positive=True)
A_prev, B_prev = sp.symbols("A_{t-1} B_{t-1}", nonnegative=True)

__all__ = [
    "wishart_moments", "covariance_recursion", "covariance_fixed_point_expr",
    "stability_eigenvalues", "variance_limit_expr", "variance_optimal_weight_expr",
    "log_variance_mean_expr", "log_variance_var_expr",
    "covariance_error_path", "covariance_limit", "covariance_optimal_weight",
    "variance_optimal_weight", "log_variance_mean", "log_variance_sd",
]


def wishart_moments(c2, csq, df):
    """(E|S - C|_F^2, E(tr(S - C))^2) for an unbiased sample covariance with ``df`` degrees of
    freedom, given tr C^2 = ``c2`` and (tr C)^2 = ``csq``: SymPy symbols (the recursion below) or
    numbers (then checked: c2, csq > 0, df an integer >= 1)."""
    if not any(isinstance(a, sp.Basic) for a in (c2, csq, df)):
        c2, csq = validate.positive(c2, "c2"), validate.positive(csq, "csq")
        df = validate.sample_size(df, "df")
    return (c2 + csq) / df, 2 * c2 / df


@lru_cache(maxsize=None)
def covariance_recursion():
    """(M, c, x0): (A_t, B_t) = M (A_{t-1}, B_{t-1}) + c, started from x0 = (A_0, B_0).

    Real part: w^2 times the sampling error of n fresh points. Synthetic part: (1-w)^2 times the
    sampling error of m points around Sigma_{t-1} (whose second moments inherit A, B) plus the
    inherited error itself.
    """
    real_A, real_B = wishart_moments(tr2, trsq, n - 1)
    syn_A, syn_B = wishart_moments(tr2 + A_prev, trsq + B_prev, m - 1)
    A_t = w**2 * real_A + (1 - w) ** 2 * (syn_A + A_prev)
    B_t = w**2 * real_B + (1 - w) ** 2 * (syn_B + B_prev)
    state = [A_prev, B_prev]
    M = sp.Matrix([[sp.factor(sp.expand(expr).coeff(s)) for s in state] for expr in (A_t, B_t)])
    c = sp.Matrix([sp.factor(expr.subs({A_prev: 0, B_prev: 0})) for expr in (A_t, B_t)])
    x0 = sp.Matrix(wishart_moments(tr2, trsq, n - 1))
    return M, c, x0


@lru_cache(maxsize=None)
def stability_eigenvalues():
    """Eigenvalues of M: (1-w)^2 (m+1)/(m-1) and (1-w)^2 (m-2)/(m-1). The error has a finite
    limit iff the larger is < 1, the same condition in every dimension."""
    M, _, _ = covariance_recursion()
    return [sp.factor(ev) for ev in M.eigenvals()]


@lru_cache(maxsize=None)
def covariance_fixed_point_expr():
    """(A_inf, B_inf) = (I - M)^{-1} c, valid when the recursion is stable."""
    M, c, _ = covariance_recursion()
    return sp.simplify((sp.eye(2) - M).LUsolve(c))


@lru_cache(maxsize=None)
def variance_limit_expr():
    """One dimension, sigma^2 = 1: U_inf = 2 (w^2/(n-1) + (1-w)^2/(m-1)) / (1 - (1-w)^2 (m+1)/(m-1))."""
    A_inf = covariance_fixed_point_expr()[0]
    return sp.factor(sp.simplify(A_inf.subs({tr2: 1, trsq: 1})))


@lru_cache(maxsize=None)
def variance_optimal_weight_expr():
    """The exact finite-sample minimiser of U_inf over w: a root of a quadratic."""
    num, _ = sp.fraction(sp.factor(sp.diff(variance_limit_expr(), w)))
    roots = [r for r in sp.solve(num, w)]
    # The admissible root tends to the golden weight 1/phi as n = m -> infinity.
    golden = (sp.sqrt(5) - 1) / 2
    for r in roots:
        if abs(float(r.subs({n: 10**6, m: 10**6})) - float(golden)) < 1e-3:
            return sp.simplify(r)
    raise RuntimeError("no root of dU/dw tends to 1/phi; the derivation changed")


def asymptotic_covariance_limit_expr():
    """lim_{n->inf} n A_inf with m = n/k; equals (tr Sigma^2 + (tr Sigma)^2) V(w, k)."""
    A_inf = covariance_fixed_point_expr()[0]
    return sp.factor(sp.limit(sp.simplify(n * A_inf.subs(m, n / k)), n, sp.oo))


# Under w = 0, sigma_t^2 = sigma^2 * chi2_{n-1}/(n-1) * prod_{s=1..t} chi2_{m-1}/(m-1): a product
# of independent factors, so log sigma_t^2 is a sum and its moments are digamma/trigamma values.
def _log_chi2_mean(df):
    return sp.digamma(df / 2) + sp.log(2 / df)


@lru_cache(maxsize=None)
def log_variance_mean_expr():
    """E log(sigma_t^2 / sigma^2) under the fully synthetic loop (w = 0): decreases linearly in t."""
    return _log_chi2_mean(n - 1) + t * _log_chi2_mean(m - 1)


@lru_cache(maxsize=None)
def log_variance_var_expr():
    """Var log(sigma_t^2) under w = 0: grows linearly in t."""
    return sp.polygamma(1, (n - 1) / 2) + t * sp.polygamma(1, (m - 1) / 2)


# --- numeric versions ------------------------------------------------------------------------

def _entrywise(matrix, args):
    """Numeric version of a SymPy matrix: returns an array of shape matrix.shape + broadcast shape
    (lambdify alone returns ragged nested lists when some entries are constants)."""
    fns = [[_numeric(entry, args) for entry in row] for row in matrix.tolist()]

    def call(*values):
        shape = np.broadcast(*values).shape
        return np.array([[np.broadcast_to(np.asarray(f(*values), dtype=float), shape) for f in row]
                         for row in fns])

    return call


# Numeric functions are built once, at module level: inside the public functions below the names
# w, n, m, t are numbers, not the SymPy symbols.
@lru_cache(maxsize=None)
def _fixed_point_fn():
    return _numeric(covariance_fixed_point_expr()[0], (w, n, m, tr2, trsq))


@lru_cache(maxsize=None)
def _variance_optimum_fn():
    return _numeric(variance_optimal_weight_expr(), (n, m))


@lru_cache(maxsize=None)
def _log_variance_fns():
    return (_numeric(log_variance_mean_expr(), (n, m, t)),
            _numeric(log_variance_var_expr(), (n, m, t)))


@lru_cache(maxsize=None)
def _recursion_fns():
    args = (w, n, m, tr2, trsq)
    return tuple(_entrywise(part, args) for part in covariance_recursion())


def _sizes(n, m):
    why = " (an unbiased sample covariance needs two points)"
    return validate.sample_size(n, "n", 2, why), validate.sample_size(m, "m", 2, why)


def _check_cov_inputs(w, n, m, cov):
    w_ = np.atleast_1d(validate.weights(w))
    if w_.ndim != 1:
        raise ValueError(f"w must be a scalar or a 1-D array of weights, got shape {w_.shape}")
    n_, m_ = _sizes(n, m)
    cov = np.atleast_2d(np.asarray(cov, dtype=float))
    cov = validate.covariance(cov, cov.shape[0], "cov")
    return w_, n_, m_, float(np.trace(cov @ cov)), float(np.trace(cov)) ** 2


def covariance_error_path(w, n, m, T, cov):
    """Exact E|Sigma_t - Sigma|_F^2 for t = 0..T, shape (T + 1, len(w)).

    Iterates the (A_t, B_t) recursion of :func:`covariance_recursion`. With ``cov=[[s2]]`` this is
    the 1-D variance error E(sigma_t^2 - s2)^2.
    """
    w_, n_, m_, c2, csq = _check_cov_inputs(w, n, m, cov)
    T = validate.positive_int(T, "T")
    M, c, x = (f(w_, n_, m_, c2, csq) for f in _recursion_fns())  # (2,2,W), (2,1,W), (2,1,W)
    c, x = c[:, 0], x[:, 0]
    out = np.empty((T + 1, w_.size))
    out[0] = x[0]
    for step in range(1, T + 1):
        x = np.einsum("ijw,jw->iw", M, x) + c
        out[step] = x[0]
    return out


def covariance_limit(w, n, m, cov):
    """lim_t E|Sigma_t - Sigma|_F^2; ``inf`` where (1-w)^2 (m+1)/(m-1) >= 1 (no finite limit)."""
    w_, n_, m_, c2, csq = _check_cov_inputs(w, n, m, cov)
    f = _fixed_point_fn()
    stable = (1 - w_) ** 2 * (m_ + 1) / (m_ - 1) < 1
    value = np.where(stable, f(w_, n_, m_, c2, csq), np.inf)
    return float(value[0]) if np.ndim(w) == 0 else value


def covariance_optimal_weight(n, m, cov):
    """The weight minimising the exact limit E|Sigma_inf - Sigma|_F^2 (bounded scalar minimisation,
    absolute tolerance 1e-11 in w)."""
    _, m_ = _sizes(n, m)
    # Weights below w_min make the recursion unstable (infinite limit).
    w_min = 1 - np.sqrt((m_ - 1) / (m_ + 1))
    res = optimize.minimize_scalar(lambda x: covariance_limit(x, n, m, cov), bounds=(w_min + 1e-12, 1.0),
                                   method="bounded", options={"xatol": 1e-11})
    return float(res.x)


def variance_optimal_weight(n, m):
    """Exact finite-sample optimum of the 1-D variance error (closed form from SymPy)."""
    return float(_variance_optimum_fn()(*_sizes(n, m)))


def log_variance_mean(n, m, t):
    """E log(sigma_t^2/sigma^2) under w = 0, for an array of generations ``t``."""
    return np.asarray(_log_variance_fns()[0](*_sizes(n, m), _generation(t)), dtype=float)


def log_variance_sd(n, m, t):
    """Standard deviation of log sigma_t^2 under w = 0."""
    return np.sqrt(np.asarray(_log_variance_fns()[1](*_sizes(n, m), _generation(t)), dtype=float))
