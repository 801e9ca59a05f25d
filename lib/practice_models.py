"""Models of the practitioner's guide: the weighted loop when the fit, the synthetic data or the
real data are not those of the paper (book chapter "A practitioner's guide").

* :class:`MeanLoopModel`: a 1-D Gaussian mean (variance 1 known) with a warm-started fine-tune,
  contamination of the real pool, a drifting truth, correlated synthetic samples and a held-out
  check, all drawn as sufficient statistics; exact theory :func:`lib.practice.loop_step_expr`.
* :class:`SGDMeanModel`: the same mean fitted by constant-step minibatch SGD, with per-sample loss
  weights or with mixing proportions; theory :func:`lib.practice.sgd_limit_expr`.
* :class:`SampledGaussianModel`: a 1-D Gaussian (mean and variance fitted) whose synthetic data are
  drawn at a temperature or with the tails truncated; theory :func:`lib.practice.variance_limit_expr`.
* :class:`TopKCategoricalModel`: category probabilities whose synthetic data come from the top k
  categories of the previous fit only; theory :func:`lib.practice.topk_tail_mass_expr`.

Every model follows :class:`lib.engine.Model` (batch axes last, weights of shape (W, 1)). Models know
no figure; the theory lives in :mod:`lib.practice`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

from . import validate
from .nonparametric import CategoricalModel

__all__ = ["MeanLoopModel", "SGDMeanModel", "SampledGaussianModel", "TopKCategoricalModel"]


@dataclass(frozen=True)
class MeanLoopModel:
    """The mean of N(mu_t, 1) in the weighted loop, with the relaxations of eq. (eq-practice-step).

    The state is the error d = theta - mu_t itself (every quantity is relative to the current
    truth, so a drifting truth is a random-walk step ``drift_sd`` * N(0, 1) subtracted from the
    previous error). Per generation: ``step_fraction`` alpha moves the fit that fraction of the way
    from theta_{t-1} to the weighted argmin (a warm-started fine-tune); a share ``contamination``
    pi of the n "real" samples are samples of the previous fit; the m synthetic samples come in
    groups of ``cluster_size`` c with intraclass correlation ``icc``. Each drawn exactly as means.

    Metrics: ``"err"`` = d^2 (in units of sigma^2, multiply by n for relative units) and, for the
    held-out check with n held-out real samples, ``"num"`` = (h - s)(r - s) and ``"den"`` =
    (r - s)^2, where r, s and h are the real, synthetic and held-out means: over a run,
    sum num / sum den is the weight whose refit has the least held-out loss.

    Examples
    --------
    >>> import lib
    >>> res = lib.run_loop(MeanLoopModel(), [0.6], 50, 50, 3, 4, seed=1)
    >>> res.values["err"].shape
    (4, 1, 4)
    """

    step_fraction: float = 1.0
    contamination: float = 0.0
    drift_sd: float = 0.0
    cluster_size: int = 1
    icc: float = 0.0
    metrics: tuple[str, ...] = field(default=("err", "num", "den"), init=False)

    def __post_init__(self):
        a = float(validate.weights(self.step_fraction, "step_fraction"))
        if a <= 0:
            raise ValueError(f"step_fraction must lie in (0, 1], got {self.step_fraction!r}")
        p = float(validate.weights(self.contamination, "contamination"))
        if p >= 1:
            raise ValueError(f"contamination must lie in [0, 1), got {self.contamination!r}")
        object.__setattr__(self, "step_fraction", a)
        object.__setattr__(self, "contamination", p)
        object.__setattr__(self, "drift_sd", validate.non_negative(self.drift_sd, "drift_sd"))
        object.__setattr__(self, "cluster_size", validate.positive_int(self.cluster_size, "cluster_size"))
        object.__setattr__(self, "icc", float(validate.weights(self.icc, "icc")))

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n")
        validate.sample_size(m, "m")
        if m % self.cluster_size:
            raise ValueError(f"m must be a multiple of cluster_size = {self.cluster_size}, got {m!r}")
        if self.contamination and n * self.contamination < 1:
            raise ValueError(f"n * contamination must be at least one sample, got n = {n!r}")

    def sample_real(self, rng, n, shape):
        # (mean of the (1 - pi) n true samples, held-out mean of n true samples, n): relative to mu_t.
        n_true = n * (1 - self.contamination)
        return rng.standard_normal(shape) / np.sqrt(n_true), rng.standard_normal(shape) / np.sqrt(n), n

    def sample_synthetic(self, rng, state, m, shape):
        d = state[0]
        prev = d - self.drift_sd * rng.standard_normal(shape) if self.drift_sd else np.broadcast_to(d, shape)
        groups = m // self.cluster_size
        syn = (prev + np.sqrt(self.icc / groups) * rng.standard_normal(shape)
               + np.sqrt((1 - self.icc) / m) * rng.standard_normal(shape))
        # The contaminating mean, standardised: fit() scales it by 1 / sqrt(pi n).
        cont = rng.standard_normal(shape) if self.contamination else None
        return syn, cont, prev

    def fit(self, real, synthetic, w):
        r, h, n = real
        if synthetic is None:
            zero = np.zeros_like(r)
            return r, zero, zero
        s, cont, prev = synthetic
        if cont is None:
            pooled = r
        else:
            pooled = (1 - self.contamination) * r + self.contamination * (prev + cont / np.sqrt(self.contamination * n))
        target = w * pooled + (1 - w) * s
        d = prev + self.step_fraction * (target - prev)
        return d, (h - s) * (pooled - s), (pooled - s) ** 2

    def evaluate(self, state):
        d, num, den = state
        return {"err": d**2, "num": num, "den": den}


@dataclass(frozen=True)
class SGDMeanModel:
    """The mean of N(0, 1) fitted each generation by ``steps`` steps of minibatch SGD (size
    ``batch``, step ``step_size``) on the weighted loss, warm-started at the previous fit.

    ``scheme="weights"``: each example drawn uniformly from the pooled n + m samples, its squared
    loss weighted by w (n+m)/n (real) or (1-w)(n+m)/m (synthetic); ``scheme="mixing"``: each
    example real with probability w (uniform among the n), else synthetic, all weights 1. Both
    have the expected loss w L_real + (1 - w) L_syn (:func:`lib.practice.expected_loss_identity`).
    One uniform number per example serves both schemes. Generation 0 is the real mean.
    Metric: ``"err"`` = theta^2.

    Examples
    --------
    >>> import lib
    >>> res = lib.run_loop(SGDMeanModel(0.2, 4, 10, "mixing"), [0.6], 20, 20, 2, 3, seed=0)
    >>> res.values["err"].shape
    (3, 1, 3)
    """

    step_size: float
    batch: int
    steps: int
    scheme: str = "mixing"
    metrics: tuple[str, ...] = field(default=("err",), init=False)

    def __post_init__(self):
        et = float(validate.weights(self.step_size, "step_size"))
        if et <= 0:
            raise ValueError(f"step_size must lie in (0, 1], got {self.step_size!r}")
        if self.scheme not in ("weights", "mixing"):
            raise ValueError(f"scheme must be 'weights' or 'mixing', got {self.scheme!r}")
        object.__setattr__(self, "step_size", et)
        object.__setattr__(self, "batch", validate.positive_int(self.batch, "batch"))
        object.__setattr__(self, "steps", validate.positive_int(self.steps, "steps"))

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n")
        validate.sample_size(m, "m")

    def chunk_pairs(self, n: int, m: int) -> int:
        return max(1, 2_000_000 // (n + m + self.steps * self.batch))

    def sample_real(self, rng, n, shape):
        return rng.standard_normal((n,) + shape)

    def sample_synthetic(self, rng, state, m, shape):
        theta = np.broadcast_to(state, shape)
        syn = theta + rng.standard_normal((m,) + shape)
        return syn, theta, rng.random((self.steps, self.batch) + shape)

    def fit(self, real, synthetic, w):
        if synthetic is None:
            return real.mean(axis=0)
        syn, theta, U = synthetic
        n, m = real.shape[0], syn.shape[0]
        shape = syn.shape[1:]
        pool = np.concatenate([np.broadcast_to(real, (n,) + shape), syn])
        w = np.broadcast_to(w, shape)
        if self.scheme == "weights":
            idx = np.minimum((U * (n + m)).astype(np.int64), n + m - 1)
            a = np.where(idx < n, w * (n + m) / n, (1 - w) * (n + m) / m)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                real_idx = np.minimum((U / w * n).astype(np.int64), n - 1)
                syn_idx = n + np.minimum(((U - w) / (1 - w) * m).astype(np.int64), m - 1)
            idx = np.where(U < w, real_idx, syn_idx)
            a = None
        # Gather every step's examples at once; the loop then needs only the batch means
        # h_j = mean a_i and b_j = mean a_i x_i: theta <- theta - eta (h_j theta - b_j).
        x = np.take_along_axis(pool, idx.reshape((-1,) + shape), axis=0).reshape(idx.shape)
        if a is None:
            h, b = None, x.mean(axis=1)
        else:
            h, b = a.mean(axis=1), (a * x).mean(axis=1)
        theta = np.array(theta, dtype=float)
        for j in range(self.steps):
            theta -= self.step_size * ((theta if h is None else h[j] * theta) - b[j])
        return theta

    def evaluate(self, state):
        return {"err": state**2}


@dataclass(frozen=True)
class SampledGaussianModel:
    """N(0, 1) fitted by (mean, variance) in the weighted loop, with synthetic data drawn from the
    fit N(mu, v) at ``temperature`` tau (variance tau v: the density p^(1/tau)) or, if
    ``truncate`` c is given, from the fit with its tails beyond c fitted standard deviations cut
    off (drawn by the inverse CDF). Fits: mu = w xbar_r + (1-w) xbar_s, v = w S_r^2 + (1-w) S_s^2.

    Metrics: ``"var_err"`` = (v - 1)^2, ``"mean"`` and ``"var"`` (the fitted mean and variance).

    Examples
    --------
    >>> import lib
    >>> res = lib.run_loop(SampledGaussianModel(truncate=2.0), [0.6], 20, 20, 2, 3, seed=0)
    >>> res.values["var"].shape
    (3, 1, 3)
    """

    temperature: float = 1.0
    truncate: float | None = None
    metrics: tuple[str, ...] = field(default=("var_err", "mean", "var"), init=False)

    def __post_init__(self):
        object.__setattr__(self, "temperature", float(validate.ratio(self.temperature, "temperature")))
        if self.truncate is not None:
            if self.temperature != 1.0:
                raise ValueError("give either temperature or truncate, not both")
            object.__setattr__(self, "truncate", float(validate.ratio(self.truncate, "truncate")))

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n", 2, " (a sample variance needs two points)")
        validate.sample_size(m, "m", 2, " (a sample variance needs two points)")

    def chunk_pairs(self, n: int, m: int) -> int:
        return 100_000 if self.truncate is None else max(1, 2_000_000 // m)

    def sample_real(self, rng, n, shape):
        return rng.standard_normal(shape) / np.sqrt(n), rng.chisquare(n - 1, shape) / (n - 1)

    def sample_synthetic(self, rng, state, m, shape):
        mu, v = (np.broadcast_to(x, shape) for x in state)
        if self.truncate is None:
            sd = np.sqrt(self.temperature * v)
            return (mu + sd * rng.standard_normal(shape) / np.sqrt(m),
                    self.temperature * v * rng.chisquare(m - 1, shape) / (m - 1))
        lo = ndtr(-self.truncate)
        z = ndtri(lo + (1 - 2 * lo) * rng.random((m,) + shape))
        return mu + np.sqrt(v) * z.mean(axis=0), v * z.var(axis=0, ddof=1)

    def fit(self, real, synthetic, w):
        if synthetic is None:
            return real
        (mr, vr), (ms, vs) = real, synthetic
        return ms + w * (mr - ms), vs + w * (vr - vs)

    def evaluate(self, state):
        mu, v = state
        return {"var_err": (v - 1.0) ** 2, "mean": mu, "var": v}


@dataclass(frozen=True)
class TopKCategoricalModel(CategoricalModel):
    """A :class:`lib.nonparametric.CategoricalModel` whose synthetic samples are drawn only from
    the ``top_k`` most probable categories of the previous fit (renormalised): top-k sampling.

    Extra metric ``"tail"``: the fitted mass of the categories outside the true top k.

    Examples
    --------
    >>> import lib, numpy as np
    >>> res = lib.run_loop(TopKCategoricalModel(np.array([0.5, 0.3, 0.2]), top_k=2), [0.5], 50, 50, 2, 3)
    >>> res.values["tail"].shape
    (3, 1, 3)
    """

    top_k: int = 1
    metrics: tuple[str, ...] = field(default=("mse", "zero", "tail"), init=False)

    def __post_init__(self):
        super().__post_init__()
        kk = validate.positive_int(self.top_k, "top_k")
        if kk >= self.probs.size:
            raise ValueError(f"top_k must be below the number of categories {self.probs.size}, got {self.top_k!r}")
        order = np.argsort(self.probs)[::-1]
        tail = np.ones(self.probs.size, dtype=bool)
        tail[order[:kk]] = False
        object.__setattr__(self, "_tail", tail)

    def sample_synthetic(self, rng, state, m, shape):
        p = np.array(np.broadcast_to(state, state.shape[:1] + shape))
        cut = -np.sort(-p, axis=0)[self.top_k - 1]  # the k-th largest probability of each fit
        p = np.where(p >= cut, p, 0.0)
        return super().sample_synthetic(rng, p, m, shape)

    def evaluate(self, state):
        out = super().evaluate(state)
        out["tail"] = state[self._tail].sum(axis=0)
        return out
