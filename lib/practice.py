"""For practitioners: which weight to use, as per-sample weights, and what misjudging k costs.

* :func:`recommend_weight`: w*(k) with k = n_real / n_synthetic (He, Xu and Cheng; book chapter
  "The Gaussian mean and the golden ratio").
* :func:`sample_weights`: the same choice as per-sample weights for any training loss.
* :func:`misjudged_excess`: relative excess error from using w*(k_hat) when the true ratio is k,
  V(w*(k_hat), k) / w*(k) - 1, derived from :mod:`lib.theory`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from . import theory, validate
from .theory import _numeric, k

__all__ = ["recommend_weight", "sample_weights", "misjudged_excess_expr", "misjudged_excess"]

k_hat = sp.Symbol("khat", positive=True)  # the ratio the practitioner believes


def recommend_weight(n_real: int, n_synthetic: int) -> float:
    """The weight on the real-data loss that minimises the limiting error, w*(n_real / n_synthetic).

    Use it in loss = w * mean(real losses) + (1 - w) * mean(synthetic losses). It is 1/phi when
    n_real = n_synthetic. First-order optimal for every model the paper covers; see the guide's
    caveats (misspecified models, finite samples, the first generations).
    """
    n = validate.sample_size(n_real, "n_real")
    m = validate.sample_size(n_synthetic, "n_synthetic")
    return theory.optimal_weight(n / m)


def sample_weights(n_real: int, n_synthetic: int) -> tuple[float, float]:
    """(weight of each real sample, weight of each synthetic sample), scaled so that the average
    per-sample weight is 1 (the convention of scikit-learn's ``sample_weight``):
    w (n + m) / n and (1 - w) (n + m) / m with w = :func:`recommend_weight`."""
    w = recommend_weight(n_real, n_synthetic)
    total = n_real + n_synthetic
    return w * total / n_real, (1 - w) * total / n_synthetic


@lru_cache(maxsize=None)
def misjudged_excess_expr():
    """V(w*(k_hat), k) / w*(k) - 1 as a SymPy expression in k and k_hat."""
    w_hat = theory.optimal_weight_expr().subs(k, k_hat)
    return theory.limiting_error_expr().subs(theory.w, w_hat) / theory.optimal_weight_expr() - 1


@lru_cache(maxsize=None)
def _excess_fn():
    return _numeric(misjudged_excess_expr(), (k, k_hat))


def misjudged_excess(k_true, k_believed):
    """Relative excess error of using w*(k_believed) when the true ratio is k_true (0 if equal)."""
    kt, kb = np.broadcast_arrays(validate.ratio(k_true, "k_true"), validate.ratio(k_believed, "k_believed"))
    out = np.asarray(_excess_fn()(kt, kb), dtype=float)
    return float(out) if out.ndim == 0 else out
