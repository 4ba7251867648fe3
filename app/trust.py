"""How far to trust a formula, in plain Python for the Formula page and the report: reliable or not,
the better of two sources, the data's box and where the formula is undefined in it."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kan_core.discovery.search import Result
from kan_core.symbolic.formula import evaluate

DEFAULT_R2 = 0.99
BOX_POINTS = 4000  # random points (plus every corner, up to 6 inputs) to probe the data's box
EXTEND = 0.5  # the along-one-input plot reaches this share of the range beyond each end


def _r2(res: Result) -> float:
    m = res.metrics
    for key in ("val_r2", "train_r2"):
        v = m.get(key)
        if v is not None and math.isfinite(float(v)):
            return float(v)
    return -math.inf


def unreliable(res: Result, threshold: float = DEFAULT_R2) -> str | None:
    """Why the best formula is not a find ("no reliable formula: …"), or None when it is one:
    discovery's verdict is "no law", or the validation R² is below `threshold`."""
    if res.verdict == "no law":
        why = res.verdict_reason or "nothing beats the mean of the target on held-out rows"
        return f"no reliable formula: {why}"
    r2 = _r2(res)
    if not r2 >= threshold:
        return (
            f"no reliable formula: validation R² {r2:.4g} is below {threshold:g}; the best candidate "
            "is shown for inspection only (train longer, snap differently, or run Discover)"
        )
    return None


def better_source(results: dict[str, Result], threshold: float = DEFAULT_R2) -> int:
    """Index (in `results`' order) of the source to show first: a reliable one, then the higher
    validation R², then the simpler best formula."""
    ranked = [
        (unreliable(r, threshold) is None, round(_r2(r), 6), -r.best.complexity) for r in results.values()
    ]
    return max(range(len(ranked)), key=lambda i: ranked[i])


def box_problems(res: Result, X: np.ndarray, seed: int = 0) -> str | None:
    """Where in the data's box (each input between its min and max) the formula is undefined,
    infinite or complex (√ or log of a negative, a division by zero), in one line; None if nowhere.
    Probed at every corner (up to 6 inputs) and `BOX_POINTS` uniform random points."""
    lo, hi = X.min(0), X.max(0)
    d = X.shape[1]
    rng = np.random.default_rng(seed)
    pts = [lo + (hi - lo) * rng.random((BOX_POINTS, d))]
    if d <= 6:
        corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d)).reshape(d, -1).T
        pts.append(lo + (hi - lo) * corners)
    P = np.vstack(pts + [X])
    values = evaluate(res.best.expr, res.symbols, P)
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    where = P[np.argmax(bad)]
    at = ", ".join(f"{n} = {v:.4g}" for n, v in zip(res.variables, where))
    share = bad[: -len(X)].mean() if len(P) > len(X) else bad.mean()
    in_data = int(bad[-len(X) :].sum())
    rows = f"; {in_data} of the data's rows too" if in_data else ""
    return (
        f"the formula is undefined or infinite in {share:.1%} of the data's box (e.g. at {at}){rows}: "
        "a √ or log of a negative, or a division by zero"
    )


def data_box(X: np.ndarray, names: list[str]) -> str:
    """Where the data ends: each input's range, in one line."""
    return "; ".join(f"{n} from {a:.4g} to {b:.4g}" for n, a, b in zip(names, X.min(0), X.max(0)))


def along_input(res: Result, X: np.ndarray, j: int, points: int = 200) -> dict[str, np.ndarray]:
    """The formula along input j, the others held at their medians, over the data's range extended
    by `EXTEND` of it on each side (clipped at 0 for an input that is positive in the data)."""
    lo, hi = float(X[:, j].min()), float(X[:, j].max())
    span = hi - lo or max(abs(lo), 1.0)
    a, b = lo - EXTEND * span, hi + EXTEND * span
    if lo > 0:
        a = max(a, lo / 10)
    xs = np.linspace(a, b, points)
    P = np.tile(np.median(X, 0), (points, 1))
    P[:, j] = xs
    return {"x": xs, "y": evaluate(res.best.expr, res.symbols, P), "lo": np.array(lo), "hi": np.array(hi)}


def constant_unit_texts(res) -> Callable[[float], str] | None:
    """value → its unit's text ("J/(K·mol)") for the best formula's constants, or None when the
    formula's columns have no units (`Result.constant_units`)."""
    pairs = res.constant_units() if hasattr(res, "constant_units") else []
    if not pairs:
        return None

    def unit(value: float) -> str:
        near = [u for v, u in pairs if abs(v - value) <= 1e-9 * max(abs(v), 1e-300)]
        return near[0] if near else "1"

    return unit
