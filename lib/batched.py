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
    (Each entry is a few whole-batch operations written into L in place; the sums over k are
    explicit products in order, the same numbers as an einsum, at a fraction of its call cost on
    the small batches of the GLM solver.)
    """
    p = S.shape[0]
    L = np.zeros(S.shape, dtype=np.result_type(S.dtype, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(p):
            for j in range(i + 1):
                s = S[i, j]
                if j:
                    dot = L[i, 0] * L[j, 0]
                    for k in range(1, j):
                        dot += L[i, k] * L[j, k]
                    s = s - dot
                if i == j:
                    positive = s > 0
                    if check and not np.all(positive):
                        raise ValueError("matrix is not positive definite for some batch element")
                    np.sqrt(np.where(positive, s, np.nan), out=L[i, i, ...])
                else:
                    np.divide(s, L[j, j], out=L[i, j, ...])
    return L


def solve_spd(S: np.ndarray, b: np.ndarray, check: bool = True) -> np.ndarray:
    """x with S x = b for symmetric positive-definite S (p, p, ...) and b (p, ...):
    Cholesky factorisation, then forward and back substitution, entry by entry.
    ``check=False``: NaN for the batch elements where S is not positive definite."""
    L = cholesky(S, check)
    p = L.shape[0]
    y = np.empty(np.broadcast_shapes(b.shape, L.shape[1:]), dtype=np.result_type(b.dtype, L.dtype))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(p):  # L y = b
            rest = b[i]
            if i:
                dot = L[i, 0] * y[0]
                for k in range(1, i):
                    dot += L[i, k] * y[k]
                rest = rest - dot
            np.divide(rest, L[i, i], out=y[i, ...])
        x = np.empty_like(y)
        for i in reversed(range(p)):  # L' x = y
            rest = y[i]
            if i + 1 < p:
                dot = L[i + 1, i] * x[i + 1]
                for k in range(i + 2, p):
                    dot += L[k, i] * x[k]
                rest = rest - dot
            np.divide(rest, L[i, i], out=x[i, ...])
    return x


def lift(x: np.ndarray, batch_ndim: int) -> np.ndarray:
    """A single vector or matrix with ``batch_ndim`` trailing length-1 axes, to broadcast."""
    return np.reshape(x, x.shape + (1,) * batch_ndim)
