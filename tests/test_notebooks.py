"""Every notebook in _toc.yml runs top to bottom through papermill with small parameters.

The notebooks' hidden asserts compare simulation with theory in units of the Monte Carlo
standard error, so they stay valid with fewer replications; assertions that need the full run
are guarded in the notebooks by the size of the run.
"""

import jupytext
import papermill
import pytest

from conftest import REPO, toc_notebooks

SMALL = {
    "preface": dict(replications=200, generations=100),
    "loop": dict(generations=30, replications=300, density_generations=20, density_runs=5),
    "gaussian_mean": dict(path_generations=20, path_replications=300, generations=60, window_start=30,
                          replications=300, k_grid=[0.01, 0.1], k_replications=200, k_large=[10.0]),
    "gaussian_covariance": dict(moment_draws=20000, path_generations=20, path_replications=300,
                                small_generations=60, small_window=30, small_replications=1000,
                                collapse_generations=30, collapse_replications=500,
                                collapse_check_until=4),
    "glm": dict(n=60, weights=[0.3, 0.6, 1.0], generations=16, window_start=6, replications=60, k_grid=[0.25],
                k_generations=12, k_window_start=4, k_replications=40, collapse_generations=6,
                collapse_replications=60, excess_n=[30, 240], excess_generations=10, excess_window_start=3,
                excess_replications=60),
    "nonparametric": dict(n=40, w_min=0.3, w_max=0.9, w_step=0.3, generations=20, window_start=10,
                          replications=300, k_grid=[0.2], k_generations=15, k_window_start=5,
                          k_replications=200, collapse_n=20, collapse_generations=40, collapse_replications=300),
    "adult": dict(n=100, columns=["workclass"], w_min=0.4, w_max=0.8, w_step=0.2, generations=12, last=6,
                  replications=200, logistic_weights=[0.5, 0.8], logistic_generations=6, logistic_replications=8),
    "reproduce": dict(fig7_replications=20, fig7_generations=12, fig8_replications=20, fig8_generations=20,
                      fig9_replications=4, fig9_generations=6, workers=1),
    "generative_mixtures": dict(mix_weights=[0.4, 0.6, 0.8], mix_generations=4, mix_window=2, mix_replications=20,
                                mix_small_weights=[0.3, 0.4, 0.6], mix_small_generations=3, mix_small_window=2,
                                mix_small_replications=10, mix_path_generations=6, mix_path_replications=20,
                                kde_weights=[0.5, 0.8, 1.0], kde_generations=6, kde_window=3, kde_replications=60,
                                kde_small_generations=4, kde_small_window=2, kde_small_replications=40,
                                kde_path_generations=8, kde_path_replications=60, digits_generations=4,
                                digits_replications=3, digits_show=[0, 4]),
    "kalman": dict(k_values=[0.05, 1.0], horizon=10, replications=300),
    "regimes": dict(n=20, m=20, generations=10, replications=300, k_grid_size=9),
    "frontier_overparam": dict(generations=20, window_start=10, replications=200, map_n=60,
                               map_p=120, map_size=8, redrawn_generations=6, redrawn_replications=200),
    "frontier_blind": dict(T_exact=5000, T_mc=40, replications=3000, alpha_grid_size=8, T_pool=30,
                           pool_replications=3000),
    "practice": dict(checks=[[1.0, 4.0]], generations=30, window_start=15, replications=300, sgd_generations=6,
                     sgd_window=2, sgd_replications=40, var_generations=20, var_window=10, var_replications=300,
                     topk_generations=15, topk_replications=40, boot_replicates=40, adult_check=False,
                     diag_generations=30, diag_replications=40),
    "generative_text": dict(n=60, k_small=0.5, generations=12, window_start=4, replications=6,
                            small_k_replications=5, weights_k1=[0.0, 0.4, 0.7, 1.0],
                            weights_small=[0.0, 0.25, 0.7, 1.0], weights_tau=[0.0, 0.5, 0.8, 1.0],
                            theory_points=9, mean_field_generations=30, boot=50, words_shown=3),
    "problem_set": dict(generations=40, window_start=20, replications=200, variance_generations=15,
                        glm_n=100, glm_generations=10, glm_window_start=4, glm_replications=60,
                        variance_replications=2000, ecdf_generations=30, kalman_horizon=8,
                        kalman_replications=1000),
}


def test_every_toc_notebook_has_small_parameters():
    assert sorted(p.stem for p in toc_notebooks()) == sorted(SMALL)


# Chapters run a second time to check that the same seeds glue the same numbers. The others run
# once (the suite's time budget): their simulations go through the same seeded lib code, whose
# determinism the lib tests check directly (chunks, workers, Dask).
TWICE = {"loop", "kalman"}


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_and_is_reproducible(path, tmp_path):
    """The notebook runs top to bottom (its hidden asserts and claims pass); for the chapters in
    TWICE a second run glues identical numbers into the text (same seeds, same results)."""
    nb = jupytext.read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged `parameters`"
    for name in SMALL[path.stem]:
        assert f"\n{name} =" in "\n" + tagged[0].source, f"{name} is not a parameter of {path.stem}"
    runs = []
    for i in range(2 if path.stem in TWICE else 1):
        out = papermill.execute_notebook(jupytext.read(path), str(tmp_path / f"{path.stem}_{i}.ipynb"),
                                         parameters=SMALL[path.stem], cwd=str(REPO / "book"),
                                         kernel_name="python3", progress_bar=False)
        runs.append(_glued(out))
    # Every figure cell produced an image, not the text repr of a Figure (matplotlib < 3.9 bug).
    outputs = [o for c in out.cells for o in c.get("outputs", [])]
    assert not any("<Figure size" in str(o.get("data", {}).get("text/plain", "")) and
                   "image/png" not in o.get("data", {}) for o in outputs)
    assert runs[0], f"{path.stem} glues nothing"
    # Names starting with "time_" are wall-clock measurements, the only values allowed to differ.
    same = [{k: v for k, v in run.items() if not k.startswith("time_")} for run in runs]
    assert all(s == same[0] for s in same), "glued values differ between two runs with the same seeds"


def _glued(nb):
    """Every value a notebook glues into its prose, by name."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                values[name] = out.get("data")
    return values
