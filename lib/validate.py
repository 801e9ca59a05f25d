"""Input checks shared by every public function in :mod:`lib`.

Each check either returns a clean value or raises :class:`ValueError` whose message names the
argument and the allowed range. No check ever "repairs" an input: a wrong argument must never
turn into a plausible-looking wrong number.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "weights",
    "ratio",
    "sample_size",
    "positive_int",
    "mean_vector",
    "covariance",
    "non_negative",
]


_NOT_NUMBERS = (bool, np.bool_, str, bytes)


def _show(value) -> str:
    """The value for an error message, cut to a readable length (arrays can be large)."""
    text = repr(value)
    return text if len(text) <= 120 else text[:100] + f"... ({type(value).__name__}, {np.size(value)} entries)"


def _finite_array(value, name: str) -> np.ndarray:
    # Booleans and strings convert to floats silently (True -> 1.0, "0.5" -> 0.5): a weight of
    # True or a ratio of "4" is a bug in the caller, not a number.
    if isinstance(value, np.ndarray) and value.dtype.kind != "O":
        wrong = value.dtype.kind in "bSUc"
    else:
        wrong = any(isinstance(v, _NOT_NUMBERS) or np.iscomplexobj(v)
                    for v in np.ravel(np.asarray(value, dtype=object)))
    if wrong:
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {_show(value)}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {_show(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity), got {_show(value)}")
    return arr


def weights(value, name: str = "w") -> np.ndarray:
    """A real-data weight or an array of them: finite and in [0, 1]."""
    arr = _finite_array(value, name)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must lie in [0, 1] (the weight on the real-data loss), got {_show(value)}")
    return arr


def non_negative(value, name: str) -> float:
    """A finite real number >= 0 (a penalty, a tolerance)."""
    arr = _finite_array(value, name)
    if arr.ndim != 0 or arr < 0:
        raise ValueError(f"{name} must be a single finite number >= 0, got {_show(value)}")
    return float(arr)


def ratio(value, name: str = "k") -> np.ndarray:
    """A real-to-synthetic sample-size ratio k = n/m, or an array of them: finite and > 0."""
    arr = _finite_array(value, name)
    if np.any(arr <= 0):
        # The k = n/m explanation only for a ratio; other positive quantities share the check.
        why = " (k = n/m, real over synthetic sample size)" if name == "k" or name.startswith("k_") else ""
        raise ValueError(f"{name} must be > 0{why}, got {_show(value)}")
    return arr


def positive(value, name: str) -> float:
    """A single finite real number > 0 (a noise level, a trace, a scale)."""
    arr = _finite_array(value, name)
    if arr.ndim != 0 or arr <= 0:
        raise ValueError(f"{name} must be a single finite number > 0, got {_show(value)}")
    return float(arr)


def full_rank_design(value, name: str = "X") -> np.ndarray:
    """A finite design matrix of shape (rows, columns) with at least as many rows as columns and
    full column rank, so that X'X is invertible (a transposed or collinear design is refused)."""
    arr = _finite_array(value, name)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D design matrix (rows = samples), got shape {arr.shape}")
    rows, cols = arr.shape
    if rows < cols:
        raise ValueError(f"{name} has {rows} rows and {cols} columns: a design needs at least as many samples "
                         f"(rows) as coefficients (columns); is it transposed?")
    rank = np.linalg.matrix_rank(arr)
    if rank < cols:
        raise ValueError(f"{name} has rank {rank} < {cols} columns: X'X is singular (collinear columns)")
    return arr


def _integer(value, name: str, minimum: int, why: str) -> int:
    # bool is an Integral in Python; a sample size of True is a bug, not a 1.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}{why}, got {_show(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{why}, got {_show(value)}")
    return int(value)


def sample_size(value, name: str, minimum: int = 1, why: str = "") -> int:
    """A sample size: an integer >= ``minimum`` (``why`` explains the minimum in the message)."""
    return _integer(value, name, minimum, why)


def positive_int(value, name: str) -> int:
    """A count such as the number of generations or replications: an integer >= 1."""
    return _integer(value, name, 1, "")


def mean_vector(value, name: str = "mean") -> np.ndarray:
    """A finite 1-D mean vector."""
    arr = _finite_array(value, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D vector, got shape {arr.shape}")
    return arr


def covariance(value, dim: int, name: str = "cov") -> np.ndarray:
    """A finite, symmetric, positive-definite ``dim x dim`` matrix."""
    arr = _finite_array(value, name)
    if arr.shape != (dim, dim):
        raise ValueError(f"{name} must be a {dim} x {dim} matrix to match the mean, got shape {arr.shape}")
    if not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive definite") from None
    return arr
