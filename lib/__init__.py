"""Simulation core of the companion book to He, Xu and Cheng, "Golden Ratio Weighting Prevents
Model Collapse" (arXiv 2502.18049; JRSSB 2026).

* :mod:`lib.theory`: SymPy derivation of the limiting error V(w, k), the optimal weight w*(k) and
  the Gaussian-mean recursion, with numeric versions.
* :mod:`lib.covariance_theory`: exact covariance/variance error recursions.
* :mod:`lib.engine`: the weighted fresh-data loop, vectorised over weights and replications.
* :mod:`lib.gaussian`: the Gaussian model plugged into it.
* :mod:`lib.plotting`: the book's figure style.
"""

from .engine import LoopResult, Model, run_loop
from .gaussian import GaussianModel
from .theory import (
    GOLDEN_WEIGHT,
    finite_error,
    gaussian_mean_error,
    limiting_error,
    naive_error,
    naive_weight,
    optimal_weight,
    window_error,
)

__all__ = [
    "GOLDEN_WEIGHT", "GaussianModel", "LoopResult", "Model", "finite_error", "gaussian_mean_error",
    "limiting_error", "naive_error", "naive_weight", "optimal_weight", "run_loop", "window_error",
]
