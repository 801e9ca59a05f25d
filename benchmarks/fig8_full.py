"""The full Fig. 8 (30 weights x 2000 replications x six models, generations 0..199): wall time,
CPU time and peak memory of `python -m lib.reproduce fig8` on this machine.

Run: `.venv/bin/python benchmarks/fig8_full.py [--reps N] [--workers K]`. Not a test. It runs
the command in a subprocess, exactly as a user would, and reads the subprocess's resource usage
(peak resident memory of the main process and of the largest worker).

The authors' code needs 0.486 s of CPU per (weight, replication) task for the six models on one
core (their `S2_w` at their pinned versions, median of 3, measured side by side with lib on the
2-core development VM, AMD EPYC, on 2026-12-01; ``../shared/perf-notes.md``), i.e.
30 x 2000 x 0.486 s = 8.1 core-hours for the full grid; the ratio printed is their core-seconds over
ours. It is a constant here (this project does not contain their code), so on another machine the
ratio is only as good as the two machines are alike: `benchmarks/floor.py` gives the machine-
independent figure, lib's time against its random-number floor.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AUTHORS_SECONDS_PER_TASK = 0.486  # six models, T = 200, one (w, replication) task, one core (see above)
WEIGHTS = 30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "lib.reproduce", "fig8", "--reps", str(args.reps), "--workers",
               str(args.workers), "--out", out, "--no-progress"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        csv_mb = (Path(out) / "fig8.csv").stat().st_size / 1e6
    cpu = usage.ru_utime + usage.ru_stime
    tasks = WEIGHTS * args.reps
    authors = AUTHORS_SECONDS_PER_TASK * tasks
    print(proc.stdout)
    print(f"Fig. 8, {args.reps} replications x {WEIGHTS} weights x 6 models, {args.workers} workers, "
          f"{os.cpu_count()} cores")
    print(f"  wall time            {wall:8.1f} s   (goal for the full run: <= 100 s on 2 cores)")
    print(f"  CPU time             {cpu:8.1f} s   ({1e3 * cpu / tasks:.2f} ms per (w, replication) task)")
    print(f"  authors' code        {authors:8.0f} s   of CPU ({authors / 3600:.1f} core-hours): "
          f"{authors / cpu:.0f}x our CPU time")
    print(f"  peak memory          {usage.ru_maxrss / 1024:8.0f} MB  (largest single process)")
    print(f"  CSV                  {csv_mb:8.1f} MB")


if __name__ == "__main__":
    main()
