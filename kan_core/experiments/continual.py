"""Continual learning: data arrive one region at a time; how much does each model forget?

The KAN paper (arXiv:2404.19756, Sec. 3.5, Fig. 3.4) shows a 1-D target of 5 Gaussian peaks,
exp(−300(x − c)²) at c = −0.8, −0.4, 0, 0.4, 0.8, presented in 5 phases (only the samples around
one peak per phase). Spline locality lets a KAN [1, 1] with G = 200 keep the earlier peaks while
an MLP forgets them. Here both models train phase after phase with the same recipe and steps;
after every phase the error on every region is measured, forgetting = error on a region at the
end minus its error right after it was learned. The same runs on 2-D peaks on a plane and on a
user's table sorted by one column.
"""

from __future__ import annotations

import threading

import numpy as np
import torch

from kan_core.engine.budget import Budget, train_budgeted
from kan_core.engine.mlp import MLP
from kan_core.engine.model import KAN
from kan_core.errors import ConfigError
from kan_core.experiments.common import Callback, Progress, as_xy, prepare, rmse, tensor

CENTERS = (-0.8, -0.4, 0.0, 0.4, 0.8)
CENTERS_Y = (0.5, -0.5, 0.5, -0.5, 0.5)  # the 2-D peaks zigzag across the plane
BUDGET = Budget(seconds=None, adam_steps=500, lbfgs_steps=50, search_steps=30)
TASKS = ("peaks1d", "peaks2d")


def forgetting(errors) -> dict:
    """Forgetting from a phases × regions error matrix E (E[p][r]: error on region r after phase p).

    Parameters
    ----------
    errors : array_like, shape (P, P)
        Row p holds the error on every region after training phase p (region p is learned in
        phase p).

    Returns
    -------
    dict
        per_region: E[P−1][r] − E[r][r] for every earlier region r < P−1 (positive = forgotten);
        mean, max of those; first_learned E[0][0] and first_at_end E[P−1][0].
    """
    E = np.asarray(errors, dtype=float)
    if E.ndim != 2 or E.shape[0] != E.shape[1] or E.shape[0] < 2:
        raise ConfigError(f"need a square phases × regions error matrix with ≥ 2 phases, got {E.shape}")
    last = E.shape[0] - 1
    per = [float(E[last, r] - E[r, r]) for r in range(last)]
    return {
        "per_region": per,
        "mean": float(np.mean(per)),
        "max": float(np.max(per)),
        "first_learned": float(E[0, 0]),
        "first_at_end": float(E[last, 0]),
    }


def peaks(task: str, n_per_phase: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paper's peaks: (X (n, d), y (n,), phase of every row (n,)), rows in phase order.

    1-D: uniform x in [c − 0.2, c + 0.2] around each centre, y = Σ exp(−300(x − c)²).
    2-D: phase r covers the strip x ∈ [c_r − 0.2, c_r + 0.2], y ∈ [−1, 1]; the target is
    Σ exp(−10((x − c_r)² + (y − d_r)²)), peaks zigzagging at d_r = ±0.5.
    """
    rng = np.random.default_rng(seed)
    Xs, phase = [], []
    for r, c in enumerate(CENTERS):
        x = rng.uniform(c - 0.2, c + 0.2, n_per_phase)
        cols = [x] if task == "peaks1d" else [x, rng.uniform(-1, 1, n_per_phase)]
        Xs.append(np.column_stack(cols))
        phase.append(np.full(n_per_phase, r))
    X = np.concatenate(Xs)
    return X, _peak_values(X), np.concatenate(phase)


def _peak_values(X: np.ndarray) -> np.ndarray:
    if X.shape[1] == 1:
        return np.sum([np.exp(-300 * (X[:, 0] - c) ** 2) for c in CENTERS], axis=0)
    return np.sum(
        [np.exp(-10 * ((X[:, 0] - c) ** 2 + (X[:, 1] - d) ** 2)) for c, d in zip(CENTERS, CENTERS_Y)], axis=0
    )


def phases_by_column(X, y, column: int, phases: int = 5) -> np.ndarray:
    """Phase of every row when rows sorted by X[:, column] are cut into `phases` equal chunks."""
    X, _ = as_xy(X, y)
    if not 0 <= column < X.shape[1]:
        raise ConfigError(f"sort column {column} does not exist; X has {X.shape[1]} column(s)")
    if not 2 <= phases <= 20 or X.shape[0] < 4 * phases:
        raise ConfigError(f"{phases} phases need 2–20 phases and at least {4 * phases} rows")
    order = np.argsort(X[:, column], kind="stable")
    phase = np.empty(len(order), dtype=int)
    for p, chunk in enumerate(np.array_split(order, phases)):
        phase[chunk] = p
    return phase


def _rows(mask: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.flatnonzero(mask))


def _models(d: int, seed: int, device: str) -> dict:
    """KAN [1, 1] G = 200 in 1-D (the paper's); [d, 5, 1] G = 20 otherwise. MLP [d, 64, 64, 1]."""
    kan = KAN([1, 1], grid=200, seed=seed, device=device) if d == 1 else KAN([d, 5, 1], 20, seed=seed)
    for layer in kan.layers:  # the paper's setting (pykan: sp_trainable = sb_trainable = False):
        layer.w_s.requires_grad_(False)  # only spline coefficients learn, so an update stays local
        layer.w_b.requires_grad_(False)
        layer.sym_params.requires_grad_(False)  # unused: no edge is snapped here
    return {"kan": kan.to(device), "mlp": MLP([d, 64, 64, 1], seed=seed, device=device)}


def continual(
    X=None,
    y=None,
    phase=None,
    *,
    task: str | None = None,
    budget: Budget = BUDGET,
    test_fraction: float = 0.3,
    grid_points: int = 201,
    seed: int = 0,
    device: str = "cpu",
    callback: Callback | None = None,
    stop: threading.Event | None = None,
) -> dict:
    """Train a KAN and an MLP phase after phase; measure every region's error after every phase.

    Parameters
    ----------
    X : array_like, shape (n, d), optional
        Inputs of a user's table (with `y` and `phase`), the column that orders the phases
        first (curves are drawn along it); None runs the built-in `task`.
    y : array_like, shape (n,), optional
        Target.
    phase : array_like of int, shape (n,), optional
        Phase 0…P−1 of every row (e.g. from `phases_by_column`).
    task : {"peaks1d", "peaks2d", "data"}, optional
        Which task X, y, phase hold (their curves are drawn on a grid for the peaks, along the
        held-out rows for "data"); default "peaks1d" without X (generated here), "data" with X.
    budget : Budget
        Training per phase, the same for both models (default: step-bound, deterministic).
    test_fraction : float
        Share of each phase's rows held out to measure errors (the rest trains; 20% of those
        validate for early stopping).
    grid_points : int
        Points along the first input where both fits are drawn after every phase.
    seed, device, callback, stop
        As in `compare`.

    Returns
    -------
    dict
        `kan`, `mlp`: {widths, params, errors (P × P, RMSE on region r after phase p),
        forgetting (see `forgetting`), seconds}; `curves`: x and truth along the first input
        and each model's prediction after each phase; `regions` ([lo, hi] of the first input
        per phase); `task`, `phases`, `budget`, `seed`, `stopped`.
    """
    task = task or ("peaks1d" if X is None else "data")
    if task not in (*TASKS, "data") or (X is None and task == "data"):
        raise ConfigError(f"unknown task {task!r} without data; use one of {', '.join(TASKS)}")
    if X is None:
        X, y, phase = peaks(task, seed=seed)
    X, y = as_xy(X, y)
    phase = np.asarray(phase, dtype=int).reshape(-1)
    P = int(phase.max()) + 1 if len(phase) else 0
    if phase.shape != y.shape or P < 2 or set(np.unique(phase)) != set(range(P)):
        raise ConfigError("phase must give every row a phase 0…P−1 (P ≥ 2), each used")
    rng = np.random.default_rng([seed, 1])  # not `seed` itself: `peaks` drew x from that stream
    held = rng.random(len(y)) < test_fraction
    val = ~held & (rng.random(len(y)) < 0.2)
    train = ~held & ~val
    if task == "data":  # the held-out rows along the sort column (put first by the caller)
        order = np.flatnonzero(held)[np.argsort(X[held, 0], kind="stable")]
        grid, xs, truth = X[order], X[order, 0], y[order]
    else:
        xs = np.linspace(X[:, 0].min(), X[:, 0].max(), grid_points)
        path = 0.5 * np.cos(2.5 * np.pi * (xs + 0.8))  # a line through every 2-D peak
        grid = xs[:, None] if X.shape[1] == 1 else np.column_stack([xs, path])
        truth = _peak_values(grid)
    progress = Progress(callback, stop)
    out: dict = {
        "experiment": "continual",
        "task": task,
        "phases": P,
        "seed": seed,
        "budget": budget.as_dict(),
        "regions": [[float(X[phase == p, 0].min()), float(X[phase == p, 0].max())] for p in range(P)],
        "curves": {"x": xs.tolist(), "truth": truth.tolist()},
        "stopped": False,
    }
    if X.shape[1] == 2 and task != "data":
        out["curves"]["slice"] = "along y = 0.5·cos(2.5π(x + 0.8)), through every peak"
    for name, model in _models(X.shape[1], seed, device).items():
        Xt, yt, G = tensor(X, model), tensor(y, model), tensor(grid, model)
        prepare(model, Xt, yt)  # the domain is known up front: grids and scales span all of it
        errors, preds, seconds = [], [], 0.0
        for p in range(P):
            if progress.stopped:
                break
            rows = _rows(train & (phase == p))
            vrows = _rows(val & (phase == p))
            vrows = vrows if len(vrows) else rows
            cb = progress.inner(family=name, phase_index=p, phases=P)
            rep = train_budgeted(
                model, Xt[rows], yt[rows], Xt[vrows], yt[vrows], budget, callback=cb, stop=stop
            )
            seconds += rep["seconds"]
            tests = [_rows(held & (phase == r)) for r in range(P)]
            errors.append([rmse(model, Xt[t], yt[t]) if len(t) else float("nan") for t in tests])
            with torch.no_grad():
                preds.append(model(G)[:, 0].double().cpu().numpy().tolist())
        out[name] = {
            "widths": model.spec if name == "kan" else model.widths,
            "params": model.n_params(),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "errors": errors,
            "forgetting": forgetting(errors) if len(errors) == P else None,
            "seconds": seconds,
        }
        out["curves"][name] = preds
    out["stopped"] = progress.stopped
    return out
