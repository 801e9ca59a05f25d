"""Reproduce the paper's Figs. 7-10 with one command.

    python -m lib.reproduce fig8 [--reps N] [--out DIR] [--workers K] [--scheduler ADDRESS] [--seed S]

runs the experiment with the paper's settings (:mod:`lib.experiments`), shows a progress bar,
writes ``DIR/fig8.csv`` (one row per model, setting and replication: the tidy data) and
``DIR/fig8.png`` (the paper's panel layout with the theory curves), with ``--npz`` also
``DIR/fig8.npz`` (the same table, compressed), and prints a summary. The
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
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import data, experiments
from .experiments import COLUMNS, FIGURES, Task, run_task

__all__ = ["run_figure", "write_csv", "read_csv", "write_npz", "read_npz", "ARCHIVED", "archived",
           "same_rows", "main"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_figure(figure: str, replications: int | None = None, seed: int = 0, workers: int = 1,
               scheduler: str | None = None, progress: bool | None = None,
               generations: int | None = None) -> dict[str, np.ndarray]:
    """Run every task of ``figure`` and return the tidy table: one array per name in
    :data:`lib.experiments.COLUMNS`, rows in task order (independent of ``workers``).

    ``replications`` defaults to the paper's; ``workers`` local processes (1: in this process);
    ``scheduler``: the address of a Dask distributed scheduler (then ``workers`` is ignored);
    ``progress``: a tqdm bar over tasks (None: only on a terminal); ``generations``: a shorter
    run for a quick look (see :func:`lib.experiments.figure`; default: the paper's).
    """
    todo = experiments.tasks(figure, replications, seed, generations)
    workers = _positive(workers, "workers")
    results: list[dict | None] = [None] * len(todo)
    # Start the expensive tasks first so that no worker is left with a long task at the end.
    order = sorted(range(len(todo)), key=lambda i: -_cost(todo[i]))
    disable = None if progress is None else not progress
    with tqdm(total=len(todo), desc=f"{figure} tasks", disable=disable, leave=False) as bar:
        for i, rows in _execute(todo, order, workers, scheduler):
            results[i] = rows
            bar.update()
    return {name: np.concatenate([r[name] for r in results]) for name in COLUMNS}


def _execute(todo: list[Task], order: list[int], workers: int, scheduler: str | None):
    """Yield (task index, rows) as tasks finish."""
    if scheduler is not None:
        try:
            from dask.distributed import Client, as_completed as dask_completed
        except ImportError as err:
            raise RuntimeError("--scheduler needs Dask: pip install '.[dask]'") from err
        with Client(scheduler) as client:
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
    return per_point * task.count * len(group) * (group[0].n + group[0].m) * fig.generations


def _positive(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# --- CSV ---------------------------------------------------------------------------------------

def write_csv(table: dict[str, np.ndarray], path: Path | str) -> Path:
    """Write the tidy table; floats in their shortest exact form, so equal tables give equal files."""
    path = Path(path)
    rows = len(table[COLUMNS[0]])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(",".join(COLUMNS) + "\n")
        for start in range(0, rows, 20_000):  # in slices: text for all rows at once takes ~1 kB a row
            cols = [[_text(v) for v in table[name][start:start + 20_000].tolist()] for name in COLUMNS]
            f.writelines(",".join(row) + "\n" for row in zip(*cols))
    return path


def _text(v) -> str:
    return repr(v) if isinstance(v, float) else str(v)


def read_csv(path: Path | str) -> dict[str, np.ndarray]:
    """Read a table written by :func:`write_csv` back into columns."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        if tuple(header) != COLUMNS:
            raise ValueError(f"{path} is not a reproduction table: its header is {header}")
        rows = [line.rstrip("\n").split(",") for line in f]
    cols = list(zip(*rows)) if rows else [()] * len(COLUMNS)
    return {name: np.array(values, dtype=str).astype(_TYPES.get(name, float)) for name, values in zip(COLUMNS, cols)}


def write_npz(table: dict[str, np.ndarray], path: Path | str) -> Path:
    """The same table as a compressed NumPy archive (exact; about a tenth of the CSV's size), for
    shipping full runs with the book (``data/reproduction``)."""
    path = Path(path)
    np.savez_compressed(path, **{name: np.asarray(table[name]) for name in COLUMNS})
    return path


def read_npz(path: Path | str) -> dict[str, np.ndarray]:
    """Read a table written by :func:`write_npz`."""
    import zipfile
    try:
        with np.load(path, allow_pickle=False) as archive:
            if tuple(sorted(archive.files)) != tuple(sorted(COLUMNS)):
                raise ValueError(f"{path} is not a reproduction table: it holds {sorted(archive.files)}")
            return {name: archive[name] for name in COLUMNS}
    except (zipfile.BadZipFile, EOFError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable NumPy archive ({type(err).__name__}: {err}); "
                         f"write it again with python -m lib.reproduce ... --npz") from err


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
    p.add_argument("--out", type=Path, default=Path("reproduction"), metavar="DIR",
                   help="output folder for FIGURE.csv and FIGURE.png (created; default: ./reproduction)")
    p.add_argument("--workers", type=_int_at_least(1), default=os.cpu_count() or 1, metavar="K",
                   help="local worker processes (default: the number of cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (needs pip install '.[dask]')")
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
    if args.scheduler is not None and "://" not in args.scheduler:
        _parser().error(f"--scheduler: expected an address such as tcp://host:8786, got {args.scheduler!r}")
    from . import paper_figures  # matplotlib only when needed

    start = time.perf_counter()
    table = run_figure(args.figure, args.reps, args.seed, args.workers, args.scheduler,
                       progress=not args.no_progress, generations=args.generations)
    seconds = time.perf_counter() - start
    csv = write_csv(table, args.out / f"{args.figure}.csv")
    if args.npz:
        write_npz(table, args.out / f"{args.figure}.npz")
    png = args.out / f"{args.figure}.png"
    fig = paper_figures.plot(table, args.figure)
    fig.savefig(png, dpi=150)
    print(paper_figures.report(table, args.figure))
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(f"\n{len(table['error'])} rows in {csv}\nfigure in {png}\n"
          f"{seconds:.1f} s, peak memory of one process {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
