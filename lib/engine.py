"""The weighted fresh-data loop, run for a grid of weights and many replications at once.

At generation 0 a model is fitted on n real samples. At every generation t >= 1 it is refitted on
n fresh real samples and m synthetic samples drawn from the generation t-1 fit, minimising

    w * (mean loss on real) + (1 - w) * (mean loss on synthetic)

(He, Xu and Cheng, arXiv 2502.18049, Sec. 2). The engine knows nothing about the model: anything
with the methods of :class:`Model` plugs in. The engine asks for samples of a *batch* shape
``(W, R)`` (weights x replications) and passes the weights as a ``(W, 1)`` array; models keep the
batch as the trailing axes of their arrays (see :mod:`lib.batched`), so the weights broadcast and
one call of ``fit`` fits every replication at every weight.

Failed fits: a model whose fit can fail (a logistic fit of separated data has no maximum-likelihood
estimate) reports it in a metric ``"failed"`` of :meth:`Model.evaluate`, 1 where this
generation's fit failed. A replication whose fit fails at generation t is *failed from t on*: its
recorded errors are NaN at generations t, t + 1, ..., its ``"failed"`` metric is 1 from t on, and
:attr:`LoopResult.failed_count` counts it. Means and standard errors (:meth:`LoopResult.mean`,
:meth:`~LoopResult.sem`, :meth:`~LoopResult.window_mean`) are over the surviving replications
only; report the count with them, since survivors are a selected set. The loop itself keeps
running every replication (the model's state keeps the failed fit's last finite iterate), so the
random streams of all replications, failed or not, are the same as if nothing had failed.

Randomness: replications are processed in chunks of ``chunk_size``; chunk ``i`` draws from its own
``numpy.random.Generator`` seeded by ``SeedSequence(seed).spawn(...)[i]``. Results are therefore a
deterministic function of (seed, weights, replications, chunk_size), whatever order or process the
chunks run in.

Memory: a loop allocates and frees arrays of a few megabytes every generation. With glibc's
default settings each of them is a fresh ``mmap`` whose pages the kernel zero-fills on first use,
which cost Fig. 8 13-15% of its CPU in system time and made some array operations 2-3 times
slower. :func:`run_loop` therefore calls :func:`tune_malloc` once per process; it changes no
number, only where the memory comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from . import validate

__all__ = ["Model", "LoopResult", "run_loop", "tune_malloc"]

# glibc mallopt parameters (malloc.h) and the values tune_malloc sets.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
MALLOC_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": 32 * 2**20, "MALLOC_TRIM_THRESHOLD_": 2**30, "MALLOC_TOP_PAD_": 2**28}
_malloc_tuned: bool | None = None


def tune_malloc() -> bool:
    """Keep freed memory of this process for reuse instead of returning it to the system (glibc
    only; elsewhere nothing happens). Returns whether the settings are in effect.

    Sets, by ``mallopt``, the values of :data:`MALLOC_SETTINGS` (the same names as environment
    variables, read by glibc at start-up, have the same effect): blocks below 32 MiB (the largest
    threshold glibc accepts) come from the heap rather than from a fresh ``mmap``, the heap grows
    in steps of 256 MiB and is given back only when 1 GiB at its top is free. A simulation then
    reuses the same pages every generation instead of having the kernel zero-fill new ones; the
    process's peak memory is about the same. Idempotent, and cheap to call again.

    Examples
    --------
    >>> tune_malloc() in (True, False)
    True
    """
    global _malloc_tuned
    if _malloc_tuned is None:
        _malloc_tuned = False
        try:
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows, musl without mallopt)
            return False
        mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
        _malloc_tuned = all(mallopt(param, value) == 1 for param, value in (
            (_M_MMAP_THRESHOLD, MALLOC_SETTINGS["MALLOC_MMAP_THRESHOLD_"]),
            (_M_TRIM_THRESHOLD, MALLOC_SETTINGS["MALLOC_TRIM_THRESHOLD_"]),
            (_M_TOP_PAD, MALLOC_SETTINGS["MALLOC_TOP_PAD_"])))
    return _malloc_tuned


class Model(Protocol):
    """What a model must provide to run in the loop.

    ``shape`` is the batch shape of the samples to draw; ``state`` is a fitted model (for example
    ``(mean, cov)`` arrays of shapes (p, W, R) and (p, p, W, R)); ``w`` has shape (W, 1) so that it
    broadcasts over the trailing batch axes. ``evaluate`` returns arrays broadcastable to (W, R).
    """

    metrics: tuple[str, ...]

    def check_sizes(self, n: int, m: int) -> None:
        """Raise ValueError if the model cannot be fitted from n real / m synthetic samples.
        (Optional, not part of the protocol: ``chunk_pairs(n, m)``, see :func:`run_loop`.)"""

    def sample_real(self, rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> Any:
        """n fresh samples from the true distribution, for each batch element."""

    def sample_synthetic(self, rng: np.random.Generator, state: Any, m: int, shape: tuple[int, ...]) -> Any:
        """m samples from the fitted model ``state``, for each batch element."""

    def fit(self, real: Any, synthetic: Any | None, w: np.ndarray) -> Any:
        """Minimise the weighted loss; ``synthetic=None`` means generation 0 (real data only)."""

    def evaluate(self, state: Any) -> dict[str, np.ndarray]:
        """What to record of a fit, one array per name in ``metrics``: its errors against the
        truth, and possibly the fitted parameters themselves. A metric named ``"failed"`` (1 where
        the fit failed) makes the engine mark that replication failed from this generation on
        (see the module docstring)."""


@dataclass(frozen=True)
class LoopResult:
    """What a run recorded: ``values[metric]`` has shape (T + 1, W, R) for generations 0..T,
    weights ``weights`` and R replications.

    ``failed`` (bool, (T + 1, W, R)) is True from the generation at which a replication's fit
    failed on (all False for models whose fits cannot fail); the errors of such a replication are
    NaN there. :attr:`failed_count` counts the failed replications per generation and weight, and
    every mean and standard error below is over the surviving replications.
    """

    weights: np.ndarray
    n: int
    m: int
    seed: int
    values: dict[str, np.ndarray] = field(repr=False)
    failed: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.failed is None:
            shape = next(iter(self.values.values())).shape
            object.__setattr__(self, "failed", np.zeros(shape, dtype=bool))

    @property
    def generations(self) -> np.ndarray:
        return np.arange(next(iter(self.values.values())).shape[0])

    @property
    def replications(self) -> int:
        return next(iter(self.values.values())).shape[2]

    @property
    def failed_count(self) -> np.ndarray:
        """Replications failed by each generation, shape (T + 1, W) (non-decreasing in t)."""
        return np.count_nonzero(self.failed, axis=-1)

    @property
    def survivors(self) -> np.ndarray:
        """Replications not failed by each generation, shape (T + 1, W): the count behind every
        mean of :meth:`mean` and :meth:`sem`."""
        return self.replications - self.failed_count

    def _values(self, metric) -> np.ndarray:
        if metric not in self.values:
            raise ValueError(f"metric must be one of the recorded metrics {sorted(self.values)}, got {metric!r}")
        return self.values[metric]

    def mean(self, metric: str) -> np.ndarray:
        """Monte Carlo mean error over the surviving replications, shape (T + 1, W)."""
        return _mean_sem(self._values(metric), self.failed if metric != "failed" else None)[0]

    def sem(self, metric: str) -> np.ndarray:
        """Standard error of :meth:`mean` (replications are independent)."""
        return _mean_sem(self._values(metric), self.failed if metric != "failed" else None)[1]

    def window(self, metric: str, start: int, stop: int | None = None) -> np.ndarray:
        """Each replication's error averaged over generations start..stop (inclusive), shape (W, R);
        NaN for a replication that failed at or before ``stop``.

        Generations within one replication are correlated, so standard errors must be computed
        across replications of this per-replication average, as :meth:`window_mean` does.
        """
        e = self._values(metric)
        stop = e.shape[0] - 1 if stop is None else stop
        for name, value in (("start", start), ("stop", stop)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer generation, got {value!r}")
        if not 0 <= start <= stop < e.shape[0]:
            raise ValueError(f"need 0 <= start <= stop <= {e.shape[0] - 1}, got start={start}, stop={stop}")
        out = e[start:stop + 1].mean(axis=0)
        if metric != "failed" and self.failed[stop].any():
            out = np.where(self.failed[stop], np.nan, out)
        return out

    def window_mean(self, metric: str, start: int, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(mean, standard error) of :meth:`window` over the replications that survived to
        ``stop`` (``survivors[stop]`` of them), each of shape (W,)."""
        stop = self._values(metric).shape[0] - 1 if stop is None else stop
        x = self.window(metric, start, stop)[None]
        mean, se = _mean_sem(x, self.failed[stop][None] if metric != "failed" else None)
        return mean[0], se[0]


def _mean_sem(e: np.ndarray, failed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the last axis, leaving out the entries where ``failed``;
    NaN where fewer than one (mean) or two (standard error) entries remain."""
    if failed is None or not failed.any():
        return e.mean(axis=-1), e.std(axis=-1, ddof=1) / np.sqrt(e.shape[-1])
    keep = ~failed
    count = keep.sum(axis=-1)
    x = np.where(keep, e, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=-1) / count
        dev = np.where(keep, e - mean[..., None], 0.0)
        se = np.sqrt((dev**2).sum(axis=-1) / (count - 1) / count)
    mean = np.where(count >= 1, mean, np.nan)
    return mean, np.where(count >= 2, se, np.nan)


def run_loop(model: Model, w, n: int, m: int, T: int, replications: int, seed: int = 0,
             chunk_size: int | None = None, share_real: bool = True, metrics=None,
             progress: bool | None = None) -> LoopResult:
    """Run the weighted fresh-data loop for generations 0..T.

    Parameters
    ----------
    model : Model
        For example :class:`lib.gaussian.GaussianModel`.
    w : float, 1-D array (W,) or 2-D array (T, W), in [0, 1]
        Weights on the real-data loss; all are run at once. 0 is the fully synthetic loop, 1 real
        data only, ``n / (n + m)`` naive pooling. A 2-D array is a *schedule*: row t - 1 holds
        the weights used at generation t, for W schedules run side by side.
    n, m : int
        Real and synthetic sample sizes per generation (k = n / m).
    T : int
        Number of generations after generation 0.
    replications : int
        Independent runs of the loop (>= 2, for standard errors).
    seed : int
        Root of the ``SeedSequence`` that seeds every chunk.
    chunk_size : int or None
        Replications per vectorised chunk; bounds memory and is part of the random stream's
        definition. ``None``: ``model.chunk_pairs(n, m)`` (weight, replication) pairs per chunk if
        the model defines it, else about 100,000; at most 20,000 replications (large arrays
        amortise numpy's per-call overhead). The full-data Gaussian sampler holds 8 p max(n, m)
        bytes per pair, so pass a smaller value for it when m is large.
    share_real : bool
        Use the same fresh real samples for every weight (common random numbers: lower variance
        of differences between weights, and cheaper). Each weight's run is still exact in law.
    metrics : sequence of str or None
        Which of ``model.metrics`` to record (default: all). Each costs 8 (T + 1) W R bytes.
        Failures are tracked (``LoopResult.failed``) whether or not ``"failed"`` is recorded.
    progress : bool or None
        Show a tqdm bar; ``None`` shows it only when output goes to a terminal.
    """
    weights = np.atleast_1d(validate.weights(w))
    if weights.size == 0:
        raise ValueError("w must hold at least one weight, got an empty list")
    n = validate.sample_size(n, "n")
    m = validate.sample_size(m, "m")
    T = validate.positive_int(T, "T")
    if weights.ndim == 2 and weights.shape[0] != T:
        raise ValueError(f"a weight schedule w must have one row per generation, T = {T} rows; got {weights.shape[0]}")
    if weights.ndim > 2:
        raise ValueError(f"w must be a scalar, a 1-D array of weights or a (T, W) schedule, got shape {weights.shape}")
    schedule = weights if weights.ndim == 2 else np.broadcast_to(weights, (T, weights.size))
    R = validate.sample_size(replications, "replications", 2, " (standard errors need two)")
    W = schedule.shape[1]
    if chunk_size is None:
        # A model may say how many (weight, replication) pairs fit in a chunk (its memory per
        # pair grows with n + m); otherwise about 100,000.
        pairs = model.chunk_pairs(n, m) if hasattr(model, "chunk_pairs") else 100_000
        chunk_size = min(20_000, max(1, pairs // W))
    chunk_size = validate.positive_int(chunk_size, "chunk_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    model.check_sizes(n, m)
    tune_malloc()
    metrics = tuple(model.metrics) if metrics is None else tuple(metrics)
    unknown = sorted(set(metrics) - set(model.metrics))
    if unknown or not metrics:
        raise ValueError(f"metrics must be a non-empty subset of {model.metrics}, got {metrics!r}")

    values = {name: np.empty((T + 1, W, R)) for name in metrics}
    failed = np.zeros((T + 1, W, R), dtype=bool)
    starts = range(0, R, chunk_size)
    seeds = np.random.SeedSequence(int(seed)).spawn(len(starts))
    disable = None if progress is None else not progress
    with tqdm(total=len(starts) * T, disable=disable, desc="generations", leave=False) as bar:
        for start, ss in zip(starts, seeds):
            rng = np.random.default_rng(ss)
            r = min(chunk_size, R - start)
            cols = slice(start, start + r)
            real_shape = (1, r) if share_real else (W, r)
            dead = np.zeros((W, r), dtype=bool)  # failed at this generation or before
            state = model.fit(model.sample_real(rng, n, (1, r)), None, np.ones((1, 1)))
            _record(model.evaluate(state), values, failed, dead, 0, cols)  # generation 0: the same for every weight
            for gen in range(1, T + 1):
                real = model.sample_real(rng, n, real_shape)
                synthetic = model.sample_synthetic(rng, state, m, (W, r))
                state = model.fit(real, synthetic, schedule[gen - 1][:, None])  # (W, 1): broadcasts over replications
                _record(model.evaluate(state), values, failed, dead, gen, cols)
                bar.update()
    return LoopResult(weights=weights, n=n, m=m, seed=int(seed), values=values, failed=failed)


def _record(record, values, failed, dead, gen, cols):
    """Store one generation's metrics; a replication whose fit has failed now or earlier is
    recorded as failed (NaN errors, "failed" = 1) from here on. ``dead`` (W, r) is updated."""
    if "failed" in record:
        dead |= np.asarray(record["failed"]) > 0
    failed[gen, :, cols] = dead
    any_dead = dead.any()
    for name in values:
        if name == "failed":
            values[name][gen, :, cols] = dead
        elif any_dead:
            values[name][gen, :, cols] = np.where(dead, np.nan, record[name])
        else:
            values[name][gen, :, cols] = record[name]
