"""Linear algebra on many small matrices at once, stored *parameters first, batch last*.

A batch of p x p matrices is an array of shape (p, p, *batch) and a batch of vectors (p, *batch).
Each entry is then one contiguous array over the batch, and an operation is a handful of whole-
batch numpy operations. For the p <= 10 of this book that is 10-15x faster than numpy's stacked
``matmul``/``cholesky`` on (*batch, p, p) arrays, whose per-matrix overhead dominates at p = 2.
A second benefit: a weight array of shape (W, 1) broadcasts against the trailing batch axes
(W, R) directly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["matmul", "matvec", "gram", "cholesky", "solve_spd", "lift"]


def matmul(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """C[i, j] = sum_k A[i, k] B[k, j] for every batch element."""
    return np.einsum("ik...,kj...->ij...", A, B)


def matvec(A: np.ndarray, x: np.ndarray) -> np.ndarray:
    """y[i] = sum_j A[i, j] x[j] for every batch element."""
    return np.einsum("ij...,j...->i...", A, x)


def gram(A: np.ndarray) -> np.ndarray:
    """A A' for every batch element."""
    return np.einsum("ik...,jk...->ij...", A, A)


def cholesky(S: np.ndarray, check: bool = True) -> np.ndarray:
    """Lower-triangular L with L L' = S for every batch element (Cholesky-Banachiewicz).

    Raises ValueError if some matrix is not positive definite; with ``check=False`` those batch
    elements get NaN entries instead, for a caller that handles them element by element.
    """
    p = S.shape[0]
    L = np.zeros_like(S)
    for i in range(p):
        for j in range(i + 1):
            s = S[i, j] - np.einsum("k...,k...->...", L[i, :j], L[j, :j])
            if i == j:
                if check and np.any(~(s > 0)):
                    raise ValueError("matrix is not positive definite for some batch element")
                with np.errstate(invalid="ignore"):
                    L[i, i] = np.sqrt(np.where(s > 0, s, np.nan))
            else:
                L[i, j] = s / L[j, j]
    return L


def solve_spd(S: np.ndarray, b: np.ndarray, check: bool = True) -> np.ndarray:
    """x with S x = b for symmetric positive-definite S (p, p, ...) and b (p, ...):
    Cholesky factorisation, then forward and back substitution, entry by entry.
    ``check=False``: NaN for the batch elements where S is not positive definite."""
    L = cholesky(S, check)
    p = L.shape[0]
    y = np.empty(np.broadcast_shapes(b.shape, L.shape[1:]))
    for i in range(p):  # L y = b
        y[i] = (b[i] - np.einsum("k...,k...->...", L[i, :i], y[:i])) / L[i, i]
    x = np.empty_like(y)
    for i in reversed(range(p)):  # L' x = y
        x[i] = (y[i] - np.einsum("k...,k...->...", L[i + 1:, i], x[i + 1:])) / L[i, i]
    return x


def lift(x: np.ndarray, batch_ndim: int) -> np.ndarray:
    """A single vector or matrix with ``batch_ndim`` trailing length-1 axes, to broadcast."""
    return np.reshape(x, x.shape + (1,) * batch_ndim)
