"""The weighted fresh-data loop in closed form: SymPy derivations and their numeric versions.

Everything here starts from one modelling step, the Gaussian-mean error decomposition
(He, Xu and Cheng, arXiv 2502.18049, Sec. 3; ``shared/paper-notes.md`` Sec. 2-3):

    mu_t - mu = w (xbar_real,t - mu) + (1 - w) (xbar_syn,t - mu_{t-1}) + (1 - w) (mu_{t-1} - mu),

three uncorrelated terms with variances w^2 tr(Sigma)/n, (1-w)^2 tr(Sigma)/m and
(1-w)^2 e_{t-1}. Every other formula (the limit V(w, k), the optimal weight w*(k), the golden
ratio, the naive-pooling error, the series in k, the finite-t path) is *derived* from that step
by SymPy below; nothing is typed twice. The ``*_expr`` functions return SymPy expressions for the
book to display; the plain-named functions are vectorised numpy versions made with ``lambdify``.

Units: "relative error" means error divided by the one-shot error tr(Sigma)/n, so that real-only
training (w = 1) has relative error 1.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import validate

# Symbols shared by every derivation in the book.
w = sp.Symbol("w", nonnegative=True)  # weight on the real-data loss, in [0, 1]
k = sp.Symbol("k", positive=True)  # k = n / m, real over synthetic sample size
n, m = sp.symbols("n m", positive=True)  # real and synthetic sample sizes per generation
t = sp.Symbol("t", integer=True, nonnegative=True)  # generation
e_prev = sp.Symbol("e_{t-1}", nonnegative=True)  # previous generation's error (per unit tr Sigma)
e_inf = sp.Symbol(r"e_\infty", positive=True)

__all__ = ["limiting_error_stable_expr", 
    "w", "k", "n", "m", "t",
    "error_terms", "error_recursion", "limiting_error_abs_expr", "limiting_error_expr",
    "finite_error_expr", "finite_error_geometric_expr", "gaussian_mean_error_expr", "dV_dw_expr", "optimal_weight_expr",
    "naive_weight_expr", "naive_error_expr", "optimal_weight_series",
    "limiting_error", "optimal_weight", "naive_weight", "naive_error", "finite_error", "window_error",
    "gaussian_mean_error", "GOLDEN_WEIGHT",
]


# --- symbolic derivation ---------------------------------------------------------------------

def error_terms():
    """The three uncorrelated error terms of one step as ``(coefficient, variance)`` pairs.

    Variances are per unit tr(Sigma): fresh real mean (1/n), synthetic mean around the previous
    estimate (1/m), and the inherited error of the previous generation (e_{t-1}).
    """
    return [(w, 1 / n), (1 - w, 1 / m), (1 - w, e_prev)]


def error_recursion():
    """e_t = (1-w)^2 e_{t-1} + w^2/n + (1-w)^2/m, the sum of coefficient^2 x variance."""
    return sp.expand(sum(coef**2 * var for coef, var in error_terms()))


@lru_cache(maxsize=None)
def limiting_error_abs_expr():
    """Fixed point of the recursion (per unit tr Sigma): (w^2/n + (1-w)^2/m) / (1 - (1-w)^2)."""
    fixed = sp.solve(sp.Eq(e_inf, error_recursion().subs(e_prev, e_inf)), e_inf)
    (sol,) = fixed
    return sp.factor(sol)


@lru_cache(maxsize=None)
def limiting_error_expr():
    """V(w, k) = (w^2 + k (1-w)^2) / (1 - (1-w)^2): the fixed point over the one-shot error 1/n."""
    rel = sp.simplify((n * limiting_error_abs_expr()).subs(m, n / k))
    num, den = sp.fraction(sp.factor(rel))
    # SymPy returns both signs flipped; present it the way the paper writes it.
    return sp.collect(sp.expand(-num), k) / sp.expand(-den)


@lru_cache(maxsize=None)
def gaussian_mean_error_expr():
    """Exact E|mu_t - mu|^2 per unit tr(Sigma) for every n, m, t, including w = 0.

    Unrolling the recursion from e_0 = 1/n gives (1-w)^{2t}/n + c * sum_{j<t} (1-w)^{2j} with
    c = w^2/n + (1-w)^2/m; SymPy sums the geometric series and keeps the w = 0 branch
    (e_t = 1/n + t/m, linear growth) as a Piecewise.
    """
    j = sp.Symbol("j", integer=True, nonnegative=True)
    c = error_recursion().subs(e_prev, 0)
    return (1 - w) ** (2 * t) / n + c * sp.summation((1 - w) ** (2 * j), (j, 0, t - 1))


@lru_cache(maxsize=None)
def finite_error_expr():
    """Relative error n e_t / tr(Sigma) in terms of w, k, t."""
    return sp.simplify(sp.expand(n * gaussian_mean_error_expr().subs(m, n / k)))


@lru_cache(maxsize=None)
def dV_dw_expr():
    """dV/dw, factored: 2 (w^2 + k w - k) / (w^2 (w - 2)^2)."""
    return sp.factor(sp.diff(limiting_error_expr(), w))


@lru_cache(maxsize=None)
def optimal_weight_expr():
    """w*(k): the root in (0, 1) of the numerator of dV/dw, (sqrt(k^2 + 4k) - k) / 2."""
    num, _ = sp.fraction(dV_dw_expr())
    roots = sp.solve(num, w)  # w is declared nonnegative, so only the admissible root remains
    (root,) = roots
    return sp.simplify(root)


@lru_cache(maxsize=None)
def optimal_weight_stable_expr():
    """w*(k) in a form without cancellation, 2 / (1 + sqrt(1 + 4/k)), for evaluation in floating
    point: (sqrt(k^2 + 4k) - k) / 2 subtracts two nearly equal numbers for large k (at k = 1e17 it
    gives 8.0 instead of 1.0). SymPy checks that the two forms are the same function."""
    stable = 2 / (1 + sp.sqrt(1 + 4 / k))
    if sp.simplify(sp.radsimp(stable - optimal_weight_expr())) != 0:
        raise AssertionError("the stable form of w*(k) differs from the derived one")
    return stable


@lru_cache(maxsize=None)
def limiting_error_stable_expr():
    """V(w, k) as (w^2 + k (1-w)^2) / (w (2 - w)), for evaluation in floating point: the derived
    form expands (1-w)^2 into w^2 - 2w + 1, which near w = 1 cancels and, multiplied by a large k,
    loses k times the rounding error (1e-11 relative at k = 2e5). 1 - w is exact in floating
    point for w in [1/2, 1]. SymPy checks that the two forms are the same function."""
    stable = (w**2 + k * (1 - w) ** 2) / (w * (2 - w))
    if sp.simplify(stable - limiting_error_expr()) != 0:
        raise AssertionError("the stable form of V(w, k) differs from the derived one")
    return stable


def naive_weight_expr():
    """Naive pooling of n + m samples with equal weight: w = n/(n+m) = k/(1+k)."""
    return k / (1 + k)


@lru_cache(maxsize=None)
def naive_error_expr():
    """V(k/(1+k), k) = (k+1)/(k+2)."""
    return sp.factor(sp.simplify(limiting_error_expr().subs(w, naive_weight_expr())))


def optimal_weight_series(point=0, order=2):
    """Series of w*(k) at k -> 0 (``point=0``) or k -> infinity (``point=sp.oo``)."""
    return sp.series(optimal_weight_expr(), k, point, order)


GOLDEN_WEIGHT = float((sp.sqrt(5) - 1) / 2)  # 1/phi, the value of w*(1); checked by the tests


# --- numeric versions ------------------------------------------------------------------------

def _numeric(expr, args):
    """lambdify with numpy. Piecewise branches are all evaluated by numpy.select, so the branch
    that is not selected may divide by zero; those warnings are silenced, the result is not."""
    f = sp.lambdify(args, expr, modules=["scipy", "numpy"])

    def call(*values):
        with np.errstate(divide="ignore", invalid="ignore"):
            return f(*values)

    return call


@lru_cache(maxsize=None)
def _limiting_error_fn():
    return _numeric(sp.Piecewise((sp.oo, sp.Eq(w, 0)), (limiting_error_stable_expr(), True)), (w, k))


@lru_cache(maxsize=None)
def _optimal_weight_fn():
    return _numeric(optimal_weight_stable_expr(), (k,))


@lru_cache(maxsize=None)
def _gaussian_mean_error_fn():
    return _numeric(gaussian_mean_error_expr(), (w, n, m, t))


def _float_or_array(x):
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def limiting_error(w, k):
    """V(w, k) = (w^2 + k (1-w)^2) / (1 - (1-w)^2), the limiting error over the one-shot error.

    Paper-notes Sec. 2. Broadcasts over arrays. ``V(0, k) = inf``: the fully synthetic loop has
    no finite limit (model collapse).
    """
    w_, k_ = validate.weights(w), validate.ratio(k)
    return _float_or_array(_limiting_error_fn()(*np.broadcast_arrays(w_, k_)))


def optimal_weight(k):
    """w*(k) = (sqrt(k^2 + 4k) - k) / 2, the minimiser of V(., k); w*(1) = 1/phi.

    Evaluated as 2 / (1 + sqrt(1 + 4/k)) (:func:`optimal_weight_stable_expr`), accurate to a few
    units in the last place for every k > 0 a float can hold."""
    k_ = validate.ratio(k)
    return _float_or_array(_optimal_weight_fn()(k_))


def naive_weight(k):
    """The weight that pooling all n + m samples equally implies: k / (1 + k) = n / (n + m)."""
    k_ = validate.ratio(k)
    return _float_or_array(k_ / (1 + k_))


def naive_error(k):
    """V(k/(1+k), k) = (k + 1) / (k + 2) (:func:`naive_error_expr`), evaluated in that closed
    form: V at the rounded weight k/(1+k) would inherit its rounding, amplified k times."""
    k_ = validate.ratio(k)
    return _float_or_array(_naive_error_fn()(k_))


@lru_cache(maxsize=None)
def _naive_error_fn():
    return _numeric(naive_error_expr(), (k,))


def _generation(t, name: str = "t"):
    t_ = np.asarray(t)
    if t_.dtype.kind not in "iu" or np.any(t_ < 0):
        raise ValueError(f"{name} must be a non-negative integer generation (or array of them), got {t!r}")
    return t_


@lru_cache(maxsize=None)
def finite_error_geometric_expr():
    """The relative error as q^t + c (1 - q^t) / (1 - q) with q = (1-w)^2 and
    c = w^2 + k (1-w)^2: the form :func:`finite_error` evaluates. SymPy checks that it is
    :func:`finite_error_expr` for w > 0."""
    q = (1 - w) ** 2
    c = w ** 2 + k * (1 - w) ** 2
    geometric = q ** t + c * (1 - q ** t) / (1 - q)
    general = finite_error_expr().args[1][0]  # the w > 0 branch of the Piecewise
    if sp.simplify(sp.powsimp(sp.expand_power_base(geometric - general, force=True), force=True)) != 0:
        raise AssertionError("the geometric form of the finite-t error differs from the derived one")
    return geometric


def _finite_error_numeric(w, k, t):
    """q^t + c (1 - q^t) / (1 - q), with 1 - q = w (2 - w) and 1 - q^t = -expm1(2 t log1p(-w)),
    so that no difference of nearly equal numbers is formed for tiny w (the expanded form lost
    10% at w = 1e-16); w = 0 is 1 + k t, w = 1 is 1 at every t."""
    w, k, t = np.broadcast_arrays(np.asarray(w, float), np.asarray(k, float), np.asarray(t))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = 2 * t * np.log1p(-w)
        q_t = np.where(w == 1, (t == 0).astype(float), np.exp(log_q))
        one_minus_q_t = np.where(w == 1, (t > 0).astype(float), -np.expm1(log_q))
        c = w ** 2 + k * (1 - w) ** 2
        value = q_t + c * one_minus_q_t / (w * (2 - w))
    return np.where(w == 0, 1 + k * t, value)


def finite_error(w, k, t):
    """Relative error after t generations, n E|mu_t - mu|^2 / tr(Sigma) with m = n / k.

    = V + (1 - V) (1-w)^{2t} for w > 0 and 1 + k t for w = 0. Exact for the Gaussian mean.
    Evaluated in the geometric form of :func:`finite_error_geometric_expr`, accurate for every
    w in [0, 1], the tiniest included.
    """
    w_, k_ = validate.weights(w), validate.ratio(k)
    return _float_or_array(_finite_error_numeric(w_, k_, _generation(t)))


def _scalar_generation(value, name):
    raise ValueError(f"{name} must be a single non-negative integer generation, got {value!r}")


def window_error(w, k, start, stop):
    """Exact relative error averaged over generations start..stop (inclusive): what a simulation
    that averages each run over those generations estimates (before t -> infinity)."""
    start, stop = (int(_generation(v, name)) if np.ndim(v) == 0 else _scalar_generation(v, name)
                   for v, name in ((start, "start"), (stop, "stop")))
    if stop < start:
        raise ValueError(f"stop must be >= start, got start={start}, stop={stop}")
    w_, k_ = np.broadcast_arrays(validate.weights(w), validate.ratio(k))
    ts = np.arange(start, stop + 1)
    return _float_or_array(np.mean(_finite_error_numeric(w_[..., None], k_[..., None], ts), axis=-1))


def gaussian_mean_error(w, n, m, t, trace_cov=1.0):
    """Exact E|mu_t - mu|^2 in the Gaussian loop with sample sizes n (real) and m (synthetic).

    Recursion e_t = (1-w)^2 e_{t-1} + (w^2/n + (1-w)^2/m) tr(Sigma), e_0 = tr(Sigma)/n.
    """
    w_ = validate.weights(w)
    n_ = validate.sample_size(n, "n")
    m_ = validate.sample_size(m, "m")
    tr = validate.positive(trace_cov, "trace_cov")
    values = _gaussian_mean_error_fn()(*np.broadcast_arrays(w_, n_, m_, _generation(t)))
    return _float_or_array(tr * np.asarray(values, dtype=float))
