"""Throughput of the character n-gram model (lib.generative.ngram) in the weighted loop.

Prints, for the settings of the chapter "Generative models in the loop: a character language
model" (bigrams, n = 200 real words, alpha = 0.1), the CPU time per generation, the (weight,
replication) pairs and the sampled synthetic characters per CPU second, and the share of the time
spent drawing the synthetic words. Not a test: it prints figures.

usage: .venv/bin/python benchmarks/ngram_throughput.py
"""

from __future__ import annotations

import time

import numpy as np

import lib
from lib.generative import ngram


def cpu(f, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.process_time()
        f()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    train, heldout = ngram.load_corpus()
    cases = [("k = 1", 1.0, 200, 200), ("k = 0.2", 1.0, 200, 1000), ("k = 1, tau = 0.7", 0.7, 200, 200)]
    weights = np.linspace(0.2, 1.0, 10)
    R, T = 20, 5
    print(f"bigram model, {len(train):,} training words; {weights.size} weights x {R} replications x {T} generations")
    print(f"{'case':>18} {'CPU s/gen':>10} {'pairs/s':>9} {'chars/s':>11} {'sampling':>9}")
    for name, tau, n, m in cases:
        model = ngram.NgramModel(train, heldout, alpha=0.1, tau=tau)
        total = cpu(lambda: lib.run_loop(model, weights, n, m, T, R, seed=1))
        rng = np.random.default_rng(0)
        state = model.fit(model.sample_real(rng, n, (1, R)), None, np.ones((1, 1)))
        state = tuple(np.broadcast_to(a, (weights.size,) + a.shape[1:]) for a in state)
        syn = model.sample_synthetic(rng, state, m, (weights.size, R))
        chars = float(syn.sum())  # symbols drawn in one generation (letters and ends)
        draw = cpu(lambda: model.sample_synthetic(rng, state, m, (weights.size, R)))
        per_gen = total / T  # T generations sample; generation 0 only fits
        print(f"{name:>18} {per_gen:10.3f} {weights.size * R / per_gen:9.0f} {chars / draw:11.3g} "
              f"{min(1.0, draw / per_gen):9.0%}")


if __name__ == "__main__":
    main()
