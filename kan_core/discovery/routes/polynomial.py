"""Sparse polynomials: every monomial up to degree 6 in one variable, 4 in two, 3 in up to four
and 2 beyond (at most 34 candidate terms up to four inputs), then backward
elimination of the terms the fit does not need. Exact for sums of products (x₁y₁ + x₂y₂ + x₃y₃).

`transformed_polynomials` fits them to transforms of the target too (y², 1/y, 1/y², log|y|, …), so
that a distance √((x₁ − x₂)² + (y₁ − y₂)²), an inverse-square law 1/((x₁ − x₂)² + …) or a bell curve
centred on another input, exp(−(x − μ)²/s), is a polynomial in disguise."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

import numpy as np
import sympy as sp

from kan_core.discovery.noise import MIN_ROWS, neighbours, only_noise
from kan_core.errors import ModelError
from kan_core.symbolic.formula import evaluate

MAX_TERMS = 12  # an inexact polynomial with more terms than this is not returned
MAX_ROWS = 600  # the elimination solves |terms|² least-squares problems: rows cost time
MAX_FITS = 1000  # least-squares fits one elimination may make (~10-20 ms each on 600 rows)
TRANSFORMED_FITS = 200  # per transformed target (about 4 s of fits in all, two transforms)
SIGN_SLACK = 0.01  # the share of rows of the other sign left out of the transformed fits
ROWS_PER_TERM = 10  # rows per fitted monomial below which a noisy fit is not tested for noise
NOISY_FIT = 0.05  # a transform whose full fit leaves more of T(y)'s variance is not tested for noise


def _terms(d: int) -> list[tuple[int, ...]]:
    """Exponent tuples of all monomials of degree 1..D (D = 6, 4, 3, 3, then 2 for d = 1, 2, 3, 4, 5+)."""
    degree = {1: 6, 2: 4}.get(d, 3 if d <= 4 else 2)
    out = []
    for deg in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), deg):
            out.append(tuple(combo.count(i) for i in range(d)))
    return out


def eliminate(
    keep: list[int],
    size: np.ndarray,
    error: Callable[[list[int]], float],
    limit: float,
    deadline: float,
    min_terms: int,
    max_fits: int = MAX_FITS,
) -> list[int]:
    """Backward elimination: the round-off terms in one step (`drop_smallest`), then one term at a
    time — the one whose removal costs least — while `error(terms left)` stays ≤ `limit`.

    The work is capped by a count of fits (`max_fits`), so that the result does not depend on the
    machine's speed; `deadline` (a wall-clock outer limit) is checked between fits."""
    count = [0]

    def counted(cols: list[int]) -> float:
        count[0] += 1
        return error(cols)

    keep = drop_smallest(keep, size, lambda cols: counted(cols) <= limit)
    while len(keep) > min_terms and time.perf_counter() < deadline:
        if count[0] + len(keep) > max_fits:
            break  # a whole pass would pass the cap: stop between passes (the same on any machine)
        trials = []
        for drop in keep:
            if time.perf_counter() > deadline:
                return keep
            trials.append((counted([c for c in keep if c != drop]), drop))
        err, drop = min(trials)
        if err > limit:
            break
        keep = [c for c in keep if c != drop]
    return keep


def drop_smallest(keep: list[int], size: np.ndarray, fits: Callable[[list[int]], bool]) -> list[int]:
    """`keep` without its k smallest terms (by `size`, one per entry of keep), k as large as
    bisection finds with `fits(remaining)` still true: one step removes the many round-off terms
    of an exact fit, so backward elimination starts from the few that matter."""
    order = [keep[i] for i in np.argsort(size, kind="stable")]
    lo, hi = 0, len(keep) - 1  # lo terms can go (0 always can); more than hi never
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(sorted(order[mid:])):
            lo = mid
        else:
            hi = mid - 1
    return sorted(order[lo:])


def sparse_polynomial(
    X: np.ndarray, y: np.ndarray, symbols: list[sp.Symbol], deadline: float, max_fits: int = MAX_FITS
) -> sp.Expr:
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

    full, coef = rss(keep)
    sst = float(np.sum((y - y.mean()) ** 2)) or 1.0
    if full > 0.05 * sst:  # even every monomial leaves 5% of the variance (10% noise leaves ~1%)
        raise ModelError(
            f"no polynomial of degree ≤ {max(map(sum, terms))}: R² {1 - full / sst:.3g} with every term"
        )
    limit = max(full * (1 + 2 * math.sqrt(2 / len(y))), 1e-20 * float(np.sum((y - y.mean()) ** 2)))
    keep = eliminate(keep, np.abs(coef[:-1]), lambda cols: rss(cols)[0], limit, deadline, 1, max_fits)
    err, coef = rss(keep)
    if len(keep) > MAX_TERMS and err > 1e-3 * sst:
        # A long, inexact sum of monomials is no law, and refitting its many constants would
        # take the time of the routes that can find one.
        raise ModelError(f"no sparse polynomial: {len(keep)} terms leave {err / sst:.2g} of the variance")
    expr = sp.Float(coef[-1])
    for c, k in zip(coef, keep):
        expr += sp.Float(c / scale[k]) * sp.Mul(*[s**p for s, p in zip(symbols, terms[k]) if p])
    return in_differences(expr, symbols)


def transformed_polynomials(
    X: np.ndarray, y: np.ndarray, symbols: list[sp.Symbol], deadline: float, top: int = 2
) -> list[sp.Expr]:
    """T⁻¹(sparse polynomial fitted to T(y)) for the `top` target transforms T under which y is
    closest to a polynomial (a full least-squares fit's relative error decides; y itself excluded,
    which the plain polynomial route covers)."""
    from kan_core.discovery.routes.one_variable import target_transforms

    # A distance or a bell curve with noise dips below zero on a few rows: T(y) = y², 1/y, log y
    # are fitted on the rows of the sign of the rest (as the log routes do).
    major = y > 0 if np.mean(y > 0) >= 0.5 else y < 0
    X_all = X  # T⁻¹ must be defined on every row, the ones left out of the fit too
    if 0 < np.mean(~major) <= SIGN_SLACK:
        X, y = X[major], y[major]
    step = max(1, len(y) // MAX_ROWS)
    Xs, ys = X[::step], y[::step]
    terms = _terms(X.shape[1])
    F = np.stack([np.prod(Xs ** np.array(t), axis=1) for t in terms], 1)
    A = np.hstack([F / np.abs(F).max(0), np.ones((len(ys), 1))])
    # The noise test needs rows to spare: a full fit of many monomials to a small table leaves
    # residuals that look like noise whatever the law (log P a cubic in n, T, V on 160 rows).
    nn = neighbours(Xs) if len(ys) >= max(MIN_ROWS, ROWS_PER_TERM * A.shape[1]) else None
    ranked = []
    for name, forward, inverse in target_transforms(ys)[1:]:
        with np.errstate(all="ignore"):
            t = forward(ys)
        if not np.isfinite(t).all() or np.ptp(t) == 0:
            continue
        fitted = A @ np.linalg.lstsq(A, t, rcond=None)[0]
        r = t - fitted
        rel = float(r @ r) / float(np.sum((t - t.mean()) ** 2))
        noise = False
        if nn is not None and 1e-5 < rel <= NOISY_FIT:  # noisy data: the fit read back as y …
            back = _inverse_values(inverse, fitted)
            ok = np.isfinite(back)  # (a fitted y² may dip below 0 where the distance is ~0)
            if ok.mean() >= 1 - SIGN_SLACK:  # … leaves residuals with no structure in x
                noise = only_noise(np.where(ok, ys - back, 0.0), nn)[0]
        ranked.append((rel if rel <= 1e-5 or noise else math.inf, name, forward, inverse))
    ranked.sort(key=lambda item: item[:2])
    out = []
    # Only transforms under which y is a polynomial in disguise are worth the elimination: the fit
    # of every monomial to T(y) is exact (relative error ≤ 1e-5) or, read back as y, leaves
    # residuals with no structure in x (`only_noise`: noisy data); otherwise the route costs one
    # least-squares fit per transform. Each elimination gets TRANSFORMED_FITS fits.
    for _, _, forward, inverse in [r for r in ranked if math.isfinite(r[0])][:top]:
        if time.perf_counter() > deadline:
            break
        with np.errstate(all="ignore"):
            poly = sparse_polynomial(X, forward(y), symbols, deadline, TRANSFORMED_FITS)
            out.append(inverse(_defined(poly, inverse, symbols, X_all)))
    return out


def _inverse_values(inverse: Callable[[sp.Expr], sp.Expr], values: np.ndarray) -> np.ndarray:
    """T⁻¹ (a SymPy inverse transform) applied to numbers (NaN where it is undefined)."""
    e = sp.Symbol("e")
    with np.errstate(all="ignore"):
        return evaluate(inverse(e), [e], values[:, None])


def _defined(poly: sp.Expr, inverse: Callable[[sp.Expr], sp.Expr], symbols: list, X: np.ndarray) -> sp.Expr:
    """`poly` raised by a constant where T⁻¹(poly) is undefined on some rows (a fitted squared
    distance a hair below 0 where two points meet, on rows the fit did not see): the refit that
    follows gets no gradient from an undefined row, so it must start where the formula is defined."""
    with np.errstate(all="ignore"):
        values = evaluate(poly, symbols, X)
        if np.isfinite(_inverse_values(inverse, values)).all() or not np.isfinite(values).all():
            return poly
    return poly + sp.Float(max(-float(values.min()), 0.0) * (1 + 1e-6) + 1e-12 * float(np.abs(values).max()))


def in_differences(poly: sp.Expr, symbols: list[sp.Symbol], rel_tol: float = 1e-7) -> sp.Expr:
    """The polynomial rewritten in differences xᵢ − xⱼ where it depends on the pair only through
    them (translational symmetry, tested symbolically): x₁² − 2x₁x₂ + x₂² + … becomes (x₁ − x₂)² + ….

    xᵢ is replaced by u + xⱼ; when every term left with xⱼ has a coefficient under `rel_tol` × the
    largest (round-off of fitted floats), those terms are dropped and u stands for xᵢ − xⱼ.
    Returns `poly` unchanged when no pair qualifies.
    """
    present = [s for s in symbols if s in poly.free_symbols]
    out, diffs = sp.expand(poly), {}
    for si, sj in itertools.permutations(present, 2):
        if si not in out.free_symbols or sj not in out.free_symbols:
            continue
        u = sp.Dummy(f"d_{si.name}_{sj.name}")
        trial = sp.expand(out.subs(si, u + sj))
        terms = sp.Add.make_args(trial)
        biggest = max(abs(float(t.as_coeff_Mul()[0])) for t in terms)
        left = [t for t in terms if sj in t.free_symbols]
        if all(abs(float(t.as_coeff_Mul()[0])) <= rel_tol * biggest for t in left):
            out = sp.Add(*[t for t in terms if sj not in t.free_symbols])
            diffs[u] = si - sj
    if not diffs:
        return poly
    collected = sp.collect(out, list(diffs))
    return collected.xreplace(diffs)


def difference_form(expr: sp.Expr, symbols: list[sp.Symbol]) -> sp.Expr:
    """`expr` with every polynomial sum inside it rewritten by `in_differences`."""

    def polynomial_sum(e: sp.Expr) -> bool:
        return bool(e.is_Add) and len(e.free_symbols & set(symbols)) >= 2 and e.is_polynomial(*symbols)

    return expr.replace(polynomial_sum, lambda e: in_differences(e, symbols))
