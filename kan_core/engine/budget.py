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
    return _BudgetRun(model, (X, y), (X_val, y_val), budget, callback, stop).run()


class _BudgetRun:
    """One `train_budgeted` call: learning-rate search, Adam, LBFGS, best-validation weights."""

    def __init__(self, model: nn.Module, train, val, budget: Budget, callback, stop) -> None:
        budget.validate()
        self.model, self.budget, self.callback, self.stop = model, budget, callback, stop
        (self.X, self.y), (self.X_val, self.y_val) = train, val
        self.t0 = time.perf_counter()
        self.total = budget.seconds if budget.seconds is not None else math.inf
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.step = 0
        self.best_val, self.best_state = math.inf, _state(model)

    def loss_on(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """Mean squared error in standardised units (what is optimised)."""
        scale: torch.Tensor = self.model.out_scale  # type: ignore[assignment]
        return torch.mean(((self.model(xb) - yb) / scale) ** 2)

    def rmse(self, xb: torch.Tensor, yb: torch.Tensor) -> float:
        """RMSE in the target's units."""
        with torch.no_grad():
            return math.sqrt(torch.mean((self.model(xb) - yb) ** 2).item())

    def stopped(self) -> bool:
        """Whether a stop was requested."""
        return self.stop is not None and self.stop.is_set()

    def late(self, deadline: float) -> bool:
        """Whether `deadline` seconds since the start have passed."""
        return time.perf_counter() - self.t0 > deadline

    def check(self, phase: str, lr: float) -> bool:
        """Record the validation error; True when it improved by 0.1% or more."""
        val = self.rmse(self.X_val, self.y_val)
        val = val if math.isfinite(val) else math.inf
        improved = val < self.best_val * 0.999
        if val < self.best_val:
            self.best_val, self.best_state = val, _state(self.model)
        if self.callback is not None:
            tr = self.rmse(self.X, self.y)
            self.callback(self.step, {"phase": phase, "lr": lr, "train_rmse": tr, "val_rmse": val})
        return improved

    def adam(self, lr: float, steps: int, deadline: float, phase: str) -> str:
        """Adam steps until done, stopped, out of time, diverged or (phase "adam") early-stopped."""
        opt = torch.optim.Adam(self.params, lr=lr)
        waited = 0
        for i in range(1, steps + 1):
            if self.stopped():
                return "stopped"
            if self.late(deadline):
                return "out of time"
            opt.zero_grad(set_to_none=True)
            loss = self.loss_on(self.X, self.y)
            if not torch.isfinite(loss):
                return "diverged"
            loss.backward()
            opt.step()
            self.step += 1
            if i % self.budget.eval_every == 0 or i == steps:
                waited = 0 if self.check(phase, lr) else waited + 1
                if phase == "adam" and waited >= self.budget.patience:
                    return "early-stopped"
        return "completed"

    def search_lr(self) -> tuple[float, dict[float, float]]:
        """1. Every rate trains briefly from the same weights; the best validation error wins."""
        start, trials = _state(self.model), {}
        lrs = self.budget.lrs
        for n, lr in enumerate(lrs):
            self.model.load_state_dict(start)
            self.best_val = math.inf
            self.adam(lr, self.budget.search_steps, 0.2 * self.total * (n + 1) / len(lrs), "search")
            trials[lr] = self.rmse(self.X_val, self.y_val)
            if self.stopped():
                break
        ok = {lr: v for lr, v in trials.items() if math.isfinite(v)}
        self.model.load_state_dict(start)
        self.best_val, self.best_state, self.step = math.inf, start, 0
        return (min(ok, key=lambda r: ok[r]) if ok else min(lrs)), trials

    def lbfgs(self) -> str:
        """3. LBFGS from the best Adam weights, with early stopping on validation."""
        opt = torch.optim.LBFGS(
            self.params, lr=1.0, max_iter=10, history_size=20, line_search_fn="strong_wolfe"
        )

        def closure() -> float:
            if self.stopped():
                raise _Stopped
            opt.zero_grad(set_to_none=True)
            loss = self.loss_on(self.X, self.y)
            loss.backward()
            return loss  # type: ignore[return-value]  # LBFGS takes the tensor

        waited = 0
        for _ in range(self.budget.lbfgs_steps):
            if self.stopped():
                return "stopped"
            if self.late(self.total):
                return "out of time"
            try:
                opt.step(closure)
            except _Stopped:
                return "stopped"
            self.step += 1
            if not all(bool(torch.isfinite(p).all()) for p in self.params):
                return "diverged"
            waited = 0 if self.check("lbfgs", 1.0) else waited + 1
            if waited >= self.budget.patience // 3:
                return "early-stopped"
        return "completed"

    def run(self) -> dict:
        """The three phases; the weights with the best validation error are left in the model."""
        lr, trials = self.search_lr()
        status = (
            self.adam(lr, self.budget.adam_steps, 0.6 * self.total, "adam")
            if not self.stopped()
            else "stopped"
        )
        adam_steps = self.step
        self.model.load_state_dict(self.best_state)
        if status != "stopped" and self.budget.lbfgs_steps:
            status = self.lbfgs()
        self.model.load_state_dict(self.best_state)
        return {
            "train_rmse": self.rmse(self.X, self.y),
            "val_rmse": self.rmse(self.X_val, self.y_val),
            "lr": lr,
            "lr_search": {str(k): v for k, v in trials.items()},
            "steps": {"adam": adam_steps, "lbfgs": self.step - adam_steps},
            "seconds": time.perf_counter() - self.t0,
            "status": status,
        }
