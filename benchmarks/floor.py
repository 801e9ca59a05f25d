"""CPU per (setting, replication) task of every model of the paper's Figs. 8, 9 and 10, against
its random-number floor measured in the same run.

Run: `make benchmark` or `.venv/bin/python benchmarks/floor.py [--repeat 3] [--quick]`. Not a test.

* **model**: :func:`lib.experiments.run_task` on the figure's first task of each panel and group
  (one block of replications, the figure's own block size, weights and sizes), timed with
  `time.process_time` (CPU of this process, user + system), divided by its (setting, replication)
  pairs.
* **floor**: exactly the `numpy.random.Generator` calls that model makes, with the same
  distributions, shapes and block, for the same generations, and nothing else (the inputs of the
  draws, such as the Poisson means, are computed outside the timer). It is what drawing the
  simulation's random numbers costs, whatever the rest of the code does.
* **Newton** (the regression panels): one more run of the task with Newton's gradient/Hessian
  evaluations timed and counted (:func:`lib.glm.newton`): evaluations per fit, and their CPU against
  the floor. It is the work the fits add to the random numbers.
* Each model and its floor are timed back to back, ``--repeat`` times, interleaved, and the minimum
  of each is kept: the machine is shared, so other processes only ever add time.

Figs. 9 and 10 are timed on a shorter run (``FIG9_GENERATIONS``, ``FIG10_GENERATIONS``) and scaled
to the paper's generations: every generation costs the same, so the ratio does not change. The
authors' figures (CPU per task of their code at its pinned versions, measured side by side on
one core, ``../shared/perf-notes.md``) are constants here: this project does not contain their code.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import engine, experiments, glm  # noqa: E402

# The authors' code, CPU s per (w, replication) task, median of 3 (perf-notes, 2026-12-01), on the
# 2-core development VM of that day (AMD EPYC), where the floor of all six Fig. 8 panels was
# FIG8_FLOOR_THEN s per task. Another machine draws random numbers at another speed: the speed-ups
# printed scale the authors' figures by (this run's Fig. 8 floor) / FIG8_FLOOR_THEN, i.e. they
# assume their code slows down on this machine as much as drawing random numbers does. That is an
# estimate; the model/floor ratios are the measurement.
AUTHORS = {"fig8": {"mean": 0.0165 / 2, "cov": 0.0165 / 2, "cdf": 0.166, "linear": 0.00573, "logistic": 0.156,
                    "poisson": 0.127, "(shared data)": 0.0133},
           "fig9_total_s": 12_000.0,
           "fig10": {"adult_logistic": 0.576, "workclass": 0.0426, "education": 0.0443, "marital_status": 0.0401}}
FIG8_FLOOR_THEN = 1.56e-3
FIG9_GENERATIONS = 10
FIG10_GENERATIONS = 20
NEWTON_PANELS = ("logistic", "poisson", "adult_logistic")


# --- the floors: each model's Generator calls, nothing else -----------------------------------------

def _wishart(rng, df, p, shape):
    for i in range(p):
        rng.standard_gamma((df - i) / 2.0, size=shape)
        for _ in range(i):
            rng.standard_normal(shape)


def floor_gaussian(rng, T, W, r, n, m, p=2):
    for gen in range(T + 1):
        for size, shape in ((n, (1, r)),) + (((m, (W, r)),) if gen else ()):
            rng.standard_normal((p,) + shape)
            _wishart(rng, size - 1, p, shape)


def floor_linear(rng, T, W, r, n, m, p=2):
    for gen in range(T + 1):
        for size, shape in ((n, (1, r)),) + (((m, (W, r)),) if gen else ()):
            _wishart(rng, size, p, shape)
            rng.standard_normal((p,) + shape)


def floor_cdf(rng, T, W, r, n, m):
    rng.random((1, r, n))
    for gen in range(1, T + 1):
        rng.random((1, r, n))
        rng.integers(n, size=(W, r, m))
        if gen >= 2:
            rng.random((W, r, m))
            rng.integers(m, size=(W, r, m))


def _glm_floor(draw_response, setup):
    def floor(rng, T, W, r, n, m, p=2):
        inputs = setup(np.random.default_rng(99), p, n, m, W, r)  # outside the timer
        t0 = time.process_time()
        for gen in range(T + 1):
            for size, shape, key in ((n, (1, r), "real"),) + (((m, (W, r), "syn"),) if gen else ()):
                rng.standard_normal((p, size) + shape)
                draw_response(rng, inputs[key])
        return time.process_time() - t0
    return floor


def _means(link):
    def setup(rng, p, n, m, W, r):
        return {key: link(rng.standard_normal((size,) + shape) * np.sqrt(p))  # x'beta, beta = (1, 1)
                for key, size, shape in (("real", n, (1, r)), ("syn", m, (W, r)))}
    return setup


floor_logistic = _glm_floor(lambda rng, mu: rng.random(mu.shape), _means(lambda eta: eta))
floor_poisson = _glm_floor(lambda rng, lam: rng.poisson(lam), _means(np.exp))


def floor_adult_logistic(rng, T, W, r, n, m, population=48842):
    for gen in range(T + 1):
        rng.integers(population, size=(n, 1, r))
        if gen:
            rng.integers(population, size=(m, W, r))
            rng.random((m, W, r))


def _categorical_floor(panel):
    def floor(rng, T, W, r, n, m):
        probs = experiments.model("fig10", panel).probs
        syn_p = np.broadcast_to(probs, (W, r, probs.size)).copy()  # outside the timer
        t0 = time.process_time()
        for gen in range(T + 1):
            rng.multinomial(n, probs, size=(1, r))
            if gen:
                rng.multinomial(m, syn_p, size=(W, r))
        return time.process_time() - t0
    return floor


FLOORS = {"mean": floor_gaussian, "cov": floor_gaussian, "cdf": floor_cdf, "linear": floor_linear,
          "logistic": floor_logistic, "poisson": floor_poisson, "adult_logistic": floor_adult_logistic,
          "workclass": _categorical_floor("workclass"), "education": _categorical_floor("education"),
          "marital_status": _categorical_floor("marital_status")}


def time_floor(panel, task):
    fig = experiments.figure(task.figure, task.generations)
    group = fig.groups()[task.group]
    rng = np.random.default_rng(task.seed)
    args = (rng, fig.generations, len(group), task.count, group[0].n, group[0].m)
    t0 = time.process_time()
    inner = FLOORS[panel](*args)
    return inner if inner is not None else time.process_time() - t0


class _NewtonMeter:
    """CPU time and count of Newton's gradient/Hessian evaluations (batch elements evaluated)
    while a task runs: where a regression model's time goes beyond its random numbers."""

    def __init__(self):
        self.seconds = 0.0
        self.elements = 0

    def __enter__(self):
        inner = self._inner = glm._gradient_hessian

        def timed(fam, parts, theta, means=None):
            t0 = time.process_time()
            out = inner(fam, parts, theta, means)
            self.seconds += time.process_time() - t0
            self.elements += int(np.prod(np.shape(theta)[1:], dtype=np.int64))
            return out
        glm._gradient_hessian = timed
        return self

    def __exit__(self, *exc):
        glm._gradient_hessian = self._inner


def time_model(task):
    t0 = time.process_time()
    experiments.run_task(task)
    return time.process_time() - t0


def newton_share(task):
    """(CPU s in Newton's evaluations, evaluations per fit) of one run of ``task``."""
    fig = experiments.figure(task.figure, task.generations)
    fits = len(fig.groups()[task.group]) * task.count * (fig.generations + 1)
    with _NewtonMeter() as meter:
        experiments.run_task(task)
    return meter.seconds, meter.elements / fits


def _tasks(name, fig, pairs):
    """Tasks in ``pairs`` (setting, replication) pairs: a task is one (setting, replication), except
    in Fig. 9, where it is one replication of both schemes at every k (the authors' S3_case unit)."""
    return pairs if name != "fig9" else pairs / (2 * len(fig.groups()))


def first_tasks(name, generations=None, reps=None):
    """The first block of every (panel, group) of a figure."""
    out = {}
    for t in experiments.tasks(name, reps or experiments.FIGURES[name].block, seed=0, generations=generations):
        out.setdefault((t.panel, t.group), t)
    return list(out.values())


def measure(tasks, repeat):
    """{(panel, group): (model CPU s, floor CPU s, pairs)}: minima over ``repeat`` interleaved runs."""
    best = {}
    for _ in range(repeat):
        for t in tasks:
            fig = experiments.figure(t.figure, t.generations)
            pairs = len(fig.groups()[t.group]) * t.count
            model_s, floor_s = time_model(t), time_floor(t.panel, t)
            old = best.get((t.panel, t.group), (np.inf, np.inf, pairs))
            best[(t.panel, t.group)] = (min(old[0], model_s), min(old[1], floor_s), pairs)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repetitions; the minimum is kept (default 3)")
    ap.add_argument("--quick", action="store_true", help="Fig. 8 only, 2 repetitions")
    ap.add_argument("--figures", default="fig8,fig9,fig10", help="comma-separated (default: all three)")
    args = ap.parse_args()
    repeat = 2 if args.quick else args.repeat
    figures = ["fig8"] if args.quick else args.figures.split(",")
    warnings.simplefilter("ignore", glm.ConvergenceWarning)
    experiments.run_task(first_tasks("fig8", generations=3)[0])  # imports, caches
    machine = None  # this machine's Fig. 8 floor over that of the authors' measurement
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{_cpu_name()}; Python {platform.python_version()}, numpy {np.__version__}; one process; "
          f"CPU time (user + system), minimum of {repeat} interleaved runs")
    for name in figures:
        fig = experiments.FIGURES[name]
        gens = {"fig9": FIG9_GENERATIONS, "fig10": FIG10_GENERATIONS}.get(name)
        tasks = first_tasks(name, generations=gens)
        if name == "fig10":
            experiments.model("fig10", "adult_logistic")  # the population fit, once, outside the timer
        best = measure(tasks, repeat)
        scale = (fig.generations + 1) / (gens + 1) if gens else 1.0
        print(f"\n{name}: first block of {fig.block} replications per panel and group, generations 0..{gens or fig.generations}"
              + (f", scaled x{scale:.2f} to the paper's 0..{fig.generations}" if gens else ""))
        print(f"  {'panel':16} {'model, CPU ms/task':>19} {'floor, ms/task':>15} {'model/floor':>12}" +
              (f" {'authors, ms/task':>17} {'est. speed-up':>14}" if name != "fig9" else ""))
        panels = {}
        for (panel, group), (model_s, floor_s, pairs) in best.items():
            agg = panels.setdefault(panel, [0.0, 0.0, 0])
            agg[0] += model_s * scale
            agg[1] += floor_s * scale
            agg[2] += pairs
        total_model = total_floor = 0.0
        if name == "fig8":
            machine = sum(1e3 * f / p for _, f, p in panels.values()) / (1e3 * FIG8_FLOOR_THEN)
        scale_authors = machine if machine is not None else float("nan")
        for panel, (model_s, floor_s, pairs) in panels.items():
            per = _tasks(name, fig, pairs)
            m_ms, f_ms = 1e3 * model_s / per, 1e3 * floor_s / per
            total_model += m_ms
            total_floor += f_ms
            line = f"  {panel:16} {m_ms:19.4f} {f_ms:15.4f} {m_ms / f_ms:12.2f}"
            if name != "fig9":
                a = 1e3 * AUTHORS[name][panel]
                line += f" {a:17.1f} {a * scale_authors / m_ms:13.0f}x"
            print(line)
        line = f"  {'all panels':16} {total_model:19.4f} {total_floor:15.4f} {total_model / total_floor:12.2f}"
        if name in ("fig8", "fig10"):
            a = 1e3 * sum(AUTHORS[name].values())
            line += f" {a:17.1f} {a * scale_authors / total_model:13.0f}x"
        print(line)
        for panel in [p for p in panels if p in NEWTON_PANELS]:
            runs = [newton_share(t) for t in tasks if t.panel == panel]
            pairs, floor_s = panels[panel][2], panels[panel][1]
            per = _tasks(name, fig, pairs)
            evals_ms = 1e3 * scale * sum(r[0] for r in runs) / per
            print(f"  {panel}: Newton makes {np.mean([r[1] for r in runs]):.2f} gradient/Hessian evaluations per fit; "
                  f"they alone take {evals_ms:.4f} ms/task, {evals_ms / (1e3 * floor_s / per):.2f} times the floor")
        if name == "fig8":
            print(f"  (authors' figures: their code on the AMD EPYC VM of 2026-12-01; this machine's Fig. 8 floor is "
                  f"{machine:.2f} times that VM's, and the speed-ups scale their figures by it)")
        if name == "fig9":
            whole = total_model * 1e-3 * fig.replications  # ms per replication of both schemes at all k
            print(f"  whole figure ({fig.replications} replications): {whole:.0f} s of CPU, floor "
                  f"{total_floor * 1e-3 * fig.replications:.0f} s; authors' code about "
                  f"{AUTHORS['fig9_total_s']:.0f} s on the EPYC VM (est. speed-up "
                  f"{AUTHORS['fig9_total_s'] * scale_authors / whole:.1f}x)")
        else:
            tasks_total = len(fig.settings) * fig.replications
            print(f"  whole figure ({len(fig.settings)} settings x {fig.replications} replications): "
                  f"{total_model * 1e-3 * tasks_total:.0f} s of CPU in the tasks, floor {total_floor * 1e-3 * tasks_total:.0f} s")


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
