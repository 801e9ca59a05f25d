"""Reproduce the paper's Figs. 7-10 with one command.

    python -m lib.reproduce fig8 [--reps N] [--out DIR] [--workers K] [--scheduler ADDRESS] [--seed S]

runs the experiment with the paper's settings (:mod:`lib.experiments`), shows a progress bar,
writes ``DIR/fig8.csv`` (one row per model, setting and replication: the tidy data) and
``DIR/fig8.png`` (the paper's panel layout with the theory curves), with ``--npz`` also
``DIR/fig8.npz`` (the same table, compressed), and last the manifest ``DIR/fig8.json`` (what
made them: figure, seed, replications, generations, package version, rows, and the SHA-256 of each
file; :func:`read_csv` checks a table against it), and prints a summary. Every file is written
atomically, and files of an earlier run that this one does not write are removed, so that a
folder never mixes two runs. The
work is split into tasks that run in ``--workers`` local processes or, with ``--scheduler``, on a
Dask distributed cluster (``pip install .[dask]``). The tasks are seeded by their position, not by
the process that runs them, so the CSV is byte-for-byte the same for every worker count.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import data, experiments
from .experiments import COLUMNS, FIGURES, Task, run_task

__all__ = ["run_figure", "run_figures", "write_csv", "read_csv", "write_npz", "read_npz", "provenance",
           "write_manifest", "SchedulerError", "ARCHIVED", "archived",
           "same_rows", "main"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_figure(figure: str, replications: int | None = None, seed: int = 0, workers: int = 1,
               scheduler: str | None = None, progress: bool | None = None,
               generations: int | None = None, panels=None,
               timeout: float | None = None) -> dict[str, np.ndarray]:
    """Run every task of ``figure`` and return the tidy table: one array per name in
    :data:`lib.experiments.COLUMNS`, rows in task order (independent of ``workers``).

    ``replications`` defaults to the paper's; ``workers`` local processes (1: in this process; at
    most one per task is started); ``scheduler``: the address of a Dask distributed scheduler
    (then ``workers`` is ignored); ``progress``: a tqdm bar over tasks (None: only on a terminal);
    ``generations``: a shorter run for a quick look (see :func:`lib.experiments.figure`; default:
    the paper's); ``panels``: only these panels (default: all), rows as in the full table;
    ``timeout``: seconds to wait for the scheduler (default :data:`SCHEDULER_TIMEOUT`), after which
    :class:`SchedulerError` is raised.
    """
    jobs = {figure: (figure, replications, seed, generations, panels)}
    return run_figures(jobs, workers, scheduler, progress, timeout)[figure]


def run_figures(jobs: dict, workers: int = 1, scheduler: str | None = None,
                progress: bool | None = None, timeout: float | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Run the tasks of several figures on one pool, the longest first, so that no worker waits.

    ``jobs``: ``{key: (figure, replications, seed, generations, panels or None)}``. Returns
    ``{key: table}``, each table what :func:`run_figure` gives for those arguments, rows in task
    order whatever the worker count.

    Examples
    --------
    >>> t = run_figures({"a": ("fig8", 2, 0, 3, ["mean"])})["a"]
    >>> sorted(set(t["panel"].tolist())), len(t["error"])  # one panel, 30 weights x 2 replications
    (['mean'], 60)
    """
    if not isinstance(jobs, dict) or not jobs:
        raise ValueError(f"jobs must be a non-empty dict {{key: (figure, replications, seed, generations, panels)}}, "
                         f"got {jobs!r}")
    todo: list[tuple[object, Task]] = []
    for key, job in jobs.items():
        if not isinstance(job, tuple) or len(job) != 5:
            raise ValueError(f"jobs[{key!r}] must be (figure, replications, seed, generations, panels), got {job!r}")
        name, reps, s, gens, panels = job
        found = experiments.tasks(name, reps, s, gens)
        if panels is not None:
            known = {t.panel for t in found}
            if isinstance(panels, str) or not set(panels) <= known or not len(panels):
                raise ValueError(f"panels of {key!r} must be a non-empty list of {sorted(known)}, got {panels!r}")
            found = [t for t in found if t.panel in panels]
        todo += [(key, t) for t in found]
    workers = min(_positive(workers, "workers"), len(todo))
    timeout = SCHEDULER_TIMEOUT if timeout is None else timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    rows: list[dict | None] = [None] * len(todo)
    order = sorted(range(len(todo)), key=lambda i: -_cost(todo[i][1]))
    disable = None if progress is None else not progress
    with tqdm(total=len(todo), desc="tasks", disable=disable, leave=False) as bar:
        for i, result in _execute([t for _, t in todo], order, workers, scheduler, timeout):
            rows[i] = result
            bar.update()
    return {key: {c: np.concatenate([r[c] for (k, _), r in zip(todo, rows) if k == key]) for c in COLUMNS}
            for key in jobs}


# A Dask scheduler that does not answer within this many seconds is reported, not waited for.
SCHEDULER_TIMEOUT = 10.0


class SchedulerError(RuntimeError):
    """The Dask scheduler named by ``--scheduler`` could not be reached."""


def _execute(todo: list[Task], order: list[int], workers: int, scheduler: str | None, timeout: float):
    """Yield (task index, rows) as tasks finish."""
    if scheduler is not None:
        try:
            from dask.distributed import Client, as_completed as dask_completed
        except ImportError as err:
            raise RuntimeError("--scheduler needs Dask: pip install '.[dask]'") from err
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as err:
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s "
                                 f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no answer'}); "
                                 f"is it running, and is the address right?") from err
        with client:
            futures = {client.submit(run_task, todo[i], pure=False): i for i in order}
            for fut in dask_completed(futures):
                yield futures[fut], fut.result()
        return
    if workers == 1:
        for i in order:
            yield i, run_task(todo[i])
        return
    # One BLAS thread per process (the workers already use every core); spawn, not fork, so that
    # a pool started from a notebook kernel or a threaded program is safe.
    with _environment({v: "1" for v in _THREAD_VARS}), \
            ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_task, todo[i]): i for i in order}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cost(task: Task) -> float:
    """Rough relative run time of a task, to schedule the long ones first."""
    fig = experiments.figure(task.figure, task.generations)
    group = fig.groups()[task.group]
    per_point = {"logistic": 20.0, "poisson": 20.0, "adult_logistic": 40.0, "cdf": 4.0}.get(task.panel, 0.3)
    if task.figure == "fig7" and task.panel == "logistic":
        per_point *= 10  # its runaway penalised fits take up to 200 Newton steps each
    return per_point * task.count * len(group) * (group[0].n + group[0].m) * fig.generations


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# --- tables: CSV through pandas, written atomically ------------------------------------------

@contextlib.contextmanager
def _atomic(path: Path):
    """Yield a temporary path in ``path``'s folder; on success rename it onto ``path`` (atomic on
    POSIX), so that an interrupted write leaves the old file or none, never a part of a new one.
    The file gets the permissions of an ordinary new file (0666 less the umask), not the
    temporary file's owner-only 0600."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_csv(table: dict[str, np.ndarray], path: Path | str) -> Path:
    """Write the tidy table with pandas (floats in their shortest exact form, NaN as ``nan``, so
    equal tables give equal files), atomically: the file appears complete or not at all."""
    import pandas as pd

    path = Path(path)
    frame = pd.DataFrame({name: np.asarray(table[name]) for name in COLUMNS})
    with _atomic(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", na_rep="nan", encoding="utf-8")
    return path


def read_csv(path: Path | str):
    """Read a table written by :func:`write_csv` as a typed :class:`pandas.DataFrame` (text columns
    as strings, sizes and generations as integers, the rest as floats).

    If the folder holds the manifest ``FIGURE.json`` that :func:`main` writes beside its outputs,
    the file is checked against it (SHA-256 and row count) and refused if it is not the file that
    run wrote, for example left from another run or changed since."""
    import pandas as pd

    path = Path(path)
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    if tuple(header) != COLUMNS:
        raise ValueError(f"{path} is not a reproduction table: its header is {header}")
    frame = pd.read_csv(path, dtype={name: _TYPES.get(name, float) for name in COLUMNS}, keep_default_na=False,
                        na_values={"error": ["nan"], "failed": ["nan"], "x": ["nan"], "w": ["nan"]})
    _check_manifest(path, len(frame))
    return frame


# --- the manifest: what produced the files of one run ------------------------------------------

def provenance(figure: str, replications: int | None, seed: int, generations: int | None) -> dict:
    """What a run of :func:`run_figure` is, resolved to numbers (the paper's defaults filled in)."""
    from importlib import metadata

    fig = experiments.figure(figure, generations)
    try:
        version = metadata.version("golden-ratio-companion")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"figure": figure, "replications": fig.replications if replications is None else int(replications),
            "seed": int(seed), "generations": fig.generations, "package_version": version,
            "command": f"python -m lib.reproduce {figure}"
                       + (f" --reps {replications}" if replications is not None else "")
                       + (f" --generations {generations}" if generations is not None else "")
                       + (f" --seed {seed}" if seed else "")}


_sha256 = data._sha256  # one checksum routine for the shipped data and the run manifests


def _manifest_path(path: Path) -> Path:
    return path.parent / f"{path.name.split('.')[0]}.json"


def write_manifest(folder: Path, figure: str, run: dict, rows: int, files: list[Path]) -> Path:
    """Write ``folder/FIGURE.json``: the run's :func:`provenance`, the number of rows, and the
    SHA-256 of every file it wrote. Written last, atomically: its presence says the run finished."""
    import json

    record = dict(run, rows=int(rows), columns=list(COLUMNS),
                  files={f.name: _sha256(f) for f in sorted(files)})
    path = Path(folder) / f"{figure}.json"
    with _atomic(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _check_manifest(path: Path, rows: int) -> None:
    import json

    manifest = _manifest_path(path)
    if not manifest.exists():
        return
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
        expected = record["files"].get(path.name)
        expected_rows = int(record["rows"])
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{manifest} is not a manifest written by lib.reproduce ({err}); remove it or "
                         f"run the figure again") from err
    if expected is None:
        raise ValueError(f"{path} is not one of the files its folder's manifest {manifest.name} lists "
                         f"({sorted(record['files'])}): it is left from another run; run the figure again")
    if _sha256(path) != expected:
        raise ValueError(f"{path} is not the file the run recorded in {manifest.name} wrote (SHA-256 differs): "
                         f"it was changed or left from another run; run the figure again")
    if rows != expected_rows:
        raise ValueError(f"{path} has {rows} rows where its run wrote {expected_rows}")


def write_npz(table: dict[str, np.ndarray], path: Path | str) -> Path:
    """The same table as a compressed NumPy archive (exact; about a tenth of the CSV's size), for
    shipping full runs with the book (``data/reproduction``)."""
    path = Path(path)
    with _atomic(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **{name: np.asarray(table[name]) for name in COLUMNS})
    return path


def read_npz(path: Path | str) -> dict[str, np.ndarray]:
    """Read a table written by :func:`write_npz`."""
    import zipfile
    try:
        with np.load(path, allow_pickle=False) as archive:
            if tuple(sorted(archive.files)) != tuple(sorted(COLUMNS)):
                raise ValueError(f"{path} is not a reproduction table: it holds {sorted(archive.files)}")
            table = {name: archive[name] for name in COLUMNS}
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable NumPy archive ({type(err).__name__}: {err}); "
                         f"write it again with python -m lib.reproduce ... --npz") from err
    _check_manifest(Path(path), len(table["error"]))
    return table


# Full runs at the paper's settings (seed 0) shipped with the book; data/reproduction/README.md
# says how they were made. lib.data finds them (repository, wheel or GOLDEN_RATIO_DATA) and
# verifies their SHA-256 before they are read.
ARCHIVED = ("fig8", "fig9")


def __getattr__(name):
    if name == "ARCHIVE_DIR":  # looked up when used, so that importing lib never needs the data
        return data.data_dir() / "reproduction"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def archived(figure: str) -> dict[str, np.ndarray]:
    """The shipped full run of ``figure`` (the paper's replications and generations, seed 0),
    checksum-verified (:mod:`lib.data`)."""
    if figure not in ARCHIVED:
        raise ValueError(f"no archived full run of {figure!r}: the book ships {list(ARCHIVED)}; make one with "
                         f"python -m lib.reproduce {figure} --npz --out DIR and read it with read_npz")
    return read_npz(data.path(f"reproduction/{figure}.npz"))


def same_rows(table: dict[str, np.ndarray], archive: dict[str, np.ndarray], rtol: float = 1e-6) -> bool:
    """Whether ``table`` (a run with the archive's seed and generations and R replications, R a
    multiple of the block size) is the first R replications of ``archive``. A longer run extends a
    shorter one, block by block, so the rows match in order. Errors are compared to ``rtol``, so
    that a different BLAS's rounding inside the GLM solver does not count, and the settings
    (weights, ratios) to 1e-12, so that a weight computed by an equivalent formula does; a different
    seed, setting or model changes them completely."""
    keep = archive["replication"] < np.unique(table["replication"]).size
    if keep.sum() != table["error"].size:
        return False
    for name in COLUMNS:
        a, b = archive[name][keep], table[name]
        # equal_nan: a failed replication's error is NaN (lib.engine) in both runs alike.
        if name in ("error", "failed"):
            ok = np.allclose(a, b, rtol=rtol, atol=0.0, equal_nan=True)
        elif a.dtype.kind == "f":  # settings (w, x): recomputed from formulas, equal to rounding
            ok = np.allclose(a, b, rtol=1e-12, atol=0.0)
        else:
            ok = np.array_equal(a, b)
        if not ok:
            return False
    return True


_TYPES = {"figure": str, "panel": str, "scheme": str, "n": int, "m": int, "replication": int, "gen_from": int,
          "gen_to": int}


# --- command line --------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    figs = "\n".join(f"  {name}: {_DESCRIPTIONS[name]}" for name in FIGURES)
    p = argparse.ArgumentParser(
        prog="python -m lib.reproduce",
        description="Reproduce a simulation figure of He, Xu and Cheng (arXiv 2502.18049) with the "
                    "paper's settings: writes a tidy CSV of every result and the figure with its "
                    "theory curves.",
        epilog=f"figures:\n{figs}\n\nThe CSV is identical for every --workers value and scheduler, "
               "given the seed and the number of replications.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("figure", choices=sorted(FIGURES), help="which figure to reproduce")
    p.add_argument("--reps", type=_int_at_least(2), default=None, metavar="N",
                   help="replications (default: the paper's, 1000 or 2000; at least 2)")
    p.add_argument("--out", type=_folder, default=Path("reproduction"), metavar="DIR",
                   help="output folder for FIGURE.csv, FIGURE.png and the manifest FIGURE.json (created; default: ./reproduction)")
    p.add_argument("--workers", type=_int_at_least(1), default=os.cpu_count() or 1, metavar="K",
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (needs pip install '.[dask]')")
    p.add_argument("--scheduler-timeout", type=_positive_seconds, default=SCHEDULER_TIMEOUT, metavar="SECONDS",
                   help=f"give up on a scheduler that does not answer within this time (default {SCHEDULER_TIMEOUT:g})")
    p.add_argument("--generations", type=_int_at_least(1), default=None, metavar="T",
                   help="last generation, for a quick look (default: the paper's; a window keeps its length)")
    p.add_argument("--seed", type=_int_at_least(0), default=0, metavar="S", help="root random seed (default 0)")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.add_argument("--npz", action="store_true",
                   help="also write FIGURE.npz, the table as a compressed NumPy archive (lib.reproduce.read_npz)")
    return p


_DESCRIPTIONS = {
    "fig7": "collapse of the fully synthetic loop, n = m = 100, p = 4, 1000 generations",
    "fig8": "error against the weight at n = m = 100 (the golden ratio), 200 generations",
    "fig9": "naive pooling against the optimal weight for k = n/m from 0.01 to 0.19",
    "fig10": "UCI Adult: three categorical distributions and a logistic regression, n = m = 500",
}


def _folder(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty folder name; give one, for example --out results")
    return Path(text)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _parser().error(f"--out: cannot create {args.out}: {err.strerror}")
    try:  # before minutes of computing, not after
        with tempfile.TemporaryFile(dir=args.out):
            pass
    except OSError as err:
        _parser().error(f"--out: cannot write in {args.out}: {err.strerror}")
    if args.scheduler is not None and "://" not in args.scheduler:
        _parser().error(f"--scheduler: expected an address such as tcp://host:8786, got {args.scheduler!r}")
    cores = os.cpu_count() or 1
    if args.scheduler is None and args.workers > cores:
        print(f"warning: --workers {args.workers} is more than the {cores} cores of this machine; the extra "
              f"processes only share them", file=sys.stderr)
    from . import paper_figures  # matplotlib only when needed

    start = time.perf_counter()
    try:
        table = run_figure(args.figure, args.reps, args.seed, args.workers, args.scheduler,
                           progress=not args.no_progress, generations=args.generations,
                           timeout=args.scheduler_timeout)
    except SchedulerError as err:
        print(f"error: --scheduler: {err}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    outputs = _write_outputs(table, args, paper_figures)
    print(paper_figures.report(table, args.figure))
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"\n{len(table['error'])} rows in {outputs['csv']}\nfigure in {outputs['png']}\n"
          f"what made them in {outputs['manifest']}\n"
          f"{seconds:.1f} s, peak memory of one process {peak:.0f} MB")
    return 0


def _write_outputs(table: dict[str, np.ndarray], args, paper_figures) -> dict[str, Path]:
    """Write one run's files so that a folder never mixes two runs: the old manifest goes first
    (the folder then holds no finished run), files of an earlier run that this one does not write
    are removed, each file is written atomically, and the new manifest comes last."""
    out, name = args.out, args.figure
    (out / f"{name}.json").unlink(missing_ok=True)
    paths = {"csv": out / f"{name}.csv", "png": out / f"{name}.png"}
    if args.npz:
        paths["npz"] = out / f"{name}.npz"
    stale = out / f"{name}.npz"
    if not args.npz and stale.exists():
        stale.unlink()
        print(f"removed {stale}, left from an earlier run (this run writes no --npz)", file=sys.stderr)
    write_csv(table, paths["csv"])
    if args.npz:
        write_npz(table, paths["npz"])
    fig = paper_figures.plot(table, name)
    with _atomic(paths["png"]) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    run = provenance(name, args.reps, args.seed, args.generations)
    paths["manifest"] = write_manifest(out, name, run, len(table["error"]), list(paths.values()))
    return paths


if __name__ == "__main__":
    sys.exit(main())
