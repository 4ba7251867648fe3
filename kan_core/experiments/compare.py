"""KAN vs MLP at several sizes on one split and one wall-clock budget each: error against parameters.

The KAN paper (arXiv:2404.19756, Sec. 3.1 and Fig. 3.1) claims KANs reach a given accuracy with
far fewer parameters and scale faster (test RMSE ∝ N^−α with α ≈ 4 for cubic splines on smooth
targets). Here both families train with the same recipe (`engine.budget`) on the same rows; the
fitted α of each family and the smallest model of each reaching a chosen RMSE are reported as
measured, wherever they fall.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from kan_core.engine.budget import Budget, train_budgeted
from kan_core.engine.mlp import MLP
from kan_core.engine.model import KAN
from kan_core.errors import ConfigError
from kan_core.experiments.common import Callback, Progress, as_xy, prepare, rmse, split, tensor

KAN_SIZES: tuple[tuple[int, int], ...] = ((1, 5), (2, 5), (4, 5), (4, 10), (8, 10))  # (hidden, grid)
MLP_SIZES: tuple[tuple[int, ...], ...] = ((8,), (32,), (32, 32), (64, 64), (128, 128))  # hidden widths
BUDGET = Budget(seconds=10.0)
RMSE_SHARE = 0.05  # default target: 5% of the test target's standard deviation (R² ≈ 0.9975)


def scaling_exponent(params, errors) -> dict | None:
    """Least-squares fit of log(error) = log(c) − α·log(N) over the finite, positive points.

    Parameters
    ----------
    params : array_like, shape (m,)
        Parameter counts N of the models.
    errors : array_like, shape (m,)
        Their test RMSEs.

    Returns
    -------
    dict or None
        {"alpha": α, "c": c, "points": m used}; None with fewer than two distinct sizes.
    """
    n, e = np.asarray(params, dtype=float), np.asarray(errors, dtype=float)
    ok = np.isfinite(n) & np.isfinite(e) & (n > 0) & (e > 0)
    if len(np.unique(n[ok])) < 2:
        return None
    A = np.column_stack([np.ones(ok.sum()), np.log(n[ok])])
    (log_c, slope), *_ = np.linalg.lstsq(A, np.log(e[ok]), rcond=None)
    return {"alpha": float(-slope), "c": float(np.exp(log_c)), "points": int(ok.sum())}


def smallest_reaching(models: list[dict], target: float) -> dict | None:
    """The model with the fewest parameters whose test RMSE is ≤ target (None when none does)."""
    hits = [m for m in models if m["test_rmse"] <= target]
    return min(hits, key=lambda m: m["params"]) if hits else None


def _build(kind: str, size: tuple, n_in: int, seed: int, device: str) -> KAN | MLP:
    if kind == "kan":
        hidden, grid = size
        return KAN([n_in, hidden, 1], grid=grid, k=3, seed=seed, device=device)
    return MLP([n_in, *size, 1], seed=seed, device=device)


def compare(
    X,
    y,
    *,
    kan_sizes=KAN_SIZES,
    mlp_sizes=MLP_SIZES,
    budget: Budget = BUDGET,
    rmse_target: float | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
    device: str = "cpu",
    callback: Callback | None = None,
    stop: threading.Event | None = None,
) -> dict:
    """Train every KAN and MLP size on the same split with the same budget; measure test RMSE.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs.
    y : array_like, shape (n,)
        Target.
    kan_sizes : sequence of (hidden, grid)
        One KAN [d, hidden, 1] with `grid` intervals (k = 3) per entry.
    mlp_sizes : sequence of tuple of int
        Hidden widths of one SiLU MLP [d, *hidden, 1] per entry.
    budget : Budget
        What each model gets (the same for all): wall-clock seconds and step caps.
    rmse_target : float, optional
        The RMSE the "smallest model reaching it" is asked about; default 5% of the test
        target's standard deviation.
    test_fraction, val_fraction : float
        Shares of rows held out for testing and for validation (early stopping, rate search).
    seed : int
        Seeds the split and every model's initial weights.
    device : str
        "cpu" (default: timings comparable on any machine), "cuda" or "auto".
    callback : callable, optional
        `callback(step, metrics)` with family, model index, phase and RMSEs.
    stop : threading.Event, optional
        Ends the run after the current step; models not trained yet are left out.

    Returns
    -------
    dict
        `kan` and `mlp`: {"models": [{widths, params, train_rmse, val_rmse, test_rmse, seconds,
        steps, lr, status}], "scaling": scaling_exponent(...), "smallest": model or None};
        `rmse_target`, `budget`, `seed`, `split` sizes, `threads`, `stopped`.

    Raises
    ------
    DataError
        When X and y do not match, hold NaN/inf, or have fewer than 10 rows.
    ConfigError
        When a size or fraction is invalid.
    """
    X, y = as_xy(X, y)
    if not (0 < test_fraction < 0.5 and 0 < val_fraction < 0.5):
        raise ConfigError("test and validation fractions must be in (0, 0.5)")
    if not kan_sizes or not mlp_sizes:
        raise ConfigError("give at least one KAN size and one MLP size")
    test, val, train = split(len(y), (test_fraction, val_fraction), seed)
    if rmse_target is None:
        rmse_target = RMSE_SHARE * float(np.std(y[test]))
    progress = Progress(callback, stop)
    out: dict = {
        "experiment": "compare",
        "seed": seed,
        "budget": budget.as_dict(),
        "threads": torch.get_num_threads(),
        "split": {"train": len(train), "val": len(val), "test": len(test)},
        "rmse_target": float(rmse_target),
        "stopped": False,
    }
    for kind, sizes in (("kan", kan_sizes), ("mlp", mlp_sizes)):
        models = []
        for i, size in enumerate(sizes):
            if progress.stopped:
                break
            model = _build(kind, tuple(size), X.shape[1], seed, device)
            t = {name: tensor(a, model) for name, a in (("X", X), ("y", y))}
            Xtr, ytr = t["X"][train], t["y"][train]
            prepare(model, Xtr, ytr)
            cb = progress.inner(family=kind, model=i, models=len(sizes))
            rep = train_budgeted(model, Xtr, ytr, t["X"][val], t["y"][val], budget, callback=cb, stop=stop)
            rep["test_rmse"] = rmse(model, t["X"][test], t["y"][test])
            widths = model.spec if kind == "kan" else model.widths
            grid = size[1] if kind == "kan" else None
            models.append({"widths": widths, "grid": grid, "params": model.n_params(), **rep})
            progress.report(family=kind, model=i, models=len(sizes), phase="done", **rep)
        params = [m["params"] for m in models]
        out[kind] = {
            "models": models,
            "scaling": scaling_exponent(params, [m["test_rmse"] for m in models]),
            "smallest": smallest_reaching(models, rmse_target),
        }
    out["stopped"] = progress.stopped
    return out
