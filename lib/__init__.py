"""Simulation core of the companion book to He, Xu and Cheng, "Golden Ratio Weighting Prevents
Model Collapse" (arXiv 2502.18049; JRSSB 2026).

* :mod:`lib.theory`: SymPy derivation of the limiting error V(w, k), the optimal weight w*(k) and
  the Gaussian-mean recursion, with numeric versions.
* :mod:`lib.covariance_theory`: exact covariance/variance error recursions.
* :mod:`lib.engine`: the weighted fresh-data loop, vectorised over weights and replications.
* :mod:`lib.gaussian`: the Gaussian model plugged into it.
* :mod:`lib.glm`, :mod:`lib.regression`, :mod:`lib.glm_theory`: weighted GLM fits for many
  problems at once, the regression models of the loop, and their theory.
* :mod:`lib.nonparametric`, :mod:`lib.nonparametric_theory`: empirical CDF and categorical models,
  the exact Cramer-von Mises distance and the exact error recursion.
* :mod:`lib.adult`: the UCI Adult data shipped with the book, verified on load.
* :mod:`lib.kalman`: the Kalman-filter reading of the loop and optimal weight schedules.
* :mod:`lib.practice`, :mod:`lib.practice_models`: the recommended weight and its corrections
  (fine-tuning, SGD mixing, temperature and truncation, correlation, drift, contamination), rho
  by sandwich or bootstrap, the held-out check, collapse diagnostics; the models that test them.
* :mod:`lib.generative` (subpackage): generative models in the loop by weighted maximum
  likelihood: Gaussian mixtures by weighted EM (``mixture``), scikit-learn's digits (``digits``),
  the kernel density estimator with its exact theory (``kde``), a character n-gram language model
  with temperature sampling (``ngram``).
* :mod:`lib.frontier` (subpackage): min-norm interpolation and ridge with more parameters than
  data (``overparam_theory``, ``overparam``) and the provenance-blind loop (``blind``).
* :mod:`lib.regimes`: replace, accumulate, accumulate-subsample and the fresh-data regimes side by
  side: exact Gaussian-mean theory and simulation of the accumulating regimes.
* :mod:`lib.experiments`, :mod:`lib.reproduce`, :mod:`lib.paper_figures`: the paper's Figs. 7-10
  as seeded tasks with their theory, the ``python -m lib.reproduce`` command, and their figures.
* :mod:`lib.batched`, :mod:`lib.validate`: small-matrix algebra over batches; input checks.
* :mod:`lib.data`: where the shipped data are (repository, wheel, ``GOLDEN_RATIO_DATA``), verified.
* :mod:`lib.plotting`, :mod:`lib.interactive`: the book's figure style; kernel-free plotly figures.
* :mod:`lib.prose`: comparative words computed from their numbers, and claims that fail a run.
"""

from .engine import LoopResult, Model, run_loop
from .practice import recommend_weight, sample_weights
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
    "limiting_error", "naive_error", "naive_weight", "optimal_weight", "recommend_weight", "run_loop",
    "sample_weights", "window_error",
]
