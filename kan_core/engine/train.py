"""fit(): Adam or LBFGS, full- or mini-batch, sparsity penalty, grid updates, callbacks, stop, NaN guard."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from kan_core.engine.model import KAN
from kan_core.errors import ConfigError, DataError, TrainingDiverged

Callback = Callable[[int, dict], None]


@dataclass
class History:
    """Losses (RMSE in the target's units) of one `fit` call; status: completed/stopped/diverged."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    reg: list[float] = field(default_factory=list)
    status: str = "completed"
    message: str = ""

    def as_dict(self) -> dict:
        """Plain-JSON view."""
        return dict(self.__dict__)


def _copy_state(model: KAN) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def as_tensors(model: KAN, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """X (n, n_in) and y (n, n_out) as float tensors on the model's device, with one-line errors."""
    X = torch.as_tensor(np.asarray(X, dtype=np.float64) if not torch.is_tensor(X) else X)
    y = torch.as_tensor(np.asarray(y, dtype=np.float64) if not torch.is_tensor(y) else y)
    X = X.to(model.device, model.dtype)
    y = y.to(model.device, model.dtype)
    if X.ndim == 1:
        X = X[:, None]
    if y.ndim == 1:
        y = y[:, None]
    n_in, n_out = model.widths[0], model.widths[-1]
    if X.ndim != 2 or X.shape[1] != n_in:
        raise DataError(f"X has shape {tuple(X.shape)} but the model takes {n_in} input column(s)")
    if y.ndim != 2 or y.shape != (X.shape[0], n_out):
        raise DataError(
            f"y has shape {tuple(y.shape)}; expected {X.shape[0]} row(s) and {n_out} column(s) like X"
        )
    if X.shape[0] < 1:
        raise DataError("no rows to train on; provide at least one sample")
    if not (torch.isfinite(X).all() and torch.isfinite(y).all()):
        raise DataError("X or y contains NaN or inf; drop or fill those rows before training")
    return X, y


class _Stopped(Exception):
    """Raised inside an LBFGS closure when the stop event is set, so a stop needs no full step."""


def fit(
    model: KAN,
    X,
    y,
    *,
    steps: int = 200,
    opt: str = "adam",
    lr: float | None = None,
    batch_size: int | None = None,
    lamb: float = 0.0,
    lamb_l1: float = 1.0,
    lamb_entropy: float = 1.0,
    reg_samples: int = 256,
    grid_update_every: int = 0,
    grid_update_until: int | None = None,
    grid_eps: float = 1.0,
    val_fraction: float = 0.0,
    X_val=None,
    y_val=None,
    seed: int = 0,
    normalize: bool = True,
    callback: Callback | None = None,
    stop_event: threading.Event | None = None,
    log_every: int | None = None,
) -> History:
    """Train `model` in place on (X, y) and return its History.

    On the first call the input/output standardisation and every layer's grid are set from the
    data, so inputs of any scale need no preparation. `grid_update_every` > 0 moves the grids to
    the data every that many steps until `grid_update_until` (default: half the steps).
    `callback(step, metrics)` and the NaN check run every `log_every` steps (1 on CPU, 10 on GPU,
    where each check waits for the device). Weights are snapshotted every max(log_every, 10)
    steps; if the loss goes NaN/inf the last snapshot whose loss was seen finite is restored and
    TrainingDiverged is raised, carrying the history.
    """
    opt = opt.lower()
    if opt not in ("adam", "lbfgs"):
        raise ConfigError(f"unknown optimizer {opt!r}; use 'adam' or 'lbfgs'")
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps}")
    for name, value in (("lr", lr), ("lamb", lamb), ("lamb_l1", lamb_l1), ("lamb_entropy", lamb_entropy)):
        positive = name == "lr"
        if value is not None and not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
            raise ConfigError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value}")
    if grid_eps != grid_eps or not 0 <= grid_eps <= 1:
        raise ConfigError(f"grid_eps must be in [0, 1], got {grid_eps}")
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    X, y = as_tensors(model, X, y)
    gen = torch.Generator().manual_seed(int(seed))
    if X_val is not None:
        X_val, y_val = as_tensors(model, X_val, y_val)
    elif val_fraction > 0 and X.shape[0] >= 4:
        perm = torch.randperm(X.shape[0], generator=gen).to(X.device)
        n_val = max(1, int(round(val_fraction * X.shape[0])))
        X_val, y_val = X[perm[:n_val]], y[perm[:n_val]]
        X, y = X[perm[n_val:]], y[perm[n_val:]]

    if not bool(model.initialized):
        if normalize:
            model.set_normalization(X, y)
        model.update_grid(X, grid_eps)
        model.initialized.fill_(True)

    n = X.shape[0]
    batch = n if not batch_size or batch_size >= n else int(batch_size)
    log_every = log_every or (1 if model.device.type == "cpu" else 10)
    until = steps // 2 if grid_update_until is None else grid_update_until
    params = [p for p in model.parameters() if p.requires_grad]
    if opt == "adam":
        # The fused kernel updates every tensor in one pass (CPU and CUDA).
        optimizer = torch.optim.Adam(params, lr=lr or 1e-2, fused=True)
    else:
        optimizer = torch.optim.LBFGS(
            params,
            lr=lr or 1.0,
            max_iter=20,
            history_size=10,
            line_search_fn="strong_wolfe",
            tolerance_grad=1e-32,
            tolerance_change=1e-32,
        )

    def objective(xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # Optimise the error in standardised units so lr and lamb mean the same at any data scale.
        err = model(xb) - yb
        total = torch.mean((err / model.out_scale) ** 2)
        mse = torch.mean(err.detach() ** 2)
        if lamb <= 0:
            return total, mse, mse * 0
        reg = model.regularization(xb[: min(reg_samples, xb.shape[0])], lamb_l1, lamb_entropy)
        return total + lamb * reg, mse, reg.detach()

    hist = History()
    pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    # The loss logged at an Adam step measures the weights from before that step's update; the
    # LBFGS loss is taken after it. A snapshot is trusted only once its loss has been seen finite.
    lag = 1 if opt == "adam" else 0
    snapshot_every = max(log_every, 10)
    good_state, good_step, snapshot = _copy_state(model), 0, None
    model.train()
    for step in range(1, steps + 1):
        if stop_event is not None and stop_event.is_set():
            hist.status, hist.message = "stopped", f"stopped by request after step {step - 1}"
            break
        if grid_update_every and step > 1 and (step - 1) % grid_update_every == 0 and step <= until:
            model.update_grid(X, grid_eps)
        if batch < n:
            idx = torch.randint(0, n, (batch,), generator=gen).to(X.device)
            xb, yb = X[idx], y[idx]
        else:
            xb, yb = X, y
        log_now = step % log_every == 0 or step == steps

        def closure(xb: torch.Tensor = xb, yb: torch.Tensor = yb) -> torch.Tensor:
            if stop_event is not None and stop_event.is_set():
                raise _Stopped
            optimizer.zero_grad(set_to_none=True)
            total = objective(xb, yb)[0]
            total.backward()
            return total

        if opt == "adam":
            optimizer.zero_grad(set_to_none=True)
            total, mse, reg = objective(xb, yb)
            total.backward()
            if log_now and (step - lag) % snapshot_every == 0:
                snapshot = _copy_state(model), step - lag
            optimizer.step()
        else:
            before = [p.detach().clone() for p in params] if stop_event is not None else None
            try:
                optimizer.step(closure)
            except _Stopped:  # mid-step (one LBFGS step is up to 25 evaluations): undo the partial step
                with torch.no_grad():
                    for p, b in zip(params, before or []):
                        p.copy_(b)
                hist.status, hist.message = "stopped", f"stopped by request after step {step - 1}"
                break
            with torch.no_grad():
                _, mse, reg = objective(xb, yb)
            if log_now and step % snapshot_every == 0:
                snapshot = _copy_state(model), step
        pending.append((step, mse, reg))
        if not log_now:
            continue

        values = torch.stack([torch.stack([p[1], p[2]]) for p in pending]).cpu().tolist()
        for (s, _, _), (lv, rv) in zip(pending, values):
            if not (math.isfinite(lv) and math.isfinite(rv)):
                model.load_state_dict(good_state)
                hist.status = "diverged"
                hist.message = (
                    f"training diverged at step {s}; weights restored to step {good_step}; "
                    "lower the learning rate"
                )
                raise TrainingDiverged(hist.message, hist)
            hist.step.append(s)
            hist.train_loss.append(math.sqrt(lv))
            hist.reg.append(rv)
        pending.clear()
        if snapshot is not None:
            (good_state, good_step), snapshot = snapshot, None
        metrics = {"train_loss": hist.train_loss[-1], "reg": hist.reg[-1]}
        if X_val is not None:
            with torch.no_grad():
                val = torch.sqrt(torch.mean((model(X_val) - y_val) ** 2)).item()
            hist.val_step.append(step)
            hist.val_loss.append(val)
            metrics["val_loss"] = val
        if callback is not None:
            callback(step, {"step": step, "steps": steps, **metrics})
    model.eval()
    return hist
