"""Regimes side by side: six ways (and a seventh) of retraining on your own output, for the
Gaussian mean. Exact theory (SymPy, lambdified) and vectorised simulation.

Every regime fits N(mu, Sigma) by its sample mean and unbiased (ddof = 1) sample covariance on
some data set, and draws the next generation's m synthetic samples from the current fit
N(mu_t, Sigma_t) (the *fitted* covariance, as :class:`lib.gaussian.GaussianModel`; with
``covariance="known"`` they are drawn from N(mu_t, Sigma) instead). Generation 0 is always the fit
on n real samples.

========================  =======================================================================
``"replace"``             fit on the m synthetic samples of the generation only (fully synthetic;
                          the paper's w = 0 baseline)
``"accumulate"``          keep the n real samples of generation 0 and every synthetic sample, fit
                          on all with equal weight (Gerstgrasser et al. 2024, arXiv 2404.01413;
                          Dey and Donoho 2024, arXiv 2410.22812)
``"subsample"``           accumulate the same pool, fit on a uniform subsample of fixed size M
                          (Kazdan et al. 2024, arXiv 2410.16713); without replacement by default
``"fresh"``               n fresh real samples per generation, synthetic data ignored (w = 1)
``"naive"``               n fresh real + m synthetic, equal per-sample weight (w = n / (n + m))
``"optimal"``             n fresh real + m synthetic, w = w*(n / m) (He, Xu and Cheng 2025)
``"accumulate_all"``      keep *every* sample, real (n fresh per generation) and synthetic, fit on
                          all with equal weight (the variant for a stationary truth and unlimited
                          storage)
========================  =======================================================================

Theory. The estimate is linear in the sampling noise, so second moments obey exact linear
recursions. For a pool of N samples with mean a and unbiased covariance C, write
A = E|a - mu|^2, G = E tr C, H = E tr of the covariance the synthetic samples are drawn from, and
beta, gamma the subsampling moments E[(b - a)(b - a)' | pool] = beta C and
E[S_sub | pool] = gamma C of a subsample's mean b and covariance S_sub (beta = 0, gamma = 1 for
the whole pool). One generation adds m synthetic samples (mean b + eps, E|eps|^2 = H / m) and,
for ``accumulate_all``, n fresh real samples (mean mu + delta, E|delta|^2 = tr Sigma / n). The
pooled mean and the pooled scatter (within-group scatter plus the between-group term
sum_{i<j} n_i n_j |mean_i - mean_j|^2 / N') then give (A', G') by :func:`pool_step_exprs`; the
fitted mean's error is A + beta G. The fresh-data regimes use :func:`lib.theory.gaussian_mean_error`.

Subsampling moments (Cochran, Sampling Techniques, 3rd ed. 1977, Thms 2.2 and 2.4): without
replacement beta = 1/M - 1/N and gamma = 1; with replacement beta = (N - 1) / (N M) and
gamma = (N - 1) / N. They are checked by exact enumeration in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from . import batched, validate
from .gaussian import sample_statistics
from .theory import _float_or_array, _numeric, gaussian_mean_error, k, m, n, naive_error, optimal_weight, t

__all__ = [
    "REGIMES", "NO_FRESH", "SIMULATED", "COVARIANCES",
    "pool_step_exprs", "subsample_moments_expr", "replace_error_expr", "accumulate_increment_expr",
    "accumulate_relative_expr", "accumulate_limit_expr", "accumulate_cov_factor_expr",
    "regime_weight", "regime_error", "expected_cov_trace", "limiting_relative_error", "accumulate_limit",
    "RegimeRun", "simulate",
]

REGIMES = ("replace", "accumulate", "subsample", "fresh", "naive", "optimal", "accumulate_all")
NO_FRESH = ("replace", "accumulate", "subsample")  # real data only at generation 0
SIMULATED = ("replace", "accumulate", "subsample", "accumulate_all")  # by :func:`simulate`
COVARIANCES = ("fitted", "known")

# Symbols of the pool recursion (errors and traces in absolute units).
A = sp.Symbol("A_{t-1}", nonnegative=True)  # E|a - mu|^2, the pool mean's error
G = sp.Symbol("G_{t-1}", positive=True)  # E tr C, the pool covariance's trace
H = sp.Symbol("H_{t-1}", positive=True)  # E tr of the covariance synthetic data are drawn from
N = sp.Symbol("N", positive=True)  # pool size before the step
M = sp.Symbol("M", positive=True)  # subsample size
beta = sp.Symbol("beta", nonnegative=True)  # E[(b - a)(b - a)' | pool] = beta C
tau = sp.Symbol(r"\operatorname{tr}\Sigma", positive=True)
s = sp.Symbol("s", integer=True, positive=True)  # summation index over generations


# --- symbolic derivation ---------------------------------------------------------------------

def _sqnorm(combo, variances):
    """E|sum_c coef_c x_c|^2 for uncorrelated zero-mean components x_c with E|x_c|^2 given."""
    return sum(coef**2 * variances[c] for c, coef in combo.items())


@lru_cache(maxsize=None)
def pool_step_exprs(fresh_real: bool = False):
    """(A_t, G_t): one generation of an accumulating pool, exact in expectation.

    Groups merged into the pool of N samples (mean a): the m synthetic samples, whose mean is
    b + eps = a + d + eps (d = b - a, the fitted mean's deviation from the pool mean, E|d|^2 =
    beta G; E|eps|^2 = H / m), and with ``fresh_real`` the n fresh real samples, mean mu + delta
    (E|delta|^2 = tr Sigma / n). The components a - mu, d, eps, delta are uncorrelated (each has
    conditional mean zero given the ones before it). Then

        A_t = E|sum_g n_g (mean_g - mu) / N'|^2,
        (N' - 1) G_t = (N - 1) G + (m - 1) H [+ (n - 1) tr Sigma] + sum_{g<h} n_g n_h E|mean_g - mean_h|^2 / N',

    the second from the decomposition of the pooled scatter into within- and between-group parts.
    """
    var = {"a": A, "d": beta * G, "eps": H / m, "delta": tau / n}
    groups = [(N, {"a": 1}), (m, {"a": 1, "d": 1, "eps": 1})]
    within = (N - 1) * G + (m - 1) * H
    if fresh_real:
        groups.append((n, {"delta": 1}))
        within += (n - 1) * tau
    N_next = sum(size for size, _ in groups)
    pooled = {}
    for size, combo in groups:
        for c, coef in combo.items():
            pooled[c] = pooled.get(c, 0) + size * coef / N_next
    A_next = _sqnorm(pooled, var)
    between = 0
    for i, (ni, gi) in enumerate(groups):
        for nj, gj in groups[i + 1:]:
            diff = {c: gi.get(c, 0) - gj.get(c, 0) for c in set(gi) | set(gj)}
            between += ni * nj * _sqnorm(diff, var) / N_next
    G_next = (within + between) / (N_next - 1)
    return sp.factor(sp.expand(A_next)), sp.factor(sp.expand(G_next))


def subsample_moments_expr(with_replacement: bool = False):
    """(beta, gamma) of a uniform subsample of size M from a pool of N points (mean a, unbiased
    covariance C): E[(b - a)(b - a)'] = beta C and E[S_sub] = gamma C (Cochran 1977, Thms 2.2, 2.4).
    Without replacement (M <= N): (1/M - 1/N, 1). With replacement: ((N-1)/(N M), (N-1)/N)."""
    if with_replacement:
        return (N - 1) / (N * M), (N - 1) / N
    return 1 / M - 1 / N, sp.Integer(1)


@lru_cache(maxsize=None)
def replace_error_expr():
    """Replace, per unit tr Sigma: 1/n + t/m.

    mu_t is the mean of m draws from N(mu_{t-1}, Sigma_{t-1}), so e_t = e_{t-1} + E tr Sigma_{t-1} / m,
    and E[Sigma_t | Sigma_{t-1}] = Sigma_{t-1} (unbiased covariance) keeps E tr Sigma_t = tr Sigma:
    the increment is 1/m at every generation (fitted or known covariance alike).
    """
    return 1 / n + sp.summation(1 / m, (s, 1, t))


@lru_cache(maxsize=None)
def accumulate_increment_expr():
    """e_s - e_{s-1} for accumulate with known covariance, per unit tr Sigma: m / (n + s m)^2.

    From :func:`pool_step_exprs` with beta = 0 (fit on the whole pool), H = tr Sigma and the pool
    size N = n + (s - 1) m before generation s.
    """
    A_next, _ = pool_step_exprs(False)
    inc = (A_next - A).subs({beta: 0, H: tau}).subs(N, n + (s - 1) * m) / tau
    return sp.factor(sp.simplify(inc))


def _lerch_to_polygamma(expr):
    # lerchphi(1, 2, x) = sum_j 1/(j + x)^2 = polygamma(1, x).
    return expr.replace(sp.lerchphi, lambda z, a, x: sp.polygamma(a - 1, x) / sp.factorial(a - 1)
                        if z == 1 else sp.lerchphi(z, a, x))


@lru_cache(maxsize=None)
def accumulate_relative_expr():
    """Accumulate with known covariance, relative error n e_t / tr Sigma in terms of k = n/m and t:
    1 + k (psi_1(1 + k) - psi_1(t + 1 + k)), psi_1 the trigamma function (Dey and Donoho 2024)."""
    term = sp.simplify((n * accumulate_increment_expr()).subs(m, n / k))  # k / (s + k)^2
    total = _lerch_to_polygamma(sp.summation(term, (s, 1, t)))
    return 1 + sp.factor(sp.simplify(total))


@lru_cache(maxsize=None)
def accumulate_limit_expr():
    """t -> infinity: 1 + k psi_1(1 + k); pi^2/6 at k = 1, 1 as k -> 0, 2 as k -> infinity."""
    return sp.limit(accumulate_relative_expr(), t, sp.oo)


@lru_cache(maxsize=None)
def accumulate_cov_factor_expr():
    """E[C_t | C_{t-1}] / C_{t-1} for accumulate with the fitted covariance:
    1 - m / ((N + m)(N + m - 1)), slightly below 1 (the between-batch term falls short)."""
    _, G_next = pool_step_exprs(False)
    return sp.factor(sp.simplify((G_next / G).subs({beta: 0, H: G})))


# --- numeric versions ------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _pool_step_fn(fresh_real):
    A_next, G_next = pool_step_exprs(fresh_real)
    args = (A, G, H, N, m, n, beta, tau)
    return _numeric(A_next, args), _numeric(G_next, args)


@lru_cache(maxsize=None)
def _subsample_fns(with_replacement):
    b, g = subsample_moments_expr(with_replacement)
    return _numeric(b, (N, M)), _numeric(g, (N, M))


@lru_cache(maxsize=None)
def _replace_fn():
    return _numeric(replace_error_expr(), (n, m, t))


@lru_cache(maxsize=None)
def _accumulate_fn():
    return _numeric(accumulate_relative_expr(), (k, t))


@lru_cache(maxsize=None)
def _accumulate_limit_fn():
    return _numeric(accumulate_limit_expr(), (k,))


def _check_regime(regime, allowed=REGIMES):
    if regime not in allowed:
        raise ValueError(f"regime must be one of {allowed}, got {regime!r}")
    return regime


def _check_covariance(covariance):
    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
    return covariance


def _subsample_size(subsample_size, n_, m_, minimum=2):
    if subsample_size is None:
        return n_ + m_
    return validate.sample_size(subsample_size, "subsample_size", minimum)


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def regime_weight(regime, n, m):
    """The weight w on the real-data loss of a fresh-data regime: 1 (fresh), n/(n+m) (naive),
    w*(n/m) (optimal)."""
    _check_regime(regime, ("fresh", "naive", "optimal"))
    n_ = validate.sample_size(n, "n")
    m_ = validate.sample_size(m, "m")
    return {"fresh": 1.0, "naive": n_ / (n_ + m_), "optimal": float(optimal_weight(n_ / m_))}[regime]


def _pool_recursion(regime, n_, m_, T, tr, covariance, M_, with_replacement):
    """Exact (E|mu_t - mu|^2, E tr Sigma_t) for t = 0..T of a pool regime, by the recursion of
    :func:`pool_step_exprs`."""
    fresh = regime == "accumulate_all"
    step_A, step_G = _pool_step_fn(fresh)
    beta_fn, gamma_fn = _subsample_fns(with_replacement)

    def moments(N_):
        if regime != "subsample" or (N_ <= M_ and not with_replacement):
            return 0.0, 1.0  # the whole pool
        return float(beta_fn(N_, M_)), float(gamma_fn(N_, M_))

    err, cov = np.empty(T + 1), np.empty(T + 1)
    A_, G_, N_ = tr / n_, tr, n_
    b_, g_ = 0.0, 1.0  # generation 0: the fit on the n real samples
    err[0], cov[0] = A_, G_
    for gen in range(1, T + 1):
        H_ = g_ * G_ if covariance == "fitted" else tr
        A_, G_ = step_A(A_, G_, H_, N_, m_, n_, b_, tr), step_G(A_, G_, H_, N_, m_, n_, b_, tr)
        N_ += m_ + (n_ if fresh else 0)
        b_, g_ = moments(N_)
        err[gen], cov[gen] = A_ + b_ * G_, g_ * G_
    return err, cov


def _theory(regime, n, m, T, trace_cov, covariance, subsample_size, with_replacement, w):
    _check_regime(regime, REGIMES + ("weighted",))
    _check_covariance(covariance)
    n_ = validate.sample_size(n, "n", 2, " (an unbiased covariance needs 2 points)")
    m_ = validate.sample_size(m, "m", 2, " (an unbiased covariance needs 2 points)")
    T = validate.positive_int(T, "T")
    tr = float(validate.ratio(trace_cov, "trace_cov"))
    M_ = _subsample_size(subsample_size, n_, m_)
    with_replacement = _check_flag(with_replacement, "with_replacement")
    ts = np.arange(T + 1)
    if regime == "weighted" or regime in ("fresh", "naive", "optimal"):
        if regime == "weighted":
            if w is None:
                raise ValueError("w must be given for regime 'weighted'")
            w_ = float(validate.weights(w))
        else:
            w_ = regime_weight(regime, n_, m_)
        return np.asarray(gaussian_mean_error(w_, n_, m_, ts, tr), dtype=float), np.full(T + 1, tr)
    if regime == "replace":
        return tr * np.asarray(_replace_fn()(n_, m_, ts), dtype=float), np.full(T + 1, tr)
    err, cov = _pool_recursion(regime, n_, m_, T, tr, covariance, M_, with_replacement)
    if regime == "accumulate" and covariance == "known":
        # The closed form; the recursion gives the same numbers (checked by the tests).
        err = tr / n_ * np.asarray(_accumulate_fn()(n_ / m_, ts), dtype=float)
    return err, cov


def regime_error(regime, n, m, T, trace_cov=1.0, covariance="fitted", subsample_size=None,
                 with_replacement=False, w=None):
    """Exact E|mu_t - mu|^2 for t = 0..T (array of length T + 1).

    * replace: tr Sigma (1/n + t/m) (:func:`replace_error_expr`);
    * accumulate: with known covariance tr Sigma [1/n + sum_{s=1}^t m/(n + s m)^2]
      (:func:`accumulate_relative_expr`), with the fitted covariance the exact recursion
      (the pooled covariance shrinks by :func:`accumulate_cov_factor_expr` per generation);
    * subsample, accumulate_all: the exact recursion of :func:`pool_step_exprs`;
    * fresh, naive, optimal (and ``"weighted"`` with a given ``w``): :func:`lib.theory.gaussian_mean_error`,
      the same for either covariance (the weighted fitted covariance has expectation Sigma).

    ``subsample_size`` (default n + m) and ``with_replacement`` matter for ``"subsample"`` only.
    """
    return _theory(regime, n, m, T, trace_cov, covariance, subsample_size, with_replacement, w)[0]


def expected_cov_trace(regime, n, m, T, trace_cov=1.0, covariance="fitted", subsample_size=None,
                       with_replacement=False, w=None):
    """E tr Sigma_t for t = 0..T, the trace of the fitted covariance (with ``covariance="known"``
    it is fitted all the same, but the synthetic samples are drawn with Sigma)."""
    return _theory(regime, n, m, T, trace_cov, covariance, subsample_size, with_replacement, w)[1]


def accumulate_limit(k):
    """1 + k psi_1(1 + k): accumulate's limiting relative error with known covariance."""
    return _float_or_array(_accumulate_limit_fn()(validate.ratio(k)))


def limiting_relative_error(regime, k):
    """lim_{t -> inf} n E|mu_t - mu|^2 / tr Sigma where a closed form exists (known covariance for
    accumulate): replace inf, accumulate 1 + k psi_1(1 + k), fresh 1, naive (k+1)/(k+2), optimal
    w*(k), accumulate_all 0. ``"subsample"`` has none: use :func:`regime_error` at a horizon."""
    _check_regime(regime)
    k_ = validate.ratio(k)
    if regime == "subsample":
        raise ValueError("regime 'subsample' has no closed-form limit; use regime_error at a horizon")
    values = {
        "replace": lambda: np.full(k_.shape, np.inf),
        "accumulate": lambda: accumulate_limit(k_),
        "fresh": lambda: np.ones(k_.shape),
        "naive": lambda: naive_error(k_),
        "optimal": lambda: optimal_weight(k_),
        "accumulate_all": lambda: np.zeros(k_.shape),
    }
    return _float_or_array(values[regime]())


# --- simulation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegimeRun:
    """A simulated regime: ``errors`` = |mu_t - mu|^2 and ``cov_trace`` = tr Sigma_t (the fitted
    covariance), each of shape (T + 1, R) for generations 0..T and R replications."""

    regime: str
    n: int
    m: int
    seed: int
    errors: np.ndarray = field(repr=False)
    cov_trace: np.ndarray = field(repr=False)

    @property
    def replications(self) -> int:
        return self.errors.shape[1]

    def mean(self, what: str = "errors") -> np.ndarray:
        """Monte Carlo mean over replications, shape (T + 1,)."""
        return getattr(self, what).mean(axis=-1)

    def sem(self, what: str = "errors") -> np.ndarray:
        """Standard error of :meth:`mean` (replications are independent)."""
        x = getattr(self, what)
        return x.std(axis=-1, ddof=1) / np.sqrt(x.shape[-1])


def _merge(N_, a, Q, size, xbar, S):
    """Pool (N, mean a, scatter Q) joined by a batch (size, mean xbar, unbiased covariance S):
    exact update of the pooled mean and scatter (the two-group scatter decomposition)."""
    d = xbar - a
    Q = Q + (size - 1) * S + (N_ * size / (N_ + size)) * np.einsum("i...,j...->ij...", d, d)
    return N_ + size, a + (size / (N_ + size)) * d, Q


def _points(rng, mu, chol, size, r):
    """size points from N(mu, chol chol') for each of r replications, shape (p, size, r)."""
    p = mu.shape[0]
    Z = rng.standard_normal((p, size, r))
    X = np.empty_like(Z)
    for i in range(p):  # X_i = mu_i + sum_{j <= i} L_ij Z_j (L lower triangular; p is small)
        X[i] = mu[i] + chol[i, 0] * Z[0]
        for j in range(1, i + 1):
            X[i] += chol[i, j] * Z[j]
    return X


def _stats(X):
    """Sample mean (p, r) and unbiased covariance (p, p, r) of points X (p, size, r)."""
    xbar = X.mean(axis=1)
    D = X - xbar[:, None, :]
    return xbar, np.einsum("imr,jmr->ijr", D, D) / (X.shape[1] - 1)


class _Subsampler:
    """The pool of the subsample regime for r replications, coordinates stored as (r, p, n_max)
    so that gathering a subsample reads contiguous rows.

    Without replacement it keeps, per replication, an arrangement ``perm`` of the indices 0..N-1
    and draws a subset by M steps of a Fisher-Yates shuffle: step i swaps position i with a
    uniform position in i..N-1. Whatever the arrangement before (it is independent of the new
    draws), positions 0..M-1 then hold a uniform random M-subset. With replacement: M uniform
    indices. While the pool has at most M points (without replacement) the subset is the pool.
    """

    def __init__(self, rng, X0, n_max, M_, with_replacement):
        p, n0, r = X0.shape
        self.rng, self.M, self.wr, self.N = rng, M_, with_replacement, n0
        self.pool = np.empty((r, p, n_max))
        self.pool[:, :, :n0] = X0.transpose(2, 0, 1)
        self.perm = np.empty((r, n_max), dtype=np.int64)
        self.perm[:, :n0] = np.arange(n0)
        self.rows = np.arange(r)

    def all(self):
        return self.pool[:, :, :self.N].transpose(1, 2, 0)

    def append(self, X):
        size = X.shape[1]
        self.pool[:, :, self.N:self.N + size] = X.transpose(2, 0, 1)
        self.perm[:, self.N:self.N + size] = np.arange(self.N, self.N + size)
        self.N += size

    def draw(self):
        """A subsample, shape (p, M, r) (or the whole pool while it holds <= M points)."""
        r, N_, M_ = self.rows.size, self.N, self.M
        if self.wr:
            idx = self.rng.integers(0, N_, size=(r, M_))
        elif N_ <= M_:
            return self.all()
        else:
            flat, base = self.perm.reshape(-1), self.rows * self.perm.shape[1]
            J = self.rng.integers(np.arange(M_), N_, size=(r, M_))  # column i uniform on i..N-1
            for i in range(M_):
                a, b = base + i, base + J[:, i]
                held = flat[a]
                flat[a] = flat[b]
                flat[b] = held
            idx = self.perm[:, :M_]
        # The subsample's order is irrelevant; sorted indices read the pool in order (faster).
        sub = np.take_along_axis(self.pool, np.sort(idx, axis=1)[:, None, :], axis=2)
        return sub.transpose(1, 2, 0)


def simulate(regime, mean, cov, n, m, T, replications, seed=0, covariance="fitted", subsample_size=None,
             with_replacement=False, chunk_size=None) -> RegimeRun:
    """Simulate a regime that keeps data or discards real data (``SIMULATED``), generations 0..T.

    Vectorised over replications. ``replace``, ``accumulate`` and ``accumulate_all`` run on
    sufficient statistics (a sample of ``size`` points from N(b, S) enters only through its mean,
    N(b, S / size), and its scatter, Wishart(size - 1, S), drawn by :func:`lib.gaussian.sample_statistics`),
    merged into the pool exactly. ``subsample`` keeps every point, since the same points may be
    drawn again: without replacement a partial Fisher-Yates shuffle (a uniform M-subset), with
    replacement M uniform indices; while the pool holds at most M points (and without
    replacement) it fits on the whole pool.

    Randomness: chunk i of ``chunk_size`` replications uses ``numpy.random.default_rng`` seeded by
    ``SeedSequence(seed).spawn(...)[i]``; a result is a deterministic function of
    (seed, replications, chunk_size). The fresh-data regimes run in :func:`lib.run_loop`.
    """
    _check_regime(regime, SIMULATED)
    _check_covariance(covariance)
    mu = validate.mean_vector(mean, "mean")
    p = mu.size
    Sigma = validate.covariance(np.atleast_2d(cov), p, "cov")
    need = p + 1 if p > 1 else 2
    why = f" (an unbiased covariance in {p} dimension(s) needs {need} points)"
    n_ = validate.sample_size(n, "n", need, why)
    m_ = validate.sample_size(m, "m", need, why)
    T = validate.positive_int(T, "T")
    R = validate.sample_size(replications, "replications", 2, " (standard errors need two)")
    M_ = _subsample_size(subsample_size, n_, m_, need)
    with_replacement = _check_flag(with_replacement, "with_replacement")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    n_max = n_ + T * m_
    if chunk_size is None:
        # The subsample pool holds p * n_max floats per replication (and n_max random keys).
        # Subsample: a chunk's pool holds at most 2e6 floats (16 MB); smaller chunks gather
        # faster (cache) but pay numpy's per-call overhead more often.
        per_rep = p * n_max if regime == "subsample" else p * p
        chunk_size = max(1, min(R, 2_000_000 // per_rep, 20_000))
    chunk_size = validate.positive_int(chunk_size, "chunk_size")

    errors, traces = np.empty((T + 1, R)), np.empty((T + 1, R))
    starts = range(0, R, chunk_size)
    L0 = np.linalg.cholesky(Sigma)
    for start, ss in zip(starts, np.random.SeedSequence(int(seed)).spawn(len(starts))):
        rng = np.random.default_rng(ss)
        r = min(chunk_size, R - start)
        cols = slice(start, start + r)
        mu_b, L_b = batched.lift(mu, 1), batched.lift(L0, 1)

        def chol(S_fit):
            return batched.cholesky(S_fit) if covariance == "fitted" else L_b

        if regime == "subsample":
            sub = _Subsampler(rng, _points(rng, mu_b, L_b, n_, r), n_max, M_, with_replacement)
            b, S_fit = _stats(sub.all())
        else:
            b, S_fit = sample_statistics(rng, mu_b, L_b, n_, (r,), "suffstat")
            N_, Q = n_, (n_ - 1) * S_fit
        errors[0, cols] = np.sum((b - mu_b) ** 2, axis=0)
        traces[0, cols] = np.einsum("ii...->...", S_fit)
        for gen in range(1, T + 1):
            if regime == "replace":
                b, S_fit = sample_statistics(rng, b, chol(S_fit), m_, (r,), "suffstat")
            elif regime in ("accumulate", "accumulate_all"):
                ybar, Sy = sample_statistics(rng, b, chol(S_fit), m_, (r,), "suffstat")
                if regime == "accumulate_all":
                    xbar, Sx = sample_statistics(rng, mu_b, L_b, n_, (r,), "suffstat")
                    N_, b, Q = _merge(N_, b, Q, n_, xbar, Sx)
                N_, b, Q = _merge(N_, b, Q, m_, ybar, Sy)
                S_fit = Q / (N_ - 1)
            else:  # subsample
                sub.append(_points(rng, b, chol(S_fit), m_, r))
                b, S_fit = _stats(sub.draw())
            errors[gen, cols] = np.sum((b - mu_b) ** 2, axis=0)
            traces[gen, cols] = np.einsum("ii...->...", S_fit)
    return RegimeRun(regime=regime, n=n_, m=m_, seed=int(seed), errors=errors, cov_trace=traces)
