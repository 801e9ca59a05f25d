"""The shipped Adult data: checksums, shape, the paper's reading, and the population fits."""

import gzip
import shutil

import numpy as np
import pytest

from lib import adult, glm, glm_theory
from lib.regression import PopulationLogisticModel
from conftest import assert_z_beyond, assert_z_within

FEATURES = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


@pytest.fixture(scope="module")
def data():
    return adult.load()


def test_shape_and_the_papers_reading(data):
    assert len(data) == 32561 + 16281 == 48842
    cats, freq = data.frequencies("workclass")
    assert "?" in cats and len(cats) == 9  # "?" kept as a category, as the paper's code reads it
    assert len(data.frequencies("education")[0]) == 16
    assert len(data.frequencies("marital_status")[0]) == 7
    assert freq.sum() == pytest.approx(1.0)
    assert set(np.unique(data["income"])) == {0.0, 1.0}
    assert data["income"].mean() == pytest.approx(11687 / 48842)  # >50K rows in both files


def test_missing_as_missing():
    dropped = adult.load(missing="drop")
    assert len(dropped) == 45222
    assert "?" not in dropped.frequencies("workclass")[0]
    with pytest.raises(ValueError, match="missing"):
        adult.load(missing="impute")


def test_missing_or_altered_file_is_refused(tmp_path):
    for name in ("adult.data", "adult.test"):
        shutil.copy(adult.DATA_DIR / f"{name}.gz", tmp_path / f"{name}.gz")
    raw = gzip.decompress((tmp_path / "adult.test.gz").read_bytes())
    (tmp_path / "adult.test.gz").write_bytes(gzip.compress(raw.replace(b"Private", b"Privat3", 1)))
    with pytest.raises(ValueError, match="altered"):
        adult.load(data_dir=tmp_path)
    (tmp_path / "adult.data.gz").unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        adult.load(data_dir=tmp_path)


def test_penalised_fit_matches_sklearn_default(data):
    from sklearn.linear_model import LogisticRegression
    X = data.design(FEATURES)
    y = data["income"]
    ours = glm.fit_glm("logistic", X, y, penalty=[0] + [1 / len(y)] * 5)
    sk = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=500).fit(X[:, 1:], y)
    np.testing.assert_allclose(ours.coef, np.r_[sk.intercept_, sk.coef_.ravel()], rtol=1e-6, atol=1e-10)


def test_adult_logistic_model_is_misspecified(data):
    X = data.design(FEATURES, standardize=True)
    y = data["income"]
    theta = glm.fit_glm("logistic", X, y).coef
    s_J, s_K = glm_theory.sandwich_traces(X, y, theta)
    assert 0 < s_J < s_K  # the real labels vary more than the model says: rho = s_J / s_K < 1
    with pytest.raises(ValueError, match="only 0 and 1"):
        PopulationLogisticModel(X, 2 * y, theta)


def test_one_shot_error_is_the_sandwich():
    """For a misspecified population (true log-odds exp(1.5 x1) - 2 + ..., fitted linearly), the
    one-shot error of the population logistic fit is tr(J^-1 K J^-1)/n, not the model-based
    tr(J^-1)/n; the two differ by 15%, about 11 standard errors here."""
    rng = np.random.default_rng(0)
    N = 20000
    x = rng.standard_normal((N, 2))
    eta = np.exp(1.5 * x[:, 0]) - 2
    y = (rng.random(N) < 1 / (1 + np.exp(-eta))).astype(float)
    X = np.c_[np.ones(N), x]
    theta = glm.fit_glm("logistic", X, y).coef
    s_J, s_K = glm_theory.sandwich_traces(X, y, theta)
    model = PopulationLogisticModel(X, y, theta)
    n = 2000
    err = model.evaluate(model.fit(model.sample_real(np.random.default_rng(1), n, (1, 4000)), None,
                                   np.ones((1, 1))))["coef"].ravel() * n
    mc, se = err.mean(), err.std(ddof=1) / np.sqrt(err.size)
    assert_z_within((mc - s_K) / se, "sandwich trace")
    assert_z_beyond((mc - s_J) / se, "the model-based trace is rejected")


def test_separable_population_fails_and_is_counted():
    """A population in which one feature separates the labels: every fit of a sample from it
    fails (no maximum-likelihood estimate). The loop counts every replication as failed from
    generation 0 and reports no mean, rather than the runaway iterates."""
    import warnings

    import lib

    x = np.r_[-np.linspace(1, 2, 50), np.linspace(1, 2, 50)]
    X = np.c_[np.ones(100), x]
    y = (x > 0).astype(float)
    model = PopulationLogisticModel(X, y, coef=[0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", glm.ConvergenceWarning)
        res = lib.run_loop(model, [0.5, 0.8], 40, 40, 3, 6, seed=0)
    assert np.all(res.failed_count == 6) and np.all(res.survivors == 0)
    assert np.isnan(res.values["coef"]).all()
    assert np.isnan(res.window_mean("coef", 1)[0]).all()
