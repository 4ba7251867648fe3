"""Single-index laws: y = ±M(x)·g(u(x)) with M and u products of powers and g one-dimensional.

Many physics laws on positive ranges have this shape: ω₀/(1 − v/c), m·c²/√(1 − v²/c²),
n₀/(2·cosh(μB/kT)), m·x²·(ω² + ω₀²). In log space it reads log|y| = a·t + h(b·t) with t = log x.
For a fixed direction b the model is linear in a and in h's spline coefficients, so b is found
by variable projection (a few-parameter smooth minimisation), b and a are snapped to simple
rationals, and g becomes a one-variable problem that discover() solves with its own routes.
"""

from __future__ import annotations

import functools
import math
import time
from fractions import Fraction

import numpy as np
import pandas as pd
import sympy as sp
from scipy.interpolate import BSpline
from scipy.optimize import minimize

from kan_core.discovery.routes.base import Found, Problem
from kan_core.discovery.routes.one_variable import one_variable
from kan_core.errors import ModelError
from kan_core.symbolic.formula import evaluate

MAX_ROWS = 2000  # the index is fit on at most this many rows (a spline of 8 intervals needs few)
SINGLE_INDEX = 1e-2  # full searches of g only when 1 − R² (log space, weighted) is below this
EXPONENT_TOL = 0.05  # a monomial exponent this close to p/q (q ≤ 3) is taken as p/q
MAX_EVALS = 1000  # loss evaluations for the direction b: a count, not seconds
EVAL_SECONDS = 2e-3  # work seconds of one evaluation (2,000 rows, reference machine)
ONE_VARIABLE_SECONDS = 1.5  # work seconds of one brute-force search of g (every library function)


def _design(z: np.ndarray, intervals: int = 8, k: int = 3) -> np.ndarray:
    """Cubic B-spline basis on a uniform grid over z's range (rows × intervals + k)."""
    lo, hi = float(z.min()), float(z.max())
    pad = 1e-9 * (hi - lo + 1.0)
    h = (hi - lo + 2 * pad) / intervals
    knots = lo - pad + h * np.arange(-k, intervals + k + 1)
    return BSpline.design_matrix(np.clip(z, lo, hi), knots, k).toarray()


class IndexFit:
    """log|y| = a·t + h(b·t) + const on weighted rows; `loss(b)` is 1 − R² for direction b."""

    def __init__(self, T: np.ndarray, Z: np.ndarray, w: np.ndarray):
        self.T, self.Z, self.w = T, Z, w
        self.sst = float(np.sum(w**2 * (Z - np.average(Z, weights=w**2)) ** 2)) or 1.0

    def solve(self, b: np.ndarray) -> tuple[float, np.ndarray]:
        """(1 − R², a) for this direction: a linear least-squares fit of a and the spline."""
        A = np.hstack([self.T, _design(self.T @ (b / np.linalg.norm(b)))])
        coef, *_ = np.linalg.lstsq(A * self.w[:, None], self.Z * self.w, rcond=None)
        r = (self.Z - A @ coef) * self.w
        return float(r @ r) / self.sst, coef[: self.T.shape[1]]

    def loss(self, b: np.ndarray) -> float:
        """1 − R² of the best fit along direction b."""
        return self.solve(b)[0] if np.linalg.norm(b) > 0 else math.inf

    def starts(self, seed: int) -> list[np.ndarray]:
        """Starting directions: the leading eigenvector of a quadratic fit to the linear fit's
        residual (for h(b·t) its Hessian is ∝ b·bᵀ), then random ones."""
        T, d = self.T - self.T.mean(0), self.T.shape[1]
        ones = np.ones((len(T), 1))
        lin, *_ = np.linalg.lstsq(np.hstack([T, ones]) * self.w[:, None], self.Z * self.w, rcond=None)
        resid = self.Z - np.hstack([T, ones]) @ lin
        iu = np.triu_indices(d)
        quad = np.stack([T[:, i] * T[:, j] for i, j in zip(*iu)], 1)
        q, *_ = np.linalg.lstsq(np.hstack([quad, T, ones]) * self.w[:, None], resid * self.w, rcond=None)
        H = np.zeros((d, d))
        H[iu] = q[: len(iu[0])]
        vals, vecs = np.linalg.eigh(H + H.T)
        rng = np.random.default_rng(seed)
        eye = np.eye(d)
        # The axes and pairs (x_i·x_j, x_i/x_j) are cheap to screen: one linear fit each.
        pairs = [eye[i] + s * eye[j] for i in range(d) for j in range(i) for s in (1, -1)]
        axes = [eye[i] for i in range(d)] + pairs
        screened = sorted(axes, key=self.loss)[:2]
        return [vecs[:, np.argmax(np.abs(vals))], *screened] + [rng.normal(size=d) for _ in range(2)]


def simple_ratio(v: float, max_den: int = 3) -> Fraction:
    """The nearest p/q with q ≤ max_den."""
    return min((Fraction(round(v * q), q) for q in range(1, max_den + 1)), key=lambda f: abs(float(f) - v))


def fit_index(
    X: np.ndarray,
    y: np.ndarray,
    seed: int = 0,
    deadline: float = math.inf,
    max_evals: int = MAX_EVALS,
    used: list[int] | None = None,
) -> tuple[np.ndarray, float, np.ndarray]:
    """(b, 1 − R², a) for positive X, fitting log|y|; b scaled so that max |b_i| = 1.

    Rows are weighted by |y| so that additive noise does not swamp the logs of small values, and
    a y that changes sign (p·cos θ/r²) is fit away from its zeros.
    b is snapped to simple ratios when that costs no more than the scatter of the fit.
    The BFGS runs stop after `max_evals` loss evaluations in all (checked between iterations, so
    the result is the same on any machine) or at `deadline` (wall clock, an outer limit); the
    count made is appended to `used`, when given (the route charges its work by it).
    """
    step = max(1, len(y) // MAX_ROWS)
    X, y = X[::step], y[::step]
    w = np.abs(y) / np.abs(y).max()  # a zero of y (cos θ at π/2) then has no weight in log space
    fit = IndexFit(np.log(X), np.log(np.where(y == 0, 1.0, np.abs(y))), w)
    evals = [0]

    def counted(b: np.ndarray) -> float:
        evals[0] += 1
        return fit.loss(b)

    def on_time(intermediate_result) -> None:  # SciPy ends the search on StopIteration
        if evals[0] > max_evals or time.perf_counter() > deadline:
            raise StopIteration

    runs: list = []
    for start in fit.starts(seed):
        if runs and (evals[0] > max_evals or time.perf_counter() > deadline):
            break  # the first start always runs (stopped at its first iteration if late)
        runs.append(minimize(counted, start, method="BFGS", options={"maxiter": 200}, callback=on_time))
    best = min(runs, key=lambda r: r.fun)
    b = best.x / np.abs(best.x).max()
    loss = fit.loss(b)
    snapped = np.array([float(simple_ratio(v, 4)) for v in b])
    tol = 2 * math.sqrt(2 / len(y))  # the scatter of a mean square over n rows
    # The spline's own error (a singular log|cos θ|) leaves room that tiny exponents exploit: a
    # snap may cost up to half the loss again (the formula is checked on the data afterwards).
    if (snapped_loss := fit.loss(snapped)) <= max(loss * (1.5 + tol), loss + 1e-6):
        b, loss = snapped, snapped_loss
    if used is not None:
        used.append(evals[0])
    return b, loss, fit.solve(b)[1]


def monomials(a: np.ndarray, b: np.ndarray, limit: int = 2) -> list[list[Fraction]]:
    """Simple exponent vectors for M: M·g(u) = (M·u^k)·(g(u)/u^k), so a is known only up to k·b.

    Each candidate zeroes one exponent (or is a's part orthogonal to b); the simplest are kept.
    """
    perp = a - (a @ b) / (b @ b) * b
    ks = [0.0] + [-perp[i] / b[i] for i in range(len(b)) if abs(b[i]) > 1e-9]
    found: dict[tuple, tuple] = {}
    for k in ks:
        exps = perp + k * b
        snapped = [simple_ratio(v) for v in exps]
        if max(abs(float(s) - v) for s, v in zip(snapped, exps)) <= EXPONENT_TOL:
            cost = (sum(s != 0 for s in snapped), sum(s.denominator for s in snapped))
            found.setdefault(tuple(snapped), cost)
    # None simple: a's part orthogonal to b, as floats (the constant refit may snap them later).
    return [list(s) for s in sorted(found, key=lambda s: found[s])[:limit]] or [list(perp)]


def _power(symbols: list[sp.Symbol], exps) -> sp.Expr:
    """Π symbol^exponent with exact rationals where the exponent is one."""

    def exact(e):
        return sp.Rational(e.numerator, e.denominator) if isinstance(e, Fraction) else sp.Float(e)

    return sp.Mul(*[s ** exact(e) for s, e in zip(symbols, exps) if e != 0])


def index_route(p: Problem) -> Found:
    """The best ±M(x)·g(u(x)) found (up to two); `solve_1d(frame, seconds)` finds g in u → r.

    Every choice of M and of u or 1/u first gets the quick brute-force search of g; only when
    none is exact do the choices get full one-variable searches, the most promising first.
    """
    X, y, symbols, deadline, functions = p.X, p.y, p.symbols, p.deadline, p.functions
    work = p.account()  # charged with the route's work (`kan_core.discovery.work`)
    # The direction's fit gets at most half the route's work (and MAX_EVALS evaluations).
    evals = int(max(50, min(MAX_EVALS, 0.5 * work.left() / EVAL_SECONDS)))
    used: list[int] = []
    b, loss, a = fit_index(X, y, p.seed, deadline, evals, used)
    work.charge(used[0] * EVAL_SECONDS)
    # Snapped entries of b are floats of p/q: keep them exact (v/c, not v**1.0/c**1.0).
    exps_b = [r if float(r) == v else v for v, r in zip(b, (simple_ratio(v, 4) for v in b))]
    T = np.log(X)
    z, tiny = T @ b, 1e-10 * float(np.var(y))
    choices = []  # (M's exponents, orientation of u)
    for exps_a in monomials(a, b):
        # Physical ratios (v/c) are usually below 1: that side of u goes first.
        choices += [(exps_a, o) for o in ((1, -1) if z.mean() < 0 else (-1, 1))]
    u_sym = sp.Symbol("u", positive=True)
    tried: list[tuple[float, str, sp.Expr]] = []

    def compose(exps_a, orient, g: sp.Expr) -> float:
        u_expr = _power(symbols, [e if orient > 0 else -e for e in exps_b])
        expr = _power(symbols, exps_a) * g.xreplace({s: u_expr for s in g.free_symbols})
        with np.errstate(all="ignore"):
            mse = float(np.mean((evaluate(expr, symbols, X) - y) ** 2))
        tried.append((mse if math.isfinite(mse) else math.inf, str(expr), expr))
        return tried[-1][0]

    def frame(exps_a, orient) -> tuple[np.ndarray, np.ndarray]:
        return np.exp(orient * z), y / np.exp(T @ np.array([float(e) for e in exps_a]))

    quick: list = []
    for exps_a, orient in choices:
        if quick and time.perf_counter() > p.end:  # quick checks: the route's share may be spent
            break
        u, r = frame(exps_a, orient)
        work.charge(ONE_VARIABLE_SECONDS)
        found = [compose(exps_a, orient, g) for g in one_variable(u, r, u_sym, functions)]
        quick.append(min(found, default=math.inf))
    if min(quick) > tiny and loss > SINGLE_INDEX:
        # An oscillating g (1 − cos kd) fits log space poorly yet the brute force may get it.
        if not tried or min(tried, key=lambda t: t[0])[0] > 1e-3 * float(np.var(y)):
            raise ModelError(f"not a single-index law (1 − R² = {loss:.2g} in log space)")
    elif min(quick) > tiny:
        for _, (exps_a, orient) in sorted(zip(quick, choices[: len(quick)]), key=lambda t: t[0]):
            seconds = work.left()
            if seconds < 0.5 or work.late():
                break
            u, r = frame(exps_a, orient)
            if p.solve_1d is None:
                break
            g = p.solve_1d(pd.DataFrame({"u": u, "r": r}), 0.9 * seconds)
            if compose(exps_a, orient, g) <= tiny:
                break
    best = sorted(tried, key=lambda t: t[:2])[:2]
    if best and best[0][0] <= tiny:
        best = best[:1]  # exact: a runner-up would only cost a refit
    return [(e, functools.partial(evaluate, e, symbols)) for *_, e in best]
