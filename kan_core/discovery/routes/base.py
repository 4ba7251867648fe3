"""What every route receives (one frozen `Problem`) and the recipes' named settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.discovery.work import Work

# One route's answer: candidate formulas, each with the network it came from (None for direct searches).
Found = list[tuple[sp.Expr, Callable[[np.ndarray], np.ndarray] | None]]


@dataclass(frozen=True)
class Settings:
    """The routes' recipe numbers in one place (defaults measured on the Feynman dev set)."""

    train_rows: int = 600  # networks train on at most this many rows; formulas refit on all
    max_index_inputs: int = 8  # single-index: BFGS over d directions and d² screened pairs
    max_poly_inputs: int = 7  # polynomial: terms grow as d²
    max_rational_inputs: int = 4  # rational: 2·(d+1)(d+2)/2 columns, eliminated one at a time
    train_share: float = 0.7  # a KAN route trains for this share of its time, then snaps
    grid: int = 5  # first grid of a route's network
    refined_grid: int = 10  # grid after the first fit (a finer spline, same function)
    sparsity: float = 1e-3  # λ for networks with more edges than inputs
    prune_threshold: float = 3e-2  # share of a layer's strongest edge kept by pruning
    snap_retrain_steps: int = 15  # LBFGS steps after each round of snapping
    width: int = 0  # hidden width of the "wide" network; 0: 2d + 1 for d inputs


@dataclass(frozen=True)
class Problem:
    """One route's job: the training rows, their symbols and everything a route may use.

    X : (n, d) float64 inputs; y : (n,) float64 target; symbols : d SymPy symbols (safe names);
    deadline : time.perf_counter() value by which the route should return (its share of the
    budget); end : the whole search's end, which no step may pass; solve_1d(frame, seconds): a full
    one-variable search of frame's column "r" against "u" (the single-index route's g), `seconds`
    being work seconds; work : the route's work account (`kan_core.discovery.work`), which sizes
    its training and snapping so that results do not depend on the machine's load (None: an
    account of `deadline − now` work seconds).
    """

    X: np.ndarray
    y: np.ndarray
    symbols: list[sp.Symbol]
    seed: int
    deadline: float
    r2_threshold: float = 0.99
    functions: list[str] | None = None
    solve_1d: Callable[[pd.DataFrame, float], sp.Expr] | None = None
    settings: Settings = field(default_factory=Settings)
    end: float = float("inf")
    work: Work | None = None

    def account(self) -> Work:
        """The route's work account (`work`, or one of `deadline − now` work seconds)."""
        if self.work is not None:
            return self.work
        return Work(max(self.deadline - time.perf_counter(), 0.0), self.end)


Route = Callable[[Problem], Found]
