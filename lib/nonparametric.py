"""Empirical distributions in the weighted loop (paper-notes Sec. 3, "Nonparametric").

* :class:`EmpiricalCDFModel`: the estimate is the weighted mixture F_t = w F_real + (1 - w) F_syn
  of two empirical distributions (per-atom masses w/n and (1-w)/m), the synthetic sample drawn
  i.i.d. from F_{t-1}. Error: the Cramer-von Mises distance integral (F_t - F)^2 dF, computed
  exactly (:func:`cvm_distance`).
* :class:`CategoricalModel`: p_t = w p_real + (1 - w) p_syn with multinomial counts, the synthetic
  counts drawn from p_{t-1}. Error: mean over categories of (p_t,j - p_j)^2, as in the paper.

The CvM distance is invariant under x -> F(x) for continuous F, and F(X) is uniform, so the CDF
model works on u = F(x) in (0, 1): its results hold for every continuous F at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import batched, validate

__all__ = ["cvm_distance", "cvm_two_samples", "EmpiricalCDFModel", "CategoricalModel"]


def _unit_atoms(u, name):
    arr = validate._finite_array(u, name)
    if arr.ndim == 0 or arr.shape[-1 if name != "u" else 0] == 0:
        raise ValueError(f"{name} must hold at least one atom, got shape {arr.shape}")
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must lie in [0, 1] (atoms on the uniform scale F(x)), got values outside")
    return arr


def cvm_distance(u: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Exact integral_0^1 (G(v) - v)^2 dv for G(v) = sum_i mass_i 1{u_i <= v}.

    ``u`` (N, ...) holds the atoms on the uniform scale and ``mass`` (broadcastable to it) their
    masses, summing to 1 over axis 0. Between consecutive sorted atoms G is a constant c, and
    integral_a^b (c - v)^2 dv = ((b - c)^3 - (a - c)^3) / 3; summing these pieces from 0 to 1 is exact
    (no evaluation grid). Cost: one sort per batch element.
    """
    u = _unit_atoms(u, "u")
    mass = validate._finite_array(mass, "mass")
    if np.any(mass < 0):
        raise ValueError("mass must be non-negative")
    try:
        mass = np.broadcast_to(mass, u.shape)
    except ValueError:
        raise ValueError(f"mass must broadcast to the shape of u {u.shape}, got {mass.shape}") from None
    if not np.allclose(mass.sum(axis=0), 1.0, rtol=1e-9, atol=1e-12):
        raise ValueError("mass must sum to 1 over the atoms (axis 0)")
    return _cvm_distance(u, mass)


def _cvm_distance(u: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """:func:`cvm_distance` without the checks (the loop's inner call)."""
    mass = np.broadcast_to(mass, u.shape)
    order = np.argsort(u, axis=0)
    us = np.take_along_axis(u, order, axis=0)
    cum = np.cumsum(np.take_along_axis(mass, order, axis=0), axis=0)  # G just after each atom
    # Pieces: [0, u_1) with c = 0, [u_i, u_{i+1}) with c = cum_i, [u_N, 1] with c = 1 (= cum_N).
    left = np.concatenate([np.zeros((1,) + us.shape[1:]), us])
    right = np.concatenate([us, np.ones((1,) + us.shape[1:])])
    c = np.concatenate([np.zeros((1,) + us.shape[1:]), cum])
    return np.sum((right - c) ** 3 - (left - c) ** 3, axis=0) / 3.0


def _pair_max_sum(sorted_u: np.ndarray) -> np.ndarray:
    """M(A) = sum_a sum_b max(a, b) over ordered pairs (diagonal included) of the values sorted on
    the last axis: the k-th smallest is the maximum of 2k - 1 pairs."""
    N = sorted_u.shape[-1]
    return sorted_u @ (2.0 * np.arange(1, N + 1) - 1.0)


def cvm_two_samples(real: np.ndarray, syn: np.ndarray, w) -> np.ndarray:
    """Exact CvM distance of w F_real + (1 - w) F_syn to the uniform distribution, atoms on the
    last axis: real (..., n) with masses a = w/n, syn (..., m) with masses b = (1-w)/m.

    integral (G - v)^2 dv = sum_i p_i u_i^2 - Q + 1/3 with Q = sum_ij p_i p_j max(u_i, u_j); with two
    mass values Q = a^2 M(R) + b^2 M(S) + a b (M(R u S) - M(R) - M(S)), where M is
    :func:`_pair_max_sum`. Three plain sorts, no argsort (equal to :func:`cvm_distance`).
    """
    real, syn = _unit_atoms(real, "real"), _unit_atoms(syn, "syn")
    return _cvm_two_samples(real, syn, validate.weights(w))


def _cvm_two_samples(real: np.ndarray, syn: np.ndarray, w) -> np.ndarray:
    """:func:`cvm_two_samples` without the checks (the loop's inner call)."""
    n, m = real.shape[-1], syn.shape[-1]
    w = np.asarray(w, dtype=float)
    a, b = w / n, (1 - w) / m
    M_R = _pair_max_sum(np.sort(real, axis=-1))
    M_S = _pair_max_sum(np.sort(syn, axis=-1))
    union = np.concatenate([np.broadcast_to(real, syn.shape[:-1] + (n,)), syn], axis=-1)
    M_U = _pair_max_sum(np.sort(union, axis=-1))
    Q = a * a * M_R + b * b * M_S + a * b * (M_U - M_R - M_S)
    second = a * np.sum(real * real, axis=-1) + b * np.sum(syn * syn, axis=-1)
    return second - Q + 1.0 / 3.0


def _gather(atoms: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """out[..., j] = atoms[..., idx[..., j]], the atoms' batch axes broadcast to idx's (the real
    sample is shared by all weights): one flat ``take`` with row offsets, several times faster
    than ``take_along_axis`` on a broadcast view. ``idx`` (int64) is overwritten."""
    rows = np.arange(atoms[..., 0].size).reshape(atoms.shape[:-1]) * atoms.shape[-1]
    idx += rows[..., None]
    return np.take(np.ascontiguousarray(atoms).reshape(-1), idx)


@dataclass(frozen=True)
class EmpiricalCDFModel:
    """Estimate a continuous distribution by the weighted empirical CDF; see the module docstring.

    A fitted state is ``(real, synthetic, w)``: the real atoms, the synthetic atoms (None at
    generation 0) and the weights, on the uniform scale. Unlike the other models this one keeps
    its atoms on the *last* axis (batch first): it sorts and gathers along that axis every
    generation, which is several times faster on contiguous memory. Metric: ``"cvm"``.
    """

    metrics: tuple[str, ...] = field(default=("cvm",), init=False)

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n")
        validate.sample_size(m, "m")

    def chunk_pairs(self, n: int, m: int) -> int:
        return max(1, 4_000_000 // (n + m))  # each pair holds n + m atoms and sorts of them

    def sample_real(self, rng, n, shape):
        return rng.random(shape + (n,))

    def sample_synthetic(self, rng, state, m, shape):
        """m i.i.d. draws from F_{t-1} = w F_real + (1 - w) F_syn: pick the component, then an
        atom of it uniformly."""
        real, syn, w = state
        n = real.shape[-1]
        ridx = rng.integers(n, size=shape + (m,))
        if syn is None:
            return _gather(real, ridx)
        from_syn = rng.random(shape + (m,)) >= np.asarray(w)[..., None]
        idx = rng.integers(syn.shape[-1], size=shape + (m,))
        # Both candidates, then a select: two flat gathers are faster than a gather, a boolean
        # extraction and a masked assignment (the same numbers).
        return np.where(from_syn, _gather(syn, idx), _gather(real, ridx))

    def fit(self, real, synthetic, w):
        return (real, None, 1.0) if synthetic is None else (real, synthetic, w)

    def evaluate(self, state):
        real, syn, w = state
        if syn is None:
            return {"cvm": _cvm_distance(np.moveaxis(real, -1, 0), 1.0 / real.shape[-1])}
        return {"cvm": _cvm_two_samples(real, syn, w)}


@dataclass(frozen=True)
class CategoricalModel:
    """Estimate category probabilities ``probs`` (K,) by weighted frequencies; see the module
    docstring. Sampling n rows with replacement from a finite population and counting is exactly
    a multinomial draw with the population frequencies, so this also covers the real-data setting.

    Metrics: ``"mse"`` = mean_j (p_t,j - p_j)^2 (the paper's error) and ``"zero"`` = the number of
    categories the estimate has lost (p_t,j = 0, never recoverable under w = 0).
    """

    probs: np.ndarray
    metrics: tuple[str, ...] = field(default=("mse", "zero"), init=False)

    def __post_init__(self):
        p = validate.mean_vector(self.probs, "probs")
        if p.size < 2 or np.any(p <= 0) or abs(p.sum() - 1) > 1e-9:
            raise ValueError("probs must hold at least two positive probabilities summing to 1")
        object.__setattr__(self, "probs", p / p.sum())

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n")
        validate.sample_size(m, "m")

    def _frequencies(self, rng, size, probs_last, shape):
        """Multinomial frequencies, categories first: probs_last has categories on the last axis."""
        counts = rng.multinomial(size, probs_last, size=shape)
        return np.moveaxis(counts, -1, 0) / size

    def sample_real(self, rng, n, shape):
        return self._frequencies(rng, n, self.probs, shape)

    def sample_synthetic(self, rng, state, m, shape):
        p = np.moveaxis(np.broadcast_to(state, state.shape[:1] + shape), 0, -1)
        # Rounding can leave sums a hair above 1, which numpy's multinomial rejects.
        p = p / p.sum(axis=-1, keepdims=True)
        return self._frequencies(rng, m, p, shape)

    def fit(self, real, synthetic, w):
        return real if synthetic is None else synthetic + w * (real - synthetic)

    def evaluate(self, state):
        b = state.ndim - 1
        return {"mse": np.mean((state - batched.lift(self.probs, b)) ** 2, axis=0),
                "zero": np.sum(state <= 0, axis=0).astype(float)}
