"""For practitioners: which weight to use in a real training pipeline, and how to check it.

The golden-ratio result assumes a full refit on exact samples of the previous fit, with the
weights on the two mean losses, fresh real data from a fixed truth, independent samples and a
well-specified model. This module gives the weight and the limiting error when each assumption is
relaxed, derived in SymPy (the ``*_expr`` functions) and evaluated by lambdified versions, and
the tools to estimate the inputs from data and to diagnose a run (book chapter "A practitioner's
guide"; all results are this book's, not the paper's).

Relative units throughout: errors are divided by the one-shot error of a fit on the n real samples
(for the Gaussian mean sigma^2 / n), k = n / m.

* Recommendation: :func:`recommend_weight` (w*(k), or the optimum of the general recursion
  :func:`loop_step_expr` when options are given), :func:`sample_weights`,
  :func:`misjudged_excess`.
* The general recursion (exact for the Gaussian mean), eq. (eq-practice-step) of the chapter:
  e_t = (1 - a w)^2 (e_{t-1} + q) + alpha^2 w^2 (1 - pi + pi rho) + alpha^2 (1 - w)^2 k rho d,
  a = alpha (1 - pi), with alpha the step fraction of a warm-started fine-tune
  (:func:`step_fraction`), pi the contamination of the real pool by samples of the previous fit,
  q the drift of the truth, rho the misspecification factor and d the design effect of
  correlated synthetic samples (:func:`design_effect`). :func:`loop_limit`,
  :func:`loop_error_path`, :func:`loop_optimal_weight`.
* Loss weights versus mixing proportions under SGD: :func:`sgd_noise_expr`, :func:`sgd_limit`,
  :func:`sgd_optimal_weight`.
* Synthetic data that are not samples of the fit (temperature, tail truncation):
  :func:`truncated_normal_moments`, :func:`variance_limit_expr`, :func:`variance_limit`,
  :func:`variance_optimal_weight`, :func:`fitted_variance_limit`, :func:`topk_tail_mass_expr`.
* Estimating the inputs: :func:`sandwich_rho`, :func:`bootstrap_rho`, :func:`estimate_icc`,
  :func:`contamination_effective_k`, :func:`heldout_gain`, :func:`heldout_best_weight`.
* Diagnosing collapse: :func:`gaussian_heldout_loglik`, :func:`gaussian_tail_mass`,
  :func:`rare_mass`, :func:`collapse_report`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize
from scipy.special import ndtr

from . import glm, theory, validate
from .theory import _numeric, k, w

__all__ = [
    "recommend_weight", "sample_weights", "misjudged_excess_expr", "misjudged_excess",
    "loop_step_expr", "loop_limit_expr", "loop_limit", "loop_error_path", "loop_optimal_weight",
    "step_fraction", "design_effect", "estimate_icc", "contamination_effective_k",
    "expected_loss_identity", "sgd_noise_expr", "sgd_limit_expr", "sgd_limit", "sgd_optimal_weight",
    "truncated_normal_moments", "variance_limit_expr", "variance_limit", "variance_optimal_weight",
    "fitted_variance_limit", "topk_tail_mass_expr",
    "sandwich_rho", "bootstrap_rho", "heldout_gain_expr", "heldout_gain", "heldout_best_weight",
    "gaussian_heldout_loglik", "gaussian_tail_mass", "rare_mass", "collapse_report",
]

k_hat = sp.Symbol("khat", positive=True)  # the ratio the practitioner believes
alpha = sp.Symbol("alpha", positive=True)  # step fraction of a warm-started fine-tune, (0, 1]
pi_c = sp.Symbol("pi", nonnegative=True)  # contamination share of the "real" pool
q = sp.Symbol("q", nonnegative=True)  # drift variance per generation
rho = sp.Symbol("rho", positive=True)  # misspecification factor s_J / s_K
d = sp.Symbol("d", positive=True)  # design effect of the synthetic sample
e_prev = sp.Symbol("e_{t-1}", nonnegative=True)
eta, B, n_s = sp.symbols("eta B n", positive=True)  # SGD step size, minibatch size, real sample size
lam, kappa = sp.symbols("lambda kappa", positive=True)  # variance factor and kurtosis of the sampler
m_s = sp.Symbol("m", positive=True)


# --- the recommendation ------------------------------------------------------------------------

def _check_options(step_fraction_, contamination, drift, rho_, design_effect_):
    a = float(validate.weights(step_fraction_, "step_fraction"))
    if a <= 0:
        raise ValueError(f"step_fraction must lie in (0, 1], got {step_fraction_!r}")
    p = float(validate.weights(contamination, "contamination"))
    if p >= 1:
        raise ValueError(f"contamination must lie in [0, 1), got {contamination!r}")
    qq = validate.non_negative(drift, "drift")
    r = float(validate.ratio(rho_, "rho"))
    de = float(validate.ratio(design_effect_, "design_effect"))
    if de < 1 / 1e12:
        raise ValueError(f"design_effect must be > 0, got {design_effect_!r}")
    return a, p, qq, r, de


def recommend_weight(n_real: int, n_synthetic: int, *, step_fraction=1.0, contamination=0.0,
                     drift=0.0, rho=1.0, design_effect=1.0) -> float:
    """The weight on the real-data loss that minimises the limiting error.

    Without options it is w*(n_real / n_synthetic) (1/phi when n_real = n_synthetic), for
    loss = w * mean(real losses) + (1 - w) * mean(synthetic losses). The options relax one
    assumption each, as in eq. (eq-practice-step) of the module docstring: ``step_fraction`` alpha
    (a warm-started fine-tune, :func:`step_fraction`), ``contamination`` pi (share of the real
    pool that is output of the previous fit), ``drift`` q (random-walk variance of the truth per
    generation over the one-shot error), ``rho`` (misspecification factor, :func:`sandwich_rho`)
    and ``design_effect`` d (correlated synthetic samples, :func:`design_effect`).

    Examples
    --------
    >>> round(recommend_weight(1000, 1000), 4)
    0.618
    >>> round(recommend_weight(1000, 1000, drift=0.5), 4)  # w*(1.5)
    0.6861
    """
    n = validate.sample_size(n_real, "n_real")
    m = validate.sample_size(n_synthetic, "n_synthetic")
    opts = _check_options(step_fraction, contamination, drift, rho, design_effect)
    if opts == (1.0, 0.0, 0.0, 1.0, 1.0):
        return theory.optimal_weight(n / m)
    return loop_optimal_weight(n / m, *opts)


def sample_weights(n_real: int, n_synthetic: int, **options) -> tuple[float, float]:
    """(weight of each real sample, weight of each synthetic sample), scaled so that the average
    per-sample weight is 1 (the convention of scikit-learn's ``sample_weight``):
    w (n + m) / n and (1 - w) (n + m) / m with w = :func:`recommend_weight` (same options).

    Examples
    --------
    >>> [round(x, 3) for x in sample_weights(1000, 1000)]
    [1.236, 0.764]
    """
    wv = recommend_weight(n_real, n_synthetic, **options)
    total = n_real + n_synthetic
    return wv * total / n_real, (1 - wv) * total / n_synthetic


@lru_cache(maxsize=None)
def misjudged_excess_expr():
    """V(w*(k_hat), k) / w*(k) - 1 as a SymPy expression in k and k_hat."""
    w_hat = theory.optimal_weight_expr().subs(k, k_hat)
    return theory.limiting_error_expr().subs(theory.w, w_hat) / theory.optimal_weight_expr() - 1


@lru_cache(maxsize=None)
def _excess_fn():
    return _numeric(misjudged_excess_expr(), (k, k_hat))


def misjudged_excess(k_true, k_believed):
    """Relative excess error of using w*(k_believed) when the true ratio is k_true (0 if equal).

    Examples
    --------
    >>> round(misjudged_excess(1.0, 4.0), 4)
    0.1932
    """
    kt, kb = np.broadcast_arrays(validate.ratio(k_true, "k_true"), validate.ratio(k_believed, "k_believed"))
    out = np.asarray(_excess_fn()(kt, kb), dtype=float)
    return float(out) if out.ndim == 0 else out


# --- the general recursion (practice-step) ----------------------------------------------------

def loop_step_expr():
    """e_t of eq. (eq-practice-step): the Gaussian-mean error of one generation, relative units.

    theta_t = (1 - alpha) theta_{t-1} + alpha [w ((1 - pi) xbar_real + pi xbar_cont) + (1 - w) xbar_syn]:
    a fine-tune moves the fraction alpha of the way to the weighted argmin; the real pool holds
    (1 - pi) n true samples and pi n samples of the previous fit (variance rho each, relative);
    the m synthetic samples have variance k rho d of their mean; the truth moves by a step of
    variance q. With alpha = 1, pi = q = 0, rho = d = 1 this is the paper's recursion.
    """
    a = alpha * (1 - pi_c)
    return ((1 - a * w) ** 2 * (e_prev + q) + alpha**2 * w**2 * (1 - pi_c + pi_c * rho)
            + alpha**2 * (1 - w) ** 2 * k * rho * d)


@lru_cache(maxsize=None)
def loop_limit_expr():
    """The fixed point of :func:`loop_step_expr` (SymPy), the limiting relative error."""
    e = sp.Symbol("e", positive=True)
    (sol,) = sp.solve(sp.Eq(e, loop_step_expr().subs(e_prev, e)), e)
    return sp.factor(sol)


@lru_cache(maxsize=None)
def _optimum_coefficients():
    """Coefficients (c2, c1, c0) of the numerator of d(limit)/dw, a quadratic in w."""
    num, _ = sp.fraction(sp.factor(sp.diff(loop_limit_expr(), w)))
    poly = sp.Poly(sp.expand(num), w)
    if poly.degree() != 2:
        raise AssertionError("the numerator of the derivative is not a quadratic in w")
    coeffs = [poly.coeff_monomial(w**j) for j in (2, 1, 0)]
    return tuple(_numeric(c, (k, alpha, pi_c, q, rho, d)) for c in coeffs)


@lru_cache(maxsize=None)
def _limit_fn():
    return _numeric(loop_limit_expr(), (w, k, alpha, pi_c, q, rho, d))


def loop_limit(w_value, k_value, step_fraction_=1.0, contamination=0.0, drift=0.0, rho_=1.0,
               design_effect_=1.0):
    """The limiting relative error of eq. (eq-practice-step) at weight(s) ``w_value`` > 0.

    Examples
    --------
    >>> round(loop_limit(0.5, 1.0), 6)  # V(0.5, 1)
    0.666667
    """
    ws = validate.weights(w_value)
    if np.any(ws == 0):
        raise ValueError("w must be > 0: the fully synthetic loop has no finite limit")
    kk = validate.ratio(k_value, "k")
    opts = _check_options(step_fraction_, contamination, drift, rho_, design_effect_)
    ws, kk = np.broadcast_arrays(ws, kk)
    out = np.asarray(_limit_fn()(ws, kk, *opts), dtype=float)
    return float(out) if out.ndim == 0 else out


def loop_error_path(w_value, k_value, T, step_fraction_=1.0, contamination=0.0, drift=0.0, rho_=1.0,
                    design_effect_=1.0):
    """Exact relative errors e_0..e_T of eq. (eq-practice-step) from e_0 = 1 (a fit on real data),
    for a scalar weight or an array of weights (last axis: generations).

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.allclose(loop_error_path(0.6, 1.0, 3), theory.finite_error(0.6, 1.0, np.arange(4))))
    True
    """
    ws = validate.weights(w_value)
    kk = float(validate.ratio(k_value, "k"))
    T = validate.positive_int(T, "T")
    opts = _check_options(step_fraction_, contamination, drift, rho_, design_effect_)
    step = _step_fn()
    e = np.empty(ws.shape + (T + 1,))
    e[..., 0] = 1.0
    for t in range(1, T + 1):
        e[..., t] = step(ws, e[..., t - 1], kk, *opts)
    return e


@lru_cache(maxsize=None)
def _step_fn():
    return _numeric(loop_step_expr(), (w, e_prev, k, alpha, pi_c, q, rho, d))


def loop_optimal_weight(k_value, step_fraction_=1.0, contamination=0.0, drift=0.0, rho_=1.0,
                        design_effect_=1.0) -> float:
    """The minimiser over w in (0, 1] of :func:`loop_limit`: a root of the quadratic numerator of
    its derivative (SymPy), or 1 when the limit decreases on the whole interval.

    Examples
    --------
    >>> round(loop_optimal_weight(1.0), 4)
    0.618
    >>> round(loop_optimal_weight(1.0, step_fraction_=1e-9), 4)  # tiny steps: sqrt(k / (1 + k))
    0.7071
    """
    kk = float(validate.ratio(k_value, "k"))
    opts = _check_options(step_fraction_, contamination, drift, rho_, design_effect_)
    c2, c1, c0 = (float(f(kk, *opts)) for f in _optimum_coefficients())
    roots = np.roots([c2, c1, c0]) if abs(c2) > 1e-300 else np.array([-c0 / c1])
    cands = [float(r.real) for r in roots if abs(r.imag) < 1e-12 and 0 < r.real < 1] + [1.0]
    values = [float(_limit_fn()(c, kk, *opts)) for c in cands]
    return cands[int(np.argmin(values))]


def step_fraction(steps: int, step_size) -> float:
    """alpha = 1 - (1 - eta)^s: how far ``steps`` full-batch gradient steps of size ``step_size``
    eta move the fit from its warm start towards the weighted argmin of a quadratic loss with unit
    curvature (the Gaussian mean: the gradient is theta - target). In a general model the factor
    is the matrix I - (I - eta H)^s, one alpha per eigenvalue of the Hessian H.

    Examples
    --------
    >>> step_fraction(2, 0.5)
    0.75
    """
    s = validate.positive_int(steps, "steps")
    et = float(validate.weights(step_size, "step_size"))
    if et <= 0:
        raise ValueError(f"step_size must lie in (0, 1] (unit curvature), got {step_size!r}")
    return 1.0 - (1.0 - et) ** s


def design_effect(cluster_size: int, icc) -> float:
    """d = 1 + (c - 1) icc: the variance of a mean of m samples drawn in groups of c (for example
    c completions per prompt) with intraclass correlation icc, over that of m independent samples.
    The effective synthetic size is m / d.

    Examples
    --------
    >>> design_effect(10, 0.5)
    5.5
    """
    c = validate.positive_int(cluster_size, "cluster_size")
    r = float(validate.weights(icc, "icc"))
    return 1.0 + (c - 1) * r


def estimate_icc(groups) -> float:
    """The one-way ANOVA estimate of the intraclass correlation from samples in equal groups,
    ``groups`` of shape (G, c) (G groups of c samples, G >= 2, c >= 2):
    (MSB - MSW) / (MSB + (c - 1) MSW), clipped at 0.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0, 0.1], [1.0, 1.1], [2.0, 2.1]])
    >>> round(estimate_icc(x), 3)
    0.995
    """
    x = validate._finite_array(groups, "groups")
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError(f"groups must be a (G, c) array with G >= 2 groups of c >= 2 samples, got shape {x.shape}")
    G, c = x.shape
    means = x.mean(axis=1)
    msb = c * np.sum((means - means.mean()) ** 2) / (G - 1)
    msw = np.sum((x - means[:, None]) ** 2) / (G * (c - 1))
    if msb + (c - 1) * msw == 0:
        raise ValueError("groups has no variation at all; the correlation is undefined")
    return float(max(0.0, (msb - msw) / (msb + (c - 1) * msw)))


def contamination_effective_k(k_value, contamination) -> float:
    """The ratio k_eff whose ordinary optimum w*(k_eff) is the optimal weight under contamination
    pi of the real pool by samples of the previous fit: k_eff = w_pi^2 / (1 - w_pi), the inverse
    of w*(.) at w_pi = :func:`loop_optimal_weight` (k, contamination=pi).

    Examples
    --------
    >>> round(contamination_effective_k(1.0, 0.0), 6)
    1.0
    """
    wp = loop_optimal_weight(k_value, contamination=contamination)
    if wp >= 1:
        return float("inf")
    return wp**2 / (1 - wp)


# --- loss weights versus mixing proportions ----------------------------------------------------

def expected_loss_identity():
    """SymPy check that drawing each example real with probability w (uniformly from the n real)
    or synthetic with probability 1 - w gives the expected loss w L_real + (1 - w) L_syn, and so
    does uniform sampling from the pooled n + m with per-sample weights w (n+m)/n, (1-w)(n+m)/m.
    Returns the two expected losses (L_r, L_s the mean losses of the two pools)."""
    Lr, Ls = sp.symbols("L_r L_s")
    mixing = w * Lr + (1 - w) * Ls
    weighted = (n_s / (n_s + m_s)) * (w * (n_s + m_s) / n_s) * Lr + (m_s / (n_s + m_s)) * ((1 - w) * (n_s + m_s) / m_s) * Ls
    return sp.simplify(mixing), sp.simplify(weighted)


def _sgd_spread():
    """A = (n + m) (w^2 / n + (1 - w)^2 / m) in terms of k: the mean squared per-sample weight."""
    return (1 + 1 / k) * w**2 + (1 + k) * (1 - w) ** 2


def sgd_noise_expr(scheme: str):
    """The stationary variance of constant-step minibatch SGD around the weighted argmin of the
    Gaussian-mean loss, times n (relative units, sigma = 1), to first order in 1/n.

    With per-example gradient a_i (theta - x_i), minibatch B, step eta: the update is
    theta <- (1 - eta h) theta + eta b with h the batch mean of a_i, so the stationary variance is
    eta E xi^2 / (2 - eta E h^2), xi = mean_B a_i (x_i - theta*). ``"weights"``: uniform draws
    from the pooled n + m with weights a_i (E a^2 = A, :func:`_sgd_spread`; E h^2 = 1 + (A - 1)/B);
    ``"mixing"``: each example real with probability w, weight 1 (h = 1).
    """
    if scheme == "weights":
        A = _sgd_spread()
        return n_s * eta * A / (B * (2 - eta * (1 + (A - 1) / B)))
    if scheme == "mixing":
        return n_s * eta / (B * (2 - eta))
    raise ValueError(f"scheme must be 'weights' or 'mixing', got {scheme!r}")


@lru_cache(maxsize=None)
def sgd_limit_expr(scheme: str):
    """The limiting relative error of the loop whose fit is SGD run to stationarity from the
    previous fit: the fixed point of e = (1 - w)^2 e + w^2 + k (1 - w)^2 + s, s =
    :func:`sgd_noise_expr`; that is V(w, k) + s / (w (2 - w))."""
    e = sp.Symbol("e", positive=True)
    s = sgd_noise_expr(scheme)
    return _linear_fixed_point((1 - w) ** 2 * e + w**2 + k * (1 - w) ** 2 + s, e)


@lru_cache(maxsize=None)
def _sgd_fn(scheme):
    return _numeric(sgd_limit_expr(scheme), (w, k, n_s, eta, B))


def _sgd_args(n_value, step_size, batch):
    nn = validate.sample_size(n_value, "n")
    et = float(validate.weights(step_size, "step_size"))
    if et <= 0:
        raise ValueError(f"step_size must lie in (0, 1], got {step_size!r}")
    bb = validate.positive_int(batch, "batch")
    return nn, et, bb


def sgd_limit(w_value, k_value, n_value, step_size, batch, scheme: str):
    """:func:`sgd_limit_expr` evaluated (first order in 1/n).

    Examples
    --------
    >>> round(sgd_limit(0.5, 1.0, 100, 0.1, 10, "mixing") - sgd_limit(0.5, 1.0, 100, 0.1, 10, "weights"), 6)
    0.0
    """
    if scheme not in ("weights", "mixing"):
        raise ValueError(f"scheme must be 'weights' or 'mixing', got {scheme!r}")
    ws = validate.weights(w_value)
    if np.any(ws == 0):
        raise ValueError("w must be > 0: the fully synthetic loop has no finite limit")
    kk = validate.ratio(k_value, "k")
    args = _sgd_args(n_value, step_size, batch)
    ws, kk = np.broadcast_arrays(ws, kk)
    out = np.asarray(_sgd_fn(scheme)(ws, kk, *args), dtype=float)
    if np.any(~np.isfinite(out) | (out < 0)):
        raise ValueError("step_size is too large for this batch: SGD does not settle (2 - eta E h^2 <= 0)")
    return float(out) if out.ndim == 0 else out


def sgd_optimal_weight(k_value, n_value, step_size, batch, scheme: str) -> float:
    """The minimiser over w of :func:`sgd_limit` (bounded scalar minimisation).

    Examples
    --------
    >>> sgd_optimal_weight(1.0, 100, 0.1, 10, "mixing") > theory.optimal_weight(1.0)
    True
    """
    kk = float(validate.ratio(k_value, "k"))
    args = _sgd_args(n_value, step_size, batch)
    f = _sgd_fn(scheme) if scheme in ("weights", "mixing") else None
    if f is None:
        raise ValueError(f"scheme must be 'weights' or 'mixing', got {scheme!r}")

    def obj(x):
        v = float(f(x, kk, *args))
        return v if np.isfinite(v) and v > 0 else np.inf
    res = optimize.minimize_scalar(obj, bounds=(1e-6, 1.0), method="bounded", options={"xatol": 1e-9})
    return float(res.x)


# --- synthetic data that are not samples of the fit -------------------------------------------

@lru_cache(maxsize=None)
def _truncated_moments_expr():
    """(c, lambda(c), kappa(c)) for N(0, 1) truncated to [-c, c]. The truncated integrals
    I_j(c) = int_{-c}^{c} x^j phi(x) dx are written by integration by parts,
    I_0 = 2 Phi(c) - 1, I_2 = I_0 - 2 c phi(c), I_4 = 3 I_0 - 2 (c^3 + 3 c) phi(c), and SymPy checks
    each by differentiation (dI_j/dc = 2 c^j phi(c), I_j(0) = 0), far faster than integrating."""
    c = sp.Symbol("c", positive=True)
    phi = sp.exp(-c**2 / 2) / sp.sqrt(2 * sp.pi)
    I0 = sp.erf(c / sp.sqrt(2))
    I2 = I0 - 2 * c * phi
    I4 = 3 * I0 - 2 * (c**3 + 3 * c) * phi
    for j, I in ((0, I0), (2, I2), (4, I4)):
        if sp.simplify(sp.diff(I, c) - 2 * c**j * phi) != 0 or I.subs(c, 0) != 0:
            raise AssertionError(f"the truncated moment I_{j} is wrong")
    m2 = I2 / I0
    return c, m2, (I4 / I0) / m2**2


def truncated_normal_moments(c):
    """(lambda, kappa) of N(0, 1) truncated to [-c, c] (tail truncation at c fitted standard
    deviations): its variance lambda = 1 - 2 c phi(c) / (2 Phi(c) - 1) and kurtosis
    kappa = E X^4 / lambda^2, from the truncated integrals written by integration by parts and
    checked by SymPy differentiation (:func:`_truncated_moments_expr`). Sampling a Gaussian at temperature tau has
    lambda = tau (the density p^(1/tau) is N(mu, tau sigma^2)) and kappa = 3.

    Examples
    --------
    >>> [round(v, 4) for v in truncated_normal_moments(1.5)]
    [0.5515, 2.1221]
    """
    cc = float(validate.ratio(c, "c"))
    c_s, m2, kap = _truncated_moments_expr()
    return float(m2.subs(c_s, cc).evalf()), float(kap.subs(c_s, cc).evalf())


@lru_cache(maxsize=None)
def variance_limit_expr():
    """The limiting relative error of the fitted variance of a 1-D Gaussian whose synthetic data
    have variance lambda times the fitted one and kurtosis kappa, with n fresh real samples:
    E(sigma_t^2 / sigma^2 - 1)^2 over the one-shot error 2 / (n - 1), exact for every n, m.

    With s_t = sigma_t^2 / sigma^2 = w a + (1 - w) lambda s_{t-1} b, a = S_real^2, b = S_syn^2 /
    (lambda s_{t-1}) independent with means 1 and variances 2 / (n - 1) and
    (kappa - (m - 3) / (m - 1)) / m: the fixed points M1 of E s and M2 of E s^2, error
    M2 - 2 M1 + 1 (SymPy). Finite iff (1 - w)^2 lambda^2 E b^2 < 1.
    """
    M1, M2 = sp.symbols("M1 M2", positive=True)
    Ea2 = 1 + 2 / (n_s - 1)
    Eb2 = 1 + (kappa - (m_s - 3) / (m_s - 1)) / m_s
    m1 = _linear_fixed_point(w + (1 - w) * lam * M1, M1)
    m2 = _linear_fixed_point(w**2 * Ea2 + 2 * w * (1 - w) * lam * m1 + (1 - w) ** 2 * lam**2 * Eb2 * M2, M2)
    return (m2 - 2 * m1 + 1) * (n_s - 1) / 2


def _linear_fixed_point(rhs, x):
    """The solution of x = rhs for rhs = a + b x linear in x: a / (1 - b), with a and b read off by
    SymPy (much faster than ``sp.solve`` on these long expressions)."""
    b = sp.diff(rhs, x)
    if sp.diff(b, x) != 0:
        raise AssertionError("the recursion is not linear in its unknown")
    return rhs.subs(x, 0) / (1 - b)


@lru_cache(maxsize=None)
def _variance_fns():
    expr = variance_limit_expr()
    return _numeric(expr, (w, n_s, m_s, lam, kappa)), _numeric(sp.diff(expr, w), (w, n_s, m_s, lam, kappa))


def _variance_args(n_value, m_value, lam_value, kappa_value):
    nn = validate.sample_size(n_value, "n", 2, " (a sample variance needs two points)")
    mm = validate.sample_size(m_value, "m", 2, " (a sample variance needs two points)")
    la = float(validate.ratio(lam_value, "lam"))
    ka = float(validate.ratio(kappa_value, "kappa"))
    if ka < 1:
        raise ValueError(f"kappa must be >= 1 (a kurtosis), got {kappa_value!r}")
    return nn, mm, la, ka


def _variance_ok(wv, nn, mm, la, ka):
    Eb2 = 1 + (ka - (mm - 3) / (mm - 1)) / mm
    return (1 - wv) ** 2 * la**2 * Eb2 < 1


def variance_limit(w_value, n_value, m_value, lam_value=1.0, kappa_value=3.0):
    """:func:`variance_limit_expr` evaluated; inf where the recursion does not settle.

    Examples
    --------
    >>> round(variance_limit(1.0, 50, 50), 6)  # real only: the one-shot error
    1.0
    """
    ws = validate.weights(w_value)
    nn, mm, la, ka = _variance_args(n_value, m_value, lam_value, kappa_value)
    f, _ = _variance_fns()
    out = np.where(_variance_ok(ws, nn, mm, la, ka), np.asarray(f(ws, nn, mm, la, ka), dtype=float), np.inf)
    return float(out) if out.ndim == 0 else out


def variance_optimal_weight(n_value, m_value, lam_value=1.0, kappa_value=3.0) -> float:
    """The root in (0, 1) of the SymPy derivative of :func:`variance_limit_expr` (the optimal
    weight for the fitted variance), or 1 if the error decreases on the whole interval.

    Examples
    --------
    >>> round(variance_optimal_weight(10**6, 10**6), 3)  # large n, exact samples: 1/phi
    0.618
    """
    nn, mm, la, ka = _variance_args(n_value, m_value, lam_value, kappa_value)
    _, df = _variance_fns()
    lo = 1e-9
    while not _variance_ok(lo, nn, mm, la, ka):
        lo = 0.5 * (1 + lo)
    lo = lo + 1e-9 * (1 - lo)
    g = lambda x: float(df(x, nn, mm, la, ka))
    if g(1.0) <= 0:
        return 1.0
    return float(optimize.brentq(g, lo, 1.0, xtol=1e-12))


def fitted_variance_limit(w_value, lam_value):
    """E sigma_t^2 / sigma^2 in the limit: w / (1 - (1 - w) lambda), the fixed point M1 of
    :func:`variance_limit_expr`. Below 1 when lambda < 1: the fit is too narrow even with fresh
    real data every generation, and tends to 0 as w -> 0.

    Examples
    --------
    >>> fitted_variance_limit(0.5, 0.5)
    0.6666666666666666
    """
    ws = validate.weights(w_value)
    la = validate.ratio(lam_value, "lam")
    with np.errstate(divide="ignore"):
        out = np.where((1 - ws) * la < 1, ws / (1 - (1 - ws) * la), np.inf)
    return float(out) if out.ndim == 0 else out


def topk_tail_mass_expr():
    """The limiting expected fitted mass of the categories outside the top k, when synthetic data
    are drawn only from the top k categories of the previous fit and the top-k set is the true
    one at every generation: the fixed point of T_t = w T_true + (1 - w) * 0, that is w T_true."""
    T, T_true = sp.symbols("T T_true", positive=True)
    (sol,) = sp.solve(sp.Eq(T, w * T_true), T)
    return sol


# --- estimating the inputs ----------------------------------------------------------------------

def sandwich_rho(X, y, family: str = "logistic") -> float:
    """rho = tr(J^{-1}) / tr(J^{-1} K J^{-1}) of a GLM fitted by maximum likelihood to real data
    (X, y) (book chapter "Real data: the UCI Adult census", prop-adult-misspecified): J the mean
    Fisher information (the Hessian), K the mean outer product of the scores, at the fit. The
    optimal weight becomes w*(k rho). ``family``: "logistic" or "poisson" (canonical links, no
    dispersion parameter). Put a column of ones in X for an intercept.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(20000), rng.standard_normal(20000)])
    >>> y = 2 * rng.poisson(np.exp(0.3 * X[:, 1]) / 2)  # variance twice the mean
    >>> round(sandwich_rho(X, y, "poisson"), 1)
    0.5
    """
    if family not in ("logistic", "poisson"):
        raise ValueError(f"family must be 'logistic' or 'poisson', got {family!r}")
    Xa = validate._finite_array(X, "X")
    ya = validate._finite_array(y, "y")
    if Xa.ndim != 2 or ya.shape != (Xa.shape[0],):
        raise ValueError(f"X must be (N, p) and y (N,), got {Xa.shape} and {ya.shape}")
    coef = glm.fit_glm(family, Xa, ya).coef
    if not np.all(np.isfinite(coef)):
        raise ValueError("the maximum-likelihood fit failed (for example separated data): no rho")
    mu, var = glm.family(family).mean_var(Xa @ coef)
    J = (Xa.T * var) @ Xa / len(ya)
    K = (Xa.T * (ya - mu) ** 2) @ Xa / len(ya)
    Ji = np.linalg.inv(J)
    return float(np.trace(Ji) / np.trace(Ji @ K @ Ji))


def bootstrap_rho(rng: np.random.Generator, data, fit, simulate, replicates: int = 200):
    """rho from two bootstraps of a fit on real data, for any model that can be fitted and sampled:
    the parametric bootstrap (refit on data simulated from the fit: the spread of synthetic-data
    fits, s_J / n) over the nonparametric one (refit on rows resampled with replacement: the
    spread of real-data fits, s_K / n), rho = tr Cov_param / tr Cov_nonparam.

    ``data`` (N, ...) holds one real sample per row; ``fit(batch)`` maps datasets (B, N, ...) to
    parameters (B, p); ``simulate(rng, theta, data, B)`` draws B datasets (B, N, ...) from the model
    at theta (for a regression: resampled covariate rows with model responses). Returns
    (rho, standard error), the error by the delta method over the replicates.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(0.0, 2.0, size=400)  # real spread 2; the model assumes spread 1
    >>> fit = lambda D: D.mean(axis=1, keepdims=True)
    >>> sim = lambda g, th, D, b: g.normal(th[0], 1.0, size=(b,) + D.shape)
    >>> r, se = bootstrap_rho(rng, x, fit, sim, 4000)
    >>> bool(abs(r - 1 / x.var()) < 5 * se)  # the known answer for these data: 1 / (their variance)
    True
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {rng!r}")
    D = validate._finite_array(data, "data")
    if D.ndim < 1 or D.shape[0] < 2:
        raise ValueError(f"data must hold at least two rows, got shape {D.shape}")
    Bn = validate.sample_size(replicates, "replicates", 10, " (the spreads need replicates)")
    if not callable(fit) or not callable(simulate):
        raise ValueError("fit and simulate must be callables")
    theta = np.asarray(fit(D[None]), dtype=float)[0]
    nonpar = np.asarray(fit(D[rng.integers(D.shape[0], size=(Bn, D.shape[0]))]), dtype=float)
    par = np.asarray(fit(np.asarray(simulate(rng, theta, D, Bn), dtype=float)), dtype=float)
    if not (np.all(np.isfinite(nonpar)) and np.all(np.isfinite(par))):
        raise ValueError("some bootstrap fits failed (non-finite parameters)")
    u_par = np.sum((par - par.mean(axis=0)) ** 2, axis=1) * Bn / (Bn - 1)
    u_non = np.sum((nonpar - nonpar.mean(axis=0)) ** 2, axis=1) * Bn / (Bn - 1)
    r = u_par.mean() / u_non.mean()
    se = r * np.sqrt(u_par.var(ddof=1) / Bn / u_par.mean() ** 2 + u_non.var(ddof=1) / Bn / u_non.mean() ** 2)
    return float(r), float(se)


@lru_cache(maxsize=None)
def heldout_gain_expr():
    """The weight that minimises the held-out real loss of one generation, in the steady state of
    a loop run at w (Gaussian mean): the Kalman gain (e + k) / (e + k + 1) at e = V(w, k), which
    simplifies to (k + w^2) / (k + 2 w); K(w) - w*(k) = (w - w*(k))^2 / (k + 2 w)."""
    from . import kalman
    return sp.simplify(kalman.gain_expr().subs(kalman.e_prev, theory.limiting_error_expr()).subs(kalman.k, k))


@lru_cache(maxsize=None)
def _heldout_fn():
    return _numeric(heldout_gain_expr(), (w, k))


def heldout_gain(w_value, k_value):
    """:func:`heldout_gain_expr` evaluated: at least w*(k), equal to it only at w = w*(k).

    Examples
    --------
    >>> round(heldout_gain(theory.optimal_weight(1.0), 1.0), 6)
    0.618034
    """
    ws = validate.weights(w_value)
    if np.any(ws == 0):
        raise ValueError("w must be > 0: the fully synthetic loop has no steady state")
    ws, kk = np.broadcast_arrays(ws, validate.ratio(k_value, "k"))
    out = np.asarray(_heldout_fn()(ws, kk), dtype=float)
    return float(out) if out.ndim == 0 else out


def heldout_best_weight(candidates, heldout_losses) -> float:
    """The data-driven check of a weight: refit one generation at a few ``candidates`` weights
    (same real and synthetic data), average each fit's loss on held-out real data over
    generations and runs (``heldout_losses``, shape (C,) or (..., C)), and return the minimiser of
    the least-squares parabola through them, clipped to [0, 1]. In the steady state of a loop at
    w it estimates :func:`heldout_gain`; move w to it (one such step lands near w*).

    Examples
    --------
    >>> heldout_best_weight([0.4, 0.6, 0.8], [(x - 0.55) ** 2 for x in (0.4, 0.6, 0.8)])
    0.55
    """
    c = validate.weights(candidates, "candidates")
    L = validate._finite_array(heldout_losses, "heldout_losses")
    if c.ndim != 1 or np.unique(c).size < 3:
        raise ValueError(f"candidates must be a 1-D array of at least three distinct weights, got {candidates!r}")
    if L.shape[-1] != c.size:
        raise ValueError(f"heldout_losses must have {c.size} values on its last axis, got shape {L.shape}")
    Lm = L.reshape(-1, c.size).mean(axis=0)
    a2, a1, _ = np.polyfit(c, Lm, 2)
    if a2 <= 0:
        return float(c[int(np.argmin(Lm))])
    return float(np.clip(round(-a1 / (2 * a2), 12), 0.0, 1.0))


# --- diagnosing collapse ------------------------------------------------------------------------

def gaussian_heldout_loglik(x, mean, var):
    """Mean log-density of held-out real data ``x`` (N,) under N(mean, var) for every fitted
    (mean, var) of any shape: -log(2 pi var)/2 - (mean_i (x_i - mean)^2)/(2 var).

    Examples
    --------
    >>> round(gaussian_heldout_loglik([0.0], 0.0, 1.0), 4)
    -0.9189
    """
    xs = validate._finite_array(x, "x").ravel()
    if xs.size == 0:
        raise ValueError("x must hold at least one held-out sample")
    mu = validate._finite_array(mean, "mean")
    v = validate.ratio(var, "var")
    mu, v = np.broadcast_arrays(mu, v)
    sq = np.mean(xs**2) - 2 * mu * xs.mean() + mu**2
    out = -0.5 * np.log(2 * np.pi * v) - sq / (2 * v)
    return float(out) if out.ndim == 0 else out


def gaussian_tail_mass(mean, var, lower, upper):
    """The fitted probability of the tails, P(X < lower) + P(X > upper) under N(mean, var).

    Examples
    --------
    >>> round(gaussian_tail_mass(0.0, 1.0, -1.96, 1.96), 3)
    0.05
    """
    mu = validate._finite_array(mean, "mean")
    sd = np.sqrt(validate.ratio(var, "var"))
    lo = float(validate._finite_array(lower, "lower"))
    hi = float(validate._finite_array(upper, "upper"))
    if not lo < hi:
        raise ValueError(f"lower must be < upper, got {lower!r} and {upper!r}")
    out = ndtr((lo - mu) / sd) + ndtr((mu - hi) / sd)
    return float(out) if np.ndim(out) == 0 else out


def rare_mass(probs, true_probs, rare_below):
    """(retained, lost): the fitted mass of the truly rare categories (true probability below
    ``rare_below``) over their true mass, and how many of them the fit has lost (mass 0).
    ``probs`` has the categories on axis 0, like :class:`lib.nonparametric.CategoricalModel`.

    Examples
    --------
    >>> [round(v, 6) for v in rare_mass([0.7, 0.3, 0.0], [0.6, 0.3, 0.1], 0.5)]
    [0.75, 1]
    """
    p = validate._finite_array(probs, "probs")
    pt = validate.mean_vector(true_probs, "true_probs")
    if p.shape[0] != pt.size:
        raise ValueError(f"probs must have {pt.size} categories on axis 0, got shape {p.shape}")
    thr = float(validate.ratio(rare_below, "rare_below"))
    rare = pt < thr
    if not rare.any():
        raise ValueError(f"no category has true probability below rare_below = {rare_below!r}")
    sel = p[rare]
    retained = sel.sum(axis=0) / pt[rare].sum()
    lost = np.sum(sel <= 0, axis=0)
    if np.ndim(retained) == 0:
        return float(retained), int(lost)
    return retained, lost


def collapse_report(heldout_loglik=None, spread=None, rare=None, window: int = 5, tolerance: float = 0.05,
                    loglik_reference=None, spread_reference=None):
    """Read one run for collapse: the mean of its last ``window`` generations against a reference.

    Give at least one series. ``heldout_loglik`` (T + 1,): the mean held-out real log-likelihood
    of each generation's fit;
    ``spread`` (optional, T + 1): a fitted spread (variance, tail mass); ``rare`` (optional,
    T + 1): the mass kept by rare categories over their mass in real data (:func:`rare_mass`,
    reference 1). The references are the real data's own values (the log-likelihood of a fit to
    the held-out data, their variance); without them, the mean of the first ``window``
    generations. Returns a dict with ``loglik_drop`` (reference minus late mean, nats per sample),
    ``spread_ratio`` and ``rare_ratio`` (late over reference) and ``collapsing``: True when the
    log-likelihood drops by more than ``tolerance`` or a ratio falls below 1 - ``tolerance``.

    Examples
    --------
    >>> r = collapse_report([-1.4, -1.4, -1.5, -1.7], spread=[1.0, 1.0, 0.7, 0.5], window=2)
    >>> round(r["loglik_drop"], 3), r["spread_ratio"], r["collapsing"]
    (0.2, 0.6, True)
    >>> collapse_report([-1.45] * 4, spread=[0.8] * 4, window=2, spread_reference=1.0)["spread_ratio"]
    0.8
    """
    win = validate.positive_int(window, "window")
    tol = validate.non_negative(tolerance, "tolerance")
    series = {}
    for name, arg, val in (("loglik", "heldout_loglik", heldout_loglik), ("spread", "spread", spread),
                           ("rare", "rare", rare)):
        if val is not None:
            series[name] = validate._finite_array(val, arg)
    if not series:
        raise ValueError("give at least one of heldout_loglik, spread and rare")
    first = next(iter(series.values()))
    T1 = first.shape[0] if first.ndim == 1 else -1
    for name, s in series.items():
        if s.ndim != 1 or s.shape[0] != T1:
            raise ValueError(f"{'heldout_loglik' if name == 'loglik' else name} must be a 1-D series, all of the same "
                             f"length, got shape {s.shape}")
    if T1 < 2 * win:
        raise ValueError(f"window must be at most half the run ({T1} generations), got {window!r}")
    ref = {name: s[:win].mean() for name, s in series.items()}
    ref["rare"] = 1.0
    if loglik_reference is not None:
        ref["loglik"] = float(validate._finite_array(loglik_reference, "loglik_reference"))
    if spread_reference is not None:
        ref["spread"] = float(validate.ratio(spread_reference, "spread_reference"))
    late = {name: s[-win:].mean() for name, s in series.items()}
    out = {"loglik_drop": float(ref["loglik"] - late["loglik"]) if "loglik" in series else None,
           "spread_ratio": None, "rare_ratio": None}
    for name in ("spread", "rare"):
        if name in series:
            if ref[name] <= 0:
                raise ValueError(f"{name} must be positive in the first generations")
            out[f"{name}_ratio"] = float(late[name] / ref[name])
    ratios = [r for r in (out["spread_ratio"], out["rare_ratio"]) if r is not None]
    dropped = out["loglik_drop"] is not None and out["loglik_drop"] > tol
    out["collapsing"] = bool(dropped or any(r < 1 - tol for r in ratios))
    return out
