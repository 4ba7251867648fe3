"""Constants of a formula: refit them on the data, snap them to simple values (0, p/q, p/q·π)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from scipy.optimize import least_squares

from kan_core._runtime import Overtime, time_limited
from kan_core.errors import ModelError
from kan_core.symbolic.formula import (
    MAX_COMPLEXITY,
    canonical,
    complexity,
    lambdify,
    sympy_seconds,
    tidy,
)

MAX_ROWS = 2000  # constants are refit on at most this many rows (evenly spaced)
SNAP_LEVEL = 0.01  # a snap the F-test rejects at this level is refused (`ConstantFit.snap_tolerance`)
SNAP_FLOOR = 1e-3  # a snap may always raise the MSE by this share (round-off of exact fits)


def nice_values(v: float, max_den: int = 12, max_num: int = 60, pi_forms: bool = True) -> list[sp.Expr]:
    """0 (a dropped term), then p/q within 2% of v and p/q·π, p/(q·π), p/q·π² (p ≤ 12) within 0.5%.

    Simplest = smallest denominator, π counting as 3 more: the refit accepts the first that does
    not make the error worse, so 1.9993 becomes 2, not the closer 7π/11. `pi_forms=False` gives
    fractions only (exponents: a power of 11/(4π) is no law).
    """
    out: dict[sp.Expr, tuple] = {}
    # π-forms are physics' small factors (2π, 1/(4π), π²/3): closer (0.5%) and p ≤ 12, or a
    # noisy slope such as Hubble's 477.8 km/s/Mpc reads as 48·π².
    forms = [(sp.Integer(1), 0, 0.02, max_num)]
    if pi_forms:
        forms += [(sp.pi, 3, 0.005, 12), (1 / sp.pi, 3, 0.005, 12), (sp.pi**2, 4, 0.005, 12)]
    for unit, cost, window, top in forms:
        for den in range(1, max_den + 1):
            num = round(v / float(unit) * den)
            val = sp.Rational(num, den) * unit
            if num and abs(num) <= top and abs(float(val) - v) <= window * abs(v) and val not in out:
                out[val] = (sp.fraction(sp.Rational(num, den))[1] + cost, abs(float(val) - v))
    return [sp.Integer(0)] + sorted(out, key=lambda val: out[val])


class _Late(Exception):
    """The refit ran past its deadline."""


@dataclass
class Fitted:
    """A formula with its constants fitted: `expr` is exact where snapped, floats elsewhere."""

    expr: sp.Expr
    mse: float
    steps: list[sp.Expr] = field(default_factory=list)  # simpler variants met on the way


class ConstantFit:
    """The constants of one expression as parameters: refit them, snap them to nice values."""

    def __init__(
        self, expr: sp.Expr, symbols: list[sp.Symbol], X: np.ndarray, y: np.ndarray, relative: bool = False
    ):
        step = max(1, len(X) // MAX_ROWS)
        self.X, self.y = np.asarray(X, float)[::step], np.asarray(y, float)[::step]
        # Relative residuals for positive targets spanning decades (multiplicative errors).
        self.relative = relative
        self.weight = 1.0 / np.abs(self.y) if relative else np.ones_like(self.y)
        self.floats = sorted(expr.atoms(sp.Float), key=lambda f: -abs(float(f)))
        self.params = sp.symbols(f"_k0:{len(self.floats)}")
        self.template = expr.xreplace(dict(zip(self.floats, self.params)))
        self.fn = lambdify([*symbols, *self.params], self.template)
        # Constants in an exponent (x**1.0065): snapped before the prefactors, which absorb what an
        # exponent's drift did (8.01·T**1.0065 is 8.314·T over T's range: snapping 8.01 → 8
        # first would lock the drift in).
        in_exp = set().union(*(p.exp.free_symbols for p in self.template.atoms(sp.Pow)))
        self.exponents = {k for k, p in enumerate(self.params) if p in in_exp}
        self.values = np.array([float(f) for f in self.floats])
        self.exact: dict[int, sp.Expr] = {}
        self.scale = float(np.mean(((self.y - self.y.mean()) * self.weight) ** 2)) or 1.0
        self.deadline = math.inf  # refits stop here, keeping the best constants seen

    def reweight(self) -> None:
        """Weights from the current fit's residuals: relative (1/|ŷ|) or absolute (1).

        A positive target over decades starts with relative errors (weights 1/|y|). Those suit
        multiplicative noise; under additive noise they weigh the smallest values, which are
        the noisiest relative to themselves, most (an exponent of 3/4 came out 0.754 on 2,000
        rows at 1% noise). The residuals tell which: the slope of log|r| on log|ŷ| is 1 for
        multiplicative noise (and for round-off of an exact fit) and 0 for additive noise; under
        1/2 the fit switches to absolute errors. Relative ones are then measured against ŷ, not
        the noisy y, whose errors the weights 1/|y| would correlate with (Carroll & Ruppert,
        Transformation and Weighting in Regression, 1988, Sec. 2.2).
        """
        if not self.relative:
            return
        with np.errstate(all="ignore"):
            fitted = np.broadcast_to(np.asarray(self.fn(*self.X.T, *self.values), float), self.y.shape)
            pred, r = np.abs(fitted), np.abs(self.y - fitted)
        if not (np.isfinite(pred).all() and (pred > 0).all() and (r > 0).sum() > 10):
            return
        ok = r > 0
        slope = np.polyfit(np.log(pred[ok]), np.log(r[ok]), 1)[0]
        if slope < 0.5:
            self.weight = np.ones_like(self.y)
        else:
            self.weight = 1.0 / np.maximum(pred, 1e-3 * float(np.abs(self.y).max()))
        self.scale = float(np.mean(((self.y - self.y.mean()) * self.weight) ** 2)) or 1.0

    def residual(self, values: np.ndarray) -> np.ndarray:
        """Prediction minus target on the fitting rows (large where the formula is undefined)."""
        with np.errstate(all="ignore"):
            out = self.fn(*self.X.T, *values)
        r = (np.broadcast_to(np.asarray(out, float), self.y.shape) - self.y) * self.weight
        return np.where(np.isfinite(r), r, 1e3 * math.sqrt(self.scale))

    def mse(self, values: np.ndarray | None = None) -> float:
        """Mean squared error with the given (default: current) constants."""
        r = self.residual(self.values if values is None else values)
        return float(np.mean(r * r))

    def refit(self, max_nfev: int = 200) -> float:
        """Least squares over the constants not snapped yet; keeps the better of before/after."""
        free = [k for k in range(len(self.values)) if k not in self.exact]
        if free:
            seen: list[Any] = [math.inf, self.values[free]]

            def res(p: np.ndarray) -> np.ndarray:
                if time.perf_counter() > self.deadline:
                    raise _Late
                v = self.values.copy()
                v[free] = p
                r = self.residual(v)
                cost = float(r @ r)
                if cost < seen[0]:
                    seen[:] = [cost, p.copy()]
                return r

            try:
                with np.errstate(all="ignore"):  # trial constants may overflow: the fit steps back
                    best = least_squares(res, self.values[free], method="trf", max_nfev=max_nfev).x
            except _Late:  # a big formula late in the budget: the best constants so far will do
                best = seen[1]
            trial = self.values.copy()
            trial[free] = best
            if self.mse(trial) <= self.mse():
                self.values = trial
        return self.mse()

    def _try(
        self, snaps: dict[int, sp.Expr], best: float, rel_tol: Callable[[int], float]
    ) -> tuple[float | None, sp.Expr]:
        """Fix these constants and refit the rest. Keeps the change when the error grows by at most
        rel_tol(k) over `best` (k: every constant fixed so far, this one included — the joint
        test of all the snaps), returning the new loss, else undoes it (None); also returns the
        tried formula."""
        saved_values, saved_exact = self.values.copy(), dict(self.exact)
        for k, value in snaps.items():
            self.values[k] = float(value)
            self.exact[k] = value
        loss, tried = self.refit(max_nfev=50), self.expr()
        slack = 1e-12 * self.scale
        # Snapping a formula down to a constant is never a find (the constant is a candidate of its
        # own): under relative errors, 0 can beat a formula that is poor where y is tiny.
        if loss <= best * (1 + rel_tol(len(self.exact))) + slack and tried.free_symbols:
            return loss, tried
        self.values, self.exact = saved_values, saved_exact
        return None, tried

    def _without(self, k: int) -> sp.Expr:
        """The formula with constant k's term dropped and the other prefactors refit, their snaps
        undone: a snap accepted while that term could absorb its cost (25/3 for a slope of 8.314,
        next to an offset) must not survive into the simpler formula the data rejects it in.
        Snapped exponents stay: a law's powers are small rationals far more often than its
        prefactors, which carry the units (P ∝ a^(3/2) on Kepler's six rounded rows, whose least
        squares prefer a^1.503)."""
        saved_values, saved_exact = self.values.copy(), dict(self.exact)
        self.values[k] = 0.0
        kept = {j: v for j, v in saved_exact.items() if j in self.exponents or v == 0}  # dropped stay dropped
        self.exact = kept | {k: sp.Integer(0)}
        self.refit(max_nfev=50)
        out = self.expr()
        self.values, self.exact = saved_values, saved_exact
        return out

    def snap_tolerance(self, fixed: int = 1) -> float:
        """How much `fixed` snapped constants in all may raise the refit MSE, relative to the
        lowest seen (≥ 0.1%).

        The stricter of two rules. An F-test of the snaps as a nested model (those constants
        fixed, the rest refit on the same rows): (ΔRSS / k) / (RSS / (n − p)) ~ F(k, n − p) when
        the simple values are the truth, so snaps whose joint cost passes the 1% point are
        refused — 25/3 for a gas constant of 8.314 at 0.5% noise on 200 rows costs ~20% and is
        refused, while 2 for a slope of 2.0 costs ~1/n (Seber & Lee, Linear Regression Analysis,
        2nd ed., Sec. 4.3). The cost is measured from the unsnapped fit, so k counts every
        constant fixed so far: four true snaps cost χ²₄, which a one-constant bound refuses one
        time in six. And twice the relative scatter of a mean square over n rows, 2·√(2/n), the
        looser bound that alone serves tiny tables (six rows: the F-test would accept a 500% rise).
        """
        from scipy.stats import f as f_dist

        n, p, k = len(self.y), len(self.values), max(fixed, 1)
        scatter = 2 * math.sqrt(2 / max(n, 1))
        if n - p < 1:
            return max(SNAP_FLOOR, scatter)
        f_test = k * float(f_dist.ppf(1 - SNAP_LEVEL, k, n - p)) / (n - p)
        return max(SNAP_FLOOR, min(scatter, f_test))

    def snap(self, rel_tol: float | None = None, deadline: float = math.inf) -> list[sp.Expr]:
        """Snap each constant to a nice value when the refit error does not get worse.

        "Worse" means more than rel_tol above the lowest error seen; by default `snap_tolerance`
        (an F-test at the 1% level of all the snaps so far, at most 2·√(2/n)): on noisy data a
        snap that costs less than the noise explains is kept (x**1.0017 → x), a simple value the
        data rules out is not (8.314 stays 8.314, not 25/3), and on exact data a wrong snap
        raises the error by orders of magnitude. Returns the expression after every accepted
        snap (simpler variants for the Pareto front); stops at `deadline`.
        """
        tol = self.snap_tolerance if rel_tol is None else (lambda fixed: rel_tol)
        variants = []
        best = self.mse()

        def free() -> list[int]:
            return [k for k in range(len(self.values)) if k not in self.exact]

        # Whole groups first, one refit each: round-off terms (x·y + 1e-16·x is x·y), then every
        # constant already within 0.01% of a simple value (exponents 1.000002, 0.49999).
        top = float(np.max(np.abs(self.values))) if len(self.values) else 0.0
        groups = [
            {k: sp.Integer(0) for k in free() if abs(self.values[k]) < share * top} for share in (1e-9, 1e-6)
        ]
        near = {k: nice_values(float(self.values[k]), pi_forms=k not in self.exponents)[1:2] for k in free()}
        groups.append(
            {
                k: v[0]
                for k, v in near.items()
                if v and abs(float(v[0]) - self.values[k]) <= 1e-4 * abs(self.values[k])
            }
        )
        for group in groups:
            if group and time.perf_counter() < deadline:
                loss, _ = self._try(group, best, tol)
                if loss is not None:
                    best = min(best, loss)
                    variants.append(self.expr())
        for k in sorted(free(), key=lambda k: k not in self.exponents):
            if time.perf_counter() > deadline:
                break
            for cand in nice_values(float(self.values[k]), pi_forms=k not in self.exponents):
                loss, tried = self._try({k: cand}, best, tol)
                if cand == 0 and loss is None:  # dropping a term is a simpler variant either way
                    variants.append(self._without(k))
                elif loss is not None:
                    variants.append(tried)
                if loss is not None:
                    best = min(best, loss)
                    break
        return variants

    def expr(self) -> sp.Expr:
        """The expression with snapped constants exact and the others as floats.

        A float within round-off (1e-9 relative) of a non-zero integer is that integer: x**2.0 reads
        x**2 (tiny values are left alone: 6.7e-11 may be a physical constant, not round-off).
        """

        def value(k: int) -> sp.Expr:
            v = float(self.values[k])
            if 0.5 <= abs(v) < 1e6 and abs(v - round(v)) <= 1e-9 * abs(v):
                return sp.Integer(round(v))
            return sp.Float(v, 15)

        subs = {p: self.exact.get(k, value(k)) for k, p in enumerate(self.params)}
        return self.template.xreplace(subs)


def fit_formula(
    expr: sp.Expr,
    symbols: list[sp.Symbol],
    X: np.ndarray,
    y: np.ndarray,
    deadline: float = math.inf,
    refit_until: float | None = None,
) -> Fitted:
    """Canonicalise, refit every constant, snap constants to simple values, tidy up.

    Snapping stops at `deadline`; least-squares refits may go on until `refit_until` (default the
    same), so a route that used its whole share still gets its constants fitted.
    """
    refit_until = deadline if refit_until is None else refit_until
    if complexity(expr) > MAX_COMPLEXITY:
        raise ModelError(f"formula too complex ({complexity(expr)} nodes > {MAX_COMPLEXITY}); prune more")
    if expr.has(sp.zoo, sp.nan):  # e.g. 1/x snapped with a = 0: no constant can repair it
        raise ModelError("the composed formula is undefined (division by zero); snap that edge differently")
    steps: list[sp.Expr] = []
    best: Fitted | None = None
    # Two passes: snapping can expose structure ((…)**1.0 becomes (…)) that expanding then turns
    # into plain coefficients, e.g. 9.4e5·(0.032·u² + 0.032·v²) → u²/2 + v²/2.
    for _ in range(2):
        cf = ConstantFit(_expanded(expr, refit_until), symbols, X, y, relative=spans_decades(y))
        cf.deadline = refit_until
        cf.refit()
        cf.reweight()
        cf.refit()
        # Polishing constants pays for accurate or small formulas; a poor large one is not worth it.
        accurate = cf.mse() <= 1e-3 * cf.scale
        steps += [cf.expr()] + (cf.snap(deadline=deadline) if accurate or len(cf.values) <= 6 else [])
        cf.refit()
        final = Fitted(tidy(cf.expr(), symbols, X, refit_until), cf.mse())
        floats = len(final.expr.atoms(sp.Float))
        if best is None or (floats < len(best.expr.atoms(sp.Float)) and final.mse <= best.mse * (1 + 1e-3)):
            best = final
        if not floats or time.perf_counter() > deadline or _expanded(final.expr, deadline) == final.expr:
            break
        expr = final.expr
    assert best is not None  # the loop runs at least once
    # A variant as complex as the result but with more fitted constants (V**1.00027 where the
    # result has V, the snap accepted by the F-test) is not simpler: on noisy data its luckier
    # validation loss would displace the snapped law at equal complexity.
    size, floats = complexity(best.expr), len(best.expr.atoms(sp.Float))
    best.steps = [s for s in steps if complexity(s) < size or len(s.atoms(sp.Float)) <= floats]
    return best


def _expanded(expr: sp.Expr, deadline: float = math.inf) -> sp.Expr:
    """canonical(expr) within the SymPy time limit, unless it grows past MAX_COMPLEXITY."""
    try:  # expanding nested products of sums can take minutes; then keep the composed form
        out = time_limited(lambda: canonical(expr), sympy_seconds(deadline))
    except Overtime:
        return expr
    return out if complexity(out) <= max(MAX_COMPLEXITY, complexity(expr)) else expr


def released(expr: sp.Expr) -> sp.Expr:
    """`expr` with its non-integer fractions as floats again, for a refit that follows.

    A nested search fits a transformed target (y/M, a π group) whose noise is y's rescaled row by
    row, on a subset of the rows: its snaps answer to that (π₁^(7/8) at 10% noise, 25/3 for a gas
    constant of 8.314 on the 80 rows where M is largest). Released, the constants are refit and
    snapped again on y itself by the caller's refit. Integers stay (x², a count of terms).
    """
    return expr.xreplace({r: sp.Float(r) for r in expr.atoms(sp.Rational) if not r.is_Integer})


def spans_decades(y: np.ndarray) -> bool:
    """Positive data over more than a factor 10: errors are better measured relative."""
    return bool((y > 0).all() and y.max() > 10 * y.min())


def loo_mse(expr: sp.Expr, symbols: list[sp.Symbol], X: np.ndarray, y: np.ndarray) -> float:
    """Leave-one-out error of the formula's structure: constants refit without each row in turn.

    The held-out check for tiny data (a handful of rows), where a split would leave nothing. The
    formula is compiled once; each left-out row gets a refit from the all-row constants.
    """
    cf = ConstantFit(expr, symbols, X, y, relative=spans_decades(y))
    Xa, ya, wa, start = cf.X, cf.y, cf.weight, cf.values.copy()
    errs = []
    for i in range(len(ya)):
        keep = np.arange(len(ya)) != i
        cf.X, cf.y, cf.weight, cf.values, cf.exact = Xa[keep], ya[keep], wa[keep], start.copy(), {}
        cf.refit(max_nfev=100)
        with np.errstate(all="ignore"):
            pred = np.asarray(cf.fn(*Xa[i : i + 1].T, *cf.values), float).ravel()
        errs.append(float((pred[0] - ya[i]) ** 2) if pred.size else math.inf)
    return float(np.mean(errs))
