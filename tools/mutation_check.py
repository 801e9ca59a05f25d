"""Mutation check: change one formula of lib at a time and see whether the tests notice.

    .venv/bin/python tools/mutation_check.py [--list] [NAME ...]

Each mutant below is a one-line change to a formula of ``lib`` (a wrong exponent, a threshold off
by a little, a weight swapped); a mutant is *killed* when the named tests fail with it in place
and *survives* when they pass. The script works on a copy of ``lib`` and ``tests`` in a temporary
folder (``PYTHONPATH`` points there), so the checkout is never changed, and it first checks that
the unmutated copy passes the same tests. It prints one line per mutant and the score, killed /
all. Not a test of the suite (it takes minutes); the README quotes its last score.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# (name, file under lib/, exact text, replacement, tests that should catch it)
MUTANTS = [
    ("V: real-data variance weight", "theory.py", "return [(w, 1 / n), (1 - w, 1 / m), (1 - w, e_prev)]",
     "return [(w, 1 / n), (1 - w, 1.05 / m), (1 - w, e_prev)]", ["test_theory.py"]),
    ("w*: stable form", "theory.py", "stable = 2 / (1 + sp.sqrt(1 + 4 / k))",
     "stable = 2 / (1 + sp.sqrt(1 + 4.1 / k))", ["test_theory.py"]),
    ("naive weight", "theory.py", "return _float_or_array(k_ / (1 + k_))",
     "return _float_or_array(k_ / (1.05 + k_))", ["test_theory.py", "test_regimes.py"]),
    ("finite error: constant term", "theory.py", "        c = w ** 2 + k * (1 - w) ** 2\n        value",
     "        c = w ** 2 + k * (1 - w) ** 2.1\n        value", ["test_theory.py"]),
    ("finite error: w = 0 branch", "theory.py", "return np.where(w == 0, 1 + k * t, value)",
     "return np.where(w == 0, 1 + k * (t + 1), value)", ["test_theory.py"]),
    ("Gaussian mean error scale", "theory.py", "return _float_or_array(tr * np.asarray(values, dtype=float))",
     "return _float_or_array(1.03 * tr * np.asarray(values, dtype=float))", ["test_theory.py", "test_monte_carlo.py"]),
    ("covariance: Wishart moments", "covariance_theory.py", "return (c2 + csq) / df, 2 * c2 / df",
     "return (c2 + 1.05 * csq) / df, 2 * c2 / df", ["test_theory.py", "test_monte_carlo.py"]),
    ("covariance: stability threshold", "covariance_theory.py", "stable = (1 - w_) ** 2 * (m_ + 1) / (m_ - 1) < 1",
     "stable = (1 - w_) ** 2 * (m_ + 1.3) / (m_ - 1) < 1", ["test_theory.py", "test_properties.py"]),
    ("covariance: log-variance sd", "covariance_theory.py",
     "return np.sqrt(np.asarray(_log_variance_fns()[1](*_sizes(n, m), _generation(t)), dtype=float))",
     "return np.sqrt(1.02 * np.asarray(_log_variance_fns()[1](*_sizes(n, m), _generation(t)), dtype=float))",
     ["test_theory.py"]),
    ("GLM: misspecification ratio", "glm_theory.py", "return s_K / n * theory.limiting_error(w, k * s_J / s_K)",
     "return s_K / n * theory.limiting_error(w, k * s_K / s_J)", ["test_glm.py", "test_adult.py"]),
    ("GLM: fully synthetic growth", "glm_theory.py", "out = sigma**2 * p * (1.0 / (n - p - 1) + t / (m - p - 1))",
     "out = sigma**2 * p * (1.0 / (n - p - 1) + t / (m - p))", ["test_glm.py", "test_reproduce.py"]),
    ("GLM: linear information", "glm_theory.py", "return np.eye(p) / sigma**2",
     "return np.eye(p) / sigma", ["test_glm.py"]),
    ("GLM: logistic information direction", "glm_theory.py", "return c * np.eye(p) + (a - c) * direction",
     "return c * np.eye(p) + (a - 1.05 * c) * direction", ["test_glm.py"]),
    ("ECDF: pointwise synthetic variance", "nonparametric_theory.py",
     "return [(w, u * (1 - u) / n), (1 - w, (u * (1 - u) - g_prev) / m), (1 - w, g_prev)]",
     "return [(w, u * (1 - u) / n), (1 - w, (u * (1 - u) - 0.9 * g_prev) / m), (1 - w, g_prev)]",
     ["test_nonparametric.py"]),
    ("ECDF: Cramer-von Mises weights", "nonparametric.py", "    a, b = w / n, (1 - w) / m\n    M_R",
     "    a, b = w / n, (1 - w) / (m + 1)\n    M_R", ["test_nonparametric.py"]),
    ("categorical: weighted estimate", "nonparametric.py",
     "return real if synthetic is None else synthetic + w * (real - synthetic)",
     "return real if synthetic is None else synthetic + w ** 1.05 * (real - synthetic)", ["test_nonparametric.py"]),
    ("Gaussian model: covariance metric", "gaussian.py",
     '"cov": np.sum((cov - batched.lift(self.cov, b)) ** 2, axis=(0, 1)),',
     '"cov": np.sum((cov - batched.lift(self.cov, b)) ** 2, axis=(0, 1)) * 1.03,', ["test_monte_carlo.py"]),
    ("Gaussian sampler: sample-mean spread", "gaussian.py",
     "zbar = rng.standard_normal((p,) + shape) / np.sqrt(size)",
     "zbar = rng.standard_normal((p,) + shape) / np.sqrt(size + 3)", ["test_monte_carlo.py"]),
    ("engine: standard error", "engine.py",
     "return e.mean(axis=-1), e.std(axis=-1, ddof=1) / np.sqrt(e.shape[-1])",
     "return e.mean(axis=-1), e.std(axis=-1, ddof=1) / np.sqrt(e.shape[-1] + 5)", ["test_monte_carlo.py", "test_glm.py", "test_validation.py"]),
    ("engine: survivors' standard error", "engine.py",
     "se = np.sqrt((dev**2).sum(axis=-1) / (count - 1) / count)",
     "se = np.sqrt((dev**2).sum(axis=-1) / count / count)", ["test_glm.py", "test_monte_carlo.py"]),
    ("regression: synthetic weight", "regression.py", "return [(A_r, c_r, w / n), (A_s, c_s, (1 - w) / m)], start, n + m",
     "return [(A_r, c_r, w / n), (A_s, c_s, (1 - w) / (2 * m))], start, n + m", ["test_glm.py", "test_monte_carlo.py"]),
    ("regimes: replace-all growth", "regimes.py", "return 1 / n + sp.summation(1 / m, (s, 1, t))",
     "return 1 / n + sp.summation(1 / (m + 1), (s, 1, t))", ["test_regimes.py"]),
    ("regimes: subsample moments", "regimes.py", "return 1 / M - 1 / N, sp.Integer(1)",
     "return 1 / M - 0.9 / N, sp.Integer(1)", ["test_regimes.py"]),
    ("regimes: optimal regime weight", "regimes.py",
     'return {"fresh": 1.0, "naive": n_ / (n_ + m_), "optimal": float(optimal_weight(n_ / m_))}[regime]',
     'return {"fresh": 1.0, "naive": n_ / (n_ + m_), "optimal": float(optimal_weight(m_ / n_))}[regime]',
     ["test_regimes.py"]),
    ("figures: bootstrap interval level", "paper_figures.py",
     "return float(best), (float(np.quantile(draws, 0.025)), float(np.quantile(draws, 0.975)))",
     "return float(best), (float(np.quantile(draws, 0.25)), float(np.quantile(draws, 0.75)))",
     ["test_paper_figures.py"]),
    ("plotting: 95% bar multiplier", "plotting.py", "Z95 = 1.959963984540054", "Z95 = 1.96", ["test_plotting.py"]),
    ("reproduce: manifest row check", "reproduce.py", "    if rows != expected_rows:", "    if rows < 0:",
     ["test_reproduce.py"]),
]


def _copy(dest: Path) -> None:
    shutil.copytree(REPO / "lib", dest / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tests", dest / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "_toc.yml"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("data", "book"):
        (dest / name).symlink_to(REPO / name)


def _run(dest: Path, tests: list[str], show: bool = False) -> tuple[bool, float]:
    env = dict(os.environ, PYTHONPATH=str(dest), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider",
                          *[f"tests/{t}" for t in tests]], cwd=dest, env=env, capture_output=True, text=True)
    if show and out.returncode != 0:
        print(out.stdout[-3000:], out.stderr[-2000:], sep="\n")
    return out.returncode == 0, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only mutants whose name contains one of these")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or any(s in m[0] for s in args.names)]
    if args.list:
        for name, file, *_ in chosen:
            print(f"{file:24s} {name}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp)
        _copy(dest)
        # The mutated copy must be what is imported, not the editable install of the checkout.
        probe = subprocess.run([sys.executable, "-c", "import lib; print(lib.__file__)"], cwd=dest,
                               env=dict(os.environ, PYTHONPATH=str(dest)), capture_output=True, text=True)
        if not probe.stdout.startswith(str(dest)):
            print(f"the copy is not imported ({probe.stdout.strip()}); aborting", file=sys.stderr)
            return 2
        files = sorted({t for m in chosen for t in m[4]})
        ok, secs = _run(dest, files, show=True)
        print(f"unmutated: {'pass' if ok else 'FAIL'} ({secs:.0f} s, {', '.join(files)})")
        if not ok:
            return 2
        killed, missing = 0, 0
        for name, file, old, new, tests in chosen:
            path = dest / "lib" / file
            text = path.read_text()
            if text.count(old) != 1:
                print(f"  MISSING   {name} ({file}: the text to mutate is not there once; update the list)")
                missing += 1
                continue
            path.write_text(text.replace(old, new))
            try:
                passed, secs = _run(dest, tests)
            finally:
                path.write_text(text)
            killed += not passed
            print(f"  {'killed  ' if not passed else 'SURVIVED'}  {name} ({file}; {secs:.0f} s)")
        total = len(chosen) - missing
        print(f"mutation score: {killed}/{total} killed ({100 * killed / max(total, 1):.0f}%)"
              + (f"; {missing} mutants no longer apply" if missing else ""))
        return 0 if killed == total and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
