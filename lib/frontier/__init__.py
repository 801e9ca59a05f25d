"""Beyond the paper: results published after it, re-derived in SymPy and simulated.

Overparametrized regression (min-norm interpolation and ridge on a fixed design, Garg,
Bhattacharya and Sur) and the provenance-blind loop, in which the learner cannot tell real from
synthetic samples (Amin et al.).

* :mod:`lib.frontier.overparam_theory`: the exact stationary risk and path of min-norm and ridge
  fits in the fixed-design weighted loop, per eigen-direction of X'X/n, and the optimal weight.
* :mod:`lib.frontier.overparam`: the fixed-design model for :func:`lib.engine.run_loop` (p > n
  allowed), the weighted fit itself, and designs (Gaussian or multivariate t, AR(1) covariance).
* :mod:`lib.frontier.blind`: the provenance-blind loop of Amin et al.: exact variance (their
  Theorem 1 as a third-party summary transcribes it, re-derived), rates, weighted estimators, the
  Cramer-Rao bound when the contamination alpha is known, and brute-force simulators.
"""

from . import blind, overparam, overparam_theory
from .overparam import FixedDesignRidgeModel

__all__ = ["blind", "overparam", "overparam_theory", "FixedDesignRidgeModel"]
