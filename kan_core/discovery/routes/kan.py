"""KAN routes: train an architecture, prune, refine, snap every edge, compose (arXiv:2404.19756,
§2.5); the log-space variants do so on log|y| against log x (products of powers become sums)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np
import sympy as sp
import torch

from kan_core._runtime import Overtime, time_limited
from kan_core.discovery.routes.base import Found, Problem, Route
from kan_core.discovery.work import EDGE_FIT_SECONDS, Work, affordable, step_seconds
from kan_core.engine.model import KAN
from kan_core.engine.prune import keep_strongest, prune
from kan_core.engine.train import TrainConfig, fit
from kan_core.symbolic.edges import auto_snap, edge_fits
from kan_core.symbolic.formula import SYMPY_SECONDS, network_expr


def _until(deadline: float) -> threading.Event:
    """An Event that sets itself at `deadline` (a perf_counter time): training stops on time."""
    event = threading.Event()
    if not math.isfinite(deadline):
        return event  # no limit: never set
    timer = threading.Timer(max(0.0, deadline - time.perf_counter()), event.set)
    timer.daemon = True
    timer.start()
    return event


def _snap_all(
    model: KAN,
    X,
    y,
    r2_threshold: float,
    functions: list[str] | None,
    work: Work,
    retrain: int = 15,
) -> KAN:
    """Auto-snap repeatedly; when no edge is trusted, snap the most confident one and retrain.

    Each round is charged to `work` (its edge fits and retraining steps, `kan_core.discovery.work`);
    once the account is spent, every remaining edge takes its best fit in one pass: a rough
    formula that the constant refit can still polish is worth more than none. The wall clock
    (`work.wall_end`) only stops the retraining.
    """
    stop = _until(work.wall_end)
    widths = [layer.in_dim for layer in model.layers] + [model.layers[-1].out_dim]
    retrain_cost = retrain * step_seconds(widths, min(len(X), 512), "lbfgs")
    while True:
        if work.left() <= 0 or stop.is_set():
            return auto_snap(model, X, y, -math.inf, functions, retrain_steps=0)[0]
        numeric = sum(int(((layer.mask > 0) & (layer.sym < 0)).sum()) for layer in model.layers)
        work.charge(numeric * EDGE_FIT_SECONDS + retrain_cost)
        model, report = auto_snap(
            model, X, y, r2_threshold, functions, retrain_steps=retrain, stop_event=stop
        )
        left = [r for r in report if not r["accepted"]]
        if not left:
            return model
        if work.left() <= 0 or stop.is_set():  # spent: the fits just computed snap the rest
            for r in left:
                b = r["best"]
                model.layers[r["layer"]].set_symbolic(
                    r["i"], r["j"], b["fn"], (b["a"], b["b"], b["c"], b["d"])
                )
            return model
        if len(left) < len(report):
            continue  # progress: the retrained network may now have cleaner edges
        top = max(left, key=lambda r: r["best"]["r2"])
        work.charge(EDGE_FIT_SECONDS + retrain_cost)
        best = edge_fits(model, X, top["layer"], top["i"], top["j"], functions)[0]
        model.layers[top["layer"]].set_symbolic(top["i"], top["j"], best.fn, (best.a, best.b, best.c, best.d))
        fit(model, X, y, steps=retrain, opt="lbfgs", stop_event=stop)


def _kan_route(widths, X, y, symbols, p: Problem, separable: bool = False) -> tuple[sp.Expr, Callable]:
    """Train, prune, refine, snap one architecture; the composed formula and the network itself.

    `separable` gives each input a single first-layer edge (its strongest), so that a product
    node multiplies functions of disjoint groups of variables.
    """
    cfg, seed = p.settings, p.seed
    step = max(1, len(X) // cfg.train_rows)
    Xt, yt = torch.as_tensor(X[::step]), torch.as_tensor(y[::step])
    # Training is sized in work, not wall time (`kan_core.discovery.work`): `train_share` of the
    # route's account pays for optimizer steps, the rest for snapping; the same steps run on an
    # idle and on a busy machine. The wall clock only stops training at the search's end.
    work = p.account()
    train = Work(cfg.train_share * work.left(), work.wall_end)
    stop = _until(work.wall_end)
    adam_cost, lbfgs_cost = step_seconds(widths, len(Xt)), step_seconds(widths, len(Xt), "lbfgs")
    # Adam finds the basin (LBFGS alone stalls on narrow nets such as [2, 1, 1]); LBFGS polishes.
    # Nets with wide hidden layers land in poor basins for some seeds: start two, keep the better.
    # A single layer is linear in its coefficients (a convex fit): LBFGS alone suffices.
    wide = any(not isinstance(w, int) or w > 1 for w in widths[1:-1])
    tries = []
    for s in range(seed, seed + (2 if wide else 1)):
        model = KAN(widths, grid=cfg.grid, k=3, seed=s, device="cpu").double()
        n_edges = sum(layer.in_dim * layer.out_dim for layer in model.layers)
        lamb = cfg.sparsity if n_edges > widths[0] else 0.0
        # Each start gets its part of the account (a wide net: a third each, a third for the
        # longer run of the better one), so that the later stages are paid for too.
        share = Work(train.left() / ((3 if wide else 1) - (s - seed)), work.wall_end)
        if len(widths) == 2:
            steps = affordable(share, 30, lbfgs_cost, at_least=1)
            hist = fit(model, Xt, yt, steps=steps, opt="lbfgs", seed=s, stop_event=stop)
        else:
            steps = affordable(share, 400 if wide else 600, adam_cost, at_least=1)
            adam = TrainConfig(steps=steps, opt="adam", lamb=lamb, grid_update_every=100, seed=s)
            hist = fit(model, Xt, yt, adam, stop_event=stop)
        train.charge(share.spent)
        tries.append((hist.train_rmse[-1] if hist.train_rmse else math.inf, s, model))
    _, s, model = min(tries, key=lambda t: t[0])
    if wide and (steps := affordable(train, 400, adam_cost)):
        fit(model, Xt, yt, steps=steps, opt="adam", lamb=lamb, grid_update_every=100, seed=s, stop_event=stop)
    if separable:
        model = keep_strongest(model, Xt)
        if steps := affordable(train, 300, adam_cost):
            fit(model, Xt, yt, steps=steps, opt="adam", seed=seed, stop_event=stop)
    elif lamb:
        model, _ = prune(model, Xt, threshold=cfg.prune_threshold)
    if train.left() >= 40 * lbfgs_cost:  # a route short of work skips the polish and snaps
        fit(model, Xt, yt, steps=affordable(train, 20, lbfgs_cost), opt="lbfgs", seed=seed, stop_event=stop)
        model = model.refined(cfg.refined_grid, Xt)
        fit(model, Xt, yt, steps=affordable(train, 20, lbfgs_cost), opt="lbfgs", seed=seed, stop_event=stop)
    work.charge(train.spent)
    model = _snap_all(model, Xt, yt, p.r2_threshold, p.functions, work, cfg.snap_retrain_steps)
    expr = network_expr(model, symbols)

    def network(Xa: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(Xa, dtype=torch.float64)).numpy()[:, 0]

    return expr, network


def log_symbols(symbols: list[sp.Symbol]) -> list[sp.Symbol]:
    """One real symbol log_<name> per variable: the inputs of a network trained in log space."""
    return [sp.Symbol(f"log_{s.name}", real=True) for s in symbols]


def from_log_space(expr: sp.Expr, symbols: list[sp.Symbol], sign: float) -> sp.Expr:
    """y = sign·exp(expr) with each log_<name> replaced by log(name), powers gathered: a sum of
    c·log x terms becomes the product of powers it stands for (x must be positive)."""
    pos = [sp.Symbol(s.name, positive=True) for s in symbols]
    logs = log_symbols(symbols)
    expr = sign * sp.exp(expr.xreplace({u: sp.log(p) for u, p in zip(logs, pos)}))
    try:
        expr = time_limited(
            lambda: sp.expand(
                sp.powsimp(sp.expand(expr, power_exp=True), force=True), power_exp=False, log=False
            ),
            SYMPY_SECONDS,
        )
    except Overtime:
        pass  # exp(sum of logs) is correct too, only less readable
    return expr.xreplace(dict(zip(pos, symbols)))


def _log_route(widths, X, y, symbols, p: Problem) -> tuple[sp.Expr, Callable]:
    """Fit log|y| in log x with a KAN of these widths, then y = ±exp(…)."""
    sign = 1.0 if np.mean(y > 0) >= 0.5 else -1.0
    rows = sign * y > 0  # rows that noise pushed across zero have no logarithm: left out
    expr, net = _kan_route(widths, np.log(X[rows]), np.log(sign * y[rows]), log_symbols(symbols), p)
    return from_log_space(expr, symbols, sign), lambda Xa: sign * np.exp(net(np.log(Xa)))


def network_route(widths: list, separable: bool = False) -> Route:
    """The route that trains this architecture on the problem's rows."""

    def run(p: Problem) -> Found:
        return [_kan_route(widths, p.X, p.y, p.symbols, p, separable)]

    return run


def log_route(widths: list) -> Route:
    """The route that trains this architecture on log|y| against log x (positive inputs)."""

    def run(p: Problem) -> Found:
        return [_log_route(widths, p.X, p.y, p.symbols, p)]

    return run


ARCHITECTURES: list[tuple[str, Callable[[int], list]]] = [
    ("additive", lambda d: [d, 1]),
    ("additive-outer", lambda d: [d, 1, 1]),
    ("separable-product", lambda d: [d, [0, 1], 1]),
    ("deep", lambda d: [d, 2, 1, 1]),
    ("product", lambda d: [d, [0, 1], 1]),
    ("two-sums", lambda d: [d, 2, 1]),
    ("sum-and-product", lambda d: [d, [1, 1], 1]),
    ("wide", lambda d: [d, 2 * d + 1, 1]),
]
