"""The provenance-blind loop: mean estimation when the learner cannot tell real from synthetic.

Setting (Amin, Bie, Kong, Syed and Vassilvitskii, "Learning from Synthetic Data: Limitations of
ERM", arXiv 2601.15468; frontier-notes Sec. 2). The first sample is real, X_1 = mu + U_1; every
later one is contaminated by the current estimate,

    X_t = alpha Y_{t-1} + (1 - alpha) mu + U_t,     t >= 2,                        (eq-blind)

and the learner, who cannot tell which data are synthetic, minimises the uniform empirical risk
over everything seen so far: Y_t = (1/t) sum_{s <= t} X_s. The U_t are independent with
covariance Sigma (per unit Sigma below). The same recursion holds exactly for rounds of B samples
of which (1 - alpha) B are real, drawn from N(mu, Sigma), and alpha B synthetic, drawn from
N(Y_{t-1}, Sigma), with Sigma / B in place of Sigma (:func:`simulate_pool`).

Theory (derived with SymPy below, and checked against their Theorem 1 as transcribed): the error
D_t = Y_t - mu obeys D_t = ((t - 1 + alpha) / t) D_{t-1} + U_t / t, so

    Var(Y_t) = [1/t^2 + (Gamma(t + alpha) / Gamma(t + 1))^2
                sum_{k=1}^{t-1} (Gamma(k + 1) / (k Gamma(k + alpha)))^2] Sigma.       (eq-blind-var)

Phase transition: Var(Y_t) ~ 1 / ((1 - 2 alpha) t) for alpha < 1/2 (the uncontaminated rate 1/t,
with a larger constant), ~ log(t) / t at alpha = 1/2, and ~ C(alpha) t^{-2 (1 - alpha)} for
alpha > 1/2: slower than 1/t. At alpha = 1 the error does not vanish (Var -> pi^2 / 6), which is
why alpha must lie in [0, 1).

Theory functions never simulate; :func:`simulate_mean` and :func:`simulate_pool` are the
brute-force simulations that check them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import special

from .. import validate

__all__ = [
    "alpha", "t", "kk",
    "step_expr", "coefficient_expr", "theorem_variance_expr", "variance_recursion_expr",
    "power_weight_constant_expr", "rate_exponent", "low_contamination_constant",
    "blind_variance", "weighted_variance", "known_provenance_variance",
    "fisher_information_expr", "known_alpha_variance",
    "simulate_mean", "simulate_pool", "simulate_known_alpha",
]

alpha = sp.Symbol("alpha", nonnegative=True)  # contamination, in [0, 1)
t = sp.Symbol("t", integer=True, positive=True)  # round
kk = sp.Symbol("k", integer=True, positive=True)  # summation index
_D_prev, _U, _Y_prev, _mu = sp.symbols("D_{t-1} U_t Y_{t-1} mu", real=True)


def _alpha(value, name="alpha"):
    arr = validate._finite_array(value, name)
    if np.any((arr < 0) | (arr >= 1)):
        raise ValueError(f"{name} must lie in [0, 1) (the contamination of each new sample), got {value!r}")
    return arr


# --- symbolic derivation ---------------------------------------------------------------------

@lru_cache(maxsize=None)
def step_expr():
    """D_t in terms of D_{t-1} and U_t: from t Y_t = (t - 1) Y_{t-1} + X_t and (eq-blind), with
    Y_{t-1} = mu + D_{t-1}; SymPy finds ((t - 1 + alpha) D_{t-1} + U_t) / t."""
    X_t = alpha * _Y_prev + (1 - alpha) * _mu + _U
    Y_t = ((t - 1) * _Y_prev + X_t) / t
    D_t = sp.expand(sp.expand(Y_t - _mu).subs(_Y_prev, _mu + _D_prev))
    return sp.factor(D_t.coeff(_D_prev)) * _D_prev + D_t.coeff(_U) * _U


@lru_cache(maxsize=None)
def coefficient_expr():
    """The weight of U_k in D_t: (1/k) prod_{j=k+1}^{t} (j - 1 + alpha) / j, which SymPy turns
    into Gamma(t + alpha) Gamma(k + 1) / (k Gamma(k + alpha) Gamma(t + 1))."""
    j = sp.Symbol("j", integer=True, positive=True)
    slope = step_expr().coeff(_D_prev).subs(t, j)
    prod = sp.product(slope, (j, kk + 1, t))
    coef = sp.gammasimp(prod.rewrite(sp.gamma) / kk)
    (total,) = theorem_variance_expr().atoms(sp.Sum)
    summand = total.function  # (Gamma(k+1) / (k Gamma(k+alpha)))^2
    if sp.gammasimp(coef**2 * (sp.gamma(t + 1) / sp.gamma(t + alpha)) ** 2 / summand) != 1:
        raise AssertionError("the derived weight of U_k does not match their Theorem 1")
    return coef


def theorem_variance_expr():
    """(eq-blind-var) as printed in their Theorem 1 (per unit Sigma)."""
    summand = (sp.gamma(kk + 1) / (kk * sp.gamma(kk + alpha))) ** 2
    return 1 / t**2 + (sp.gamma(t + alpha) / sp.gamma(t + 1)) ** 2 * sp.Sum(summand, (kk, 1, t - 1))


def variance_recursion_expr():
    """v_t = ((t - 1 + alpha) / t)^2 v_{t-1} + 1 / t^2, from :func:`step_expr`."""
    v_prev = sp.Symbol("v_{t-1}", nonnegative=True)
    e = step_expr()
    return e.coeff(_D_prev) ** 2 * v_prev + e.coeff(_U) ** 2


def power_weight_constant_expr():
    """First-order t Var(Y_t) for weights c_s = s^gamma (u = gamma + 1): u^2 / (2 (1 - alpha) u - 1),
    valid when 2 (1 - alpha) u > 1 (see the exercise of the chapter; a heuristic, not their
    result)."""
    u = sp.Symbol("u", positive=True)
    return u**2 / (2 * (1 - alpha) * u - 1)


def rate_exponent(a):
    """The exponent r with Var(Y_t) of order t^{-r} (up to log t at alpha = 1/2): min(1, 2 (1 - alpha)).

    Examples
    --------
    >>> rate_exponent([0.3, 0.5, 0.8])
    array([1. , 1. , 0.4])
    """
    av = _alpha(a)
    return np.minimum(1.0, 2 * (1 - av))


def low_contamination_constant(a):
    """lim t Var(Y_t) = 1 / (1 - 2 alpha) for alpha < 1/2 (first order; infinite for alpha >= 1/2).

    Examples
    --------
    >>> low_contamination_constant([0.0, 0.25])
    array([1., 2.])
    """
    av = _alpha(a)
    with np.errstate(divide="ignore"):
        return np.where(av < 0.5, 1.0 / np.maximum(1 - 2 * av, 0.0), np.inf)


# --- numeric versions ------------------------------------------------------------------------

def _rounds(T):
    return validate.positive_int(T, "T")


def blind_variance(a, T):
    """Var(Y_t) per unit Sigma for t = 1..T (eq-blind-var): shape (T,) + shape of ``a``.

    Evaluated in log-gamma form: h_t = Gamma(t + alpha) / Gamma(t + 1) and
    g_k = Gamma(k + 1) / (k Gamma(k + alpha)) stay finite for every t and alpha in [0, 1).

    Examples
    --------
    >>> np.round(blind_variance(0.0, 4), 4)   # no contamination: 1/t
    array([1.    , 0.5   , 0.3333, 0.25  ])
    >>> round(float(blind_variance(0.5, 50)[-1]), 4)
    0.0982
    """
    av = np.asarray(_alpha(a), dtype=float)
    T = _rounds(T)
    ts = np.arange(1, T + 1, dtype=float).reshape((T,) + (1,) * av.ndim)
    log_h = special.gammaln(ts + av) - special.gammaln(ts + 1)
    log_g = special.gammaln(ts + 1) - np.log(ts) - special.gammaln(ts + av)
    g2 = np.exp(2 * log_g)
    partial = np.cumsum(g2, axis=0) - g2  # sum_{k < t}
    return 1.0 / ts**2 + np.exp(2 * log_h) * partial


def weighted_variance(a, weights):
    """Var(Y_t) per unit Sigma for t = 1..T when the learner weights sample s by c_s > 0,
    Y_t = sum_{s<=t} c_s X_s / sum_{s<=t} c_s (uniform c_s is ERM). With C_t = sum_{s<=t} c_s,
    D_t = ((C_{t-1} + alpha c_t) / C_t) D_{t-1} + (c_t / C_t) U_t. ``weights`` has shape (T,)
    or (T, S) for S schemes side by side.

    Examples
    --------
    >>> bool(np.allclose(weighted_variance(0.6, np.ones(30)), blind_variance(0.6, 30)))
    True
    """
    av = float(_alpha(a))
    c = np.asarray(validate._finite_array(weights, "weights"), dtype=float)
    if c.ndim not in (1, 2) or c.shape[0] < 1 or np.any(c <= 0):
        raise ValueError("weights must be a (T,) or (T, S) array of positive numbers")
    C = np.cumsum(c, axis=0)
    v = np.empty_like(c)
    v[0] = 1.0
    for i in range(1, c.shape[0]):
        rho = (C[i - 1] + av * c[i]) / C[i]
        v[i] = rho**2 * v[i - 1] + (c[i] / C[i]) ** 2
    return v


def known_provenance_variance(a, T, batch=1):
    """Var of the mean of the real samples alone after t = 1..T rounds of ``batch`` samples
    (the first round all real, then (1 - alpha) batch real per round): 1 / (batch (1 + (t - 1)(1 - alpha))).

    Examples
    --------
    >>> known_provenance_variance(0.5, 3, batch=2)
    array([0.5       , 0.33333333, 0.25      ])
    """
    av = np.asarray(_alpha(a), dtype=float)
    T = _rounds(T)
    B = validate.sample_size(batch, "batch")
    ts = np.arange(1, T + 1, dtype=float).reshape((T,) + (1,) * av.ndim)
    return 1.0 / (B * (1 + (ts - 1) * (1 - av)))


def fisher_information_expr():
    """Fisher information about mu in X_1..X_t of (eq-blind), unit variance, alpha known
    (this book's derivation, not Amin et al.'s). Given the past, X_s ~ N(alpha Y_{s-1} +
    (1 - alpha) mu, 1) for s >= 2 with Y_{s-1} a function of the data already seen, so the
    log-likelihood is -(X_1 - mu)^2 / 2 - sum_{s=2}^t (X_s - alpha Y_{s-1} - (1 - alpha) mu)^2 / 2,
    whose second derivative in mu SymPy sums to -(1 + (t - 1)(1 - alpha)^2), a constant: the
    information does not depend on the data, whatever estimate Y contaminates the samples.

    Examples
    --------
    >>> fisher_information_expr()
    (1 - alpha)**2*(t - 1) + 1
    """
    s_, x1, xs, ys, mu_ = sp.symbols("s X_1 X_s Y_s mu", real=True)
    first = -(x1 - mu_) ** 2 / 2
    later = -(xs - alpha * ys - (1 - alpha) * mu_) ** 2 / 2
    info = -(sp.diff(first, mu_, 2) + sp.summation(sp.diff(later, mu_, 2), (s_, 2, t)))
    target = 1 + (t - 1) * (1 - alpha) ** 2
    if sp.simplify(info - target) != 0:
        raise AssertionError("the Fisher information is not 1 + (t - 1)(1 - alpha)^2")
    return target


def known_alpha_variance(a, T):
    """1 / (1 + (t - 1)(1 - alpha)^2), t = 1..T, per unit Sigma: the Cramer-Rao bound of
    :func:`fisher_information_expr` for unbiased estimators of mu from X_1..X_t of (eq-blind)
    with Gaussian noise and alpha known. It is attained exactly by
    mu^_t = (X_1 + (1 - alpha) sum_{s=2}^t (X_s - alpha Y_{s-1})) / (1 + (t - 1)(1 - alpha)^2),
    which removes the known contamination (:func:`simulate_known_alpha`); first order
    1 / ((1 - alpha)^2 t). Shape (T,) + shape of ``a``.

    Examples
    --------
    >>> known_alpha_variance(0.5, 3)
    array([1.        , 0.8       , 0.66666667])
    """
    av = np.asarray(_alpha(a), dtype=float)
    T = _rounds(T)
    ts = np.arange(1, T + 1, dtype=float).reshape((T,) + (1,) * av.ndim)
    return 1.0 / (1 + (ts - 1) * (1 - av) ** 2)


# --- brute-force simulation --------------------------------------------------------------------

def simulate_mean(rng, a, T, replications, mu=0.0):
    """The loop (eq-blind) itself, unit variance: errors Y_t - mu of shape (T, A, R) for the
    contaminations ``a`` (shape (A,)) and R replications. Each sample is drawn as the definition
    says, and Y_t is the running mean of the samples (not the recursion of the theory).

    Examples
    --------
    >>> simulate_mean(np.random.default_rng(0), [0.3, 0.8], 5, 10).shape
    (5, 2, 10)
    """
    av = np.atleast_1d(np.asarray(_alpha(a), dtype=float))
    T = _rounds(T)
    R = validate.sample_size(replications, "replications", 2, " (standard errors need two)")
    total = np.zeros((av.size, R))
    Y = np.zeros((av.size, R))
    out = np.empty((T, av.size, R))
    for i in range(T):
        mean = mu if i == 0 else av[:, None] * Y + (1 - av[:, None]) * mu
        total += mean + rng.standard_normal((av.size, R))
        Y = total / (i + 1)
        out[i] = Y - mu
    return out


def simulate_pool(rng, a, T, replications, batch, mu=0.0):
    """Rounds of ``batch`` individual samples: all real in round 1, then (1 - alpha) batch real
    from N(mu, 1) and alpha batch synthetic from N(Y_{t-1}, 1), Y_t the mean of the whole pool
    (the blind learner). Returns (blind errors, real-only errors), each (T, R): the second is the
    mean of the real samples alone, what a learner who knows the provenance computes from the
    same data. ``alpha * batch`` must be an integer.

    Examples
    --------
    >>> blind, known = simulate_pool(np.random.default_rng(0), 0.3, 4, 6, batch=10)
    >>> blind.shape, known.shape
    ((4, 6), (4, 6))
    """
    av = float(_alpha(a))
    T = _rounds(T)
    R = validate.sample_size(replications, "replications", 2, " (standard errors need two)")
    B = validate.sample_size(batch, "batch")
    n_syn = av * B
    if abs(n_syn - round(n_syn)) > 1e-9:
        raise ValueError(f"alpha * batch must be an integer count of synthetic samples, got {n_syn!r}")
    n_syn = int(round(n_syn))
    n_real = B - n_syn
    pool_sum, pool_n = np.zeros(R), 0
    real_sum, real_n = np.zeros(R), 0
    Y = np.zeros(R)
    blind, known = np.empty((T, R)), np.empty((T, R))
    for i in range(T):
        nr = B if i == 0 else n_real
        real = mu + rng.standard_normal((nr, R))
        real_sum += real.sum(axis=0)
        real_n += nr
        pool_sum += real.sum(axis=0)
        pool_n += nr
        if i > 0 and n_syn:
            syn = Y + rng.standard_normal((n_syn, R))
            pool_sum += syn.sum(axis=0)
            pool_n += n_syn
        Y = pool_sum / pool_n
        blind[i] = Y - mu
        known[i] = real_sum / real_n - mu
    return blind, known


def simulate_known_alpha(rng, a, T, replications, mu=0.0):
    """The loop (eq-blind) drawn sample by sample as in :func:`simulate_mean` (contaminated by
    the ERM estimate Y_{t-1}), observed by a learner who knows alpha but not mu: errors of
    (blind ERM Y_t, de-contaminated estimate mu^_t of :func:`known_alpha_variance`), each of
    shape (T, R).

    Examples
    --------
    >>> erm, dec = simulate_known_alpha(np.random.default_rng(0), 0.8, 5, 10)
    >>> erm.shape, dec.shape
    ((5, 10), (5, 10))
    """
    av = float(_alpha(a))
    T = _rounds(T)
    R = validate.sample_size(replications, "replications", 2, " (standard errors need two)")
    total, num, Y = np.zeros(R), np.zeros(R), np.zeros(R)
    erm, dec = np.empty((T, R)), np.empty((T, R))
    for i in range(T):
        if i == 0:
            x = mu + rng.standard_normal(R)
            num += x
        else:
            x = av * Y + (1 - av) * mu + rng.standard_normal(R)
            num += (1 - av) * (x - av * Y)
        total += x
        Y = total / (i + 1)
        erm[i] = Y - mu
        dec[i] = num / (1 + i * (1 - av) ** 2) - mu
    return erm, dec
