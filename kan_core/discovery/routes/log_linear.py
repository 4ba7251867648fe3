"""Log-linear laws: log|y| linear in log xᵢ and in simple monomials of x (positive inputs).

y = ±C·Π xᵢ^aᵢ·exp(Σ b·m(x)), with m(x) among xᵢ, 1/xᵢ, xᵢ², xᵢ·xⱼ, xᵢ/xⱼ, xᵢ·xⱼ·xₖ, xᵢ·xⱼ/xₖ, covers a whole
kind of law that neither a product of powers nor a polynomial is: attenuation I₀·e^(−μx)
(Beer–Lambert), decay N₀·e^(−t·ln2/t½), Arrhenius A·e^(−E/(R·T)), Boltzmann factors, bell
curves times a power. log|y| is one least-squares fit over these columns, then backward
elimination (`kan_core.discovery.routes.polynomial.eliminate`) keeps the terms the fit needs.
Only a near-exact fit (relative error ≤ `MAX_ERROR`, noise of a few tenths of a percent) is
returned: otherwise the route costs one least-squares fit.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from kan_core.discovery.routes.polynomial import eliminate
from kan_core.errors import ModelError

MAX_ROWS = 1000
MAX_ERROR = 1e-5  # relative error of the full fit in log space under which the route goes on
MAX_FITS = 300  # least-squares fits for the elimination (a count, not seconds)


def _columns(symbols: list[sp.Symbol]) -> list[sp.Expr]:
    """log xᵢ, then xᵢ, 1/xᵢ, xᵢ², xᵢ·xⱼ, xᵢ/xⱼ, xⱼ/xᵢ, and xᵢ·xⱼ·xₖ with one of the three divided."""
    out: list[sp.Expr] = [sp.log(s) for s in symbols]
    out += [s for s in symbols] + [1 / s for s in symbols] + [s**2 for s in symbols]
    for a, b in itertools.combinations(symbols, 2):
        out += [a * b, a / b, b / a]
    for a, b, c in itertools.combinations(symbols, 3):  # ε·c·l (Beer–Lambert), m·g·h/(k·T)'s parts
        out += [a * b * c, a * b / c, a * c / b, b * c / a]
    return out


def log_linear(X: np.ndarray, y: np.ndarray, symbols: list[sp.Symbol], deadline: float) -> sp.Expr:
    """The sparse ±exp(c + Σ wₖ·columnₖ) that fits (X (n, d) > 0, y (n,) of one sign).

    Raises
    ------
    ModelError
        When log|y| is not near-linear in these columns (relative error above `MAX_ERROR`).
    """
    step = max(1, len(y) // MAX_ROWS)
    X, y = X[::step], y[::step]
    if not ((X > 0).all() and ((y > 0).all() or (y < 0).all())):
        raise ModelError("log-linear laws need positive inputs and a target of one sign")
    sign = 1 if y[0] > 0 else -1
    z = np.log(np.abs(y))
    cols = _columns(symbols)
    fns = [sp.lambdify(symbols, c, "numpy") for c in cols]
    F = np.column_stack([np.broadcast_to(f(*X.T), (len(z),)) for f in fns])
    scale = np.abs(F).max(0)
    scale[scale == 0] = 1.0
    A = np.hstack([F / scale, np.ones((len(z), 1))])

    def rss(keep: list[int]) -> tuple[float, np.ndarray]:
        sub = A[:, keep + [len(cols)]]
        coef, *_ = np.linalg.lstsq(sub, z, rcond=None)
        r = z - sub @ coef
        return float(r @ r), coef

    full, coef = rss(list(range(len(cols))))
    sst = float(np.sum((z - z.mean()) ** 2)) or 1.0
    if full > MAX_ERROR * sst:
        raise ModelError(f"log|y| is not log-linear: relative error {full / sst:.2g} with every term")
    limit = max(full * (1 + 2 * math.sqrt(2 / len(z))), 1e-24 * sst)
    keep = eliminate(
        list(range(len(cols))), np.abs(coef[:-1]), lambda k: rss(k)[0], limit, deadline, 1, MAX_FITS
    )
    _, coef = rss(keep)
    exponent = sp.Float(coef[-1]) + sp.Add(*[sp.Float(c / scale[k]) * cols[k] for c, k in zip(coef, keep)])
    return sign * sp.powsimp(sp.expand(sp.exp(exponent), power_exp=True), force=True)
