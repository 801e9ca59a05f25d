"""Gaussian mixtures fitted by weighted EM in the loop, vectorised over the batch of weights and
replications.

The weighted loss ``w * (mean real NLL) + (1 - w) * (mean synthetic NLL)`` is the negative
weighted log-likelihood with per-sample weights a_i = w/n on the n real and (1 - w)/m on the m
synthetic samples (they sum to 1), eq. :math:`\\ell(\\theta) = \\sum_i a_i \\log f_\\theta(x_i)`.
Weighted EM maximises it (eq-weighted-em of the chapter *Generative models in the loop*):

* E-step: responsibilities r_ik = pi_k N(x_i; mu_k, S_k) / sum_j pi_j N(x_i; mu_j, S_j);
* M-step with u_ik = a_i r_ik: pi_k = sum_i u_ik, mu_k = sum_i u_ik x_i / pi_k,
  S_k = sum_i u_ik (x_i - mu_k)(x_i - mu_k)' / pi_k + floor * I.

Without the covariance floor each EM step does not decrease ell (Dempster, Laird and Rubin 1977;
the weights enter as multiplicities); with the floor the M-step is no longer the exact maximiser and
monotonicity is not guaranteed, and the convergence criterion below does not rely on it.
**Convergence criterion**: iterate until |ell_new - ell_old| <= tol * max(1, |ell|) in every batch
element, or ``max_iter`` steps; the number of steps and whether the criterion was met are returned
per batch element, and recorded by the model as metrics. **Degenerate components**:
``covariance_floor`` (default 1e-6) is added to every fitted covariance's diagonal, as scikit-learn's
``reg_covar`` does; a component whose total weight pi_k falls below ``min_weight`` (default 1e-6)
or whose effective number of points (sum_i u_ik)^2 / sum_i u_ik^2 falls below p + 1 (a component
shrinking onto a point: the likelihood is unbounded there), or a non-finite iterate, is a *failed fit*: that batch element keeps its last finite iterate and
the model's ``"failed"`` metric is 1 there (the engine's failed-fit policy, :mod:`lib.engine`).
:func:`weighted_em` itself raises ValueError for inputs that cannot be fitted. With
``drop_components=True`` (used for the digits, :mod:`lib.generative.digits`) a component whose
weight falls below ``min_weight`` is dropped instead (weight 0 from then on): the mixture has lost
a component, which is how collapse shows in a mixture.

Arrays are parameters first, batch last (see :mod:`lib.batched`): points (p, N, *batch),
mixture weights (K, *batch), means (K, p, *batch), covariances (K, p, p, *batch).

Starting values: a fit of the loop is warm-started from the previous generation's fit (the
synthetic sample carries it), and generation 0 from the model's ``init`` (the true mixture unless
given): the loop then studies the sampling error of the maximum-likelihood fit, not EM's search
for a starting point.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .. import batched, validate

__all__ = ["Mixture", "log_densities", "log_pdf", "weighted_em", "sample_mixture", "l2_distance",
           "mean_error", "GaussianMixtureModel", "argmin_interval", "EMResult"]

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class Mixture:
    """Mixture parameters: ``weights`` (K, *batch), ``means`` (K, p, *batch), ``covs``
    (K, p, p, *batch)."""

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray

    @property
    def components(self) -> int:
        return self.weights.shape[0]

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def lift(self, batch_ndim: int) -> "Mixture":
        """The same mixture with ``batch_ndim`` trailing length-1 axes, to broadcast."""
        return Mixture(batched.lift(self.weights, batch_ndim), batched.lift(self.means, batch_ndim),
                       batched.lift(self.covs, batch_ndim))


def _check_mixture(weights, means, covs) -> Mixture:
    """A single (unbatched) mixture: weights (K,) positive summing to 1, means (K, p), covs
    (K, p, p) symmetric positive definite."""
    pi = validate.mean_vector(weights, "weights")
    if np.any(pi <= 0) or abs(pi.sum() - 1) > 1e-9:
        raise ValueError(f"weights must be positive and sum to 1, got {weights!r}")
    mu = np.asarray(validate._finite_array(means, "means"))
    if mu.ndim != 2 or mu.shape[0] != pi.size:
        raise ValueError(f"means must have shape (K, p) with K = {pi.size} components, got {mu.shape}")
    S = np.asarray(validate._finite_array(covs, "covs"))
    if S.shape != (pi.size,) + (mu.shape[1],) * 2:
        raise ValueError(f"covs must have shape {(pi.size, mu.shape[1], mu.shape[1])}, got {S.shape}")
    for k in range(pi.size):
        validate.covariance(S[k], mu.shape[1], f"covs[{k}]")
    return Mixture(pi / pi.sum(), mu, S)


def _gauss_log_pdf(dx: np.ndarray, L: np.ndarray) -> np.ndarray:
    """log N(dx; 0, L L') for dx (p, N, *batch) and a Cholesky factor L (p, p, *batch):
    forward substitution L y = dx, then -(p log 2 pi + 2 sum log L_ii + |y|^2) / 2."""
    p = dx.shape[0]
    y = np.empty_like(dx)
    quad = 0.0
    logdet = 0.0
    for i in range(p):
        s = dx[i]
        for j in range(i):
            s = s - L[i, j][None] * y[j]
        y[i] = s / L[i, i][None]
        quad = quad + y[i] ** 2
        logdet = logdet + np.log(L[i, i])
    return -0.5 * (p * LOG_2PI + quad) - logdet[None]


def log_densities(x: np.ndarray, mix: Mixture) -> np.ndarray:
    """log pi_k + log N(x_i; mu_k, S_k), shape (K, N, *batch), for points x (p, N, *batch).

    Examples
    --------
    >>> import numpy as np
    >>> mix = Mixture(np.array([1.0]), np.zeros((1, 1)), np.ones((1, 1, 1)))
    >>> bool(np.isclose(log_densities(np.zeros((1, 1)), mix)[0, 0], -0.5 * np.log(2 * np.pi)))
    True
    """
    out = []
    for k in range(mix.components):
        L = batched.cholesky(mix.covs[k], check=False)
        dx = x - mix.means[k][:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.log(mix.weights[k])[None] + _gauss_log_pdf(dx, L))
    return np.stack(out)


def log_pdf(x: np.ndarray, mix: Mixture) -> np.ndarray:
    """log f(x_i) = log sum_k pi_k N(x_i; mu_k, S_k), shape (N, *batch), for x (p, N, *batch).

    Examples
    --------
    >>> import numpy as np
    >>> mix = Mixture(np.array([0.5, 0.5]), np.zeros((2, 1)), np.ones((2, 1, 1)))
    >>> bool(np.isclose(log_pdf(np.zeros((1, 1)), mix)[0], -0.5 * np.log(2 * np.pi)))
    True
    """
    logp = log_densities(x, mix)
    top = np.max(logp, axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    return top + np.log(np.sum(np.exp(logp - top[None]), axis=0))


def _features(xb: np.ndarray) -> np.ndarray:
    """Quadratic features of points xb (B, N, p): [1, x_1..x_p, x_i x_j for i <= j], (B, N, F)."""
    B, N, p = xb.shape
    iu, ju = np.triu_indices(p)
    return np.concatenate([np.ones((B, N, 1)), xb, xb[:, :, iu] * xb[:, :, ju]], axis=2)


def _coefficients(pi, mu, S):
    """Coefficients c (B, F, K) with log pi_k + log N(x; mu_k, S_k) = features(x) @ c[:, :, k]:
    with P = S^{-1}, the log density is const - x'Px/2 + x'P mu - mu'P mu/2. Inputs batch first:
    pi (B, K), mu (B, K, p), S (B, K, p, p). Non-positive-definite S give NaN coefficients."""
    B, K, p = mu.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        try:
            L = np.linalg.cholesky(S)
            ok = np.ones((B, K), dtype=bool)
        except np.linalg.LinAlgError:
            ok = np.all(np.linalg.eigvalsh(S) > 0, axis=-1)
            S = np.where(ok[..., None, None], S, np.eye(p))
            L = np.linalg.cholesky(S)
        Linv = np.linalg.inv(L)
        P = np.swapaxes(Linv, -1, -2) @ Linv
        logdet = 2 * np.sum(np.log(np.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
        Pmu = np.einsum("bkij,bkj->bki", P, mu)
        const = np.log(pi) - 0.5 * (p * LOG_2PI + logdet) - 0.5 * np.sum(mu * Pmu, axis=-1)
    iu, ju = np.triu_indices(p)
    quad = np.where(iu == ju, -0.5, -1.0) * P[:, :, iu, ju]  # (B, K, p(p+1)/2)
    c = np.concatenate([const[..., None], Pmu, quad], axis=-1)  # (B, K, F)
    c = np.where(ok[..., None], c, np.nan)
    return np.swapaxes(c, 1, 2)


def _logsumexp1(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log sum_k exp(a[:, k]), softmax of a over k) for a (B, K, N): the log-likelihood of each
    point and the responsibilities, from one exponential."""
    top = np.max(a, axis=1)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(a - top[:, None])
    total = np.sum(e, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        e /= total[:, None]
        return top + np.log(total), e


@dataclass(frozen=True)
class EMResult:
    """What :func:`weighted_em` returns: the fit, the weighted log-likelihood ell of the fit
    (*batch), the EM steps taken, whether the convergence criterion was met, and whether the fit
    failed (a degenerate component or a non-finite iterate), each of shape *batch."""

    mixture: Mixture
    loglik: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    failed: np.ndarray


def _m_step(stats, p, floor):
    """Weighted M-step from the weighted feature sums stats (B, K, F) = sum_i u_ik features(x_i):
    pi_k = sum u, mu_k = sum u x / pi_k, S_k = sum u x x' / pi_k - mu_k mu_k' + floor I."""
    pi = stats[..., 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = stats[..., 1:1 + p] / pi[..., None]
        iu, ju = np.triu_indices(p)
        S = np.empty(pi.shape + (p, p))
        second = stats[..., 1 + p:] / pi[..., None]
        S[..., iu, ju] = second
        S[..., ju, iu] = second
        S -= mu[..., :, None] * mu[..., None, :]
    S += floor * np.eye(p)
    return pi, mu, S


def weighted_em(x, a, init: Mixture, tol: float = 1e-6, max_iter: int = 200,
                covariance_floor: float = 1e-6, min_weight: float = 1e-6,
                min_points: float | None = None, drop_components: bool = False) -> EMResult:
    """Maximise ell(theta) = sum_i a_i log f_theta(x_i) over Gaussian mixtures by weighted EM.

    Parameters
    ----------
    x : array (p, N, *batch)
        Points, coordinates first.
    a : array broadcastable to (N, *batch)
        Per-sample weights, non-negative, summing to 1 over the N points (in the loop
        w/n on the real and (1 - w)/m on the synthetic samples).
    init : Mixture
        Starting values, broadcastable against the batch.
    tol, max_iter : float, int
        Stop a batch element when |ell_new - ell_old| <= tol max(1, |ell_old|), or after
        ``max_iter`` steps.
    covariance_floor, min_weight : float
        Added to the diagonal of every fitted covariance; a component with pi_k < min_weight
        makes the fit of that batch element failed (it keeps its last finite iterate).
    min_points : float or None
        A component whose effective number of points (sum_i u_ik)^2 / sum_i u_ik^2 falls below
        ``min_points`` (default p + 1, the fewest that give a non-singular covariance) is
        degenerate, and the fit of that batch element failed: this catches the classical EM
        singularity, a component shrinking onto a single point, whose likelihood is unbounded.
    drop_components : bool
        If True, a component whose weight falls below ``min_weight`` is *dropped* instead of
        failing the fit: its weight is set to 0 (the others renormalised) and it stays at 0 (its
        responsibilities are 0 from then on); the mixture has lost a component. Dropped
        components are exempt from the ``min_points`` check.

    Notes
    -----
    Implementation: log pi_k N(x; mu_k, S_k) is linear in the quadratic features
    (1, x_i, x_i x_j) of a point, so the E-step is one small matrix product per batch element and
    the M-step another (the weighted feature sums are the sufficient statistics); the second
    moments are taken about the origin, accurate while component variances are not tiny against
    squared distances from the origin (centre the data). Batch elements that have stopped are
    dropped from the computation.

    Examples
    --------
    One component: EM gives the weighted mean and the weighted (ddof = 0) covariance in one step.

    >>> import numpy as np
    >>> x = np.array([[0.0, 1.0, 3.0]])            # p = 1, N = 3
    >>> a = np.array([0.5, 0.25, 0.25])
    >>> init = Mixture(np.ones(1), np.zeros((1, 1)), np.ones((1, 1, 1)))
    >>> fit = weighted_em(x, a, init, covariance_floor=0.0).mixture
    >>> float(fit.means[0, 0]), round(float(fit.covs[0, 0, 0]), 4)
    (1.0, 1.5)
    """
    x = np.asarray(validate._finite_array(x, "x"))
    if x.ndim < 2:
        raise ValueError(f"x must have shape (p, N, *batch), got {x.shape}")
    a = np.asarray(validate._finite_array(a, "a"))
    p, N = x.shape[:2]
    if a.ndim == 0 or a.shape[0] != N:
        raise ValueError(f"a must have one weight per point (N = {N}) on its first axis, got shape {a.shape}")
    if init.dim != p:
        raise ValueError(f"init has dimension {init.dim}, the points have {p}")
    batch = np.broadcast_shapes(x.shape[2:], a.shape[1:], init.weights.shape[1:])
    if np.any(a < 0) or not np.allclose(a.sum(axis=0), 1.0, atol=1e-9):
        raise ValueError("a must be non-negative per-sample weights summing to 1 over the points")
    K = init.components
    if N < K:
        raise ValueError(f"too few points for the mixture: N = {N} < K = {K} components")
    tol = validate.non_negative(tol, "tol")
    max_iter = validate.positive_int(max_iter, "max_iter")
    floor = validate.non_negative(covariance_floor, "covariance_floor")
    min_weight = validate.non_negative(min_weight, "min_weight")
    min_points = float(p + 1) if min_points is None else validate.non_negative(min_points, "min_points")
    B = int(np.prod(batch, dtype=int))
    # batch-first working layout: points (B, N, p), weights (B, N), parameters (B, K, ...)
    xb = np.moveaxis(np.broadcast_to(x, (p, N) + batch).reshape(p, N, B), -1, 0).transpose(0, 2, 1)
    ab = np.broadcast_to(a, (N,) + batch).reshape(N, B).T
    pi = np.moveaxis(np.broadcast_to(init.weights, (K,) + batch).reshape(K, B), -1, 0).copy()
    mu = np.moveaxis(np.broadcast_to(init.means, (K, p) + batch).reshape(K, p, B), -1, 0).copy()
    S = np.moveaxis(np.broadcast_to(init.covs, (K, p, p) + batch).reshape(K, p, p, B), -1, 0).copy()
    feat_all = _features(xb)
    iters = np.zeros(B, dtype=int)
    converged = np.zeros(B, dtype=bool)
    failed = np.zeros(B, dtype=bool)
    ell = np.full(B, -np.inf)

    def loglik(featT, aw, pi_, mu_, S_):
        with np.errstate(invalid="ignore"):
            logp = np.swapaxes(_coefficients(pi_, mu_, S_), 1, 2) @ featT  # (b, K, N)
        if drop_components:
            logp = np.where(pi_[:, :, None] > 0, logp, -np.inf)  # a dropped component has no mass
        ll, resp = _logsumexp1(logp)
        return resp, ll, np.sum(aw * ll, axis=1)

    idx = np.arange(B)
    feat, aw = feat_all, ab
    featT = np.ascontiguousarray(np.swapaxes(feat, 1, 2))  # (B, F, N)
    resp, ell_cur = loglik(featT, aw, pi, mu, S)[::2]
    ell[:] = ell_cur
    failed |= ~np.isfinite(ell_cur)
    active = ~failed  # over idx
    for _ in range(max_iter):
        if not active.any():
            break
        if active.sum() < 0.5 * idx.size:  # drop the stopped elements from the computation
            keep = np.flatnonzero(active)
            idx, feat, featT, aw = idx[keep], feat[keep], featT[keep], aw[keep]
            resp, ell_cur, active = resp[keep], ell_cur[keep], active[keep]
        u = aw[:, None] * resp  # (b, K, N): u_ik = a_i r_ik
        stats = u @ feat  # (b, K, F): the weighted feature sums
        with np.errstate(invalid="ignore", divide="ignore"):
            n_eff = stats[..., 0] ** 2 / np.einsum("bkn,bkn->bk", u, u)  # (sum u)^2 / sum u^2
        pi_n, mu_n, S_n = _m_step(stats, p, floor)
        if drop_components:
            dead = ~(pi_n >= min_weight)  # (b, K), including components dropped before (pi = 0)
            pi_n = np.where(dead, 0.0, pi_n)
            pi_n = pi_n / pi_n.sum(axis=1, keepdims=True)
            mu_n = np.where(dead[..., None], mu[idx], mu_n)
            S_n = np.where(dead[..., None, None], S[idx], S_n)
            n_eff = np.where(dead, np.inf, n_eff)
            small = np.zeros_like(dead)
        else:
            small = pi_n < min_weight
        resp_n, _, ell_n = loglik(featT, aw, pi_n, mu_n, S_n)
        bad = (~np.isfinite(ell_n) | np.any(small, axis=1) | np.any(~(n_eff >= min_points), axis=1)
               | np.any(~np.isfinite(S_n), axis=(1, 2, 3)) | np.any(~np.isfinite(mu_n), axis=(1, 2)))
        ok = active & ~bad
        gi = idx[ok]
        pi[gi], mu[gi], S[gi] = pi_n[ok], mu_n[ok], S_n[ok]
        iters[gi] += 1
        step_conv = ok & (np.abs(ell_n - ell_cur) <= tol * np.maximum(1.0, np.abs(ell_cur)))
        converged[idx[step_conv]] = True
        failed[idx[active & bad]] = True
        ell[gi] = ell_n[ok]
        resp = resp_n if ok.all() else np.where(ok[:, None, None], resp_n, resp)
        ell_cur = np.where(ok, ell_n, ell_cur)
        active = active & ~bad & ~step_conv

    def back(arr, lead):
        return np.moveaxis(arr, 0, -1).reshape(lead + batch)

    mix = Mixture(back(pi, (K,)), back(mu, (K, p)), back(S, (K, p, p)))
    return EMResult(mix, ell.reshape(batch), iters.reshape(batch), converged.reshape(batch),
                    failed.reshape(batch))


def sample_mixture(rng: np.random.Generator, mix: Mixture, size: int, shape: tuple[int, ...]) -> np.ndarray:
    """``size`` i.i.d. points from the mixture for each batch element: shape (p, size, *shape).

    A component c is drawn by inverting the cumulative weights with one uniform, then
    x = mu_c + L_c z with L_c L_c' = S_c and z standard normal.

    Examples
    --------
    >>> import numpy as np
    >>> mix = Mixture(np.array([0.5, 0.5]), np.array([[-5.0], [5.0]]), np.full((2, 1, 1), 1e-4))
    >>> x = sample_mixture(np.random.default_rng(0), mix, 1000, ())
    >>> x.shape, bool(abs(np.mean(x > 0) - 0.5) < 0.05)
    ((1, 1000), True)
    """
    K, p = mix.components, mix.dim
    lead = (size,) + tuple(shape)
    cum = np.cumsum(np.broadcast_to(mix.weights, (K,) + tuple(shape)), axis=0)
    u = rng.random(lead) * cum[-1][None]
    comp = np.sum(u[None] > cum[:-1, None], axis=0)  # (size, *shape) in 0..K-1
    z = rng.standard_normal((p,) + lead)
    x = np.zeros((p,) + lead)
    for k in range(K):
        L = batched.cholesky(np.broadcast_to(mix.covs[k], (p, p) + tuple(shape)), check=False)
        mu = np.broadcast_to(mix.means[k], (p,) + tuple(shape))
        pick = comp == k
        for i in range(p):
            xi = mu[i][None] + sum(L[i, j][None] * z[j] for j in range(i + 1))
            x[i] = np.where(pick, xi, x[i])
    return x


def _gauss_at(d: np.ndarray, S: np.ndarray) -> np.ndarray:
    """N(d; 0, S) for d (p, *batch) and S (p, p, *batch)."""
    L = batched.cholesky(S, check=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.exp(_gauss_log_pdf(d[:, None], L)[0])


def _cross(f: Mixture, g: Mixture) -> np.ndarray:
    """integral f g = sum_kj pi_k rho_j N(mu_k; nu_j, S_k + T_j) (product of Gaussians)."""
    total = 0.0
    for k in range(f.components):
        for j in range(g.components):
            total = total + f.weights[k] * g.weights[j] * _gauss_at(f.means[k] - g.means[j], f.covs[k] + g.covs[j])
    return total


def l2_distance(f: Mixture, g: Mixture) -> np.ndarray:
    """Exact integrated squared difference integral (f - g)^2 dx of two Gaussian mixtures,
    closed form: int f^2 - 2 int f g + int g^2 with int N(x; a, A) N(x; b, B) dx = N(a; b, A + B).

    Examples
    --------
    Two unit normals at distance d: 2 (1 - exp(-d^2 / 4)) / sqrt(4 pi).

    >>> import numpy as np
    >>> f = Mixture(np.ones(1), np.zeros((1, 1)), np.ones((1, 1, 1)))
    >>> g = Mixture(np.ones(1), np.ones((1, 1)), np.ones((1, 1, 1)))
    >>> bool(np.isclose(l2_distance(f, g), 2 * (1 - np.exp(-0.25)) / np.sqrt(4 * np.pi)))
    True
    """
    return _cross(f, f) - 2 * _cross(f, g) + _cross(g, g)


def mean_error(f: Mixture, truth: Mixture) -> np.ndarray:
    """Label-switching-free error of the means: min over permutations sigma of the components of
    sum_k |mu_sigma(k) - nu_k|^2 (K! permutations; K <= 6)."""
    K = truth.components
    if f.components != K or K > 6:
        raise ValueError(f"mean_error needs the same number (<= 6) of components, got {f.components} and {K}")
    cost = np.stack([np.stack([np.sum((f.means[i] - truth.means[j]) ** 2, axis=0) for j in range(K)])
                     for i in range(K)])  # (K, K, *batch)
    return np.min(np.stack([sum(cost[s[j], j] for j in range(K)) for s in itertools.permutations(range(K))]), axis=0)


def _loop_fit(real, synthetic, w, start: Mixture, **em) -> EMResult:
    """The weighted loop's fit of a mixture model by :func:`weighted_em` (options ``em``).

    Generation 0 (``synthetic`` None): the real points (p, n, ...) with masses 1/n, from
    ``start``. Later: the real and the synthetic points pooled with masses w/n and (1 - w)/m (the
    weighted loss of the paper), warm-started from the fit that generated the synthetic points;
    ``synthetic`` is ``(points, previous fit)``. A fit is failed if its own EM failed or the
    previous one had (the engine's policy)."""
    n = real.shape[1]
    if synthetic is None:
        a = np.full((n,) + real.shape[2:], 1.0 / n)
        return weighted_em(real, a, start.lift(real.ndim - 2), **em)
    syn, prev = synthetic
    m = syn.shape[1]
    batch = syn.shape[2:]
    x = np.concatenate([np.broadcast_to(real, real.shape[:2] + batch), syn], axis=1)
    w = np.broadcast_to(w, batch)
    a = np.concatenate([np.broadcast_to(w / n, (n,) + batch), np.broadcast_to((1 - w) / m, (m,) + batch)])
    res = weighted_em(x, a, prev.mixture, **em)
    return EMResult(res.mixture, res.loglik, res.iterations, res.converged, res.failed | prev.failed)


@dataclass(frozen=True)
class GaussianMixtureModel:
    """A Gaussian mixture with known truth in the weighted loop, fitted by :func:`weighted_em`.

    Metrics: ``"l2"`` = integral (f_t - f)^2 (exact, :func:`l2_distance`); ``"means"`` = the
    label-matched squared error of the component means (:func:`mean_error`); ``"min_weight"`` =
    the smallest fitted mixture weight; ``"iterations"`` and ``"converged"`` of EM; ``"failed"``.

    A fitted state is an :class:`EMResult`; the synthetic sample is ``(points, previous fit)``
    so that each fit is warm-started from the previous one.

    Examples
    --------
    >>> import numpy as np
    >>> import lib
    >>> model = GaussianMixtureModel([0.5, 0.5], [[-2.0, 0.0], [2.0, 0.0]], [np.eye(2), np.eye(2)])
    >>> res = lib.run_loop(model, [0.6], 60, 60, 2, 4, seed=1)
    >>> res.values["l2"].shape, bool(res.failed.any())
    ((3, 1, 4), False)
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    tol: float = 1e-6
    max_iter: int = 200
    covariance_floor: float = 1e-6
    min_weight: float = 1e-6
    metrics: tuple[str, ...] = field(default=("l2", "means", "min_weight", "iterations", "converged", "failed"),
                                     init=False)

    def __post_init__(self):
        truth = _check_mixture(self.weights, self.means, self.covs)
        object.__setattr__(self, "weights", truth.weights)
        object.__setattr__(self, "means", truth.means)
        object.__setattr__(self, "covs", truth.covs)
        validate.non_negative(self.tol, "tol")
        validate.positive_int(self.max_iter, "max_iter")
        validate.non_negative(self.covariance_floor, "covariance_floor")
        validate.non_negative(self.min_weight, "min_weight")

    @property
    def truth(self) -> Mixture:
        return Mixture(self.weights, self.means, self.covs)

    def check_sizes(self, n: int, m: int) -> None:
        K, p = self.weights.size, self.means.shape[1]
        need = K * (p + 1)
        why = f" (a mixture of {K} components in {p} dimensions needs at least K (p + 1) = {need} points)"
        validate.sample_size(n, "n", need, why)
        validate.sample_size(m, "m", need, why)

    def chunk_pairs(self, n: int, m: int) -> int:
        return max(1, 400_000 // ((n + m) * self.weights.size))

    def sample_real(self, rng, n, shape):
        return sample_mixture(rng, self.truth.lift(len(shape)), n, shape)

    def sample_synthetic(self, rng, state, m, shape):
        return sample_mixture(rng, state.mixture, m, shape), state

    def fit(self, real, synthetic, w):
        return _loop_fit(real, synthetic, w, self.truth, tol=self.tol, max_iter=self.max_iter,
                        covariance_floor=self.covariance_floor, min_weight=self.min_weight)

    def evaluate(self, state):
        f = state.mixture
        truth = self.truth.lift(f.weights.ndim - 1)
        return {"l2": l2_distance(f, truth), "means": mean_error(f, truth),
                "min_weight": np.min(f.weights, axis=0), "iterations": state.iterations.astype(float),
                "converged": state.converged.astype(float), "failed": state.failed.astype(float)}


def argmin_interval(per_rep: np.ndarray, weights, seed: int = 0, draws: int = 1000, level: float = 0.95):
    """The simulated best weight and a bootstrap percentile interval for it.

    ``per_rep`` (W, R) holds each replication's error at each weight (for example
    :meth:`lib.engine.LoopResult.window`). The best weight is the vertex of the parabola through
    the lowest mean and its two neighbours on the grid (the grid point itself at an end); the
    interval resamples the replications ``draws`` times (fixed ``seed``). Returns
    ``(best, low, high)``.

    Examples
    --------
    >>> import numpy as np
    >>> ws = np.linspace(0.2, 0.9, 8)
    >>> per_rep = (ws[:, None] - 0.55) ** 2 + 0.01 * np.random.default_rng(0).standard_normal((8, 50))
    >>> best, low, high = argmin_interval(per_rep, ws)
    >>> bool(low <= 0.55 <= high), bool(abs(best - 0.55) < 0.05)
    (True, True)
    """
    ws = np.asarray(validate.weights(weights), dtype=float)
    x = np.asarray(per_rep, dtype=float)
    if x.ndim != 2 or x.shape[0] != ws.size or ws.size < 3:
        raise ValueError(f"per_rep must have shape (W, R) with W = {ws.size} >= 3 weights, got {x.shape}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    x = x[:, np.all(np.isfinite(x), axis=0)]
    R = x.shape[1]
    if R < 2:
        raise ValueError("argmin_interval needs at least two finite replications")

    def vertex(curve):
        i = int(np.argmin(curve))
        if i == 0 or i == ws.size - 1:
            return ws[i]
        (x0, x1, x2), (y0, y1, y2) = ws[i - 1:i + 2], curve[i - 1:i + 2]
        den = (x0 - x1) * (x0 - x2) * (x1 - x2)
        A = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
        B = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / den
        return float(np.clip(-B / (2 * A), x0, x2)) if A > 0 else ws[i]

    best = vertex(x.mean(axis=1))
    rng = np.random.default_rng(seed)
    boot = np.array([vertex(x[:, rng.integers(R, size=R)].mean(axis=1)) for _ in range(draws)])
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return float(best), float(lo), float(hi)
