"""Ratios of sums: y = P(x)/Q(x) with P, Q sparse polynomials (degree ≤ 2).

y·Q(x) = P(x) is linear in the coefficients of P and Q, so the fit is one homogeneous least-squares
problem: the right singular vector of [M_P, −y·M_Q] with the smallest singular value (columns
scaled to unit norm). Terms are then dropped one at a time (backward elimination, as the
polynomial route does) while the error of P/Q itself stays within the scatter of the full fit's.
Exact for weighted averages (w₁x₁ + w₂x₂)/(w₁ + w₂), 2ab/(a + b), V·S/(K + S), (a + b)/(1 + ab).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import sympy as sp

from kan_core.discovery.routes.polynomial import MAX_TERMS, eliminate, in_differences
from kan_core.errors import ModelError

MAX_ROWS = 1000
SK_STEPS = 6  # reweighting passes before the elimination (each one SVD); one more per subset
ELIMINATION_FITS = 300  # SVD fits the elimination may make (~10-20 ms each): a count, not seconds


def _monomials(d: int, degree: int) -> list[tuple[int, ...]]:
    """Exponent tuples of every monomial of degree 0..`degree` in d variables."""
    out = []
    for deg in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), deg):
            out.append(tuple(combo.count(i) for i in range(d)))
    return out


def _solve(A: np.ndarray, cols: list[int]) -> np.ndarray:
    """Unit-norm coefficients c (over `cols`) minimising |A[:, cols]·c|."""
    return np.linalg.svd(A[:, cols], full_matrices=False)[2][-1]


def sparse_rational(X: np.ndarray, y: np.ndarray, symbols: list[sp.Symbol], deadline: float) -> sp.Expr:
    """The sparse ratio P/Q (degree ≤ 2 each) that fits (X (n, d), y (n,)), as a SymPy expression.

    Raises
    ------
    ValueError
        When no ratio with a denominator that keeps away from zero on the data fits.
    """
    step = max(1, len(y) // MAX_ROWS)
    X, y = X[::step], y[::step]
    terms = _monomials(X.shape[1], 2)
    M = np.stack([np.prod(X ** np.array(t), axis=1) for t in terms], 1)
    raw = np.hstack([M, -y[:, None] * M])
    norms = np.linalg.norm(raw, axis=0)
    norms[norms == 0] = 1.0
    A = raw / norms
    n_p = len(terms)
    # y·Q − P weighs each row by |Q|: on noisy y the fit chases the rows where Q is large, far
    # from the least squares of y − P/Q. Sanathanan–Koerner iterations reweigh the rows by the
    # last Q (IEEE Trans. Autom. Control 8, 1963, 56–58): (y·Q − P)/|Q_prev| ≈ y − P/Q.
    for _ in range(SK_STEPS):
        c_all = _solve(A, list(range(A.shape[1])))
        den = np.abs(M @ (c_all[n_p:] / norms[n_p:]))
        if not np.isfinite(den).all() or den.min() <= 1e-6 * den.max():
            break
        A = raw / norms / (den / np.median(den))[:, None]

    def error(cols: list[int]) -> tuple[float, np.ndarray]:
        """MSE of P/Q with only these columns (∞ when Q is empty or comes near zero), and c."""
        c = np.zeros(A.shape[1])
        c[cols] = _solve(A, cols)
        den = M @ (c[n_p:] / norms[n_p:])
        if not any(k >= n_p for k in cols) or np.min(np.abs(den)) <= 1e-9 * np.abs(den).max():
            return math.inf, c
        # One more reweighting by this subset's own Q (its P/Q differs from the full fit's).
        c[cols] = _solve(raw / norms / (np.abs(den) / np.median(np.abs(den)))[:, None], cols)
        den = M @ (c[n_p:] / norms[n_p:])
        if np.min(np.abs(den)) <= 1e-9 * np.abs(den).max():
            return math.inf, c
        with np.errstate(all="ignore"):
            r = y - (M @ (c[:n_p] / norms[:n_p])) / den
        mse = float(np.mean(r * r))
        return (mse if math.isfinite(mse) else math.inf), c

    keep = list(range(A.shape[1]))
    full, c_full = error(keep)
    if not math.isfinite(full):
        raise ValueError("no ratio of polynomials with a denominator away from zero fits the data")
    if full > 0.05 * float(np.var(y)):  # every term leaves 5% of the variance: no ratio of sums
        raise ModelError(f"no ratio of polynomials: R² {1 - full / float(np.var(y)):.3g} with every term")
    limit = max(full * (1 + 2 * math.sqrt(2 / len(y))), 1e-24 * float(np.var(y) or 1.0))
    keep = eliminate(keep, np.abs(c_full), lambda cols: error(cols)[0], limit, deadline, 2, ELIMINATION_FITS)
    err, c = error(keep)
    if len(keep) > MAX_TERMS and err > 1e-3 * float(np.var(y)):  # a long, inexact ratio is no law
        raise ModelError(
            f"no sparse ratio of polynomials: {len(keep)} terms leave {err / float(np.var(y)):.2g}"
        )
    c = c / norms
    # Scale so that the denominator's highest-degree term (the largest, among equals) reads 1·term.
    lead = max((k for k in keep if k >= n_p), key=lambda k: (sum(terms[k - n_p]), abs(c[k])))
    c = c / c[lead]
    num = sp.Add(*[sp.Float(c[k]) * _term(terms[k], symbols) for k in keep if k < n_p])
    # The lead term's 1 is exact: as a float it would be a free scale of P and Q alike, along
    # which the constants' refit drifts (0.00016·S·V/(0.00016·K + 0.00016·S)) and nothing snaps.
    den = sp.Add(
        *[
            (sp.Integer(1) if k == lead else sp.Float(c[k])) * _term(terms[k - n_p], symbols)
            for k in keep
            if k >= n_p
        ]
    )
    return sp.Mul(in_differences(num, symbols), sp.Pow(in_differences(den, symbols), -1))


def _term(exps: tuple[int, ...], symbols: list[sp.Symbol]) -> sp.Expr:
    return sp.Mul(*[s**p for s, p in zip(symbols, exps) if p])
