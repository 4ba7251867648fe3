"""fit(): Adam or LBFGS, full- or mini-batch, sparsity penalty, grid updates, callbacks, stop, NaN guard."""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch

from kan_core.engine.model import KAN
from kan_core.errors import ConfigError, DataError, TrainingDiverged

Callback = Callable[[int, dict], None]


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one `fit` call, with the defaults `fit`, `KANRegressor` and the studio share.

    LBFGS for 50 steps fits the small networks formula discovery uses in seconds (the KAN paper's
    choice, arXiv:2404.19756 Sec. 2.5); Adam with mini-batches is for large tables.

    Parameters
    ----------
    steps : int, default 50
        Optimizer steps (an LBFGS step is up to 20 evaluations with a strong-Wolfe line search).
    opt : {"lbfgs", "adam"}, default "lbfgs"
    lr : float or None
        Learning rate; None means 1.0 for LBFGS and 1e-2 for Adam.
    batch_size : int or None
        Rows per step; None or ≥ n is full-batch.
    lamb : float, default 0
        Weight of the sparsity penalty (KAN paper Eq. 2.20: l1 and entropy of edge attributions).
    lamb_l1, lamb_entropy : float, default 1
        Weights of the two parts of that penalty.
    reg_samples : int, default 256
        Rows on which the penalty is evaluated each step.
    grid_update_every : int, default 0
        Move the grids to the data every that many steps (0: never) until `grid_update_until`
        (default: half the steps).
    grid_eps : float in [0, 1], default 1
        1 = uniform grid over the data's range, 0 = knots at data quantiles.
    val_fraction : float in [0, 1), default 0
        Share of rows held out for the validation RMSE when no `X_val` is given.
    seed : int, default 0
        Seeds the validation split and the mini-batches.
    normalize : bool, default True
        Standardise inputs and outputs from the data on the first call.
    log_every : int or None
        Steps between callbacks / NaN checks (None: 1 on CPU, 10 on GPU).

    Raises
    ------
    ConfigError
        A value out of range (named in the message).
    """

    steps: int = 50
    opt: str = "lbfgs"
    lr: float | None = None
    batch_size: int | None = None
    lamb: float = 0.0
    lamb_l1: float = 1.0
    lamb_entropy: float = 1.0
    reg_samples: int = 256
    grid_update_every: int = 0
    grid_update_until: int | None = None
    grid_eps: float = 1.0
    val_fraction: float = 0.0
    seed: int = 0
    normalize: bool = True
    log_every: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "opt", str(self.opt).lower())
        if self.opt not in ("adam", "lbfgs"):
            raise ConfigError(f"unknown optimizer {self.opt!r}; use 'adam' or 'lbfgs'")
        if self.steps < 0:
            raise ConfigError(f"steps must be >= 0, got {self.steps}")
        for name in ("lr", "lamb", "lamb_l1", "lamb_entropy"):
            value, positive = getattr(self, name), name == "lr"
            if value is not None and not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
                raise ConfigError(
                    f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value}"
                )
        if self.grid_eps != self.grid_eps or not 0 <= self.grid_eps <= 1:
            raise ConfigError(f"grid_eps must be in [0, 1], got {self.grid_eps}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with `changes` applied (unknown names raise ConfigError)."""
        unknown = sorted(set(changes) - {f.name for f in fields(self)})
        if unknown:
            known = ", ".join(f.name for f in fields(self))
            raise ConfigError(f"unknown training option(s) {', '.join(unknown)}; choose from {known}")
        return dataclasses.replace(self, **changes)


@dataclass
class History:
    """RMSE curves (in the target's units) of one `fit` call; status: completed/stopped/diverged."""

    step: list[int] = field(default_factory=list)
    train_rmse: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_rmse: list[float] = field(default_factory=list)
    reg: list[float] = field(default_factory=list)
    status: str = "completed"
    message: str = ""

    def as_dict(self) -> dict:
        """Plain-JSON view."""
        return dict(self.__dict__)

    @property
    def train_loss(self) -> list[float]:
        """Deprecated name of `train_rmse` (it is an RMSE, not the optimised loss)."""
        warnings.warn("History.train_loss is now History.train_rmse", DeprecationWarning, stacklevel=2)
        return self.train_rmse

    @property
    def val_loss(self) -> list[float]:
        """Deprecated name of `val_rmse`."""
        warnings.warn("History.val_loss is now History.val_rmse", DeprecationWarning, stacklevel=2)
        return self.val_rmse


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
    config: TrainConfig | None = None,
    *,
    X_val=None,
    y_val=None,
    callback: Callback | None = None,
    stop_event: threading.Event | None = None,
    **options: Any,
) -> History:
    """Train `model` in place on (X, y) and return its History.

    On the first call the input/output standardisation and every layer's grid are set from the
    data, so inputs of any scale need no preparation. The loss is the mean squared error in
    standardised units plus `lamb` × the KAN paper's sparsity penalty (arXiv:2404.19756, Eq. 2.20).

    Parameters
    ----------
    model : KAN
        Trained in place (weights, and grids when `grid_update_every` > 0).
    X : array-like or Tensor, shape (n, n_in)
    y : array-like or Tensor, shape (n,) or (n, n_out)
        Target in its own units (the history's RMSE is in those units).
    config : TrainConfig, optional
        Hyper-parameters (default `TrainConfig()`); keyword `options` override single fields,
        e.g. ``fit(model, X, y, steps=200, opt="adam")``.
    X_val, y_val : array-like, optional
        Validation rows (otherwise `val_fraction` of the rows are held out).
    callback : callable(step, metrics), optional
        Called every `log_every` steps with {"step", "steps", "train_rmse", "reg"[, "val_rmse"]}.
    stop_event : threading.Event, optional
        Set it to stop at the next step (LBFGS: mid-step, the partial step undone).

    Returns
    -------
    History
        Per logged step the train RMSE, penalty and validation RMSE; `status` is "completed" or
        "stopped".

    Raises
    ------
    ConfigError
        An option out of range or unknown.
    DataError
        X/y of the wrong shape, empty, or not finite.
    TrainingDiverged
        The loss became NaN/inf; the weights of the last snapshot whose loss was finite (taken
        every max(log_every, 10) steps) are restored and the history is attached.
    """
    cfg = (config or TrainConfig()).replace(**options) if options else (config or TrainConfig())
    X, y = as_tensors(model, X, y)
    gen = torch.Generator().manual_seed(int(cfg.seed))  # the split, then the mini-batches
    X, y, X_val, y_val = _validation_split(model, X, y, X_val, y_val, cfg, gen)
    if not bool(model.initialized):
        if cfg.normalize:
            model.set_normalization(X, y)
        model.update_grid(X, cfg.grid_eps)
        model.initialized.fill_(True)
    return _Trainer(model, cfg, (X, y), (X_val, y_val), gen, callback, stop_event).run()


def _validation_split(model: KAN, X, y, X_val, y_val, cfg: TrainConfig, gen: torch.Generator) -> tuple:
    if X_val is not None:
        X_val, y_val = as_tensors(model, X_val, y_val)
    elif cfg.val_fraction > 0 and X.shape[0] >= 4:
        perm = torch.randperm(X.shape[0], generator=gen).to(X.device)
        n_val = max(1, int(round(cfg.val_fraction * X.shape[0])))
        X_val, y_val = X[perm[:n_val]], y[perm[:n_val]]
        X, y = X[perm[n_val:]], y[perm[n_val:]]
    return X, y, X_val, y_val


def _optimizer(params: list[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.opt == "adam":  # the fused kernel updates every tensor in one pass (CPU and CUDA)
        return torch.optim.Adam(params, lr=cfg.lr or 1e-2, fused=True)
    return torch.optim.LBFGS(
        params,
        lr=cfg.lr or 1.0,
        max_iter=20,
        history_size=10,
        line_search_fn="strong_wolfe",
        tolerance_grad=1e-32,
        tolerance_change=1e-32,
    )


class _Trainer:
    """One `fit` call's loop: optimizer steps, deferred NaN checks, snapshots, callbacks."""

    def __init__(self, model: KAN, cfg: TrainConfig, train, val, gen, callback, stop_event):
        self.model, self.cfg, self.gen = model, cfg, gen
        (self.X, self.y), (self.X_val, self.y_val) = train, val
        self.callback, self.stop_event = callback, stop_event
        self.n = self.X.shape[0]
        self.batch = self.n if not cfg.batch_size or cfg.batch_size >= self.n else int(cfg.batch_size)
        self.log_every = cfg.log_every or (1 if model.device.type == "cpu" else 10)
        self.until = cfg.steps // 2 if cfg.grid_update_until is None else cfg.grid_update_until
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = _optimizer(self.params, cfg)
        self.hist = History()
        self.pending: list[tuple[int, torch.Tensor, torch.Tensor]] = []
        # The loss logged at an Adam step measures the weights from before that step's update; the
        # LBFGS loss is taken after it. A snapshot is trusted only once its loss has been seen finite.
        self.lag = 1 if cfg.opt == "adam" else 0
        self.snapshot_every = max(self.log_every, 10)
        self.good_state, self.good_step = _copy_state(model), 0
        self.snapshot: tuple[dict, int] | None = None

    def objective(
        self, xb: torch.Tensor, yb: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(loss to optimise, MSE in target units, penalty) on one batch."""
        # Optimise the error in standardised units so lr and lamb mean the same at any data scale.
        model, cfg = self.model, self.cfg
        err = model(xb) - yb
        total = torch.mean((err / model.out_scale) ** 2)
        mse = torch.mean(err.detach() ** 2)
        if cfg.lamb <= 0:
            return total, mse, mse * 0
        reg = model.regularization(xb[: min(cfg.reg_samples, xb.shape[0])], cfg.lamb_l1, cfg.lamb_entropy)
        return total + cfg.lamb * reg, mse, reg.detach()

    def stopped(self) -> bool:
        """Whether a stop was requested."""
        return self.stop_event is not None and self.stop_event.is_set()

    def run(self) -> History:
        """Train for `cfg.steps` steps (or until stopped) and return the history."""
        self.model.train()
        for step in range(1, self.cfg.steps + 1):
            if self.stopped() or not self.step(step):
                self.hist.status, self.hist.message = "stopped", f"stopped by request after step {step - 1}"
                break
            if step % self.log_every == 0 or step == self.cfg.steps:
                self.log(step)
        self.model.eval()
        return self.hist

    def batch_at(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This step's rows (grids moved to the data first when it is time)."""
        cfg = self.cfg
        if (
            cfg.grid_update_every
            and step > 1
            and (step - 1) % cfg.grid_update_every == 0
            and step <= self.until
        ):
            self.model.update_grid(self.X, cfg.grid_eps)
        if self.batch < self.n:
            idx = torch.randint(0, self.n, (self.batch,), generator=self.gen).to(self.X.device)
            return self.X[idx], self.y[idx]
        return self.X, self.y

    def step(self, step: int) -> bool:
        """One optimizer step; False when a stop request interrupted it (the step undone)."""
        xb, yb = self.batch_at(step)
        log_now = step % self.log_every == 0 or step == self.cfg.steps
        if self.cfg.opt == "adam":
            self.optimizer.zero_grad(set_to_none=True)
            total, mse, reg = self.objective(xb, yb)
            total.backward()
            if log_now and (step - self.lag) % self.snapshot_every == 0:
                self.snapshot = _copy_state(self.model), step - self.lag
            self.optimizer.step()
        else:
            if not self.lbfgs_step(xb, yb):
                return False
            with torch.no_grad():
                _, mse, reg = self.objective(xb, yb)
            if log_now and step % self.snapshot_every == 0:
                self.snapshot = _copy_state(self.model), step
        self.pending.append((step, mse, reg))
        return True

    def lbfgs_step(self, xb: torch.Tensor, yb: torch.Tensor) -> bool:
        """One LBFGS step (up to 25 evaluations); a stop mid-step restores the weights."""

        def closure() -> float:
            if self.stopped():
                raise _Stopped
            self.optimizer.zero_grad(set_to_none=True)
            total = self.objective(xb, yb)[0]
            total.backward()
            return total  # type: ignore[return-value]  # LBFGS takes the tensor (float in its stub)

        before = [p.detach().clone() for p in self.params] if self.stop_event is not None else []
        try:
            self.optimizer.step(closure)
        except _Stopped:
            with torch.no_grad():
                for p, b in zip(self.params, before):
                    p.copy_(b)
            return False
        return True

    def log(self, step: int) -> None:
        """Check the pending losses for NaN, record them, take the snapshot, call back."""
        hist = self.hist
        values = torch.stack([torch.stack([p[1], p[2]]) for p in self.pending]).cpu().tolist()
        for (s, _, _), (lv, rv) in zip(self.pending, values):
            if not (math.isfinite(lv) and math.isfinite(rv)):
                self.model.load_state_dict(self.good_state)
                hist.status = "diverged"
                hist.message = (
                    f"training diverged at step {s}; weights restored to step {self.good_step}; "
                    "lower the learning rate"
                )
                raise TrainingDiverged(hist.message, hist)
            hist.step.append(s)
            hist.train_rmse.append(math.sqrt(lv))
            hist.reg.append(rv)
        self.pending.clear()
        if self.snapshot is not None:
            (self.good_state, self.good_step), self.snapshot = self.snapshot, None
        metrics = {"train_rmse": hist.train_rmse[-1], "reg": hist.reg[-1]}
        if self.X_val is not None:
            with torch.no_grad():
                val = torch.sqrt(torch.mean((self.model(self.X_val) - self.y_val) ** 2)).item()
            hist.val_step.append(step)
            hist.val_rmse.append(val)
            metrics["val_rmse"] = val
        if self.callback is not None:
            self.callback(step, {"step": step, "steps": self.cfg.steps, **metrics})
