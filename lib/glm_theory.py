"""Asymptotic theory of the weighted loop for regression models (paper-notes Sec. 3, "GLMs").

Linearising the weighted score equation around the true coefficients beta (Fisher information I,
a p x p matrix; score means U_real ~ (0, I/n) at beta and U_syn ~ (0, I/m) at beta-hat_{t-1})
gives, to first order in 1/n,

    beta-hat_t - beta = (1 - w) (beta-hat_{t-1} - beta) + I^{-1} (w U_real + (1 - w) U_syn),

the Gaussian-mean step of :mod:`lib.theory` with Sigma replaced by I^{-1}. Hence, when the chain
has a stationary law, n lim_t E|beta-hat_t - beta|^2 -> V(w, k) tr(I^{-1}) as n -> infinity with
k fixed, for every GLM: the same optimal weight w*(k) (the paper's unified result, restated to
first order; the assumptions are listed in the chapter on GLMs).

Fisher information for covariates x ~ N(0, I_p) and a canonical link with variance function h':
I = E[h'(x'beta) x x']. Rotating x to (u along beta, independent v orthogonal to it),

    I = c I_p + (a - c) beta beta' / |beta|^2,   a = E[h'(|beta| u) u^2],  c = E[h'(|beta| u)],

u ~ N(0, 1). Linear: I = I_p / sigma^2. Poisson (h' = exp): a = (1 + |beta|^2) e^{|beta|^2/2},
c = e^{|beta|^2/2}, derived by SymPy below. Logistic (h' = s (1 - s), s the logistic function):
no closed form; a and c are computed by adaptive quadrature (scipy.integrate.quad) with absolute
error estimates below 1e-11, which is checked.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from scipy import integrate
from scipy.special import expit

from . import theory, validate
from .theory import k, m, n, w

__all__ = ["linearised_step", "linearised_step_matrix", "MatrixEquation", "linearised_error_terms", "poisson_moments_expr", "fisher_information",
           "information_trace_inverse", "asymptotic_coef_error", "fixed_design_coef_error",
           "misspecified_limit_expr", "sandwich_traces", "misspecified_coef_error",
           "fully_synthetic_linear_error"]

# The scalar form of the linearised step (every term carries the same factor I, so the scalar
# solution read with I^{-1} on the left is the matrix one: see linearised_step_matrix). Python
# names kept from earlier versions; the typeset names are the book's notation.
theta, theta_star, theta_prev = sp.symbols(r"\hat\beta_t \beta \hat\beta_{t-1}", real=True)
beta_hat, beta, beta_prev = theta, theta_star, theta_prev
info = sp.Symbol("I", positive=True)
U_real, U_syn = sp.symbols(r"U_{\text{real}} U_{\text{syn}}", real=True)


def linearised_step():
    """beta-hat_t - beta solving the linearised weighted score equation
    w (U_real - I (beta-hat_t - beta)) + (1 - w) (U_syn - I (beta-hat_t - beta-hat_{t-1})) = 0, in
    scalar form (I a positive number); :func:`linearised_step_matrix` is the p x p form."""
    equation = w * (U_real - info * (theta - theta_star)) + (1 - w) * (U_syn - info * (theta - theta_prev))
    (solution,) = sp.solve(equation, theta)
    return sp.collect(sp.expand(solution - theta_star), [U_real, U_syn, theta_prev, theta_star])


class _InOrder(LatexPrinter):
    """LaTeX that keeps the order of the terms of a matrix sum as written (beta-hat - beta, not
    -beta + beta-hat)."""

    def _print_MatAdd(self, expr):
        out = self._print(expr.args[0])
        for term in expr.args[1:]:
            text = self._print(term)
            out += " - " + text[1:].lstrip() if text.startswith("-") else " + " + text
        return out


class MatrixEquation:
    """A matrix equation ``lhs = rhs`` shown with its terms in the order written; ``residual`` is
    what SymPy checked to vanish."""

    def __init__(self, lhs, rhs, residual):
        self.lhs, self.rhs, self.residual = lhs, rhs, residual

    def _repr_latex_(self):
        printer = _InOrder()
        return f"$\\displaystyle {printer.doprint(self.lhs)} = {printer.doprint(self.rhs)}$"

    def __repr__(self):
        return f"{self.lhs} = {self.rhs}"


def linearised_step_matrix() -> MatrixEquation:
    """The linearised step with I a p x p matrix and the coefficients and scores p-vectors
    (SymPy matrix symbols): beta-hat_t - beta = (1 - w)(beta-hat_{t-1} - beta)
    + I^{-1}(w U_real + (1 - w) U_syn). Raises if it does not solve the matrix score equation
    w (U_real - I (beta-hat_t - beta)) + (1 - w)(U_syn - I (beta-hat_t - beta-hat_{t-1})) = 0."""
    p = sp.Symbol("p", integer=True, positive=True)
    I = sp.MatrixSymbol("I", p, p)
    vec = lambda name: sp.MatrixSymbol(name, p, 1)
    b, b_t, b_prev = vec(r"\beta"), vec(r"\hat\beta_t"), vec(r"\hat\beta_{t-1}")
    u_r, u_s = vec(r"U_{\text{real}}"), vec(r"U_{\text{syn}}")
    rhs = sp.MatAdd(sp.MatMul(1 - w, sp.MatAdd(b_prev, -b, evaluate=False), evaluate=False),
                    sp.MatMul(I.I, sp.MatAdd(w * u_r, (1 - w) * u_s, evaluate=False), evaluate=False),
                    evaluate=False)
    solution = b + rhs.doit()
    residual = sp.simplify(sp.expand(w * (u_r - I * (solution - b)) + (1 - w) * (u_s - I * (solution - b_prev))).doit())
    if residual != sp.ZeroMatrix(p, 1) and residual != 0:
        raise AssertionError(f"the matrix step does not solve the score equation: residual {residual}")
    # The scalar solution, read with I^{-1} on the left, is the same step.
    scalar = (1 - w) * (theta_prev - theta_star) + (w * U_real + (1 - w) * U_syn) / info
    if sp.simplify(linearised_step() - scalar) != 0:
        raise AssertionError("the scalar and the matrix linearised steps differ")
    return MatrixEquation(sp.MatAdd(b_t, -b, evaluate=False), rhs, residual)


def linearised_error_terms():
    """(coefficient, variance) of the three uncorrelated terms of beta-hat_t - beta, variances in
    units of I^{-1}: the same terms as the Gaussian mean (:func:`lib.theory.error_terms`)."""
    step = linearised_step()
    e_prev = theory.e_prev
    return [(sp.simplify(step.coeff(U_real) * info), 1 / n),  # I^{-1} w U_real: var w^2 I^{-2} I/n
            (sp.simplify(step.coeff(U_syn) * info), 1 / m),
            (sp.simplify(step.coeff(theta_prev)), e_prev)]


@lru_cache(maxsize=None)
def poisson_moments_expr():
    """(a, c) for the Poisson family: E[e^{q u} u^2] and E[e^{q u}], u ~ N(0, 1), q = |beta|."""
    u, q = sp.symbols("u q", real=True)
    density = sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi)
    a = sp.simplify(sp.integrate(sp.exp(q * u) * u**2 * density, (u, -sp.oo, sp.oo)))
    c = sp.simplify(sp.integrate(sp.exp(q * u) * density, (u, -sp.oo, sp.oo)))
    return q, a, c


def _normal_expectation(f):
    """E f(u), u ~ N(0, 1), by adaptive quadrature; the error estimate is checked. The range
    |u| <= 40 loses a mass below e^-800 and keeps f from overflowing far in the tails."""
    value, err = integrate.quad(lambda u: f(u) * np.exp(-u * u / 2) / np.sqrt(2 * np.pi), -40.0, 40.0,
                                epsabs=1e-13, epsrel=1e-12, limit=200, points=[0.0])
    if err > 1e-11:
        raise RuntimeError(f"quadrature error estimate {err:.1e} exceeds 1e-11")
    return value


def _logistic_moments_large(q: float) -> tuple[float, float]:
    """E[v(q u) u^2] and E[v(q u)] for u ~ N(0, 1), v = expit (1 - expit), as integrals over
    z = q u: (1/q^3) int v(z) z^2 phi(z/q) dz and (1/q) int v(z) phi(z/q) dz. v(z) < e^-|z|, so
    |z| <= 80 loses nothing at double precision."""
    phi = lambda z: np.exp(-(z / q) ** 2 / 2) / np.sqrt(2 * np.pi)
    v = lambda z: expit(z) * (1 - expit(z))
    out = []
    for f in (lambda z: v(z) * z * z * phi(z), lambda z: v(z) * phi(z)):
        value, err = integrate.quad(f, -80.0, 80.0, epsabs=0.0, epsrel=1e-12, limit=200, points=[0.0])
        if err > 1e-10 * abs(value):
            raise RuntimeError(f"quadrature error estimate {err:.1e} is too large")
        out.append(value)
    return out[0] / q**3, out[1] / q


def fisher_information(family: str, coef, sigma: float = 1.0) -> np.ndarray:
    """Fisher information per observation, E[h'(x'beta) x x'], for x ~ N(0, I_p)."""
    coef = validate.mean_vector(coef, "coef")
    sigma = validate.positive(sigma, "sigma")
    p, q = coef.size, float(np.linalg.norm(coef))
    if family == "linear":
        return np.eye(p) / sigma**2
    if family == "poisson":
        qs, a_expr, c_expr = poisson_moments_expr()
        a, c = float(a_expr.subs(qs, q)), float(c_expr.subs(qs, q))
        if not (np.isfinite(a) and np.isfinite(c)):
            raise ValueError(f"coef has norm {q:.4g}: the Poisson information, of order exp(|coef|^2 / 2), "
                             f"overflows double precision (the norm must be below about 37.6)")
    elif family == "logistic":
        var = lambda z: expit(z) * (1 - expit(z))
        if q <= 1:
            a = _normal_expectation(lambda u: var(q * u) * u * u)
            c = _normal_expectation(lambda u: var(q * u))
        else:
            # For a large |beta| the weight var(q u) is a spike of width 1/q at u = 0 that the
            # quadrature over u misses (1e-39 instead of 4e-4 at q = 1000): integrate over z = q u.
            a, c = _logistic_moments_large(q)
    else:
        raise ValueError(f"family must be 'linear', 'logistic' or 'poisson', got {family!r}")
    direction = np.outer(coef, coef) / q**2 if q > 0 else np.zeros((p, p))
    return c * np.eye(p) + (a - c) * direction


def information_trace_inverse(family: str, coef, sigma: float = 1.0) -> float:
    """tr(I^{-1}): n times the asymptotic squared error of one fit on n real samples."""
    return float(np.trace(np.linalg.inv(fisher_information(family, coef, sigma))))


def asymptotic_coef_error(family: str, coef, w, k, n, sigma: float = 1.0):
    """V(w, k) tr(I^{-1}) / n: the limiting E|beta-hat_t - beta|^2 (t -> infinity) to first order in
    1/n."""
    n = validate.sample_size(n, "n")
    return theory.limiting_error(w, k) * information_trace_inverse(family, coef, sigma) / n


def fixed_design_coef_error(w, X, t, sigma: float = 1.0):
    """Exact E|theta_t - beta|^2 for fixed-design least squares (same X each generation, m = n):
    the Gaussian-mean recursion with Sigma = sigma^2 (X'X)^{-1} and one draw per generation."""
    X = validate.full_rank_design(X, "X")
    sigma = validate.positive(sigma, "sigma")
    trace = sigma**2 * float(np.trace(np.linalg.inv(X.T @ X)))
    return theory.gaussian_mean_error(w, 1, 1, t, trace)


def fully_synthetic_linear_error(n, m, t, p, sigma: float = 1.0):
    """Exact E|theta_t - beta|^2 of random-design least squares in the fully synthetic loop (w = 0),
    covariates N(0, I_p): sigma^2 p (1/(n - p - 1) + t/(m - p - 1)).

    Each fit adds independent noise (X'X)^{-1} X' eps to the coefficients that generated its
    responses, and E tr((X'X)^{-1}) = p / (N - p - 1) for a Wishart(N, I_p) matrix X'X (the mean of
    the inverse Wishart distribution), finite for N > p + 1. Errors add up: linear growth in t.
    """
    p = validate.sample_size(p, "p")
    n = validate.sample_size(n, "n", p + 2, f" (the error is finite only for n > p + 1 = {p + 1})")
    m = validate.sample_size(m, "m", p + 2, f" (the error is finite only for m > p + 1 = {p + 1})")
    sigma = validate.positive(sigma, "sigma")
    t = np.asarray(theory._generation(t), dtype=float)
    out = sigma**2 * p * (1.0 / (n - p - 1) + t / (m - p - 1))
    return float(out) if out.ndim == 0 else out


# --- a misspecified model: the real data do not follow the model --------------------------------
# With a pseudo-truth beta (the population fit), the real score at beta has covariance K/n with
# K = E[(y - mu)^2 x x'], while the synthetic labels follow the model, so the synthetic score has
# covariance J/m with J = E[mu (1 - mu) x x'] (the Hessian). Both parts share J as Hessian, so the
# linearised step is unchanged and the error recursion has two different variances:
#     e_t = (1-w)^2 e_{t-1} + w^2 s_K / n + (1-w)^2 s_J / m,
# s_K = tr(J^{-1} K J^{-1}), s_J = tr(J^{-1}). K = J for a well-specified model.
s_K, s_J = sp.symbols("s_K s_J", positive=True)


@lru_cache(maxsize=None)
def misspecified_limit_expr():
    """(n / s_K) e_inf, which SymPy shows equals V(w, k rho) with rho = s_J / s_K."""
    e = sp.Symbol("e", positive=True)
    rhs = (1 - w) ** 2 * e + w**2 * s_K / n + (1 - w) ** 2 * s_J / m
    (e_inf,) = sp.solve(sp.Eq(e, rhs), e)
    return sp.simplify((n / s_K * e_inf).subs(m, n / k))


def sandwich_traces(X, y, coef) -> tuple[float, float]:
    """(s_J, s_K) = (tr J^{-1}, tr J^{-1} K J^{-1}) for logistic regression, over the rows of a
    population (X, y) at coefficients ``coef`` (the population maximum-likelihood fit)."""
    X = validate.full_rank_design(X, "X")
    y = validate._finite_array(y, "y")
    coef = validate.mean_vector(coef, "coef")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must be a vector of {X.shape[0]} labels (one per row of X), got shape {y.shape}")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold logistic labels in [0, 1]")
    if coef.shape != (X.shape[1],):
        raise ValueError(f"coef must have {X.shape[1]} entries (one per column of X), got {coef.size}")
    mu = expit(X @ coef)
    J = (X.T * (mu * (1 - mu))) @ X / len(y)
    K = (X.T * (y - mu) ** 2) @ X / len(y)
    if np.linalg.matrix_rank(J) < J.shape[0]:
        raise ValueError("the logistic information at coef is singular (fitted probabilities all 0 or 1): "
                         "coef is not a finite population fit")
    J_inv = np.linalg.inv(J)
    return float(np.trace(J_inv)), float(np.trace(J_inv @ K @ J_inv))


def misspecified_coef_error(w, k, n, s_J, s_K):
    """(s_K / n) V(w, k s_J / s_K): the first-order limiting error under misspecification; the
    optimal weight is w*(k s_J / s_K)."""
    n = validate.sample_size(n, "n")
    s_J = validate.positive(s_J, "s_J")
    s_K = validate.positive(s_K, "s_K")
    k = validate.ratio(k, "k")
    return s_K / n * theory.limiting_error(w, k * s_J / s_K)
