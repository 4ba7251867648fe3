"""How well the data pin down a formula's constants: 95% intervals by a bootstrap over rows, and
each constant written to the digits its interval supports (8.311 ± 0.012, not 8.31128450626397)."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from kan_core.symbolic.formula import lambdify

METHOD = "bootstrap over rows: the constants refit on {n} resamples of the rows, 2.5/97.5 percentiles"
MAX_ROWS = 1000


@dataclass
class Interval:
    """One constant of a formula: its fitted value, 95% interval and display text."""

    value: float
    low: float
    high: float
    text: str  # "8.311 ± 0.012": value rounded to the interval's digits

    def as_dict(self) -> dict:
        """Plain-JSON view (full precision)."""
        return asdict(self)


def with_error(value: float, half: float) -> str:
    """`value ± half` with the half-width to 2 significant digits and the value to the same place
    (the Particle Data Group's convention, simplified); 4 significant digits when half is 0."""
    if not math.isfinite(half) or half <= 0:
        return f"{value:.4g}"
    place = math.floor(math.log10(half)) - 1  # the second significant digit of the half-width
    decimals = max(0, -place)
    step = 10.0**place
    v, h = round(value / step) * step, round(half / step) * step
    return f"{v:.{decimals}f} ± {h:.{decimals}f}"


def constants(expr: sp.Expr) -> list[sp.Float]:
    """The expression's floating-point constants (the fitted ones), largest magnitude first; exact
    numbers (snapped to 1, 1/2, π) have no interval."""
    return sorted(expr.atoms(sp.Float), key=lambda f: -abs(float(f)))


def intervals(
    expr: sp.Expr,
    symbols: list[sp.Symbol],
    X: np.ndarray,
    y: np.ndarray,
    resamples: int = 100,
    seed: int = 0,
    seconds: float = 3.0,
) -> list[Interval]:
    """95% intervals for the formula's float constants by a case-resampling bootstrap (Efron &
    Tibshirani 1993, ch. 9): `resamples` draws of the rows with replacement, the constants refit by
    least squares (SciPy `least_squares`, started from the fitted values) on each, the 2.5th and
    97.5th percentiles of the refits. Snapped (exact) constants are held fixed.

    Parameters
    ----------
    expr : sympy.Expr
        The formula, its fitted constants as Floats.
    symbols : list of sympy.Symbol
        Its variables, in the column order of X.
    X : ndarray, shape (n, d); y : ndarray, shape (n,)
        The rows the formula was fitted on (at most MAX_ROWS evenly spaced are used).
    resamples : int
        Bootstrap draws; stops early at `seconds` (at least 20 draws are needed, else the
        intervals are NaN).
    seed : int

    Returns
    -------
    list of Interval
        One per float constant, in the order of `constants(expr)`.
    """
    floats = constants(expr)
    if not floats:
        return []
    step = max(1, len(y) // MAX_ROWS)
    X, y = np.asarray(X, float)[::step], np.asarray(y, float)[::step]
    params = sp.symbols(f"_c0:{len(floats)}")
    fn = lambdify([*symbols, *params], expr.xreplace(dict(zip(floats, params))))
    start = np.array([float(f) for f in floats])
    rng = np.random.default_rng(seed)
    end = time.perf_counter() + seconds
    draws = []
    for _ in range(resamples):
        if time.perf_counter() > end:
            break
        rows = rng.integers(0, len(y), len(y))
        Xb, yb = X[rows], y[rows]

        def resid(p: np.ndarray, Xb=Xb, yb=yb) -> np.ndarray:
            with np.errstate(all="ignore"):
                r = np.broadcast_to(np.asarray(fn(*Xb.T, *p), float), yb.shape) - yb
            return np.where(np.isfinite(r), r, 1e6)

        with np.errstate(all="ignore"):
            fit = least_squares(resid, start, method="lm", max_nfev=100 * len(start))
        if np.isfinite(fit.x).all():
            draws.append(fit.x)
    if len(draws) < 20:
        return [Interval(float(v), math.nan, math.nan, f"{float(v):.4g}") for v in start]
    lo, hi = np.percentile(np.array(draws), [2.5, 97.5], axis=0)
    return [
        Interval(float(v), float(a), float(b), with_error(float(v), (float(b) - float(a)) / 2))
        for v, a, b in zip(start, lo, hi)
    ]


def rounded(expr: sp.Expr, found: list[Interval]) -> sp.Expr:
    """The expression with each constant shown to the digits its interval supports (display only:
    JSON and Python keep full precision)."""
    subs = {}
    for f, iv in zip(constants(expr), found):
        text = iv.text.split(" ± ")[0]
        subs[f] = sp.Float(text, max(1, len(text.replace("-", "").replace(".", "").lstrip("0"))))
    return expr.xreplace(subs)
