"""Throughput of the Gaussian loop: replication-generations per second.

Prints a table; run with `make benchmark` (or `python benchmarks/gaussian_throughput.py`).
Not a test: timings depend on the machine. Settings: n = m = 100, p = 2, as in the paper's
Fig. 8, with the 30 weights of that figure run at once and with a single weight.

Compared:
* the sufficient-statistic path of `lib.run_loop` (draws sample means and Wishart matrices);
* the full-data path (draws all n + m points per generation), against the time it takes just
  to draw those points' random numbers in the same shapes;
* a per-replication Python loop of the kind in the authors' code: for each replication and
  generation, draw the samples with `numpy.random.Generator.multivariate_normal`, fit with
  `mean` and `np.cov`, repeat.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import lib

N = M = 100
P = 2
WEIGHTS_FIG8 = np.round(np.arange(0.20, 0.781, 0.02), 10)


def best_of(f, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def engine(sampler, weights, reps, T):
    model = lib.GaussianModel(np.zeros(P), np.eye(P), sampler=sampler)
    return lambda: lib.run_loop(model, weights, N, M, T, reps, seed=1, metrics=["mean", "cov"], progress=False)


def rng_only(sampler, weights, reps, T):
    """Only the random draws a path makes, in its shapes and chunks (real data shared across weights):
    normals for every point (full data), or a mean and a Bartlett factor (sufficient statistics)."""
    W = len(weights)
    chunk = min(20_000, max(1, 100_000 // W))  # run_loop's default

    def draw(rng, size, shape):
        if sampler == "full":
            rng.standard_normal((P, size) + shape)
        else:
            rng.standard_normal((P,) + shape)
            for i in range(P):
                rng.standard_gamma((size - 1 - i) / 2.0, size=shape)
                for _ in range(i):
                    rng.standard_normal(shape)

    def run():
        rng = np.random.default_rng(1)
        for start in range(0, reps, chunk):
            r = min(chunk, reps - start)
            draw(rng, N, (1, r))
            for _ in range(T):
                draw(rng, N, (1, r))
                draw(rng, M, (W, r))
    return run


def python_loop(weights, reps, T):
    """Per replication and weight: sample, fit, repeat (the authors' style)."""
    mu, cov = np.zeros(P), np.eye(P)

    def run():
        rng = np.random.default_rng(1)
        for w in weights:
            for _ in range(reps):
                X = rng.multivariate_normal(mu, cov, N)
                m_t, S_t = X.mean(axis=0), np.cov(X, rowvar=False)
                for _ in range(T):
                    X = rng.multivariate_normal(mu, cov, N)
                    Y = rng.multivariate_normal(m_t, S_t, M)
                    m_t = w * X.mean(axis=0) + (1 - w) * Y.mean(axis=0)
                    S_t = w * np.cov(X, rowvar=False) + (1 - w) * np.cov(Y, rowvar=False)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generations", type=int, default=50, help="generations per run (default 50)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept (default 3)")
    args = parser.parse_args()
    T = args.generations

    rows = []
    loop_reps = 40
    t_loop = best_of(python_loop([0.6], loop_reps, T), args.repeat)
    loop_rate = loop_reps * T / t_loop
    rows.append(("python loop (authors' style)", 1, loop_reps, loop_rate, None))
    for label, weights, reps_s, reps_f in [("30 weights", WEIGHTS_FIG8, 2000, 200), ("1 weight", [0.6], 20000, 2000)]:
        W = len(weights)
        engine("suffstat", weights, 50, 2)()  # warm-up: imports, first-touch allocations
        t_s = best_of(engine("suffstat", weights, reps_s, T), args.repeat)
        t_sr = best_of(rng_only("suffstat", weights, reps_s, T), args.repeat)
        t_f = best_of(engine("full", weights, reps_f, T), args.repeat)
        t_fr = best_of(rng_only("full", weights, reps_f, T), args.repeat)
        rows.append((f"sufficient statistics, {label}", W, reps_s, W * reps_s * T / t_s, t_s / t_sr))
        rows.append((f"full data, {label}", W, reps_f, W * reps_f * T / t_f, t_f / t_fr))

    print(f"Gaussian loop, n = m = {N}, p = {P}, {T} generations; best of {args.repeat}.")
    print(f"{'path':42} {'weights':>7} {'reps':>6} {'rep-gen/s':>12} {'vs loop':>9} {'time/draws':>10}")
    for name, W, R, rate, rng_ratio in rows:
        extra = f"{rng_ratio:10.2f}" if rng_ratio is not None else f"{'':10}"
        print(f"{name:42} {W:7d} {R:6d} {rate:12.3g} {rate / loop_rate:8.0f}x {extra}")
    print("time/draws: run time over the time to draw the same random numbers alone (1 = no overhead).")
    print("Goals: sufficient statistics >= 1000x the loop; full data <= 2x the time of its random draws.")


if __name__ == "__main__":
    main()
