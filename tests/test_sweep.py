"""The whole public surface of lib refuses bad input: every argument of every numeric function and
model in the table below, given a value that is not in its domain (NaN, infinity, a negative or
zero where a positive is needed, a boolean, a string, None, a wrong shape), raises ValueError
whose message names that argument; never a plausible number, another exception or a hang.

Each row is a valid call (checked to run) and, per argument, values that must be refused."""

import math

import numpy as np
import pytest

import lib
from lib import covariance_theory as ct, experiments, gaussian, glm_theory as gt, interactive
from lib import nonparametric as npm, nonparametric_theory as nt, prose, regimes as rg, regression, theory

nan, inf = math.nan, math.inf
W_BAD = [nan, inf, -0.1, 1.5, True, "0.5", None, [0.5, nan]]
K_BAD = [nan, inf, 0.0, -1.0, True, "1", None]
N_BAD = [0, -3, 2.5, True, "10", None, nan]
T_BAD = [-1, 2.5, True, "3", None, nan]
POS_BAD = [nan, inf, 0.0, -1.0, True, "1", None]
COV3 = np.array([[1.0, 0.3, 0.0], [0.3, 2.0, 0.5], [0.0, 0.5, 0.5]])
COV_BAD = [-COV3, COV3 + np.triu(np.ones((3, 3)), 1), np.full((3, 3), nan), "cov", None]
X = np.random.default_rng(0).standard_normal((30, 3))
CASES = [
    (theory.limiting_error, dict(w=0.5, k=1.0), dict(w=W_BAD, k=K_BAD)),
    (theory.optimal_weight, dict(k=1.0), dict(k=K_BAD)),
    (theory.naive_weight, dict(k=1.0), dict(k=K_BAD)),
    (theory.naive_error, dict(k=1.0), dict(k=K_BAD)),
    (theory.finite_error, dict(w=0.5, k=1.0, t=3), dict(w=W_BAD, k=K_BAD, t=T_BAD)),
    (theory.window_error, dict(w=0.5, k=1.0, start=2, stop=5), dict(w=W_BAD, k=K_BAD, start=T_BAD, stop=T_BAD)),
    (theory.gaussian_mean_error, dict(w=0.5, n=10, m=10, t=3, trace_cov=1.0), dict(w=W_BAD, n=N_BAD, m=N_BAD, t=T_BAD, trace_cov=POS_BAD + [[1.0, 2.0]])),
    (ct.covariance_error_path, dict(w=0.5, n=10, m=10, T=5, cov=COV3), dict(w=W_BAD, n=N_BAD, m=N_BAD, T=T_BAD, cov=COV_BAD)),
    (ct.covariance_limit, dict(w=0.5, n=10, m=10, cov=COV3), dict(w=W_BAD, n=N_BAD, m=N_BAD, cov=COV_BAD)),
    (ct.covariance_optimal_weight, dict(n=10, m=10, cov=COV3), dict(n=N_BAD, m=N_BAD, cov=COV_BAD)),
    (ct.variance_optimal_weight, dict(n=10, m=10), dict(n=N_BAD, m=N_BAD)),
    (ct.log_variance_mean, dict(n=10, m=10, t=3), dict(n=N_BAD, m=N_BAD, t=T_BAD)),
    (ct.log_variance_sd, dict(n=10, m=10, t=3), dict(n=N_BAD, m=N_BAD, t=T_BAD)),
    (ct.wishart_moments, dict(c2=1.0, csq=2.0, df=5), dict(c2=POS_BAD, csq=POS_BAD, df=N_BAD)),
    (gt.fisher_information, dict(family="logistic", coef=[0.5, -0.5], sigma=1.0), dict(family=["gamma", None, 3], coef=[[nan], [], "c", None, [[1.0]]], sigma=POS_BAD)),
    (gt.information_trace_inverse, dict(family="logistic", coef=[0.5, -0.5]), dict(family=["gamma"], coef=[[nan], []])),
    (gt.asymptotic_coef_error, dict(family="logistic", coef=[0.5, -0.5], w=0.5, k=1.0, n=100), dict(w=W_BAD, k=K_BAD, n=N_BAD)),
    (gt.fixed_design_coef_error, dict(w=0.5, X=X, t=3), dict(w=W_BAD, X=[X.T, X[:, 0], np.full((30, 3), nan), "X", None], t=T_BAD, sigma=POS_BAD)),
    (gt.misspecified_coef_error, dict(w=0.5, k=1.0, n=100, s_J=1.0, s_K=2.0), dict(w=W_BAD, k=K_BAD, n=N_BAD, s_J=POS_BAD, s_K=POS_BAD)),
    (gt.fully_synthetic_linear_error, dict(n=20, m=20, t=3, p=2), dict(n=N_BAD + [3], m=N_BAD + [3], t=T_BAD, p=N_BAD, sigma=POS_BAD)),
    (nt.error_factor, dict(w=0.5, n=10, m=10, t=3), dict(w=W_BAD, n=N_BAD, m=N_BAD, t=T_BAD)),
    (nt.error_factor_limit, dict(w=0.5, n=10, m=10), dict(w=W_BAD, n=N_BAD, m=N_BAD)),
    (nt.optimal_weight, dict(n=10, m=10), dict(n=N_BAD, m=N_BAD)),
    (nt.cvm_expected, dict(w=0.5, n=10, m=10, t=3), dict(w=W_BAD, n=N_BAD, m=N_BAD, t=T_BAD)),
    (rg.regime_weight, dict(regime="naive", n=10, m=10), dict(regime=["nave", None], n=N_BAD, m=N_BAD)),
    (rg.regime_error, dict(regime="naive", n=10, m=10, T=5), dict(regime=["x"], n=N_BAD, m=N_BAD, T=T_BAD, trace_cov=POS_BAD)),
    (rg.limiting_relative_error, dict(regime="naive", k=1.0), dict(regime=["x"], k=K_BAD)),
    (rg.accumulate_limit, dict(k=1.0), dict(k=K_BAD)),
    (npm.cvm_two_samples, dict(real=np.array([0.1, 0.5]), syn=np.array([0.2, 0.9]), w=0.5),
     dict(w=W_BAD, real=[np.array([nan, 0.5]), np.array([0.1, 1.5]), "r", None, np.array([])],
          syn=[np.array([nan]), np.array([-0.2]), None])),
    (npm.cvm_distance, dict(u=np.array([0.1, 0.5]), mass=np.array([0.5, 0.5])),
     dict(u=[np.array([nan, 0.5]), np.array([1.5, 0.5]), None, "u"],
          mass=[np.array([0.5, -0.5]), np.array([nan, 0.5]), np.array([0.5, 0.6]), np.ones(3) / 3, None])),
    (npm.CategoricalModel, dict(probs=[0.5, 0.5]), dict(probs=[[1.0], [0.5, 0.6], [nan, 1], "p", None, [0.5, -0.5, 1.0]])),
    (gaussian.GaussianModel, dict(mean=np.zeros(3), cov=COV3), dict(mean=[[nan, 0, 0], [], "m", None], cov=COV_BAD, sampler=["fast", None])),
    (regression.GLMModel, dict(family="logistic", coef=[0.5, -0.5]), dict(family=["gamma", None], coef=[[nan], [], None], sigma=POS_BAD, penalty=[-1.0, nan, inf, True, "0"], sampler=["x"],
          tol=[nan, inf, 0.0, -1.0, 1.5, True, "1e-7", None], max_iter=[0, -3, 2.5, True, "10", None, nan],
          max_step=POS_BAD)),
    (regression.PopulationLogisticModel, dict(X=np.c_[np.ones(30), X[:, :2]], y=(X[:, 0] > 0).astype(float),
                                              coef=[0.0, 1.0, 0.0]),
     dict(C=[nan, inf, 0.0, -1.0, True, "1"], tol=[nan, 0.0, -1.0, True, None], max_iter=[0, 2.5, True, None],
          X=[np.full((30, 3), nan), X[:, :2], None], y=[np.full(30, 2.0), np.zeros(5), None])),
    (regression.FixedDesignLinearModel, dict(X=X, coef=[0.5, -0.5, 1.0]), dict(X=[X.T, X[:, 0], np.full((30, 3), nan), None], coef=[[nan, 0, 0], [1.0], None], sigma=POS_BAD, sampler=["x"])),
    (lib.run_loop, dict(model=gaussian.GaussianModel(np.zeros(2), np.eye(2)), w=0.5, n=10, m=10, T=2, replications=4), dict(w=W_BAD + [[]], n=N_BAD, m=N_BAD, T=N_BAD, replications=N_BAD + [1], seed=[-1, 1.5, True, "0", None], chunk_size=[0, -1, 2.5, True, "3"], metrics=[["nope"], "mean", []])),
    (experiments.tasks, dict(name="fig8", replications=4, seed=0, generations=3), dict(name=["fig6", None], replications=[0, -3, 2.5, True, "10", nan, 1], seed=[-1, 1.5, True, "0"], generations=[-1, 2.5, True, "3", nan, 0])),
    (experiments.figure, dict(name="fig8"), dict(name=["fig6", None, 8], generations=[-1, 2.5, True, "3", nan, 0])),
    (prose.factor, dict(value=2.0, reference=1.0), dict(value=[nan, inf, "2", None], reference=[0.0, nan, -1.0, None], digits=[0, -1, 2.5, True])),
    (prose.relative, dict(value=2.0, reference=1.0), dict(value=[nan, inf, None], reference=[0.0, nan, None], digits=[0, -1, 2.5, True])),
    (prose.count, dict(n=3, noun="departure"), dict(n=[-1, 2.5, True, nan, None], noun=["", None, 3])),
    (prose.bound, dict(value=4.02), dict(value=[nan, inf, None, "4"], digits=[0, -1, 2.5, True])),
    (interactive.weight_explorer, dict(k_values=[0.5, 1.0]), dict(k_values=[[nan, 1.0], [0.0, 1.0], [-1.0, 1.0], [True, 1.0], ["1", 1.0], [1.0], []])),
]


def _ids():
    return [f.__qualname__ for f, _, _ in CASES]


@pytest.mark.parametrize("f, good, bads", CASES, ids=_ids())
def test_every_bad_argument_is_refused_by_name(f, good, bads):
    f(**good)  # the valid call runs
    wrong = []
    for arg, values in bads.items():
        for v in values:
            try:
                out = f(**dict(good, **{arg: v}))
            except ValueError as err:
                if arg not in str(err):
                    wrong.append(f"{arg}={v!r}: message does not name it: {err}")
                continue
            except Exception as err:  # noqa: BLE001 - the point is which exception
                wrong.append(f"{arg}={v!r}: {type(err).__name__}: {err}")
                continue
            wrong.append(f"{arg}={v!r}: no error, returned {out!r:.60}")
    assert not wrong, "\n".join(wrong)
