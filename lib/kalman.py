"""The Kalman-filter view of the weighted loop, and optimal time-varying weights (a derived reading,
not in the paper; paper-notes Sec. 2).

In units of the one-shot error (tr Sigma / n = 1, so a synthetic mean has variance k = n / m), the
Gaussian-mean error obeys e_t = (1 - w_t)^2 (e_{t-1} + k) - k (1 - w_t)^2 + ... ; precisely

    e_t = (1 - w_t)^2 e_{t-1} + w_t^2 + k (1 - w_t)^2 = (1 - w_t)^2 P_t + w_t^2,   P_t = e_{t-1} + k.

This is one step of a scalar Kalman filter for a random walk: the synthetic sample carries the
previous estimate forward with process noise k (prior variance P_t), and the fresh real sample is a
measurement with noise 1. Minimising e_t over w_t gives the Kalman gain w_t = P_t / (P_t + 1); the
steady-state gain solves K^2 + k K - k = 0, i.e. K = w*(k), with steady-state error w*(k).
Choosing w_t greedily is optimal for the whole horizon, because e_t increases with e_{t-1}.

A drifting truth (:func:`drift_step_error_expr`): if the true mean moves by a random walk with
variance q per generation (in the same units), the previous estimate is q further from the new
truth, the prior variance becomes P_t = e_{t-1} + k + q, and the steady-state gain solves
K^2 + (k + q) K - (k + q) = 0, i.e. K = w*(k + q) (:func:`drift_steady_state`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import validate
from .theory import _numeric, k, w

__all__ = ["step_error_expr", "gain_expr", "steady_state", "schedule_error", "optimal_schedule",
           "drift_step_error_expr", "drift_gain_expr", "drift_steady_state", "drift_limiting_error",
           "drift_optimal_weight"]

e_prev = sp.Symbol("e_{t-1}", nonnegative=True)
P = sp.Symbol("P", positive=True)  # prior variance e_{t-1} + k
q = sp.Symbol("q", nonnegative=True)  # drift: variance of the truth's random-walk step, relative units


def step_error_expr():
    """e_t as a function of w_t and e_{t-1} (relative units; k = n / m)."""
    return (1 - w) ** 2 * e_prev + w**2 + k * (1 - w) ** 2


@lru_cache(maxsize=None)
def gain_expr():
    """argmin over w of e_t: (e_{t-1} + k) / (e_{t-1} + k + 1), the Kalman gain P / (P + 1)."""
    (root,) = sp.solve(sp.diff(step_error_expr(), w), w)
    return sp.simplify(root)


@lru_cache(maxsize=None)
def steady_state():
    """(K, e): the fixed point of the optimally weighted recursion, K = e = w*(k)."""
    e = sp.Symbol("e", positive=True)
    K = gain_expr().subs(e_prev, e)
    e_next = sp.simplify(step_error_expr().subs(w, K).subs(e_prev, e))
    sols = [s for s in sp.solve(sp.Eq(e, e_next), e) if s.is_positive is not False]
    (e_inf,) = [sp.simplify(s) for s in sols if sp.simplify(s.subs(k, 1)).is_positive]
    return sp.simplify(K.subs(e, e_inf)), e_inf


@lru_cache(maxsize=None)
def _step():
    return _numeric(step_error_expr(), (w, e_prev, k))


def schedule_error(weights, k_value):
    """Exact relative errors e_0..e_T of the Gaussian-mean loop under a weight schedule w_1..w_T
    (shape (T,) or (T, S) for S schedules), from e_0 = 1."""
    ws = validate.weights(weights)
    if ws.ndim not in (1, 2) or ws.shape[0] == 0:
        raise ValueError(f"weights must be a schedule of shape (T,) or (T, S) with T >= 1, got shape {ws.shape}")
    kk = float(validate.ratio(k_value, "k"))
    e = np.empty((ws.shape[0] + 1,) + ws.shape[1:])
    e[0] = 1.0
    for t in range(1, ws.shape[0] + 1):
        e[t] = _step()(ws[t - 1], e[t - 1], kk)
    return e


def optimal_schedule(k_value, T):
    """The optimal weights w_1..w_T (Kalman gains from e_0 = 1) and the errors e_0..e_T."""
    kk = float(validate.ratio(k_value, "k"))
    T = validate.positive_int(T, "T")
    gain = _numeric(gain_expr(), (e_prev, k))
    ws, e = np.empty(T), 1.0
    for t in range(T):
        ws[t] = gain(e, kk)
        e = _step()(ws[t], e, kk)
    return ws, schedule_error(ws, kk)


# --- a drifting truth ---------------------------------------------------------------------------

def drift_step_error_expr():
    """e_t = (1 - w)^2 (e_{t-1} + q) + w^2 + k (1 - w)^2 when the true mean takes a random-walk step
    of variance q (relative units, one-shot error 1) between generations t - 1 and t: the previous
    estimate, and the synthetic data drawn around it, are off by the step as well."""
    return (1 - w) ** 2 * (e_prev + q) + w**2 + k * (1 - w) ** 2


@lru_cache(maxsize=None)
def drift_gain_expr():
    """argmin over w of :func:`drift_step_error_expr`: (e_{t-1} + k + q) / (e_{t-1} + k + q + 1)."""
    (root,) = sp.solve(sp.diff(drift_step_error_expr(), w), w)
    return sp.simplify(root)


@lru_cache(maxsize=None)
def drift_steady_state():
    """(K, e): the fixed point of the optimally weighted drifting recursion; SymPy finds
    K = e = w*(k + q), the root in (0, 1) of K^2 + (k + q) K - (k + q)."""
    e = sp.Symbol("e", positive=True)
    K = drift_gain_expr().subs(e_prev, e)
    e_next = sp.simplify(drift_step_error_expr().subs(w, K).subs(e_prev, e))
    sols = [sp.simplify(s) for s in sp.solve(sp.Eq(e, e_next), e)]
    (e_inf,) = [s for s in sols if sp.simplify(s.subs({k: 1, q: 1})).is_positive]
    return sp.simplify(K.subs(e, e_inf)), e_inf


@lru_cache(maxsize=None)
def _drift_limit_expr():
    e = sp.Symbol("e", positive=True)
    (sol,) = sp.solve(sp.Eq(e, drift_step_error_expr().subs(e_prev, e)), e)
    return sp.factor(sol)


def drift_limiting_error(w_value, k_value, q_value):
    """Limiting relative error under drift, (w^2 + (k + q)(1 - w)^2) / (1 - (1 - w)^2) = V(w, k + q),
    solved by SymPy from :func:`drift_step_error_expr`.

    Examples
    --------
    >>> round(drift_limiting_error(0.5, 1.0, 0.0), 6)  # V(0.5, 1) without drift
    0.666667
    """
    ws = validate.weights(w_value)
    kk = validate.ratio(k_value, "k")
    qq = validate._finite_array(q_value, "q")
    if np.any(qq < 0):
        raise ValueError(f"q must be >= 0 (the variance of the drift step), got {q_value!r}")
    if np.any(ws == 0):
        raise ValueError("w must be > 0: the fully synthetic loop has no finite limit")
    out = np.asarray(_numeric(_drift_limit_expr(), (w, k, q))(*np.broadcast_arrays(ws, kk, qq)), dtype=float)
    return float(out) if out.ndim == 0 else out


def drift_optimal_weight(k_value, q_value):
    """The steady-state Kalman gain under drift, w*(k + q) (:func:`drift_steady_state`).

    Examples
    --------
    >>> round(drift_optimal_weight(1.0, 0.0), 4)  # no drift: 1/phi
    0.618
    """
    kk = validate.ratio(k_value, "k")
    qq = validate._finite_array(q_value, "q")
    if np.any(qq < 0):
        raise ValueError(f"q must be >= 0 (the variance of the drift step), got {q_value!r}")
    K, _ = drift_steady_state()
    out = np.asarray(_numeric(K, (k, q))(*np.broadcast_arrays(kk, qq)), dtype=float)
    return float(out) if out.ndim == 0 else out
