"""One-variable laws by brute force: fit every library function to the target and to simple
transforms of it (1/y, y², 1/y², √y, 1/√y, log y), so that 1/√(1 − u²) is an x² fit of 1/y²."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import sympy as sp

from kan_core import library
from kan_core.discovery.pareto import r2
from kan_core.symbolic.edges import COMPLEXITY_WEIGHT, fit_edge, parsimony
from kan_core.symbolic.formula import evaluate

FIT_ROWS = 800  # the fits are smooth curves in one variable: a few hundred rows pin them down
Transform = tuple[str, Callable[[np.ndarray], np.ndarray], Callable[[sp.Expr], sp.Expr]]


def target_transforms(y: np.ndarray) -> list[Transform]:
    """The transforms defined on y's values, with their inverses (the sign kept for even powers)."""
    out: list[Transform] = [("y", lambda v: v, lambda e: e)]
    if not ((y > 0).all() or (y < 0).all()):
        return out
    s = 1 if y[0] > 0 else -1
    out += [
        ("1/y", lambda v: 1 / v, lambda e: 1 / e),
        ("y^2", lambda v: v * v, lambda e: s * sp.sqrt(e)),
        ("1/y^2", lambda v: v**-2, lambda e: s / sp.sqrt(e)),
        ("sqrt(|y|)", lambda v: np.sqrt(s * v), lambda e: s * e**2),
        ("1/sqrt(|y|)", lambda v: 1 / np.sqrt(s * v), lambda e: s / e**2),
        ("log|y|", lambda v: np.log(s * v), lambda e: s * sp.exp(e)),
    ]
    return out


def one_variable(
    x: np.ndarray, y: np.ndarray, symbol: sp.Symbol, functions: list[str] | None = None, top: int = 3
) -> list[sp.Expr]:
    """The `top` formulas y = T⁻¹(c·f(a·x + b) + d) that fit best, scored on y itself."""
    step = max(1, len(y) // FIT_ROWS)
    x, y = x[::step], y[::step]
    scored = []
    for _, forward, inverse in target_transforms(y):
        with np.errstate(all="ignore"):
            t = forward(y)
        if not np.isfinite(t).all() or np.ptp(t) == 0:
            continue
        # Parsimony as in the edge ranking's good range (one complexity unit buys 3x less error)
        # at every accuracy: on noisy data a line must beat a wiggle that fits barely better.
        fits = [f for f in fit_edge(x, t, functions) if f.fn != "0"]
        fits.sort(key=lambda f: -parsimony(f.r2, f.complexity))
        for fit in fits[:2]:
            if fit.fn == "0":
                continue
            inner = sp.Float(fit.a) * symbol + sp.Float(fit.b)
            expr = inverse(sp.Float(fit.c) * library.get(fit.fn).sympy(inner) + sp.Float(fit.d))
            with np.errstate(all="ignore"):
                pred = evaluate(expr, [symbol], x[:, None])
                err = 1.0 - r2(y, pred)
            if math.isfinite(err):
                # The edge ranking's complexity cost, but no accuracy cap: exactness is the point here.
                scored.append((max(err, 1e-14) * 10 ** (COMPLEXITY_WEIGHT * fit.complexity), str(expr), expr))
    scored.sort(key=lambda t: t[:2])
    return [e for *_, e in scored[:top]]
