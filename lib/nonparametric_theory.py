"""Exact error of the weighted loop for empirical distributions (paper-notes Sec. 3, "Nonparametric").

Pointwise in u = F(x) (or for one category with probability u), the estimate is
F_t(u) = w F_real(u) + (1 - w) F_syn(u), with n F_real(u) ~ Binomial(n, u) and, given the previous
estimate, m F_syn(u) ~ Binomial(m, F_{t-1}(u)). Since E F_{t-1}(u) = u at every generation,
E[F_{t-1}(u)(1 - F_{t-1}(u))] = u(1 - u) - g_{t-1}(u) with g_t(u) = Var F_t(u), so the three
uncorrelated terms of F_t(u) - u have variances

    w^2 u(1-u)/n,   (1-w)^2 (u(1-u) - g_{t-1})/m,   (1-w)^2 g_{t-1},

and g_t(u) = u(1-u) h_t with the *multinomial error factor*

    h_t = w^2/n + (1-w)^2/m + (1-w)^2 (1 - 1/m) h_{t-1},   h_0 = 1/n.

The Cramer-von Mises error integral (F_t - F)^2 dF = integral_0^1 g_t(u) du has expectation h_t / 6;
the mean squared error over categories with probabilities p_j has expectation
h_t * mean_j p_j (1 - p_j). Everything below is derived from the three terms.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import validate
from .theory import _generation, _numeric, k, m, n, t, w

__all__ = ["pointwise_terms", "factor_recursion", "factor_expr", "factor_limit_expr",
           "optimal_weight_expr", "cvm_expected_expr", "error_factor", "error_factor_limit",
           "optimal_weight", "cvm_expected"]

u = sp.Symbol("u", positive=True)  # F(x), or a category's probability
g_prev = sp.Symbol("g_{t-1}", nonnegative=True)  # Var F_{t-1}(u)
h_prev = sp.Symbol("h_{t-1}", nonnegative=True)
h_inf = sp.Symbol(r"h_\infty", positive=True)


def pointwise_terms():
    """(coefficient, variance) of the three uncorrelated terms of F_t(u) - u."""
    return [(w, u * (1 - u) / n), (1 - w, (u * (1 - u) - g_prev) / m), (1 - w, g_prev)]


@lru_cache(maxsize=None)
def factor_recursion():
    """h_t in terms of h_{t-1}: divide the pointwise recursion by u (1 - u) with g = u(1-u) h."""
    g_t = sum(c**2 * v for c, v in pointwise_terms())
    h_t = sp.expand(sp.cancel(g_t.subs(g_prev, u * (1 - u) * h_prev) / (u * (1 - u))))
    assert u not in h_t.free_symbols  # the factor u (1 - u) separates exactly
    return sp.collect(h_t, h_prev)


@lru_cache(maxsize=None)
def factor_expr():
    """h_t in closed form for every t (geometric series; Piecewise keeps the w = 0, m = 1 case)."""
    j = sp.Symbol("j", integer=True, nonnegative=True)
    rho = sp.factor(factor_recursion().coeff(h_prev))
    c = factor_recursion().subs(h_prev, 0)
    return rho**t / n + c * sp.summation(rho**j, (j, 0, t - 1))


@lru_cache(maxsize=None)
def factor_limit_expr():
    """h_inf = (w^2/n + (1-w)^2/m) / (1 - (1-w)^2 (1 - 1/m))."""
    (sol,) = sp.solve(sp.Eq(h_inf, factor_recursion().subs(h_prev, h_inf)), h_inf)
    return sp.factor(sol)


@lru_cache(maxsize=None)
def optimal_weight_expr():
    """The exact finite-sample minimiser of h_inf over w (a root of a quadratic)."""
    num, _ = sp.fraction(sp.factor(sp.diff(factor_limit_expr(), w)))
    golden = (sp.sqrt(5) - 1) / 2
    for root in sp.solve(num, w):
        if abs(float(root.subs({n: 10**6, m: 10**6})) - float(golden)) < 1e-3:
            return sp.simplify(root)
    raise RuntimeError("no root of dh/dw tends to 1/phi; the derivation changed")


def cvm_expected_expr():
    """E integral (F_t - F)^2 dF = h_t * integral_0^1 u (1 - u) du = h_t / 6."""
    return factor_expr() * sp.integrate(u * (1 - u), (u, 0, 1))


# --- numeric versions ----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _factor_fn():
    return _numeric(factor_expr(), (w, n, m, t))


@lru_cache(maxsize=None)
def _limit_fn():
    return _numeric(factor_limit_expr(), (w, n, m))


@lru_cache(maxsize=None)
def optimal_weight_stable_expr():
    """The same optimum as a form that holds for every m >= 1 and never cancels:
    2n / ((n + 1) + sqrt((n + 1)^2 + 4n(m - 1))). The root formula SymPy returns divides by
    m - 1 (0/0 at m = 1, where the optimum is n/(n + 1)); this one is checked to be a root of the
    same quadratic and to equal it at sample sizes."""
    stable = 2 * n / ((n + 1) + sp.sqrt((n + 1) ** 2 + 4 * n * (m - 1)))
    num, _ = sp.fraction(sp.factor(sp.diff(factor_limit_expr(), w)))
    if sp.simplify(sp.expand(num.subs(w, stable))) != 0:
        raise AssertionError("the stable optimum is not a root of dh/dw")
    root = optimal_weight_expr()
    for nn, mm in [(2, 3), (10, 7), (100, 100), (5, 400)]:
        if abs(float((stable - root).subs({n: nn, m: mm}))) > 1e-12:
            raise AssertionError("the stable optimum is another root")
    return stable


def _optimum_fn():
    return _numeric(optimal_weight_stable_expr(), (n, m))


def _sizes(n_, m_):
    return validate.sample_size(n_, "n"), validate.sample_size(m_, "m")


def error_factor(w, n, m, t):
    """h_t: E integral (F_t - F)^2 dF = h_t / 6; E mean_j (p_t,j - p_j)^2 = h_t mean_j p_j (1 - p_j)."""
    w_ = validate.weights(w)
    n_, m_ = _sizes(n, m)
    out = np.asarray(_factor_fn()(*np.broadcast_arrays(w_, n_, m_, _generation(t))), dtype=float)
    return float(out) if out.ndim == 0 else out


def error_factor_limit(w, n, m):
    """lim_t h_t. Finite for every w: at w = 0 it is 1, the CvM error 1/6 of a distribution that
    has fixed on a single atom (resampling drift, as in Wright-Fisher genetic drift)."""
    w_ = validate.weights(w)
    n_, m_ = _sizes(n, m)
    out = np.asarray(_limit_fn()(*np.broadcast_arrays(w_, n_, m_)), dtype=float)
    return float(out) if out.ndim == 0 else out


def optimal_weight(n, m):
    """Exact finite-sample optimal weight for the empirical CDF and for categorical distributions."""
    return float(_optimum_fn()(*(float(x) for x in _sizes(n, m))))


def cvm_expected(w, n, m, t):
    """E integral (F_t - F)^2 dF, exactly, for every continuous F."""
    return error_factor(w, n, m, t) / 6.0
