"""The accuracy/complexity trade-off: candidates, Pareto front, PySR-style selection."""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp


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


def pareto_front(cands: list[Candidate], floor: float) -> list[Candidate]:
    """Candidates no simpler one beats on validation loss, simplest first, with PySR scores.

    Losses below `floor` (round-off of an exact formula) count as equal, so the simplest exact
    formula stands for all of them.
    """
    seen, front = set(), []
    for c in sorted(cands, key=lambda c: (c.complexity, c.val_mse)):
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


def select_small_sample(front: list[Candidate], n: int, floor: float) -> Candidate:
    """Tiny data (no split possible): the lowest AICc, n·ln(MSE) + 2k + 2k(k+1)/(n−k−1).

    k counts the fitted constants; a formula with as many constants as rows cannot be chosen.
    """

    def aicc(c: Candidate) -> float:
        k = len(c.expr.atoms(sp.Float))
        if n - k - 1 <= 0:
            return math.inf
        return n * math.log(max(c.train_mse, floor)) + 2 * k + 2 * k * (k + 1) / (n - k - 1)

    return min(front, key=aicc)
