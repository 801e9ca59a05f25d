"""A weighted Gaussian kernel density estimator in the loop, and its exact theory.

The fitted density at generation t is

    f_t(x) = sum_i a_i phi_h(x - x_i),   a_i = w/n (real atoms), (1 - w)/m (synthetic atoms),

a fixed bandwidth h (chosen once, for example Silverman's rule for n real points), the real atoms
fresh from the truth N(0, sigma^2) and the synthetic atoms drawn from f_{t-1}: an atom of f_{t-1}
plus h z, z standard normal. So every generation *adds* the kernel's variance h^2 to what it
copies: the synthetic samples are wider than the fit they come from, the opposite of collapse.
The weighted loss enters as it does for the empirical distribution
(:mod:`lib.nonparametric`): the weighted empirical measure, masses w/n and (1 - w)/m, minimises
it, and the KDE smooths that measure with the kernel.

Exact theory (:func:`frequency_recursion_expr`, eq-kde-recursion of the chapter). In Fourier
space the fit is fhat_t(u) = K(u) (w g_real(u) + (1 - w) g_syn(u)) with K(u) = exp(-h^2 u^2 / 2)
and g the empirical characteristic functions; given f_{t-1}, E g_syn = fhat_{t-1} and
E|g_syn|^2 = |fhat_{t-1}|^2 + (1 - |fhat_{t-1}|^2)/m. With c_t = E fhat_t and s_t = E|fhat_t|^2
(real, for a symmetric truth with characteristic function phi(u)):

    c_t = K (w phi + (1 - w) c_{t-1}),
    s_t = K^2 (w^2 (phi^2 + (1 - phi^2)/n) + (1 - w)^2 ((1 - 1/m) s_{t-1} + 1/m) + 2 w (1 - w) phi c_{t-1}),

and by Parseval E ISE_t = E int (f_t - f)^2 = (1/pi) int_0^inf (s_t - 2 phi c_t + phi^2) du, exact for
every n, m, t, h (generation 0 is the step with w = 1). :func:`expected_ise` integrates it.

The simulation's ISE (:func:`ise_binned`) bins the atoms linearly on a grid of step h/16 and
convolves with the kernel by FFT; :func:`ise_exact` is the O(N^2) closed form it is checked
against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize, signal

from .. import validate

__all__ = ["silverman_bandwidth", "kde_pdf", "ise_exact", "ise_binned", "KDEModel", "frequency_recursion_expr",
           "frequency_limit_expr", "moment_recursion_expr", "moment_limit_expr", "expected_ise",
           "expected_moments", "limit_ise", "limit_ise_parts", "optimal_weight"]

# --- symbols of the theory --------------------------------------------------------------------
w, n, m, h, sigma, u = sp.symbols("w n m h sigma u", positive=True)
c_prev, s_prev, v_prev, q_prev = sp.symbols("c_{t-1} s_{t-1} v_{t-1} q_{t-1}", real=True)
K_sym, phi_sym = sp.symbols("K phi", positive=True)


def silverman_bandwidth(n_points: int, sd: float = 1.0) -> float:
    """Silverman's rule of thumb h = (4 / (3 n))^(1/5) sd, the normal-reference bandwidth.

    Examples
    --------
    >>> round(silverman_bandwidth(100), 4)
    0.4217
    """
    n_points = validate.sample_size(n_points, "n_points")
    sd = validate.non_negative(sd, "sd")
    if sd == 0:
        raise ValueError("sd must be > 0")
    return float((4.0 / (3.0 * n_points)) ** 0.2 * sd)


def _normal_pdf(x, var):
    return np.exp(-0.5 * x * x / var) / np.sqrt(2 * np.pi * var)


def kde_pdf(x, atoms: np.ndarray, masses, bandwidth: float) -> np.ndarray:
    """The weighted KDE f(x) = sum_i masses_i phi_h(x - atoms_i) at points x (M,), for atoms and
    masses (..., N): shape (..., M).

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.isclose(kde_pdf(np.zeros(1), np.zeros(1), np.ones(1), 1.0)[0], 1 / np.sqrt(2 * np.pi)))
    True
    """
    x = np.asarray(x, dtype=float)
    atoms = np.asarray(atoms, dtype=float)
    a = np.broadcast_to(np.asarray(masses, dtype=float), atoms.shape)
    return np.einsum("...i,...ij->...j", a, _normal_pdf(x[None, :] - atoms[..., :, None], bandwidth**2))


def ise_exact(atoms: np.ndarray, masses: np.ndarray, bandwidth: float, sd: float = 1.0) -> np.ndarray:
    """Exact int (f - N(0, sd^2))^2 dx for f = sum_i masses_i phi_h(x - atoms_i), atoms on the last
    axis: sum_ij a_i a_j phi_{sqrt 2 h}(x_i - x_j) - 2 sum_i a_i phi_{sqrt(h^2 + sd^2)}(x_i)
    + 1 / (2 sqrt(pi) sd) (products of Gaussians integrate in closed form). O(N^2) per element.

    Examples
    --------
    One atom at 0 with h = sd is the truth itself; with h = 0.5 the three terms are
    1/(2 sqrt(pi) h) - 2 / sqrt(2 pi (1 + h^2)) + 1/(2 sqrt(pi)):

    >>> import numpy as np
    >>> round(float(ise_exact(np.zeros(1), np.ones(1), 1.0)), 12)
    0.0
    >>> bool(np.isclose(ise_exact(np.zeros(1), np.ones(1), 0.5),
    ...                 1 / np.sqrt(np.pi) - 2 / np.sqrt(2 * np.pi * 1.25) + 1 / (2 * np.sqrt(np.pi))))
    True
    """
    x = np.asarray(atoms, dtype=float)
    a = np.broadcast_to(np.asarray(masses, dtype=float), x.shape)
    d = x[..., :, None] - x[..., None, :]
    d *= d
    d *= -1.0 / (4 * bandwidth**2)
    g = np.exp(d, out=d)
    pair = np.sum((g @ a[..., :, None])[..., 0] * a, axis=-1) / np.sqrt(4 * np.pi * bandwidth**2)
    cross = np.sum(a * _normal_pdf(x, bandwidth**2 + sd**2), axis=-1)
    return pair - 2 * cross + 1 / (2 * np.sqrt(np.pi) * sd)


def ise_binned(atoms: np.ndarray, masses: np.ndarray, bandwidth: float, sd: float = 1.0,
               resolution: int = 16) -> np.ndarray:
    """int (f - N(0, sd^2))^2 dx as :func:`ise_exact`, by linear binning of the atoms on a grid of
    step h / resolution, FFT convolution with the kernel, and a Riemann sum (atoms last axis,
    any batch in front). The grid covers every atom plus 8 h and [-10 sd, 10 sd]. Relative
    accuracy about 1e-3 at ``resolution = 16`` (the tests check it against :func:`ise_exact`).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((3, 50))
    >>> bool(np.allclose(ise_binned(x, 1 / 50, 0.4), ise_exact(x, 1 / 50, 0.4), rtol=2e-3))
    True
    """
    x = np.asarray(atoms, dtype=float)
    a = np.broadcast_to(np.asarray(masses, dtype=float), x.shape)
    batch = x.shape[:-1]
    X = x.reshape(-1, x.shape[-1])
    A = a.reshape(-1, x.shape[-1])
    Bn = X.shape[0]
    step = bandwidth / resolution
    lo = min(float(X.min()) - 8 * bandwidth, -10 * sd)
    hi = max(float(X.max()) + 8 * bandwidth, 10 * sd)
    G = int(np.ceil((hi - lo) / step)) + 2
    pos = (X - lo) / step
    j = np.floor(pos).astype(np.int64)
    frac = pos - j
    rows = np.arange(Bn)[:, None] * G
    binned = np.bincount((rows + j).ravel(), (A * (1 - frac)).ravel(), minlength=Bn * G)
    binned += np.bincount((rows + j + 1).ravel(), (A * frac).ravel(), minlength=Bn * G)
    binned = binned.reshape(Bn, G)
    M = int(np.ceil(8 * resolution))
    kernel = _normal_pdf(step * np.arange(-M, M + 1), bandwidth**2)
    f = signal.fftconvolve(binned, kernel[None], mode="same", axes=1)
    grid = lo + step * np.arange(G)
    err = f - _normal_pdf(grid, sd**2)[None]
    return (step * np.sum(err * err, axis=1)).reshape(batch)


@dataclass(frozen=True)
class KDEModel:
    """The weighted Gaussian KDE of N(0, sd^2) in the loop, fixed bandwidth; see the module
    docstring. A state is ``(real, synthetic, w)`` with atoms on the last axis (batch first, as
    :class:`lib.nonparametric.EmpiricalCDFModel`).

    Metrics: ``"ise"`` = int (f_t - f)^2 (:func:`ise_binned`; with ``ise="exact"``
    :func:`ise_exact`, O((n + m)^2) per replication; ``ise="none"`` records no ISE), ``"var"`` = the variance of the
    fitted density (weighted variance of the atoms plus h^2) and ``"mean2"`` = its squared mean.

    Examples
    --------
    >>> import lib
    >>> model = KDEModel(bandwidth=0.4)
    >>> res = lib.run_loop(model, [0.0, 1.0], 50, 50, 3, 20, seed=0)
    >>> bool(res.mean("var")[-1, 0] > res.mean("var")[-1, 1])    # w = 0 widens
    True
    """

    bandwidth: float
    sd: float = 1.0
    resolution: int = 16
    ise: str = "binned"
    metrics: tuple[str, ...] = field(default=("ise", "var", "mean2"), init=False)

    def __post_init__(self):
        for name in ("bandwidth", "sd"):
            if validate.non_negative(getattr(self, name), name) == 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        validate.positive_int(self.resolution, "resolution")
        if self.ise not in ("binned", "exact", "none"):
            raise ValueError(f"ise must be 'binned', 'exact' or 'none', got {self.ise!r}")
        if self.ise == "none":
            object.__setattr__(self, "metrics", ("var", "mean2"))

    def check_sizes(self, n: int, m: int) -> None:
        validate.sample_size(n, "n")
        validate.sample_size(m, "m")

    def chunk_pairs(self, n: int, m: int) -> int:
        if self.ise == "exact":
            return max(1, 4_000_000 // (n + m) ** 2)
        return max(1, 2_000_000 // (n + m))

    def sample_real(self, rng, n, shape):
        return self.sd * rng.standard_normal(shape + (n,))

    def sample_synthetic(self, rng, state, m, shape):
        """m draws from f_{t-1}: an atom (real with probability w, else synthetic; uniform within
        its group) plus h z."""
        real, syn, w = state
        nr = real.shape[-1]
        draws = np.take_along_axis(np.broadcast_to(real, shape + (nr,)), rng.integers(nr, size=shape + (m,)), axis=-1)
        if syn is not None:
            from_syn = rng.random(shape + (m,)) >= np.asarray(w)[..., None]
            idx = rng.integers(syn.shape[-1], size=shape + (m,))
            draws[from_syn] = np.take_along_axis(syn, idx, axis=-1)[from_syn]
        return draws + self.bandwidth * rng.standard_normal(shape + (m,))

    def fit(self, real, synthetic, w):
        return (real, None, 1.0) if synthetic is None else (real, synthetic, w)

    def _atoms(self, state):
        real, syn, w = state
        if syn is None:
            return real, np.full(real.shape, 1.0 / real.shape[-1])
        w = np.asarray(w, dtype=float)[..., None]
        shape = syn.shape[:-1]
        x = np.concatenate([np.broadcast_to(real, shape + real.shape[-1:]), syn], axis=-1)
        a = np.concatenate([np.broadcast_to(w / real.shape[-1], shape + real.shape[-1:]),
                            np.broadcast_to((1 - w) / syn.shape[-1], syn.shape)], axis=-1)
        return x, a

    def evaluate(self, state):
        x, a = self._atoms(state)
        mean = np.sum(a * x, axis=-1)
        var = np.sum(a * (x - mean[..., None]) ** 2, axis=-1) + self.bandwidth**2
        out = {"var": var, "mean2": mean**2}
        if self.ise == "exact":
            out["ise"] = ise_exact(x, a, self.bandwidth, self.sd)
        elif self.ise == "binned":
            out["ise"] = ise_binned(x, a, self.bandwidth, self.sd, self.resolution)
        return out


# --- exact theory -----------------------------------------------------------------------------

@lru_cache(maxsize=None)
def frequency_recursion_expr():
    """(c_t, s_t) in terms of (c_{t-1}, s_{t-1}) at one frequency, with K the kernel's and phi the
    truth's characteristic function there: the mean and second moment of the fit's
    characteristic function (module docstring). Derived from the two independent samples:
    E|w g_r + (1 - w) g_s|^2 = w^2 E|g_r|^2 + (1 - w)^2 E|g_s|^2 + 2 w (1 - w) E g_r E g_s."""
    Eg_r, Eg_r2 = phi_sym, phi_sym**2 + (1 - phi_sym**2) / n
    Eg_s, Eg_s2 = c_prev, s_prev + (1 - s_prev) / m  # E|fhat|^2 + (1 - E|fhat|^2)/m
    c_t = K_sym * (w * Eg_r + (1 - w) * Eg_s)
    s_t = K_sym**2 * (w**2 * Eg_r2 + (1 - w)**2 * Eg_s2 + 2 * w * (1 - w) * Eg_r * Eg_s)
    return sp.expand(c_t), sp.expand(s_t)


@lru_cache(maxsize=None)
def frequency_limit_expr():
    """The fixed point (c_inf, s_inf) of :func:`frequency_recursion_expr`, for w > 0."""
    c_t, s_t = frequency_recursion_expr()
    c_inf = sp.solve(sp.Eq(c_prev, c_t), c_prev)[0]
    s_inf = sp.solve(sp.Eq(s_prev, s_t.subs(c_prev, c_inf)), s_prev)[0]
    return sp.simplify(c_inf), sp.simplify(s_inf)


@lru_cache(maxsize=None)
def moment_recursion_expr():
    """Recursions of v_t = E int x^2 f_t (the second moment of the mean fit; truth N(0, sigma^2))
    and q_t = E Var(f_t) (the expected variance of the fitted density), from the frequency
    recursion: c = 1 - v u^2/2 + O(u^4) and |fhat|^2 = 1 - Var u^2 + O(u^4), so s = 1 - q u^2 + O(u^4)."""
    c_t, s_t = frequency_recursion_expr()
    # Both are polynomials in K, phi, c_{t-1}, s_{t-1}: their u^2 terms need only the u^2 terms of
    # K = exp(-h^2 u^2/2) and phi = exp(-sigma^2 u^2/2).
    sub = {K_sym: 1 - h**2 * u**2 / 2, phi_sym: 1 - sigma**2 * u**2 / 2,
           c_prev: 1 - v_prev * u**2 / 2, s_prev: 1 - q_prev * u**2}
    v_t = -2 * sp.expand(c_t.subs(sub)).coeff(u, 2)
    q_t = -sp.expand(s_t.subs(sub)).coeff(u, 2)
    return sp.expand(v_t), sp.expand(q_t)


@lru_cache(maxsize=None)
def moment_limit_expr():
    """Fixed points (v_inf, q_inf) of :func:`moment_recursion_expr` for w > 0."""
    v_t, q_t = moment_recursion_expr()
    v_inf = sp.solve(sp.Eq(v_prev, v_t), v_prev)[0]
    q_inf = sp.solve(sp.Eq(q_prev, q_t.subs(v_prev, v_inf)), q_prev)[0]
    return sp.simplify(v_inf), sp.simplify(q_inf)


@lru_cache(maxsize=None)
def _moment_step():
    v_t, q_t = moment_recursion_expr()
    return sp.lambdify((w, n, m, h, sigma, v_prev, q_prev), [v_t, q_t], "numpy")


def expected_moments(w_, n_, m_, h_, sd: float, T: int):
    """(v_t, q_t) for t = 0..T: the second moment E int x^2 f_t and the expected variance
    E Var(f_t) of the fitted density, exact (arrays of shape (T + 1,) + shape of w_)."""
    step = _moment_step()
    wv = np.asarray(validate.weights(w_), dtype=float)
    v = np.broadcast_to(sd**2 + h_**2, wv.shape).astype(float)
    q = np.broadcast_to(sd**2 * (1 - 1 / n_) + h_**2, wv.shape).astype(float)  # generation 0
    vs, qs = [v], [q]
    for _ in range(validate.positive_int(T, "T")):
        v, q = (np.asarray(z, dtype=float) for z in step(wv, n_, m_, h_, sd, v, q))
        v, q = np.broadcast_to(v, wv.shape), np.broadcast_to(q, wv.shape)
        vs.append(v)
        qs.append(q)
    return np.array(vs), np.array(qs)


@lru_cache(maxsize=None)
def _frequency_step():
    c_t, s_t = frequency_recursion_expr()
    return sp.lambdify((w, n, m, K_sym, phi_sym, c_prev, s_prev), [c_t, s_t], "numpy")


def _frequency_grid(h_, sd, points=4001):
    """Frequencies 0..u_max (beyond which K^2 < e^-150) for the trapezoid rule."""
    u_max = np.sqrt(300.0) / min(h_, sd)
    return np.linspace(0.0, u_max, points)


def expected_ise(w_, n_: int, m_: int, h_: float, sd: float = 1.0, T: int = 0) -> np.ndarray:
    """Exact E ISE_t for t = 0..T (shape (T + 1,) + shape of w_): the frequency recursion iterated
    on a grid of frequencies and integrated by the trapezoid rule (1/pi) int_0^inf (s_t - 2 phi
    c_t + phi^2) du. Generation 0 is the fit on the n real points alone.

    Examples
    --------
    Generation 0 is the ordinary KDE: E ISE = (1 / (2 sqrt(pi) n h)) - (1/n) int (K phi)^2 / pi
    + int squared bias; for a normal truth its closed form is known (Marron and Wand 1992):

    >>> import numpy as np
    >>> n_, h_ = 50, 0.4
    >>> mw = (1 / (2 * np.sqrt(np.pi))) * (1 / (n_ * h_) + (1 - 1 / n_) / np.sqrt(1 + h_**2)
    ...       - 2 * np.sqrt(2) / np.sqrt(2 + h_**2) + 1)
    >>> bool(np.isclose(expected_ise(1.0, n_, n_, h_)[0], mw, rtol=1e-8))
    True
    """
    wv = np.asarray(validate.weights(w_), dtype=float)
    n_ = validate.sample_size(n_, "n")
    m_ = validate.sample_size(m_, "m")
    uu = _frequency_grid(h_, sd)
    K = np.exp(-0.5 * h_**2 * uu**2)
    phi = np.exp(-0.5 * sd**2 * uu**2)
    step = _frequency_step()
    shape = wv.shape + uu.shape
    c, s = step(1.0, n_, m_, K, phi, 0.0, 0.0)  # generation 0: w = 1
    c, s = np.broadcast_to(c, shape), np.broadcast_to(s, shape)
    out = []
    for t in range(T + 1):
        if t > 0:
            c, s = step(wv[..., None], n_, m_, K, phi, c, s)
        out.append(np.trapezoid(s - 2 * phi * c + phi**2, uu, axis=-1) / np.pi)
    return np.array(out)


@lru_cache(maxsize=None)
def _limit_fns():
    c_inf, s_inf = frequency_limit_expr()
    return (sp.lambdify((w, n, m, K_sym, phi_sym), c_inf, "numpy"),
            sp.lambdify((w, n, m, K_sym, phi_sym), s_inf, "numpy"))


def limit_ise(w_, n_: int, m_: int, h_: float, sd: float = 1.0) -> np.ndarray:
    """Exact lim E ISE_t (w > 0) from the fixed point :func:`frequency_limit_expr`."""
    wv = np.asarray(validate.weights(w_), dtype=float)
    if np.any(wv <= 0):
        raise ValueError("w must be > 0 for a limit (w = 0 has none)")
    fc, fs = _limit_fns()
    uu = _frequency_grid(h_, sd)
    K = np.exp(-0.5 * h_**2 * uu**2)
    phi = np.exp(-0.5 * sd**2 * uu**2)
    W = wv[..., None]
    return np.trapezoid(fs(W, n_, m_, K, phi) - 2 * phi * fc(W, n_, m_, K, phi) + phi**2, uu, axis=-1) / np.pi


def limit_ise_parts(w_, n_: int, m_: int, h_: float, sd: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The limit E ISE split into integrated squared bias (1/pi) int (c_inf - phi)^2 du and
    integrated variance (1/pi) int (s_inf - c_inf^2) du; they sum to :func:`limit_ise`."""
    wv = np.asarray(validate.weights(w_), dtype=float)
    if np.any(wv <= 0):
        raise ValueError("w must be > 0 for a limit (w = 0 has none)")
    fc, fs = _limit_fns()
    uu = _frequency_grid(h_, sd)
    K = np.exp(-0.5 * h_**2 * uu**2)
    phi = np.exp(-0.5 * sd**2 * uu**2)
    W = wv[..., None]
    c = fc(W, n_, m_, K, phi)
    bias2 = np.trapezoid((c - phi) ** 2, uu, axis=-1) / np.pi
    var = np.trapezoid(fs(W, n_, m_, K, phi) - c**2, uu, axis=-1) / np.pi
    return bias2, var


def optimal_weight(n_: int, m_: int, h_: float, sd: float = 1.0) -> float:
    """The exact minimiser of :func:`limit_ise` over w in (0, 1]."""
    res = optimize.minimize_scalar(lambda x: float(limit_ise(x, n_, m_, h_, sd)), bounds=(1e-3, 1.0),
                                   method="bounded", options={"xatol": 1e-7})
    return float(res.x)
