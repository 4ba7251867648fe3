"""Varying-coefficient laws: y = c₀(xⱼ) + Σᵢ cᵢ(xⱼ)·xᵢ, linear in every input but one.

Initial-value solutions have this shape: Newton's cooling T = Tₐ + (T₀ − Tₐ)·e^(−kt) (linear in
Tₐ and T₀, with coefficients 1 − e^(−kt) and e^(−kt)), an oscillator x₀·cos ωt + (v₀/ω)·sin ωt,
a mixture's property w·a + (1 − w)·b with w a function of one input. Neither a product of powers
nor a sum of one-input functions, they escape the other direct routes. Hastie & Tibshirani's
varying-coefficient model (J. R. Stat. Soc. B 55, 1993, 757–796) fits them linearly: each
cᵢ(xⱼ) a cubic spline in xⱼ, so y is one least-squares fit on the products of the spline basis
with (1, x₁, …). For the input xⱼ that explains y this way (1 − R² below `VARYING`, and far
below a fit whose coefficients do not vary), each coefficient curve becomes a one-variable
problem that discover() solves with its own routes (`Problem.solve_1d`), and the law is the sum
of the curves times their inputs; its constants are refit on y by the route's caller.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.discovery.noise import neighbours, only_noise
from kan_core.discovery.routes.base import Found, Problem
from kan_core.discovery.routes.single_index import _design
from kan_core.errors import ModelError
from kan_core.symbolic.formula import evaluate

MAX_INPUTS = 4  # the design has (inputs) × (intervals + 3) columns
MAX_ROWS = 1000  # the screen's rows (the coefficient curves are smooth)
INTERVALS = 24  # spline intervals per coefficient curve (several bends; accurate to ~1e-6 for smooth ones)
EXACT = 1e-8  # 1 − R² of a fit exact to the splines' accuracy
VARYING = 2e-2  # 1 − R² under which the coefficients' curves are searched …
GAIN = 0.1  # … and under this share of the 1 − R² with constant coefficients (they must vary)
ROWS_PER_COLUMN = 5  # the screen needs this many rows per column of its design
FIT_SECONDS = 5e-3  # work seconds of one screening fit (1,000 × 60 least squares)


def _matrix(D: np.ndarray, phis: np.ndarray, kinds: list[str]) -> np.ndarray:
    """The design of y = Σₘ cₘ·φₘ: for each φₘ (columns of phis) the spline basis D times φₘ
    ("curve"), φₘ itself ("constant") or nothing ("none")."""
    cols = [D * f[:, None] if k == "curve" else f[:, None] for f, k in zip(phis.T, kinds) if k != "none"]
    return np.hstack(cols) if cols else np.zeros((len(phis), 0))


def _lstsq(A: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(coefficients, residual) of y's least squares on the columns of A."""
    coef = np.linalg.lstsq(A, y, rcond=None)[0] if A.shape[1] else np.zeros(0)
    return coef, y - A @ coef


def _coefficient_kinds(D: np.ndarray, phis: np.ndarray, y: np.ndarray) -> list[str]:
    """For each φₘ (columns of phis): "none" (its term is not needed), "constant" (its coefficient
    does not vary) or "curve", each simpler kind kept when an F-test of the nested fit cannot
    tell it from the full one at 1% (a zero or constant curve's fitting error is not a law's)."""
    from scipy.stats import f as f_dist

    n = len(y)
    kinds = ["curve"] * phis.shape[1]

    def rss(ks: list[str]) -> tuple[float, int]:
        A = _matrix(D, phis, ks)
        r = _lstsq(A, y)[1]
        return float(r @ r), A.shape[1]

    full, p = rss(kinds)
    for m in range(phis.shape[1]):
        for simpler in ("none", "constant"):
            trial = kinds[:m] + [simpler] + kinds[m + 1 :]
            value, q = rss(trial)
            if n - p <= 0 or full <= 0:
                break
            if (value - full) / max(p - q, 1) / (full / (n - p)) <= f_dist.ppf(0.99, max(p - q, 1), n - p):
                kinds = trial
                break
    return kinds


def screen(X: np.ndarray, y: np.ndarray) -> list[tuple[float, int]]:
    """[(1 − R², j)] for each input j in which y is a varying-coefficient law, best first."""
    step = max(1, len(y) // MAX_ROWS)
    Xs, ys = X[::step], y[::step]
    if len(ys) < ROWS_PER_COLUMN * X.shape[1] * (INTERVALS + 3):  # 81 columns fit 160 rows of anything
        return []
    sst = float(np.sum((ys - ys.mean()) ** 2)) or 1.0
    out = []
    for j in range(X.shape[1]):
        if np.ptp(Xs[:, j]) == 0:
            continue
        D = _design(Xs[:, j], INTERVALS)
        phis = np.column_stack([np.ones(len(ys)), np.delete(Xs, j, axis=1)])
        r = _lstsq(_matrix(D, phis, ["curve"] * phis.shape[1]), ys)[1]
        r_flat = _lstsq(_matrix(D, phis, ["curve"] + ["constant"] * (phis.shape[1] - 1)), ys)[1]
        loss, flat = float(r @ r) / sst, float(r_flat @ r_flat) / sst
        if not (loss < VARYING and loss < GAIN * flat):
            continue
        # Smooth curves times each input approximate any smooth law to a few percent: the fit
        # must be exact, or leave residuals with no structure in x (noise).
        if loss < EXACT or only_noise(r, neighbours(Xs))[0]:
            out.append((loss, j))
    return sorted(out)


def varying_route(p: Problem) -> Found:
    """The best y = Σₘ gₘ(xⱼ)·φₘ (φ = 1, the other inputs); `p.solve_1d` finds each gₘ.

    Raises ModelError when no input makes y linear in the others.
    """
    X, y, symbols = p.X, p.y, p.symbols
    work = p.account()
    work.charge(2 * X.shape[1] * FIT_SECONDS)
    found = screen(X, y)
    if not found or p.solve_1d is None:
        raise ModelError("y is not linear in the other inputs with coefficients that vary with one input")
    _, j = found[0]
    D = _design(X[:, j], INTERVALS)
    others = [i for i in range(X.shape[1]) if i != j]
    phis = np.column_stack([np.ones(len(y)), X[:, others]])
    kinds = _coefficient_kinds(D, phis, y)
    if sum(kind != "none" for kind in kinds) < 2:  # g(xⱼ)·xᵢ alone: the monomial × g(input) route's
        raise ModelError("a single product of one input's function and another input, not a sum of them")
    coef = _lstsq(_matrix(D, phis, kinds), y)[0]
    expr, at = sp.Integer(0), 0
    curves = sum(kind == "curve" for kind in kinds)
    for m, kind in enumerate(kinds):
        phi = sp.Integer(1) if m == 0 else symbols[others[m - 1]]
        if kind == "constant":
            expr += sp.Float(coef[at]) * phi
            at += 1
        elif kind == "curve":
            if work.late():
                raise ModelError("no time left for the coefficient curves")
            curve = D @ coef[at : at + D.shape[1]]
            at += D.shape[1]
            g = p.solve_1d(pd.DataFrame({"u": X[:, j], "r": curve}), max(work.left(), 0.3) / curves)
            expr += g.xreplace({s: symbols[j] for s in g.free_symbols}) * phi
    with np.errstate(all="ignore"):
        if not math.isfinite(float(np.mean((evaluate(expr, symbols, X) - y) ** 2))):
            raise ModelError("the composed varying-coefficient formula is not finite on the data")
    return [(expr, functools.partial(evaluate, expr, symbols))]
