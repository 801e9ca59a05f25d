"""The paper's simulation figures (Figs. 7-10) as data: settings, models, theory curves, tasks.

Settings are the authors' (paper-notes Sec. 4, from ``MukaiCodes/Model_Collapse_Codes``):

* Fig. 7, collapse of the fully synthetic loop (w = 0): n = m = 100, p = 4, mu = 0, Sigma = I/4,
  beta = (1, 1, 1, 1), generations 0..999, 1000 replications; error against generation.
* Fig. 8, the golden ratio at n = m = 100: p = 2, mu = 0, Sigma = I, beta = (1, 1), generations
  0..199, error averaged over generations 150..199, w = 0.20, 0.22, ..., 0.78, 2000 replications.
* Fig. 9, much synthetic data: as Fig. 8 with k = n/m in 0.01, 0.03, ..., 0.19, m = int(100 / k),
  naive pooling w = k/(1+k) against the optimal w*(k), 1000 replications.
* Fig. 10, UCI Adult: categorical distributions of three columns and a logistic regression
  (scikit-learn's default L2 penalty C = 1, unscaled features), n = m = 500, generations 0..99,
  error averaged over the last 20, the Fig. 8 weights, 1000 replications.

Panels (a)-(f) of Figs. 7-9: Gaussian mean, Gaussian covariance (squared Frobenius norm),
distribution function (Cramer-von Mises), random-design linear, logistic and Poisson regression.

Where we differ from the authors' code, and why:

* Fig. 7 logistic: the authors ask scikit-learn 1.5 for ``penalty='none'``, which it rejects, so
  their code falls back to an L2 penalty with C = 1e6; we fit that same objective (a ridge of
  1 / (C m) on the mean loss) exactly. Without it the fully synthetic logistic fits separate
  within a few generations and no maximum-likelihood estimate exists.
* Fig. 7 regressions: the authors' generation-0 covariates are N(0, I/4) (they reuse the Gaussian
  panel's sample); ours are N(0, I) like every later generation, so the theory is one formula.
* The CDF distance is the exact Cramer-von Mises integral (theirs: a 50,000-point grid).

Randomness: the work is split into tasks (panel x group of settings x block of replications),
each seeded from ``SeedSequence(seed, spawn_key=(figure, panel, group, block))``. The blocks have
a fixed size, so results depend on the seed and the number of replications only, never on how many
processes run the tasks or in which order they finish.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from . import adult, covariance_theory, glm, glm_theory, theory, validate
from . import nonparametric_theory as nt
from .engine import run_loop
from .gaussian import GaussianModel
from .nonparametric import CategoricalModel, EmpiricalCDFModel
from .regression import GLMModel, PopulationLogisticModel

__all__ = ["FIGURES", "figure", "Figure", "Setting", "Task", "COLUMNS", "tasks", "run_task", "model", "theory_curve",
           "panel_title", "PANEL_TITLES"]

# The CSV's columns, one row per (panel, setting, replication, recorded generation). "failed" is 1
# when the replication's fit had failed at generation gen_to or before (lib.engine: a replication
# is failed from its first failed fit on); its "error" is then NaN, so that no failed fit enters a
# mean (average "error" over the rows with failed = 0, and report how many rows have failed = 1).
COLUMNS = ("figure", "panel", "scheme", "x", "n", "m", "w", "replication", "gen_from", "gen_to", "error", "failed")

PANEL_TITLES = {
    "mean": "Gaussian mean", "cov": "Gaussian covariance", "cdf": "distribution function (CvM)",
    "linear": "linear regression", "logistic": "logistic regression", "poisson": "Poisson regression",
    "workclass": "Adult: workclass", "education": "Adult: education", "marital_status": "Adult: marital status",
    "adult_logistic": "Adult: logistic regression",
}
FIG10_FEATURES = ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week")
FIG7_LOGISTIC_C = 1e6  # the authors' effective setting, see the module docstring


@dataclass(frozen=True)
class Setting:
    """One curve point: weight ``w`` with n real and m synthetic samples. ``x`` is its position on
    the figure's x-axis (w, or k for Fig. 9); ``scheme`` names its curve."""

    scheme: str
    x: float
    w: float
    n: int
    m: int


@dataclass(frozen=True)
class Figure:
    """A figure of the paper: its panels, its settings, its generations and what is recorded.

    ``window = (start, stop)``: each replication's error is averaged over generations start..stop;
    ``window = None``: the error is recorded at the generations ``record`` (Fig. 7, a path).
    ``block``: replications per task (fixed, so that results do not depend on the worker count).
    """

    name: str
    number: int
    panels: tuple[str, ...]
    settings: tuple[Setting, ...]
    generations: int
    replications: int
    block: int
    xlabel: str
    window: tuple[int, int] | None = None
    record: tuple[int, ...] = ()

    def groups(self) -> list[tuple[Setting, ...]]:
        """Settings that share (n, m) run together, as the weights of one :func:`run_loop` call."""
        out: dict[tuple[int, int], list[Setting]] = {}
        for s in self.settings:
            out.setdefault((s.n, s.m), []).append(s)
        return [tuple(v) for v in out.values()]


def _fig8_weights() -> np.ndarray:
    return np.round(np.arange(0.20, 0.7801, 0.02), 2)


def _fig9_settings(n: int = 100) -> tuple[Setting, ...]:
    out = []
    for k in np.round(np.arange(0.01, 0.2, 0.02), 2):
        m = int(n / k)
        # As in the authors' code, the weights use the nominal k; the theory uses n/m.
        out += [Setting("naive", float(k), float(theory.naive_weight(k)), n, m),
                Setting("optimal", float(k), float(theory.optimal_weight(k)), n, m)]
    return tuple(out)


_GENERAL = ("mean", "cov", "cdf", "linear", "logistic", "poisson")
FIGURES = {
    "fig7": Figure("fig7", 7, _GENERAL, (Setting("fully synthetic", 0.0, 0.0, 100, 100),), 999, 1000, 250,
                   "generation $t$", record=tuple(sorted(set(range(0, 1000, 10)) | set(range(10)) | {999}))),
    "fig8": Figure("fig8", 8, _GENERAL, tuple(Setting("weighted", float(w), float(w), 100, 100) for w in _fig8_weights()),
                   199, 2000, 100, "weight on real data $w$", window=(150, 199)),
    "fig9": Figure("fig9", 9, _GENERAL, _fig9_settings(), 199, 1000, 100, "$k = n/m$", window=(150, 199)),
    "fig10": Figure("fig10", 10, ("workclass", "education", "marital_status", "adult_logistic"),
                    tuple(Setting("weighted", float(w), float(w), 500, 500) for w in _fig8_weights()),
                    99, 1000, 100, "weight on real data $w$", window=(80, 99)),
}


def figure(name: str, generations: int | None = None) -> Figure:
    """The figure called ``name``; ``generations`` shortens (or lengthens) a run for a quick look:
    a window keeps its length and ends at the last generation, a path keeps the recorded
    generations up to the last one."""
    if name not in FIGURES:
        raise ValueError(f"name must be a figure, one of {sorted(FIGURES)}, got {name!r}")
    fig = FIGURES[name]
    if generations is None or generations == fig.generations:
        return fig
    T = validate.positive_int(generations, "generations")
    if fig.window is not None:
        start, stop = fig.window
        return replace(fig, generations=T, window=(max(0, T - (stop - start)), T))
    return replace(fig, generations=T, record=tuple(t for t in fig.record if t < T) + (T,))


def panel_title(panel: str) -> str:
    return PANEL_TITLES[panel]


# --- models -------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _adult():
    """Population frequencies and the penalised pseudo-truth of Fig. 10 (computed once per process)."""
    data = adult.load()
    freqs = {col: data.frequencies(col)[1] for col in ("workclass", "education", "marital_status")}
    X = data.design(list(FIG10_FEATURES))
    y = data["income"]
    # scikit-learn's C = 1 on the whole population: a ridge of 1/N on the mean loss, intercept free.
    truth = glm.fit_glm("logistic", X, y, penalty=[0.0] + [1.0 / len(y)] * len(FIG10_FEATURES)).coef
    return freqs, X, y, truth


def model(figure: str, panel: str):
    """The :class:`lib.engine.Model` of a panel, with the figure's true parameters."""
    if figure == "fig10":
        freqs, X, y, truth = _adult()
        if panel == "adult_logistic":
            return PopulationLogisticModel(X, y, truth, C=1.0)
        return CategoricalModel(freqs[panel])
    p = 4 if figure == "fig7" else 2
    cov = np.eye(p) / 4 if figure == "fig7" else np.eye(p)
    if panel in ("mean", "cov"):
        return GaussianModel(np.zeros(p), cov)
    if panel == "cdf":
        return EmpiricalCDFModel()
    if panel == "logistic" and figure == "fig7":
        n = FIGURES[figure].settings[0].m
        return GLMModel("logistic", np.ones(p), penalty=1.0 / (FIG7_LOGISTIC_C * n), max_step=10.0, max_iter=200)
    return GLMModel(panel, np.ones(p))


_METRIC = {"mean": "mean", "cov": "cov", "cdf": "cvm", "linear": "coef", "logistic": "coef", "poisson": "coef",
           "workclass": "mse", "education": "mse", "marital_status": "mse", "adult_logistic": "coef"}


# --- tasks --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    """One unit of work: replications ``first .. first + count - 1`` of one panel and one group of
    settings of a figure, with its own seed."""

    figure: str
    panel: str
    group: int
    first: int
    count: int
    seed: int
    generations: int


def tasks(name: str, replications: int | None = None, seed: int = 0, generations: int | None = None) -> list[Task]:
    """Every task of a figure, in the CSV's order (panel, group, block of replications).
    ``generations``: see :func:`figure`."""
    fig = figure(name, generations)
    R = fig.replications if replications is None else validate.sample_size(replications, "replications", 2,
                                                                            " (standard errors need two)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    out = []
    for i, panel in enumerate(fig.panels):
        for g in range(len(fig.groups())):
            for b, first in enumerate(range(0, R, fig.block)):
                ss = np.random.SeedSequence(int(seed), spawn_key=(fig.number, i, g, b))
                # A block of fewer than two replications cannot be run alone: fold it into the last.
                count = min(fig.block, R - first)
                if count < 2 and b > 0:
                    continue
                if R - (first + count) == 1:
                    count += 1
                out.append(Task(name, panel, g, first, count, int(ss.generate_state(1, np.uint64)[0] >> 1),
                                fig.generations))
    return out


def run_task(task: Task) -> dict[str, np.ndarray]:
    """Run one task; return its rows as columns (see ``COLUMNS``), replications outermost."""
    fig = figure(task.figure, task.generations)
    group = fig.groups()[task.group]
    mod = model(task.figure, task.panel)
    metric = _METRIC[task.panel]
    metrics = [metric]  # failures are tracked by run_loop whether or not "failed" is recorded
    with warnings.catch_warnings():
        # Failed fits are counted in the CSV's "failed" column instead of warned about per task.
        warnings.simplefilter("ignore", glm.ConvergenceWarning)
        res = run_loop(mod, [s.w for s in group], group[0].n, group[0].m, fig.generations, task.count,
                       seed=task.seed, metrics=metrics, progress=False)
    # A replication failed by the end of a row's generations has error NaN there (lib.engine).
    if fig.window is not None:
        start, stop = fig.window
        err = res.window(metric, start, stop)[None]  # (1, W, R); NaN if failed by stop
        fail = res.failed[stop][None].astype(float)
        gens = [(start, stop)]
    else:
        rec = list(fig.record)
        err = res.values[metric][rec]  # (G, W, R)
        fail = res.failed[rec].astype(float)
        gens = [(t, t) for t in rec]
    G, W, R = err.shape
    # Row order: setting, replication, generation.
    shape = (W, R, G)
    sett = np.broadcast_to(np.arange(W)[:, None, None], shape).ravel()
    rep = np.broadcast_to(task.first + np.arange(R)[None, :, None], shape).ravel()
    gen = np.broadcast_to(np.arange(G)[None, None, :], shape).ravel()
    pick = lambda attr: np.array([getattr(s, attr) for s in group])[sett]
    return {
        "figure": np.full(sett.size, task.figure), "panel": np.full(sett.size, task.panel),
        "scheme": pick("scheme"), "x": pick("x"), "n": pick("n"), "m": pick("m"), "w": pick("w"),
        "replication": rep, "gen_from": np.array([g[0] for g in gens])[gen],
        "gen_to": np.array([g[1] for g in gens])[gen],
        "error": np.transpose(err, (1, 2, 0)).ravel(), "failed": np.transpose(fail, (1, 2, 0)).ravel(),
    }


# --- theory -------------------------------------------------------------------------------------

def theory_curve(name: str, panel: str, scheme: str | None = None, x=None, generations: int | None = None):
    """(x, expected error, kind) of a panel's theory curve; kind is "exact" or "first order".

    Fig. 7: against generation t (x defaults to every generation). Figs. 8-10: the expected error
    averaged over the window, against w (Figs. 8, 10; x defaults to a fine grid) or against k for
    one ``scheme`` of Fig. 9 ("naive" or "optimal", at the figure's k values). The logistic
    regression of Fig. 10 is penalised and misspecified: no theory, returns None. ``generations``:
    see :func:`figure`.
    """
    fig = figure(name, generations)
    if panel == "adult_logistic":
        return None
    if name == "fig7":
        t = np.arange(fig.generations + 1) if x is None else np.asarray(x, dtype=int)
        s = fig.settings[0]
        return t, _expected(name, panel, np.array([s.w]), s.n, s.m, t)[:, 0], _kind(panel, exact_w0=True)
    start, stop = fig.window
    window = np.arange(start, stop + 1)
    if name == "fig9":
        settings = [s for s in fig.settings if s.scheme == scheme]
        if not settings:
            raise ValueError(f"scheme must be 'naive' or 'optimal' for fig9, got {scheme!r}")
        ks = np.array([s.x for s in settings])
        y = np.array([_expected(name, panel, np.array([s.w]), s.n, s.m, window)[:, 0].mean() for s in settings])
        return ks, y, _kind(panel)
    s = fig.settings[0]
    ws = np.linspace(fig.settings[0].w, fig.settings[-1].w, 117) if x is None else np.asarray(x, dtype=float)
    return ws, _expected(name, panel, ws, s.n, s.m, window).mean(axis=0), _kind(panel)


def _kind(panel: str, exact_w0: bool = False) -> str:
    exact = {"mean", "cov", "cdf", "workclass", "education", "marital_status"} | ({"linear"} if exact_w0 else set())
    return "exact" if panel in exact else "first order"


def _expected(figure: str, panel: str, w: np.ndarray, n: int, m: int, t: np.ndarray) -> np.ndarray:
    """Expected error at generations t (rows) and weights w (columns)."""
    w = np.asarray(w, dtype=float)
    if figure == "fig10":
        freqs = _adult()[0][panel]
        return nt.error_factor(w[None, :], n, m, t[:, None]) * np.mean(freqs * (1 - freqs))
    mod = model(figure, panel)
    p = 4 if figure == "fig7" else 2
    if panel == "mean":
        return theory.gaussian_mean_error(w[None, :], n, m, t[:, None], float(np.trace(mod.cov)))
    if panel == "cov":
        return covariance_theory.covariance_error_path(w, n, m, int(t.max()), mod.cov)[t]
    if panel == "cdf":
        return nt.cvm_expected(w[None, :], n, m, t[:, None])
    if panel == "linear" and np.all(w == 0):
        return np.repeat(glm_theory.fully_synthetic_linear_error(n, m, t, p)[:, None], w.size, axis=1)
    # First order (paper-notes Sec. 3): the Gaussian-mean recursion with Sigma = I(theta*)^-1.
    trace = glm_theory.information_trace_inverse(panel, np.ones(p))
    return theory.gaussian_mean_error(w[None, :], n, m, t[:, None], trace)
