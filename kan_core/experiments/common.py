"""Shared helpers of the experiments: seeded splits, model preparation, progress plumbing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from kan_core.engine.mlp import MLP
from kan_core.engine.model import KAN
from kan_core.errors import DataError

Callback = Callable[[int, dict], None]


def as_xy(X, y) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) and y (n,) as finite float64 arrays, with one-line errors."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    X = X[:, None] if X.ndim == 1 else X
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise DataError(f"X has shape {X.shape} and y {y.shape}; give one target value per row of X")
    if X.shape[0] < 10:
        raise DataError(f"{X.shape[0]} rows are too few for an experiment; use at least 10")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise DataError("X or y contains NaN or inf; drop or fill those rows first")
    return X, y


def split(n: int, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Seeded random partition of range(n): one index array per fraction, the rest last."""
    perm = np.random.default_rng(seed).permutation(n)
    out, start = [], 0
    for f in fractions:
        m = max(1, int(round(f * n)))
        out.append(perm[start : start + m])
        start += m
    out.append(perm[start:])
    return out


def tensor(a: np.ndarray, model: Any) -> torch.Tensor:
    """A float tensor on the model's device and dtype; 1-D targets become (n, 1)."""
    t = torch.tensor(np.asarray(a), dtype=model.dtype, device=model.device)  # a copy: inputs may be read-only
    return t[:, None] if t.ndim == 1 else t


def prepare(model: KAN | MLP, X: torch.Tensor, y: torch.Tensor, grids: bool = True) -> None:
    """Standardise on (X, y) and, for a KAN, put every grid on the data (what `fit` does first)."""
    model.set_normalization(X, y)
    if isinstance(model, KAN) and grids:
        model.update_grid(X)
        model.initialized.fill_(True)


def rmse(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Root-mean-square error of the model on (X, y), in the target's units."""
    with torch.no_grad():
        return float(torch.sqrt(torch.mean((model(X) - y) ** 2)))


class Progress:
    """Numbers steps across the models of an experiment and forwards the stop event."""

    def __init__(self, callback: Callback | None, stop: threading.Event | None):
        self.callback, self.stop, self.step = callback, stop, 0

    @property
    def stopped(self) -> bool:
        """True once the user asked to stop."""
        return self.stop is not None and self.stop.is_set()

    def report(self, **metrics) -> None:
        """Count a step and pass the metrics on."""
        self.step += 1
        if self.callback is not None:
            self.callback(self.step, metrics)

    def inner(self, **context) -> Callback:
        """A callback for a trainer that reports under this experiment's numbering."""
        return lambda _step, metrics: self.report(**context, **metrics)
