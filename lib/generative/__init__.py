"""Generative models in the weighted loop: each fitted by weighted maximum likelihood.

The weighted loss ``w * (mean real loss) + (1 - w) * (mean synthetic loss)`` is, for a
likelihood, weighted maximum likelihood with per-sample weights ``w / n`` on the real samples and
``(1 - w) / m`` on the synthetic ones. The models here plug into :func:`lib.engine.run_loop` like
the paper's models.
"""

from . import ngram  # noqa: F401  character n-gram language model of English words
from . import digits, kde, mixture  # noqa: F401  weighted EM mixtures, digits, kernel densities
