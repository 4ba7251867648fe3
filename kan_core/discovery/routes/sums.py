"""One-variable laws the library's single edge functions cannot write: power sums with offsets,
sums of sinusoids and damped oscillations. Each is fitted by variable projection (Golub &
Pereyra 1973): the nonlinear parameters (exponents, angular frequencies, a decay rate) are
searched, and for each choice the linear ones (amplitudes, offset) come from least squares.

* power sums — y = c₁·x^p + c₂·x^q + d on positive x (0.7·x^−0.2 + 0.1, a/x⁶ − b/x¹²): every
  exponent pair on a grid (sixths in [−4, 4], integers to ±12), then a continuous refinement of
  the best pairs;
* sinusoids — y = Σ Aₖ·sin(ωₖ·x + φₖ) + d, up to three terms: frequencies seeded by the peaks of the
  Lomb–Scargle periodogram (`scipy.signal.lombscargle`, for unevenly spaced x) and refined together
  with SciPy's `least_squares`; so many periods across the data are found as easily as few;
* damped oscillations — y = A·e^(−λx)·sin(ω·x + φ) + d, seeded from the strongest frequency.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import sympy as sp
from scipy.optimize import least_squares
from scipy.signal import lombscargle

from kan_core.symbolic.periodic import frequency_grid

FIT_ROWS = 800
MIN_ROWS_PER_CONSTANT = 3
# The power-sum grid: sixths in [−4, 4] and the integers out to ±12 (0 excluded below).
EXPONENTS = np.unique(np.round(np.concatenate([np.arange(-24, 25) / 6, np.arange(-12, 13)]), 6))
MAX_SINES = 3
# A sinusoid with under half a radian of phase across the data, or with an amplitude far beyond
# the target's range (terms cancelling each other), is a polynomial in disguise, not a law:
# 8·10⁶·sin(0.0099·x) − 6·10⁶·sin(0.013·x) fits x³ + x² + x on [−1, 1] to round-off.
MIN_PHASE_SPAN = 0.5
MAX_AMPLITUDE_RATIO = 100.0


def _linear(F: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares coefficients of y on the columns of F (scaled for conditioning) and the RSS."""
    if not np.isfinite(F).all():  # a trial exponent overflowed: LAPACK would fail (and print)
        return np.full(F.shape[1], np.nan), math.inf
    scale = np.abs(F).max(0)
    scale[scale == 0] = 1.0
    coef, *_ = np.linalg.lstsq(F / scale, y, rcond=None)
    r = y - (F / scale) @ coef
    return coef / scale, float(r @ r)


def _cancelling(terms: np.ndarray, y: np.ndarray) -> bool:
    """Whether the terms (columns, each c·x^p over the rows) are each far larger than y's range
    (`MAX_AMPLITUDE_RATIO`) and so mostly cancel: −859380·x^0.70186 + 859380·x^0.70185."""
    return bool(np.abs(terms).max() > MAX_AMPLITUDE_RATIO * (np.ptp(y) or 1.0))


def power_sums(x: np.ndarray, y: np.ndarray, symbol: sp.Symbol, deadline: float) -> list[sp.Expr]:
    """The best y = c·x^p + d and y = c₁·x^p + c₂·x^q + d (x > 0), as SymPy expressions."""
    if not (x > 0).all():
        return []
    step = max(1, len(y) // FIT_ROWS)
    x, y = x[::step], y[::step]
    logx = np.log(x)
    grid = [p for p in EXPONENTS if p != 0 and np.isfinite(np.exp(p * logx)).all()]
    ones = np.ones_like(x)
    singles = sorted((_linear(np.column_stack([np.exp(p * logx), ones]), y)[1], p) for p in grid)
    pairs: list[tuple[float, float, float]] = []
    # Two powers and an offset are 5 constants: on a tiny table they fit anything.
    for p, q in itertools.combinations(grid, 2) if len(y) >= 5 * MIN_ROWS_PER_CONSTANT else ():
        if time.perf_counter() > deadline:
            break
        F = np.column_stack([np.exp(p * logx), np.exp(q * logx), ones])
        pairs.append((_linear(F, y)[1], p, q))
    pairs.sort()

    def refine(start: tuple[float, ...]) -> tuple[float, ...]:
        def resid(e: np.ndarray) -> np.ndarray:
            F = np.column_stack([*(np.exp(v * logx) for v in e), ones])
            coef, rss = _linear(F, y)
            return y - F @ coef if math.isfinite(rss) else penalty

        penalty = np.full_like(y, 1e10 * (float(np.abs(y).max()) + 1.0))
        with np.errstate(all="ignore"):
            fit = least_squares(resid, np.array(start), max_nfev=200)
        return tuple(fit.x) if np.isfinite(fit.cost) else start

    out = []
    for start in [singles[0][1:]] + [t[1:] for t in pairs[:2]]:
        if time.perf_counter() > deadline:
            break
        exps = refine(start)
        F = np.column_stack([*(np.exp(v * logx) for v in exps), ones])
        coef, _ = _linear(F, y)
        if len(exps) == 2 and _cancelling(F[:, :2] * coef[:2], y):
            continue  # c·(x^p − x^q) with p ≈ q: a log or a bend in disguise, not two powers
        expr = sp.Float(coef[-1]) + sum(sp.Float(c) * symbol ** sp.Float(e) for c, e in zip(coef, exps))
        out.append(expr)
    return out


def sinusoids(x: np.ndarray, y: np.ndarray, symbol: sp.Symbol, deadline: float) -> list[sp.Expr]:
    """Sums of 1..3 sinusoids plus an offset, and one damped sinusoid, fitted to (x, y)."""
    step = max(1, len(y) // FIT_ROWS)
    x, y = x[::step], y[::step]
    if float(np.ptp(x)) <= 0 or len(y) < 8:
        return []
    freqs = frequency_grid(x)
    ones = np.ones_like(x)

    def design(omegas: np.ndarray) -> np.ndarray:
        return np.column_stack([f(w * x) for w in omegas for f in (np.sin, np.cos)] + [ones])

    def resid(omegas: np.ndarray) -> np.ndarray:
        F = design(omegas)
        return y - F @ _linear(F, y)[0]

    out, omegas = [], np.zeros(0)
    r = y - y.mean()
    for _ in range(MAX_SINES):
        if time.perf_counter() > deadline:
            break
        power = lombscargle(x, r, freqs)
        omegas = np.append(omegas, freqs[int(np.argmax(power))])
        with np.errstate(all="ignore"):
            omegas = least_squares(resid, omegas, max_nfev=300).x
        r = resid(omegas)
        coef = _linear(design(omegas), y)[0]
        if _degenerate(omegas, coef, float(np.ptp(x)), float(np.ptp(y))):
            break
        out.append(_sine_expr(omegas, coef, symbol))
        if float(r @ r) <= 1e-20 * float(np.sum((y - y.mean()) ** 2)):
            break
    if len(out) and time.perf_counter() < deadline:
        out.append(_damped(x, y, float(omegas[0]), symbol))
    return out


def _degenerate(omegas: np.ndarray, coef: np.ndarray, span: float, y_range: float) -> bool:
    """Whether a term is too slow to be a sinusoid or the amplitudes cancel (see MIN_PHASE_SPAN)."""
    amps = np.hypot(coef[0:-1:2], coef[1:-1:2])
    slow = np.abs(omegas) * span < MIN_PHASE_SPAN
    return bool(slow.any() or (amps > MAX_AMPLITUDE_RATIO * y_range).any())


def _sine_expr(omegas: np.ndarray, coef: np.ndarray, symbol: sp.Symbol) -> sp.Expr:
    """Σ A·sin(ω·x + φ) + d from the sine/cosine coefficients (a·sin + b·cos = A·sin(· + φ))."""
    expr = sp.Float(coef[-1])
    for k, w in enumerate(omegas):
        a, b = coef[2 * k], coef[2 * k + 1]
        amp, phase = float(np.hypot(a, b)), float(np.arctan2(b, a))
        expr += sp.Float(amp) * sp.sin(sp.Float(w) * symbol + sp.Float(phase))
    return expr


def _damped(x: np.ndarray, y: np.ndarray, omega: float, symbol: sp.Symbol) -> sp.Expr:
    """A·e^(−λx)·sin(ω·x + φ) + d, with (λ, ω) refined from (0, the strongest frequency)."""
    ones = np.ones_like(x)
    x0 = float(x.min())

    def design(p: np.ndarray) -> np.ndarray:
        env = np.exp(-p[0] * (x - x0))
        return np.column_stack([env * np.sin(p[1] * x), env * np.cos(p[1] * x), ones])

    def resid(p: np.ndarray) -> np.ndarray:
        F = design(p)
        return y - F @ _linear(F, y)[0]

    with np.errstate(all="ignore"):
        lam, w = least_squares(resid, np.array([0.0, omega]), max_nfev=300).x
    a, b, d = _linear(design(np.array([lam, w])), y)[0]
    amp = float(np.hypot(a, b)) * float(np.exp(lam * x0))  # fold e^(λ·x0) into the amplitude
    phase = float(np.arctan2(b, a))
    envelope = sp.exp(-sp.Float(lam) * symbol)
    return sp.Float(amp) * envelope * sp.sin(sp.Float(w) * symbol + sp.Float(phase)) + sp.Float(d)
