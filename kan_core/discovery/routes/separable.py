"""Multiplicatively separable laws with a monomial factor: y = M(x₋ⱼ)·g(xⱼ).

AI Feynman's multiplicative separability (Udrescu & Tegmark 2020, Sci. Adv. 6: eaay2631, §2.2)
in the shape a table of measurements most often has: one input carries the whole shape (a time,
an angle, a position) and the others scale it as a product of powers — an amplitude times a damped
oscillation A₀·e^(−λt)·cos(ωt), a load times a profile, n·f(θ). The single-index route fits such
laws in log space, where an oscillating g (log|cos|, singular at every zero) defeats its spline;
this route works on y itself.

For each input xⱼ and a product of powers M of the other (positive) inputs, r = y / M must be a
function of xⱼ alone: a cubic spline in xⱼ with enough knots for several oscillations explains r
(1 − R² below `SEPARABLE`) only for the right exponents. The exponents are searched on a grid of
sixths by coordinate descent (every step one projection on the spline basis), then g is a
one-variable problem that discover() solves with its own routes (`Problem.solve_1d`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.discovery.routes.base import Found, Problem
from kan_core.discovery.routes.single_index import _design, _power
from kan_core.errors import ModelError
from kan_core.symbolic.constants import released
from kan_core.symbolic.formula import evaluate

MAX_ROWS = 1000  # the spline screens; g is then fit on every row
MAX_INPUTS = 4  # fits grow as d²: 4 inputs cost about 1,300 spline fits
MIN_ROWS = 33  # three rows per column of the smallest spline basis (8 intervals + 3)
KEEP_QUANTILE = 0.5  # g of y/M is searched on the rows with M above this quantile
INDEX_MAX_INPUTS = 3  # the index's fits cost a QR each (~1 ms): 3 inputs, about 700 of them
EXPONENTS = np.arange(-18, 19) / 6  # M's exponents: sixths in [−3, 3]
SWEEPS = 3  # coordinate-descent passes over M's exponents
SEPARABLE = 2e-2  # 1 − R² of r on a spline in xⱼ below which g is searched
GAIN = 0.1  # ... and at most this share of the 1 − R² without the factor (M must matter)
FIT_SECONDS = 1e-4  # work seconds of one fit (a projection: ~20 µs on 1,000 rows)
INDEX_FIT_SECONDS = 2e-3  # one fit of y on a spline in a new index u (a QR of 1,000 × 43)


def _spline_loss(Q: np.ndarray, r: np.ndarray) -> float:
    """1 − R² of r's least-squares fit on a spline basis with orthonormal columns Q (rows × m)."""
    r = r - r.mean()
    sst = float(r @ r)
    if not math.isfinite(sst) or sst == 0:
        return math.inf
    res = r - Q @ (Q.T @ r)
    return float(res @ res) / sst


def factor_exponents(x: np.ndarray, logs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float, int]:
    """(M's exponents, 1 − R² with them, 1 − R² without M, fits made) for y / exp(logs @ a) ≈ g(x).

    x : (n,) the shape input; logs : (n, m) logarithms of the other inputs; y : (n,) target.
    """
    intervals = int(min(40, max(8, len(y) // 6)))
    # The basis is the same for every choice of exponents: one QR, then each fit is a projection.
    Q = np.linalg.qr(_design(x, intervals))[0]
    a = np.zeros(logs.shape[1])
    fits = [0]

    def loss(exps: np.ndarray) -> float:
        fits[0] += 1
        with np.errstate(all="ignore"):
            return _spline_loss(Q, y / np.exp(logs @ exps))

    a, best, base = _descend(loss, a)
    return a, best, base, fits[0]


def index_exponents(x: np.ndarray, logs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float, int]:
    """(exponents a, 1 − R² with them, 1 − R² with a = 0, fits made) for y ≈ g(x·exp(logs @ a)).

    The index u = xⱼ·Π xᵢ^aᵢ replaces the shape input (a pendulum's phase t/√L, a wave's k·x
    at a given k): y is a function of u alone only for the right exponents. Each trial fits y on
    a cubic spline in u with enough knots for several oscillations (one QR per trial).
    """
    intervals = int(min(40, max(8, len(y) // 6)))
    a = np.zeros(logs.shape[1])
    fits = [0]

    def loss(exps: np.ndarray) -> float:
        fits[0] += 1
        with np.errstate(all="ignore"):
            u = x * np.exp(logs @ exps)
        if not np.isfinite(u).all() or np.ptp(u) == 0:
            return math.inf
        return _spline_loss(np.linalg.qr(_design(u, intervals))[0], y)

    a, best, base = _descend(loss, a)
    return a, best, base, fits[0]


def _descend(loss, a: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Coordinate descent of `loss` over a grid of sixths (`EXPONENTS`), `SWEEPS` passes at most:
    (exponents, loss with them, loss at the start)."""
    base = best = loss(a)
    for _ in range(SWEEPS):
        moved = False
        for i in range(len(a)):
            trial = a.copy()
            for e in EXPONENTS:
                trial[i] = e
                if (value := loss(trial)) < best * (1 - 1e-9):
                    best, a, moved = value, trial.copy(), True
        if not moved:
            break
    return a, best, base


def factor_route(p: Problem) -> Found:
    """The best y = M(x₋ⱼ)·g(xⱼ) (up to two); `p.solve_1d(frame, seconds)` finds g in u → r.

    Raises ModelError when no input separates (no factor explains the other inputs' effect).
    """
    return _search(p, INDEX_FACTOR)


def index_on_y_route(p: Problem) -> Found:
    """The best y = g(xⱼ·M(x₋ⱼ)) (up to two): one input scaled by a product of powers of the
    others, a phase ω(L)·t = t/√L or a similarity variable; g by `p.solve_1d` as above.

    Raises ModelError when no such index explains y.
    """
    return _search(p, INDEX_ON_Y)


@dataclass(frozen=True)
class _Shape:
    """How one separable shape screens its exponents, frames g's problem and composes back."""

    exponents: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, float, float, int]]
    fit_seconds: float  # work seconds of one screening fit
    frame: Callable[
        [np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]
    ]  # (xⱼ, M, y) → (u, r)
    compose: Callable[[sp.Expr, sp.Expr, sp.Expr], sp.Expr]  # (xⱼ, M, g(u)) → formula
    fails: str
    rescales: bool  # g's target is y/M (its noise scaled by 1/M row by row)


INDEX_FACTOR = _Shape(
    factor_exponents,
    FIT_SECONDS,
    lambda x, m, y: (x, y / m),
    lambda x, m, g: m * g.xreplace({s: x for s in g.free_symbols}),
    "no input separates as y = (product of powers of the others) · g(input)",
    True,
)
INDEX_ON_Y = _Shape(
    index_exponents,
    INDEX_FIT_SECONDS,
    lambda x, m, y: (x * m, y),
    lambda x, m, g: g.xreplace({s: x * m for s in g.free_symbols}),
    "y is no function of one input times a product of powers of the others",
    False,
)


def _search(p: Problem, shape: _Shape) -> Found:
    X, y, symbols = p.X, p.y, p.symbols
    work = p.account()
    step = max(1, len(y) // MAX_ROWS)
    Xs, ys = X[::step], y[::step]
    d = X.shape[1]
    if len(ys) < MIN_ROWS:  # a spline of 8+ intervals interpolates fewer rows whatever the law
        raise ModelError(shape.fails)
    splits = []
    for j in range(d):
        others = [i for i in range(d) if i != j]
        if not others or not (X[:, others] > 0).all() or work.late():
            continue
        a, loss, base, fits = shape.exponents(Xs[:, j], np.log(Xs[:, others]), ys)
        work.charge(fits * shape.fit_seconds)
        # base ≈ 0: the spline already interpolates y (a tiny table), no exponent is told apart.
        if loss < SEPARABLE and loss < GAIN * base and base > 1e-10 and np.any(a != 0):
            splits.append((loss, j, others, a))
    if not splits:
        raise ModelError(shape.fails)
    tiny = 1e-10 * float(np.var(y))
    out: list[tuple[float, str, sp.Expr]] = []
    for _, j, others, a in sorted(splits, key=lambda t: t[0])[:2]:
        if p.solve_1d is None or work.left() < 0.5 or work.late():
            break
        exps = [Fraction(round(6 * v), 6) for v in a]
        m = np.exp(np.log(X[:, others]) @ a)
        u, r = shape.frame(X[:, j], m, y)
        # r = y/M carries y's noise over M: g is searched on the rows where M is largest (as the
        # π route does); the route's refit then weighs every row alike.
        rows = m >= np.quantile(m, KEEP_QUANTILE) if shape.rescales else slice(None)
        g = p.solve_1d(pd.DataFrame({"u": u[rows], "r": r[rows]}), 0.9 * work.left())
        g = released(g) if shape.rescales else g  # refit on y, every row (`released`)
        expr = shape.compose(symbols[j], _power([symbols[i] for i in others], exps), g)
        with np.errstate(all="ignore"):
            mse = float(np.mean((evaluate(expr, symbols, X) - y) ** 2))
        out.append((mse if math.isfinite(mse) else math.inf, str(expr), expr))
        if out[-1][0] <= tiny:
            break
    best = sorted(out, key=lambda t: t[:2])[:2]
    return [(e, functools.partial(evaluate, e, symbols)) for *_, e in best]
