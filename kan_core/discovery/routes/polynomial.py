"""Sparse polynomials: every monomial up to degree 2 (3 for a few variables), then backward
elimination of the terms the fit does not need. Exact for sums of products (x₁y₁ + x₂y₂ + x₃y₃)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import sympy as sp

MAX_ROWS = 2000


def _terms(d: int) -> list[tuple[int, ...]]:
    """Exponent tuples of all monomials of degree 1..D (D = 3 for d ≤ 4, else 2)."""
    degree = 3 if d <= 4 else 2
    out = []
    for deg in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), deg):
            out.append(tuple(combo.count(i) for i in range(d)))
    return out


def sparse_polynomial(X: np.ndarray, y: np.ndarray, symbols: list[sp.Symbol], deadline: float) -> sp.Expr:
    """Least squares on all monomials, then drop terms one at a time while the error stays within
    the scatter of a mean square over n rows (2·√(2/n)) of the full fit's, or at round-off."""
    step = max(1, len(y) // MAX_ROWS)
    X, y = X[::step], y[::step]
    terms = _terms(X.shape[1])
    F = np.stack([np.prod(X ** np.array(t), axis=1) for t in terms], 1)
    scale = np.abs(F).max(0)
    A = np.hstack([F / scale, np.ones((len(y), 1))])
    keep = list(range(len(terms)))

    def rss(cols: list[int]) -> tuple[float, np.ndarray]:
        sub = A[:, cols + [len(terms)]]
        coef, *_ = np.linalg.lstsq(sub, y, rcond=None)
        r = y - sub @ coef
        return float(r @ r), coef

    full, _ = rss(keep)
    limit = max(full * (1 + 2 * math.sqrt(2 / len(y))), 1e-20 * float(np.sum((y - y.mean()) ** 2)))
    while len(keep) > 1 and time.perf_counter() < deadline:
        trials = []
        for drop in keep:  # one pass is |keep| least-squares fits: seconds for many inputs
            if time.perf_counter() > deadline:
                break
            trials.append((rss([c for c in keep if c != drop])[0], drop))
        if len(trials) < len(keep):
            break
        err, drop = min(trials)
        if err > limit:
            break
        keep.remove(drop)
    coef = rss(keep)[1]
    expr = sp.Float(coef[-1])
    for c, k in zip(coef, keep):
        expr += sp.Float(c / scale[k]) * sp.Mul(*[s**p for s, p in zip(symbols, terms[k]) if p])
    return expr
