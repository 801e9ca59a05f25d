"""The reproduction command (python -m lib.reproduce): options, errors, determinism across worker
counts and a Dask cluster, and reduced runs of each figure checked against theory."""

import os
import subprocess
from pathlib import Path
import sys

import numpy as np
import pytest

from conftest import REPO, Z_TOL, assert_z_beyond, assert_z_within
from lib import experiments, paper_figures, reproduce
from lib.theory import GOLDEN_WEIGHT


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lib.reproduce", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=600)


# --- command line ---------------------------------------------------------------------------------

def test_help_explains_every_option():
    out = cli("--help")
    assert out.returncode == 0
    for option in ["--reps", "--out", "--workers", "--scheduler", "--seed", "--generations", "--no-progress", "--npz",
                   "fig7", "fig8", "fig9", "fig10"]:
        assert option in out.stdout


@pytest.mark.parametrize("args, message", [
    (["fig11"], "invalid choice: 'fig11'"),
    ([], "the following arguments are required: figure"),
    (["fig8", "--reps", "1"], "must be at least 2"),
    (["fig8", "--reps", "many"], "expected an integer, got 'many'"),
    (["fig8", "--workers", "0"], "must be at least 1"),
    (["fig8", "--seed", "-3"], "must be at least 0"),
    (["fig8", "--scheduler", "localhost"], "expected an address such as tcp://host:8786"),
    (["fig8", "--colour", "red"], "unrecognized arguments: --colour red"),
    (["fig8", "--out", ""], "an empty folder name"),
    (["fig8", "--scheduler-timeout", "0"], "must be a positive number of seconds"),
])
def test_bad_options_exit_with_a_message(args, message, capsys):
    # In process (argparse exits before any work); the subprocess test below covers the real exit.
    with pytest.raises(SystemExit) as exit_:
        reproduce.main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_option_from_the_shell():
    out = cli("fig8", "--reps", "1")
    assert out.returncode == 2 and "must be at least 2" in out.stderr and "Traceback" not in out.stderr


def test_unwritable_output_folder(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_:
        reproduce.main(["fig8", "--reps", "2", "--out", str(blocker / "sub")])
    assert exit_.value.code == 2 and "--out: cannot create" in capsys.readouterr().err


def test_cli_writes_csv_figure_and_summary(tmp_path):
    out = cli("fig8", "--reps", "3", "--generations", "5", "--workers", "2", "--out", str(tmp_path), "--no-progress",
              "--npz")
    assert out.returncode == 0, out.stderr
    assert "argmin" in out.stdout and "peak memory" in out.stdout
    table = reproduce.read_csv(tmp_path / "fig8.csv")
    assert len(table["error"]) == 6 * 30 * 3  # panels x weights x replications
    assert (tmp_path / "fig8.png").stat().st_size > 50_000
    compact = reproduce.read_npz(tmp_path / "fig8.npz")
    assert all(np.array_equal(compact[c], table[c]) for c in experiments.COLUMNS)
    # Same run in one process: the same file, byte for byte.
    again = reproduce.write_csv(reproduce.run_figure("fig8", 3, 0, workers=1, generations=5), tmp_path / "again.csv")
    assert again.read_bytes() == (tmp_path / "fig8.csv").read_bytes()


# --- tasks and determinism --------------------------------------------------------------------------

def test_tasks_have_fixed_blocks_and_distinct_seeds():
    ts = experiments.tasks("fig8", replications=250, seed=1)
    counts = [t.count for t in ts if t.panel == "mean"]
    assert counts == [100, 100, 50]
    assert [t.count for t in experiments.tasks("fig8", 201) if t.panel == "mean"] == [100, 101]
    assert len({t.seed for t in ts}) == len(ts)
    # The first block is the same task whatever the total: a longer run extends a shorter one.
    assert experiments.tasks("fig8", 250, 1)[0] == experiments.tasks("fig8", 100, 1)[0]
    assert experiments.tasks("fig8", 250, 2)[0].seed != ts[0].seed


def test_figure_settings_follow_the_paper():
    f8 = experiments.FIGURES["fig8"]
    assert [s.w for s in f8.settings] == pytest.approx(np.arange(0.20, 0.781, 0.02))
    assert (f8.generations, f8.window, f8.replications) == (199, (150, 199), 2000)
    f9 = experiments.FIGURES["fig9"]
    assert sorted({s.m for s in f9.settings}, reverse=True) == [10000, 3333, 2000, 1428, 1111, 909, 769, 666, 588, 526]
    naive = [s for s in f9.settings if s.scheme == "naive"]
    assert [s.w for s in naive] == pytest.approx([s.x / (1 + s.x) for s in naive])
    f7 = experiments.FIGURES["fig7"]
    assert (f7.generations, f7.settings[0].w, f7.replications) == (999, 0.0, 1000)
    assert experiments.model("fig7", "mean").cov == pytest.approx(np.eye(4) / 4)
    short = experiments.figure("fig8", generations=60)
    assert short.window == (11, 60)


@pytest.fixture(scope="module")
def small_fig9():
    return reproduce.run_figure("fig9", 2, seed=5, workers=1, generations=6)


def test_identical_for_every_worker_count(small_fig9, tmp_path):
    two = reproduce.run_figure("fig9", 2, seed=5, workers=2, generations=6)
    a = reproduce.write_csv(small_fig9, tmp_path / "one.csv").read_bytes()
    b = reproduce.write_csv(two, tmp_path / "two.csv").read_bytes()
    assert a == b
    other = reproduce.write_csv(reproduce.run_figure("fig9", 2, seed=6, workers=1, generations=6),
                                tmp_path / "other.csv").read_bytes()
    assert other != a


def test_identical_on_a_dask_cluster(small_fig9):
    distributed = pytest.importorskip("dask.distributed", reason="the [dask] extra is not installed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = reproduce.run_figure("fig9", 2, seed=5, scheduler=cluster.scheduler_address, generations=6)
    for name in experiments.COLUMNS:
        assert np.array_equal(on_dask[name], small_fig9[name]), name


def test_csv_round_trip(small_fig9, tmp_path):
    path = reproduce.write_csv(small_fig9, tmp_path / "t.csv")
    back = reproduce.read_csv(path)
    for name in experiments.COLUMNS:
        assert np.array_equal(back[name], small_fig9[name]), name
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a reproduction table"):
        reproduce.read_csv(tmp_path / "bad.csv")


def test_run_figure_validates():
    with pytest.raises(ValueError, match="name must be a figure, one of"):
        reproduce.run_figure("fig6", 2)
    with pytest.raises(ValueError, match="replications"):
        reproduce.run_figure("fig8", 1)
    with pytest.raises(ValueError, match="workers"):
        reproduce.run_figure("fig8", 2, workers=0)
    with pytest.raises(ValueError, match="seed"):
        reproduce.run_figure("fig8", 2, seed=-1)


# --- reduced runs against theory ---------------------------------------------------------------------

z_scores = paper_figures.against_theory


def test_fig8_matches_theory_and_finds_the_minimum():
    """60 runs of 60 generations (window 11..60; the transient (1-w)^(2t) is below 1e-10 there).
    Exact panels: |z| < 5 at every weight. Regression panels, first-order theory: simulation /
    theory within [0.9, 1.5] (the finite-n excess is 5-35% at n = 100), and the error at w = 0.2
    exceeds the error near 1/phi by more than 3 standard errors (theory: by a factor of 3)."""
    table = reproduce.run_figure("fig8", 60, seed=3, workers=1, generations=60)
    for panel in experiments.FIGURES["fig8"].panels:
        z, ratio, kind = z_scores(table, "fig8", panel)
        x, mean, se, failed = paper_figures.curve(table, panel)
        if panel in ("mean", "cov", "cdf"):
            assert kind == "exact"
            assert_z_within(z, panel)
        else:
            assert kind == "first order" and np.all((ratio > 0.9) & (ratio < 1.5)), (panel, ratio)
        i = int(np.argmin(np.abs(x - GOLDEN_WEIGHT)))
        assert mean[0] > mean[i]
        assert_z_beyond((mean[0] - mean[i]) / np.hypot(se[0], se[i]), panel, tol=3.0)
        assert failed.max() == 0
    best, (lo, hi) = paper_figures.argmin(table, "mean")
    assert lo <= best <= hi and 0.4 < best < 0.8
    text = paper_figures.report(table, "fig8")
    assert text.count("\n") == 7 and "Gaussian mean" in text


def test_fig7_collapse_matches_exact_theory():
    table = reproduce.run_figure("fig7", 200, seed=2, workers=1, generations=25)
    for panel in ["mean", "cdf", "linear"]:
        z, ratio, kind = z_scores(table, "fig7", panel)
        assert kind == "exact"
        assert_z_within(z, panel)
    # The covariance's expected error grows geometrically, carried by rare paths: exact for the
    # first generations only (and the mean can only fall below it later, never far above).
    z, ratio, _ = z_scores(table, "fig7", "cov")
    assert_z_within(z[:10], "fig7 cov, first generations")
    # Collapse: every panel's error grows over the generations.
    for panel in experiments.FIGURES["fig7"].panels:
        x, mean, se, _ = paper_figures.curve(table, panel)
        assert mean[-1] > 5 * mean[0], panel


def fig9_naive_over_optimal(table):
    """Check a Fig. 9 table's exact panels against theory (both schemes, |z| < Z_TOL at every k);
    return the simulated naive/optimal error ratios of every panel."""
    for panel in ["mean", "cov", "cdf"]:
        for scheme in ["naive", "optimal"]:
            z, ratio, kind = z_scores(table, "fig9", panel, scheme)
            assert kind == "exact"
            assert_z_within(z, f"{panel} {scheme}")
    return {panel: paper_figures.curve(table, panel, "naive")[1] / paper_figures.curve(table, panel, "optimal")[1]
            for panel in experiments.FIGURES["fig9"].panels}


def test_fig9_optimal_beats_naive_and_matches_theory():
    table = reproduce.run_figure("fig9", 20, seed=4, workers=1, generations=20)
    for panel, ratio in fig9_naive_over_optimal(table).items():
        _, th_naive, _ = experiments.theory_curve("fig9", panel, "naive", generations=20)
        _, th_optimal, _ = experiments.theory_curve("fig9", panel, "optimal", generations=20)
        # After 20 generations naive pooling has not reached its limit yet; the theory says how far.
        assert np.mean(th_naive / th_optimal) > 1.5
        assert np.mean(ratio) > 1.2, panel


def test_fig10_categorical_panels_match_theory():
    # The Adult logistic panel costs ~0.5 ms a fit: run the categorical tasks here, and the
    # logistic one briefly below.
    todo = [t for t in experiments.tasks("fig10", 100, seed=9, generations=40) if t.panel != "adult_logistic"]
    parts = [experiments.run_task(t) for t in todo]
    table = {name: np.concatenate([p[name] for p in parts]) for name in experiments.COLUMNS}
    for panel in ["workclass", "education", "marital_status"]:
        z, ratio, kind = z_scores(table, "fig10", panel)
        assert kind == "exact"
        assert_z_within(z, panel)


def test_fig10_logistic_runs_as_the_paper_did():
    assert experiments.theory_curve("fig10", "adult_logistic") is None
    model = experiments.model("fig10", "adult_logistic")
    assert model.C == 1.0 and model.X.shape == (48842, 6)
    task = experiments.tasks("fig10", 2, seed=1, generations=3)[-1]
    rows = experiments.run_task(task)
    assert task.panel == "adult_logistic" and rows["error"].size == 30 * 2
    assert np.all(np.isfinite(rows["error"])) and rows["failed"].max() == 0


# --- the shipped full runs (data/reproduction) -------------------------------------------------------

@pytest.mark.parametrize("name, panels", [("fig8", ["mean", "cov", "linear"]), ("fig9", ["mean", "linear"])])
def test_archived_full_run_is_what_this_code_computes(name, panels):
    """The first block of 100 replications of cheap panels, recomputed, equals the archive's rows."""
    full = reproduce.archived(name)
    fig = experiments.FIGURES[name]
    assert np.unique(full["replication"]).size == fig.replications
    assert paper_figures.generations(full) == fig.generations
    first = [t for t in experiments.tasks(name, fig.block, seed=0) if t.panel in panels]
    parts = [experiments.run_task(t) for t in first]
    fresh = {c: np.concatenate([p[c] for p in parts]) for c in experiments.COLUMNS}
    archive = {c: v[np.isin(full["panel"], panels)] for c, v in full.items()}
    assert reproduce.same_rows(fresh, archive)
    # The comparison has teeth: another seed, or one error off by 1e-5, is not the same run.
    other = [experiments.run_task(t) for t in experiments.tasks(name, fig.block, seed=1) if t.panel == panels[0]]
    assert not reproduce.same_rows({c: other[0][c] for c in experiments.COLUMNS},
                                   {c: v[full["panel"] == panels[0]] for c, v in full.items()})
    fresh["error"][7] *= 1 + 1e-5
    assert not reproduce.same_rows(fresh, archive)


def test_archived_fig8_matches_theory_at_full_scale():
    """2000 replications: the exact panels within Z_TOL standard errors at every weight, and the
    simulated argmin of every panel within two grid steps of the theory's minimiser."""
    full = reproduce.archived("fig8")
    for panel in experiments.FIGURES["fig8"].panels:
        z, ratio, kind = z_scores(full, "fig8", panel)
        if kind == "exact":
            assert_z_within(z, panel)
        else:  # first order: the finite-n excess at n = 100, never below the theory
            assert np.all((ratio > 0.97) & (ratio < 1.4)), (panel, ratio)
        best, _ = paper_figures.argmin(full, panel, boot=10)
        assert abs(best - paper_figures.theory_argmin("fig8", panel)) <= 0.041, panel


def test_readme_argmin_table_is_the_archives():
    """The README's table of the full Fig. 8 run's argmins is what lib.paper_figures computes from
    the shipped archive (regenerate it with the archive)."""
    readme = (REPO / "README.md").read_text()
    rows = {}
    for line in readme.split("The full Fig. 8 run's argmins", 1)[1].split("\n\n")[1].splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    full = reproduce.archived("fig8")
    panels = experiments.FIGURES["fig8"].panels
    assert set(rows) == {experiments.panel_title(p) for p in panels}
    for panel in panels:
        best, (lo, hi) = paper_figures.argmin(full, panel)
        argmin, interval, theory = rows[experiments.panel_title(panel)]
        assert argmin == f"{best:.2f}" and interval == f"[{lo:.2f}, {hi:.2f}]", panel
        assert theory.split()[0] == f"{paper_figures.theory_argmin('fig8', panel):.4f}", panel


def test_archived_fig9_matches_theory_at_full_scale():
    for panel, ratio in fig9_naive_over_optimal(reproduce.archived("fig9")).items():
        assert np.all(ratio > 1.3), panel


def test_archive_round_trip_and_errors(small_fig9, tmp_path):
    path = reproduce.write_npz(small_fig9, tmp_path / "t.npz")
    back = reproduce.read_npz(path)
    assert all(np.array_equal(back[c], small_fig9[c]) for c in experiments.COLUMNS)
    np.savez(tmp_path / "bad.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a reproduction table"):
        reproduce.read_npz(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="no archived full run of 'fig7'"):
        reproduce.archived("fig7")


# --- summaries of tables with failed replications -----------------------------------------------------

def _table(errors, figure="fig8", panel="mean", failed=None):
    """A hand-made table: errors[x, replication] (NaN where failed), x = 0.2, 0.4, ..."""
    errors = np.asarray(errors, dtype=float)
    X, R = errors.shape
    failed = np.isnan(errors) if failed is None else failed
    xs = np.repeat(0.2 * (1 + np.arange(X)), R)
    gen = np.repeat(np.arange(X), R) if figure == "fig7" else np.full(X * R, 150)
    return {"figure": np.full(X * R, figure), "panel": np.full(X * R, panel), "scheme": np.full(X * R, "weighted"),
            "x": xs, "n": np.full(X * R, 100), "m": np.full(X * R, 100), "w": xs,
            "replication": np.tile(np.arange(R), X), "gen_from": gen, "gen_to": np.where(gen == 150, 199, gen),
            "error": errors.ravel(), "failed": failed.ravel().astype(float)}


def test_summaries_leave_failed_replications_out_and_count_them():
    table = _table([[1.0, 2.0, 3.0, np.nan], [4.0, np.nan, np.nan, np.nan], [5.0, 6.0, 7.0, 8.0]])
    x, mean, se, failed = paper_figures.curve(table, "mean")
    assert mean == pytest.approx([2.0, 4.0, 6.5]) and np.isnan(se[1]) and se[0] == pytest.approx(1 / np.sqrt(3))
    assert failed == pytest.approx([0.25, 0.75, 0.0])
    assert list(paper_figures.survivors(table, "mean")[1]) == [3, 1, 4]
    q = paper_figures.spread(table, "mean", quantiles=(0.5,))[1][0]
    assert q == pytest.approx([2.0, 4.0, 6.5])
    _, m, lo, hi = paper_figures.mean_interval(table, "mean")
    assert m == pytest.approx([2.0, 4.0, 6.5]) and np.isnan(lo[1]) and 0 < lo[0] < 2 < hi[0] <= 3
    best, (low, high) = paper_figures.argmin(table, "mean", boot=50)
    assert best == pytest.approx(0.2) and low <= best <= high
    # A replication missing altogether is an error; one that failed is not.
    short = {c: v[:-1] for c, v in table.items()}
    with pytest.raises(ValueError, match="one result per"):
        paper_figures.error_matrix(short, "mean")
    everywhere = _table([[np.nan, np.nan], [1.0, 2.0]])
    with pytest.raises(ValueError, match="every replication failed"):
        paper_figures.argmin(everywhere, "mean")


def test_against_archive_uses_the_archives_spread():
    rng = np.random.default_rng(0)
    archive = _table(rng.normal(1.0, 0.5, size=(3, 4000)))
    small = _table(rng.normal(1.0, 0.5, size=(3, 4)))
    z = paper_figures.against_archive(small, archive, "mean")
    assert_z_within(z, "against the archive's spread")
    shifted = {**small, "error": small["error"] + 2.0}
    assert np.all(paper_figures.against_archive(shifted, archive, "mean") > 5)
    other = {**small, "gen_to": small["gen_to"] + 1}
    with pytest.raises(ValueError, match="generations"):
        paper_figures.against_archive(other, archive, "mean")


def test_path_figure_counts_failed_replications_in_the_panel_title():
    table = reproduce.run_figure("fig7", 4, seed=1, workers=1, generations=3)
    logistic = table["panel"] == "logistic"
    last = logistic & (table["gen_from"] == 3) & (table["replication"] == 0)
    table["error"] = np.where(last, np.nan, table["error"])
    table["failed"] = np.where(last, 1.0, table["failed"])
    fig = paper_figures.plot(table, "fig7", columns=2, width=7.5)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles[4].endswith("1 of 4 replications failed by $t = 3$") and "failed" not in titles[0]
    assert fig.get_size_inches()[0] == pytest.approx(7.5) and len(fig.legends) == 1
    assert "1 of 4" in paper_figures.report(table, "fig7")


# --- outputs: atomic, described by a manifest, never mixed with another run's -------------------

def test_manifest_describes_the_run_and_guards_the_tables(tmp_path):
    import json

    assert reproduce.main(["fig8", "--reps", "2", "--generations", "3", "--out", str(tmp_path), "--no-progress",
                           "--npz", "--workers", "1"]) == 0
    record = json.loads((tmp_path / "fig8.json").read_text())
    assert (record["figure"], record["seed"], record["replications"], record["generations"]) == ("fig8", 0, 2, 3)
    assert record["rows"] == 6 * 30 * 2 and record["package_version"] != ""
    assert sorted(record["files"]) == ["fig8.csv", "fig8.npz", "fig8.png"]
    table = reproduce.read_csv(tmp_path / "fig8.csv")
    assert len(table) == record["rows"]
    # A table cut short (a whole number of rows, valid header) is told from the complete one.
    lines = (tmp_path / "fig8.csv").read_text().splitlines(keepends=True)
    (tmp_path / "fig8.csv").write_text("".join(lines[:100]))
    with pytest.raises(ValueError, match="SHA-256 differs"):
        reproduce.read_csv(tmp_path / "fig8.csv")
    # A rerun without --npz removes the earlier run's archive instead of leaving it beside the new CSV.
    assert reproduce.main(["fig8", "--reps", "2", "--generations", "4", "--out", str(tmp_path), "--no-progress",
                           "--workers", "1"]) == 0
    assert not (tmp_path / "fig8.npz").exists()
    assert sorted(json.loads((tmp_path / "fig8.json").read_text())["files"]) == ["fig8.csv", "fig8.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig8.csv", "fig8.json", "fig8.png"]  # no temporaries
    # An archive written by another run is refused beside this run's manifest.
    reproduce.write_npz(reproduce.run_figure("fig8", 2, 0, generations=3), tmp_path / "fig8.npz")
    with pytest.raises(ValueError, match="left from another run"):
        reproduce.read_npz(tmp_path / "fig8.npz")


def test_an_interrupted_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    import pandas as pd

    table = reproduce.run_figure("fig8", 2, 0, generations=3, panels=["mean"])
    path = reproduce.write_csv(table, tmp_path / "fig8.csv")
    before = path.read_bytes()
    real = pd.DataFrame.to_csv

    def interrupted(self, target, **kwargs):
        real(self.iloc[:10], target, **kwargs)  # part of the rows reach the disk, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reproduce.write_csv(reproduce.run_figure("fig8", 2, 1, generations=3, panels=["mean"]), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fig8.csv"]


def test_outputs_have_ordinary_file_permissions(tmp_path):
    """Atomic writes go through a temporary file (owner-only); the outputs are ordinary files."""
    table = reproduce.run_figure("fig8", 2, 0, generations=3, panels=["mean"])
    old = os.umask(0o027)
    try:
        paths = [reproduce.write_csv(table, tmp_path / "t.csv"), reproduce.write_npz(table, tmp_path / "t.npz")]
    finally:
        os.umask(old)
    assert [oct(p.stat().st_mode & 0o777) for p in paths] == [oct(0o640)] * 2


def test_read_csv_gives_a_typed_dataframe_and_the_same_bytes_as_before(tmp_path):
    table = reproduce.run_figure("fig8", 2, 0, generations=3, panels=["logistic"])
    table["error"][:3] = np.nan  # failed replications' errors survive the round trip
    path = reproduce.write_csv(table, tmp_path / "t.csv")
    frame = reproduce.read_csv(path)
    assert frame["n"].dtype == np.int64 and frame["error"].dtype == np.float64
    assert frame["panel"].map(type).eq(str).all()
    assert np.array_equal(frame["error"].to_numpy(), table["error"], equal_nan=True)
    # The format of the hand-written writer this replaced: repr of each float, NaN as "nan".
    expected = ",".join(experiments.COLUMNS) + "\n" + "".join(
        ",".join(repr(v) if isinstance(v, float) else str(v) for v in row) + "\n"
        for row in zip(*(table[c].tolist() for c in experiments.COLUMNS)))
    assert path.read_text() == expected


def test_unwritable_output_found_before_computing(tmp_path, monkeypatch, capsys):
    import os
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    candidates = [locked, Path("/sys")]
    target = None
    for folder in candidates:
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError:
            target = folder
            break
    if target is None:
        pytest.skip("no folder here refuses writes (running as root with a writable /sys)")

    def never(*args, **kwargs):
        raise AssertionError("computed before checking the output folder")

    monkeypatch.setattr(reproduce, "run_figure", never)
    with pytest.raises(SystemExit) as exit_:
        reproduce.main(["fig9", "--out", str(target)])
    assert exit_.value.code == 2 and "--out: cannot write in" in capsys.readouterr().err
    locked.chmod(0o700)
    assert os.access(locked, os.W_OK)


def test_workers_capped_at_the_task_count_and_warned_above_the_cores(monkeypatch, capsys, tmp_path):
    import os

    started = []
    real = reproduce.ProcessPoolExecutor

    def recording(workers, **kwargs):
        started.append(workers)
        return real(workers, **kwargs)

    monkeypatch.setattr(reproduce, "ProcessPoolExecutor", recording)
    tasks = experiments.tasks("fig8", 2, 0, 3)
    reproduce.run_figure("fig8", 2, 0, workers=1000, generations=3, panels=["mean", "cov"])
    assert started == [len([t for t in tasks if t.panel in ("mean", "cov")])]
    small = reproduce.run_figure("fig8", 2, 0, generations=3)
    monkeypatch.setattr(reproduce, "run_figure", lambda *args, **kwargs: small)  # the warning, not the pool
    assert reproduce.main(["fig8", "--reps", "2", "--generations", "3", "--no-progress", "--out", str(tmp_path),
                           "--workers", str((os.cpu_count() or 1) + 1)]) == 0
    assert "more than the" in capsys.readouterr().err


def test_unreachable_scheduler_is_one_clear_line():
    pytest.importorskip("dask.distributed")
    import socket

    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = cli("fig8", "--reps", "2", "--generations", "3", "--no-progress", "--scheduler", f"tcp://127.0.0.1:{port}",
              "--scheduler-timeout", "2")
    assert out.returncode == 2, out.stderr
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_figures_checks_its_jobs():
    with pytest.raises(ValueError, match="jobs must be"):
        reproduce.run_figures({})
    with pytest.raises(ValueError, match="panels of 'a'"):
        reproduce.run_figures({"a": ("fig8", 2, 0, 3, ["means"])})
    with pytest.raises(ValueError, match="timeout"):
        reproduce.run_figure("fig8", 2, generations=3, timeout=0)


def test_a_manifest_with_another_row_count_is_refused(tmp_path):
    import json

    assert reproduce.main(["fig8", "--reps", "2", "--generations", "3", "--out", str(tmp_path), "--no-progress",
                           "--workers", "1"]) == 0
    manifest = tmp_path / "fig8.json"
    record = json.loads(manifest.read_text())
    record["rows"] += 1
    manifest.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="rows where its run wrote"):
        reproduce.read_csv(tmp_path / "fig8.csv")
