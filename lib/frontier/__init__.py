"""Beyond the paper: results published after it, re-derived in SymPy and simulated.

Overparametrized regression (min-norm interpolation and ridge on a fixed design, Garg,
Bhattacharya and Sur) and the provenance-blind loop, in which the learner cannot tell real from
synthetic samples (Amin et al.).
"""
