"""The accuracy/complexity trade-off: candidates, Pareto front, PySR-style selection."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from kan_core.symbolic.constants import loo_mse
from kan_core.symbolic.formula import evaluate


@dataclass
class Candidate:
    """One formula on the accuracy/complexity trade-off."""

    expr: sp.Expr
    route: str
    complexity: int
    train_mse: float
    val_mse: float
    score: float = 0.0
    net_error: float | None = None  # RMS(formula − network) / std(network), where it came from one
    dimension: str | None = (
        None  # "consistent", "constant carries units", "inconsistent"; None: units unknown
    )


def pareto_front(cands: list[Candidate], floor: float) -> list[Candidate]:
    """Candidates no simpler one beats on validation loss, simplest first, with PySR scores.

    Losses below `floor` (round-off of an exact formula) count as equal, so the simplest exact
    formula stands for all of them.
    """
    seen: set = set()
    front: list = []
    # At equal complexity and loss, exact constants (2·π) beat their float round-off (6.2832).
    for c in sorted(cands, key=lambda c: (c.complexity, max(c.val_mse, floor), len(c.expr.atoms(sp.Float)))):
        key = str(c.expr)
        if key in seen or (front and max(c.val_mse, floor) >= max(front[-1].val_mse, floor)):
            continue
        seen.add(key)
        front.append(c)
    for prev, c in zip(front, front[1:]):
        drop = math.log(max(prev.val_mse, floor)) - math.log(max(c.val_mse, floor))
        c.score = drop / max(c.complexity - prev.complexity, 1)
    return front


def select_best(front: list[Candidate]) -> Candidate:
    """PySR's rule on validation loss: the highest score among losses ≤ 1.5 × the minimum."""
    best_loss = min(c.val_mse for c in front)
    eligible = [c for c in front if c.val_mse <= 1.5 * best_loss] or front
    return max(eligible, key=lambda c: (c.score, -c.complexity))


def n_constants(expr: sp.Expr) -> int:
    """The constants a formula was fitted with: every number in it but 0, ±1 and integer exponents
    (x²). Snapped values count (11/3 was fitted before it was snapped)."""
    skip = {id(a.exp) for a in sp.preorder_traversal(expr) if a.is_Pow and a.exp.is_Integer}
    return sum(
        1
        for a in sp.preorder_traversal(expr)
        if a.is_Number and id(a) not in skip and a not in (sp.S.Zero, sp.S.One, sp.S.NegativeOne)
    )


SIMPLER_P = 0.01  # a simpler formula is as good when the F-test cannot tell them apart at this level


def select_small_sample(front: list[Candidate], n: int, floor: float) -> Candidate:
    """Tiny data (no split possible): the simplest formula within the noise of the AICc's choice.

    1. The lowest AICc, n·ln(MSE) + 2k + 2k(k+1)/(n−k−1) (Hurvich & Tsai 1989), with k the
       fitted constants (`n_constants`); a formula with as many constants as rows − 1 cannot be
       chosen. AICc, not leave-one-out, ranks: with 6 rows a leave-one-out refit of a 4-constant
       formula is an extrapolation that one odd row dominates.
    2. Then the formula with the fewest constants whose extra error over that choice is within
       the noise: the F-test F = ((RSS_s − RSS_b)/(k_b − k_s)) / (RSS_b/(n − k_b)) (the choice's
       residual variance standing for the noise, which a tiny table cannot estimate otherwise)
       has p ≥ `SIMPLER_P`. A strict level because the formulas were picked among many: an offset
       of −1.04 days on Kepler's six planets (p ≈ 0.03) does not displace c·a^1.5.
    """
    from scipy.stats import f as f_dist

    def aicc(c: Candidate) -> float:
        k = n_constants(c.expr)
        if n - k - 1 <= 0:
            return math.inf
        return n * math.log(max(c.train_mse, floor)) + 2 * k + 2 * k * (k + 1) / (n - k - 1)

    chosen = min(front, key=aicc)
    k_b, rss_b = n_constants(chosen.expr), n * max(chosen.train_mse, floor)
    if not math.isfinite(aicc(chosen)):
        return chosen
    for c in sorted(front, key=lambda c: (n_constants(c.expr), c.complexity)):
        k_s = n_constants(c.expr)
        if k_s >= k_b:
            break
        if c.route == "constant":  # the mean is the verdict's business, not a law's
            continue
        stat = (n * max(c.train_mse, floor) - rss_b) / (k_b - k_s) / (rss_b / (n - k_b))
        if f_dist.sf(stat, k_b - k_s, n - k_b) >= SIMPLER_P:
            return c
    return chosen


class Scorer:
    """Scores formulas on one seeded train/validation split (leave-one-out refits for tiny data)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, symbols: list[sp.Symbol], seed: int, n_val: int):
        perm = np.random.default_rng(seed).permutation(len(y))
        self.X, self.y, self.symbols, self.n_val = X, y, symbols, n_val
        self.val, self.tr = perm[:n_val], perm[n_val:]
        self.Xv, self.yv = (X[self.val], y[self.val]) if n_val else (X[self.tr], y[self.tr])
        self.floor = 1e-14 * (float(np.var(y)) or 1.0)
        self.cands: list[Candidate] = []
        self.loo_refits = 0  # leave-one-out refits made (tiny data): work the search accounts for

    def add(self, expr: sp.Expr, route: str, net_error: float | None = None) -> None:
        """Score a formula (sine phases folded, `fold_phases`) and keep it when its losses are finite."""
        from kan_core.symbolic.formula import complexity, fold_phases

        try:
            expr = fold_phases(expr)
        except (TypeError, ValueError, RecursionError):
            pass

        X, y, tr = self.X, self.y, self.tr
        try:
            with np.errstate(all="ignore"):
                tr_mse = float(np.mean((evaluate(expr, self.symbols, X[tr]) - y[tr]) ** 2))
                if self.n_val:
                    va_mse = float(np.mean((evaluate(expr, self.symbols, self.Xv) - self.yv) ** 2))
                else:
                    self.loo_refits += len(tr)
                    va_mse = loo_mse(expr, self.symbols, X[tr], y[tr])
        except (TypeError, ValueError, KeyError, NameError, ZeroDivisionError, OverflowError):
            return  # an expression numpy cannot evaluate is no candidate
        if math.isfinite(tr_mse) and math.isfinite(va_mse):
            self.cands.append(Candidate(expr, route, complexity(expr), tr_mse, va_mse, net_error=net_error))

    def exact(self, max_complexity: float = math.inf) -> bool:
        """Some formula of at most this complexity is exact on held-out data (to round-off)."""
        return any(c.val_mse <= self.floor for c in self.cands if c.complexity <= max_complexity)

    def select(self, best: Candidate | None = None) -> tuple[list[Candidate], Candidate, dict]:
        """(Pareto front, best formula, its metrics on the training and validation rows).

        `best` overrides the selection (it joins the front if it is not on it).
        """
        front = pareto_front(self.cands, self.floor)
        if best is None:
            best = select_best(front) if self.n_val else select_small_sample(front, len(self.tr), self.floor)
        elif best not in front:
            front = sorted([best, *front], key=lambda c: c.complexity)
        y_tr, y_v = self.y[self.tr], self.yv
        with np.errstate(all="ignore"):
            pred_tr, pred_v = (
                evaluate(best.expr, self.symbols, self.X[self.tr]),
                evaluate(best.expr, self.symbols, self.Xv),
            )
        metrics = {
            "train_rmse": math.sqrt(best.train_mse),
            "val_rmse": math.sqrt(best.val_mse),
            "train_r2": r2(y_tr, pred_tr),
            "val_r2": r2(y_v, pred_v),
            "formula_vs_network": best.net_error,  # None when the best is not from a network
            "n_train": int(len(self.tr)),
            "n_val": int(self.n_val),
        }
        return front, best, metrics


LAW_P_VALUE = 1e-3  # a law must beat the mean at this significance …
LAW_MIN_R2 = 0.1  # … and explain at least this share of the held-out variance
CLEAR_R2 = 0.5  # a held-out R² this high is a law whatever the test's power on few rows
MIN_HELD_OUT = 30  # fewer held-out rows test too weakly: tables this small use the F-test


def verdict(sc: Scorer, best: Candidate) -> tuple[bool, str]:
    """Whether `best` explains the target better than its mean, and why (one line).

    With at least `MIN_HELD_OUT` held-out rows: a one-sided paired t-test on the squared errors of
    the training mean and of `best` there (SciPy's `ttest_1samp` on their differences) must give
    p < `LAW_P_VALUE` — a strict level because `best` was chosen among many candidates — and the
    held-out R² must reach `LAW_MIN_R2`; a held-out R² of `CLEAR_R2` or more is a law outright (the
    squared-error differences are heavy-tailed, so the t-test is weak on a few dozen rows, and
    pure noise does not explain half the variance of 30+ unseen rows). Smaller tables use the
    regression F-test on all rows,
    F = (R²/k) / ((1 − R²)/(n − k − 1)) with k the formula's fitted constants (at least 1), at the
    same level.
    """
    from scipy.stats import f as f_dist
    from scipy.stats import ttest_1samp

    with np.errstate(all="ignore"):
        if sc.n_val >= MIN_HELD_OUT:
            e_best = (evaluate(best.expr, sc.symbols, sc.Xv) - sc.yv) ** 2
            e_mean = (float(np.mean(sc.y[sc.tr])) - sc.yv) ** 2
        else:
            e_best = (evaluate(best.expr, sc.symbols, sc.X) - sc.y) ** 2
            e_mean = (float(np.mean(sc.y)) - sc.y) ** 2
    if not np.isfinite(e_best).all():
        return False, "the best formula is not finite on every row"
    share = 1.0 - float(np.mean(e_best)) / float(np.mean(e_mean)) if np.mean(e_mean) > 0 else 0.0
    if sc.n_val >= MIN_HELD_OUT:
        gain = e_mean - e_best
        p = float(ttest_1samp(gain, 0.0, alternative="greater").pvalue) if np.ptp(gain) > 0 else 1.0
        where = "held-out"
    else:
        n, k = len(sc.y), max(n_constants(best.expr), 1)
        dof = n - k - 1
        if dof <= 0:  # as many constants as rows: nothing is tested
            p = 1.0
        elif share >= 1:
            p = 0.0
        else:
            p = float(f_dist.sf((share / k) / ((1 - share) / dof), k, dof))
        where = "all-row"
    p = p if math.isfinite(p) else 1.0
    text = f"{where} R² {share:.3g}, p = {p:.2g} against the mean"
    if (p < LAW_P_VALUE and share >= LAW_MIN_R2) or (where == "held-out" and share >= CLEAR_R2):
        return True, text
    return False, f"{text} (a law needs p < {LAW_P_VALUE:g})"


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination (NaN for a constant y)."""
    sst = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - pred) ** 2)) / sst if sst > 0 else float("nan")
