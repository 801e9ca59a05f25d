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
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import validate
from .theory import _numeric, k, w

__all__ = ["step_error_expr", "gain_expr", "steady_state", "schedule_error", "optimal_schedule"]

e_prev = sp.Symbol("e_{t-1}", nonnegative=True)
P = sp.Symbol("P", positive=True)  # prior variance e_{t-1} + k


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
