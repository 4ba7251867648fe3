"""Careful training under a budget, the same recipe for a KAN and an MLP (the experiments' trainer).

A small learning-rate search (short Adam runs from the same start), then Adam with the best rate,
then LBFGS; the validation error is watched throughout, training stops early when it stops
improving, and the weights with the best validation error are the ones kept. The budget is wall
clock (`seconds`, split 20/40/40 between search, Adam and LBFGS) and/or step counts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from kan_core.errors import ConfigError

Callback = Callable[[int, dict], None]


@dataclass(frozen=True)
class Budget:
    """How long one model trains. `seconds=None` makes the run step-bound (and deterministic)."""

    seconds: float | None = 10.0
    adam_steps: int = 2000
    lbfgs_steps: int = 200
    lrs: tuple[float, ...] = (1e-3, 3e-3, 1e-2, 3e-2)
    search_steps: int = 40
    eval_every: int = 10  # Adam steps between validation checks (LBFGS checks every step)
    patience: int = 30  # checks without a 0.1% improvement before a phase ends early

    def validate(self) -> None:
        """Raise ConfigError for a budget that cannot run."""
        ok_seconds = self.seconds is None or (math.isfinite(self.seconds) and self.seconds > 0)
        ok = ok_seconds and self.adam_steps >= 0 and self.lbfgs_steps >= 0 and self.search_steps >= 1
        if not ok or not self.lrs or any(not (math.isfinite(lr) and lr > 0) for lr in self.lrs):
            raise ConfigError(f"invalid training budget {self}; use seconds > 0 and steps >= 0")

    def as_dict(self) -> dict:
        """Plain-JSON view."""
        return {**asdict(self), "lrs": list(self.lrs)}


class _Stopped(Exception):
    """Raised inside an LBFGS closure when the stop event is set."""


def _state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train_budgeted(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    X_val: torch.Tensor,
    y_val: torch.Tensor,
    budget: Budget = Budget(),
    *,
    callback: Callback | None = None,
    stop: threading.Event | None = None,
) -> dict:
    """Train `model` in place (full batch) and return what was measured.

    Parameters
    ----------
    model : torch.nn.Module
        A `KAN` or an `MLP`, already standardised (`set_normalization`) and, for a KAN, with its
        grids on the data; it must have an `out_scale` buffer (n_out,).
    X, y : torch.Tensor
        Training inputs (n, n_in) and targets (n, n_out), on the model's device and dtype.
    X_val, y_val : torch.Tensor
        Validation rows (m, n_in), (m, n_out) for the learning-rate choice and early stopping.
    budget : Budget
        Wall-clock seconds and/or step caps.
    callback : callable, optional
        `callback(step, metrics)` after every validation check; metrics has phase, lr,
        train_rmse, val_rmse.
    stop : threading.Event, optional
        When set, training ends after the current step (the best weights so far are kept).

    Returns
    -------
    dict
        train_rmse, val_rmse (target units, best-validation weights), lr (chosen by the search),
        lr_search ({lr: val_rmse}), steps (Adam and LBFGS), seconds (wall clock), status
        ("completed", "early-stopped", "out of time" or "stopped").
    """
    budget.validate()
    t0 = time.perf_counter()
    total = budget.seconds if budget.seconds is not None else math.inf
    params = [p for p in model.parameters() if p.requires_grad]
    scale = model.out_scale

    def loss_on(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return torch.mean(((model(xb) - yb) / scale) ** 2)

    def rmse(xb: torch.Tensor, yb: torch.Tensor) -> float:
        with torch.no_grad():
            return math.sqrt(torch.mean((model(xb) - yb) ** 2).item())

    def stopped() -> bool:
        return stop is not None and stop.is_set()

    step, status = 0, "completed"
    best = {"val": math.inf, "state": _state(model)}

    def check(phase: str, lr: float) -> bool:
        """Record the validation error; True when it improved by 0.1% or more."""
        val = rmse(X_val, y_val)
        val = val if math.isfinite(val) else math.inf
        improved = val < best["val"] * 0.999
        if val < best["val"]:
            best["val"], best["state"] = val, _state(model)
        if callback is not None:
            tr = rmse(X, y)
            callback(step, {"phase": phase, "lr": lr, "train_rmse": tr, "val_rmse": val})
        return improved

    def adam(lr: float, steps: int, deadline: float, phase: str) -> str:
        nonlocal step
        opt = torch.optim.Adam(params, lr=lr)
        waited = 0
        for i in range(1, steps + 1):
            if stopped():
                return "stopped"
            if time.perf_counter() - t0 > deadline:
                return "out of time"
            opt.zero_grad(set_to_none=True)
            loss = loss_on(X, y)
            if not torch.isfinite(loss):
                return "diverged"
            loss.backward()
            opt.step()
            step += 1
            if i % budget.eval_every == 0 or i == steps:
                waited = 0 if check(phase, lr) else waited + 1
                if phase == "adam" and waited >= budget.patience:
                    return "early-stopped"
        return "completed"

    # 1. learning-rate search: every rate starts from the same weights
    start, trials = _state(model), {}
    for n, lr in enumerate(budget.lrs):
        model.load_state_dict(start)
        best["val"] = math.inf
        adam(lr, budget.search_steps, 0.2 * total * (n + 1) / len(budget.lrs), "search")
        trials[lr] = rmse(X_val, y_val)
        if stopped():
            break
    ok = {lr: v for lr, v in trials.items() if math.isfinite(v)}
    lr = min(ok, key=ok.get) if ok else min(budget.lrs)
    model.load_state_dict(start)
    best["val"], best["state"] = math.inf, start
    step = 0
    # 2. Adam with the chosen rate
    status = adam(lr, budget.adam_steps, 0.6 * total, "adam") if not stopped() else "stopped"
    adam_steps = step
    # 3. LBFGS from the best Adam weights
    model.load_state_dict(best["state"])
    if status not in ("stopped",) and budget.lbfgs_steps:
        opt = torch.optim.LBFGS(params, lr=1.0, max_iter=10, history_size=20, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            if stopped():
                raise _Stopped
            opt.zero_grad(set_to_none=True)
            loss = loss_on(X, y)
            loss.backward()
            return loss

        waited, status = 0, "completed"
        for _ in range(budget.lbfgs_steps):
            if stopped():
                status = "stopped"
                break
            if time.perf_counter() - t0 > total:
                status = "out of time"
                break
            try:
                opt.step(closure)
            except _Stopped:
                status = "stopped"
                break
            step += 1
            if not all(bool(torch.isfinite(p).all()) for p in params):
                status = "diverged"
                break
            waited = 0 if check("lbfgs", 1.0) else waited + 1
            if waited >= budget.patience // 3:
                status = "early-stopped"
                break
    model.load_state_dict(best["state"])
    return {
        "train_rmse": rmse(X, y),
        "val_rmse": rmse(X_val, y_val),
        "lr": lr,
        "lr_search": {str(k): v for k, v in trials.items()},
        "steps": {"adam": adam_steps, "lbfgs": step - adam_steps},
        "seconds": time.perf_counter() - t0,
        "status": status,
    }
