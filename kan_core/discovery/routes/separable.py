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
from fractions import Fraction

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.discovery.routes.base import Found, Problem
from kan_core.discovery.routes.single_index import _design, _power
from kan_core.errors import ModelError
from kan_core.symbolic.formula import evaluate

MAX_ROWS = 1000  # the spline screens; g is then fit on every row
MAX_INPUTS = 4  # fits grow as d²: 4 inputs cost about 1,300 spline fits
EXPONENTS = np.arange(-18, 19) / 6  # M's exponents: sixths in [−3, 3]
SWEEPS = 3  # coordinate-descent passes over M's exponents
SEPARABLE = 2e-2  # 1 − R² of r on a spline in xⱼ below which g is searched
GAIN = 0.1  # ... and at most this share of the 1 − R² without the factor (M must matter)
FIT_SECONDS = 1e-4  # work seconds of one fit (a projection: ~20 µs on 1,000 rows)


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
    return a, best, base, fits[0]


def factor_route(p: Problem) -> Found:
    """The best y = M(x₋ⱼ)·g(xⱼ) (up to two); `p.solve_1d(frame, seconds)` finds g in u → r.

    Raises ModelError when no input separates (no factor explains the other inputs' effect).
    """
    X, y, symbols = p.X, p.y, p.symbols
    work = p.account()
    step = max(1, len(y) // MAX_ROWS)
    Xs, ys = X[::step], y[::step]
    d = X.shape[1]
    splits = []
    for j in range(d):
        others = [i for i in range(d) if i != j]
        if not others or not (Xs[:, others] > 0).all() or work.late():
            continue
        a, loss, base, fits = factor_exponents(Xs[:, j], np.log(Xs[:, others]), ys)
        work.charge(fits * FIT_SECONDS)
        if loss < SEPARABLE and loss < GAIN * base and np.any(a != 0):
            splits.append((loss, j, others, a))
    if not splits:
        raise ModelError("no input separates as y = (product of powers of the others) · g(input)")
    tiny = 1e-10 * float(np.var(y))
    out: list[tuple[float, str, sp.Expr]] = []
    for _, j, others, a in sorted(splits, key=lambda t: t[0])[:2]:
        if p.solve_1d is None or work.left() < 0.5 or work.late():
            break
        exps = [Fraction(round(6 * v), 6) for v in a]
        r = y / np.exp(np.log(X[:, others]) @ a)
        g = p.solve_1d(pd.DataFrame({"u": X[:, j], "r": r}), 0.9 * work.left())
        expr = _power([symbols[i] for i in others], exps) * g.xreplace(
            {s: symbols[j] for s in g.free_symbols}
        )
        with np.errstate(all="ignore"):
            mse = float(np.mean((evaluate(expr, symbols, X) - y) ** 2))
        out.append((mse if math.isfinite(mse) else math.inf, str(expr), expr))
        if out[-1][0] <= tiny:
            break
    best = sorted(out, key=lambda t: t[:2])[:2]
    return [(e, functools.partial(evaluate, e, symbols)) for *_, e in best]
