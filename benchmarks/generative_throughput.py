"""Throughput of the generative models of lib.generative in the weighted loop (prints figures; not
a test).

For each model, at the settings of the chapter "Generative models in the loop: mixtures, digits
and kernel densities" (2-D two-component mixture by weighted EM, n = m = 100; the digits mixture,
10 components in 6 principal components, n = m = 200; the kernel density estimator, n = m = 100):
CPU time (user + system, best of 3) per generation and per (weight, replication) pair of one
`lib.run_loop` call over the chapter's weight grid.

usage: .venv/bin/python benchmarks/generative_throughput.py
"""

from __future__ import annotations

import numpy as np
from ngram_throughput import cpu  # best-of-3 CPU time, shared by the benchmark scripts

import lib
from lib.generative import digits, kde, mixture


def main() -> None:
    truth = dict(weights=[0.3, 0.7], means=[[-2.0, 0.0], [1.5, 1.0]],
                 covs=[np.eye(2), np.array([[1.0, 0.5], [0.5, 1.5]])])
    weights = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    cases = [
        ("2-D mixture, weighted EM", mixture.GaussianMixtureModel(**truth, tol=1e-5), 100, 100, 10, 100),
        ("digits mixture, weighted EM", digits.DigitsMixtureModel(digits.load()), 200, 200, 5, 8),
        ("kernel density estimator", kde.KDEModel(bandwidth=0.4), 100, 100, 10, 200),
    ]
    print(f"{'model':30s} {'W x R':>8s} {'T':>4s} {'CPU s':>7s} {'ms / generation':>16s} {'us / (pair, gen)':>17s}")
    for name, model, n, m, T, R in cases:
        secs = cpu(lambda: lib.run_loop(model, weights, n, m, T, R, seed=1))
        pairs = len(weights) * R
        print(f"{name:30s} {pairs:8d} {T:4d} {secs:7.2f} {1e3 * secs / (T + 1):16.1f} "
              f"{1e6 * secs / ((T + 1) * pairs):17.1f}")


if __name__ == "__main__":
    main()
