"""A network to start from, read off the data by discovery's quick screens (milliseconds).

The studio's "Suggest network" button: hidden widths, the log-space switch and the grid, with
one line saying why. In order:

1. columns that carry the same information (`screen.duplicate_columns`) are named;
2. positive inputs and a target of one sign whose log is linear in the logs of the inputs
   (least squares, R² ≥ `LOG_R2`): a product of powers, which log space turns into a sum —
   no hidden layer ([d, 1]) on log|y| against log x;
3. one input with a strong periodogram peak (`symbolic.periodic`): a sine, or, when a decaying
   envelope fits much better, a damped sine as the product of two functions of x
   ([1, [0, 1], 1]); the grid is sized to the number of periods so the spline can follow them;
4. a target additive in its inputs (a cubic in each, no cross terms) needs no hidden layer;
   one that also needs cross terms (a quadratic with them fits) gets a sum and a product node;
5. otherwise the studio's default of 5 hidden nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from kan_core.discovery.screen import duplicate_columns
from kan_core.symbolic.periodic import periodogram_peaks

LOG_R2 = 0.999
GOOD_R2 = 0.999
SINE_R2 = 0.5  # a single sinusoid must explain this share of the variance to call y an oscillation
GRID_PER_PERIOD = 6
MAX_GRID = 100


@dataclass
class Suggestion:
    """Widths text for the Train page, the log-space switch, the grid, and why."""

    hidden: str
    log_space: bool
    grid: int
    why: str
    notes: list[str] = field(default_factory=list)


def _r2(A: np.ndarray, y: np.ndarray) -> float:
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    r = y - A @ coef
    sst = float(np.sum((y - y.mean()) ** 2)) or 1.0
    return 1.0 - float(r @ r) / sst


def _oscillation(x: np.ndarray, y: np.ndarray) -> Suggestion | None:
    """A sine or damped sine when one periodogram peak explains most of y."""
    peaks = periodogram_peaks(x, y, 1)
    if not len(peaks):
        return None
    w, ones = float(peaks[0]), np.ones_like(x)
    sine = _r2(np.column_stack([np.sin(w * x), np.cos(w * x), ones]), y)
    if sine < SINE_R2:
        return None
    periods = w * float(np.ptp(x)) / (2 * math.pi)
    grid = int(min(MAX_GRID, max(5, math.ceil(GRID_PER_PERIOD * periods))))
    # A decaying envelope: the best rate on a small grid, amplitudes by least squares.
    t = (x - x.min()) / float(np.ptp(x))
    damped = max(
        _r2(np.column_stack([np.exp(-r * t) * np.sin(w * x), np.exp(-r * t) * np.cos(w * x), ones]), y)
        for r in np.linspace(0.1, 5.0, 25)
    )
    if 1 - damped < 0.5 * (1 - sine) and damped > GOOD_R2 - 0.05:
        why = (
            f"an oscillation of {periods:.1f} periods whose amplitude decays (a damped sine fits R² "
            f"{damped:.3f}, a plain sine {sine:.3f}): the product of two functions of the input, "
            f"grid {grid} for the periods; Discover (Formula page) fits c·e^(−a·x)·sin(b·x + φ) directly"
        )
        return Suggestion("[0, 1]", False, grid, why)
    why = f"an oscillation of {periods:.1f} periods (a sine fits R² {sine:.3f}): one edge, grid {grid}"
    return Suggestion("", False, grid, why)


def suggest_network(X: np.ndarray, y: np.ndarray, names: list[str]) -> Suggestion:
    """The network to try first on (X, y).

    Parameters
    ----------
    X : ndarray, shape (n, d)
        Inputs in data units.
    y : ndarray, shape (n,)
        Target.
    names : list of str, length d
        Column names, for the notes.

    Returns
    -------
    Suggestion
        `hidden` for the Train page's widths field ("" = no hidden layer, "[0, 1]" = one
        multiplication node), `log_space`, `grid`, and `why` (one line).
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    step = max(1, len(y) // 2000)
    X, y = X[::step], y[::step]
    n, d = X.shape
    _, notes = duplicate_columns(X, y, names)
    ones = np.ones((n, 1))
    if (X > 0).all() and ((y > 0).all() or (y < 0).all()):
        r2 = _r2(np.column_stack([ones, np.log(X)]), np.log(np.abs(y)))
        if r2 >= LOG_R2:
            why = (
                f"log|{names[-1] if d == 1 else 'y'}| is linear in the logs of the inputs (R² {r2:.5f}): "
                "a product of powers, which Log-space turns into a sum of one edge per input"
            )
            return Suggestion("", True, 5, why, notes)
    if d == 1:
        osc = _oscillation(X[:, 0], y)
        if osc is not None:
            osc.notes = notes
            return osc
    additive = _r2(np.column_stack([ones] + [X[:, [j]] ** p for j in range(d) for p in (1, 2, 3)]), y)
    if additive >= GOOD_R2:
        return Suggestion(
            "", False, 5, f"additive in its inputs (a cubic in each fits R² {additive:.4f})", notes
        )
    cross = [X[:, a] * X[:, b] for a in range(d) for b in range(a + 1, d)]
    if cross:
        quad = _r2(np.column_stack([ones, X, X**2, *cross]), y)
        if quad >= GOOD_R2:
            why = f"a sum with products of inputs (a quadratic with cross terms fits R² {quad:.4f})"
            return Suggestion("[1, 1]", False, 5, why, notes)
    return Suggestion("5", False, 5, "no simple structure found by the quick screens: 5 hidden nodes", notes)
