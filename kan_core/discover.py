"""discover(): train → prune → snap → formula → refit → check, over several routes, Pareto-selected."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sympy as sp
import torch

from .constants import fit_formula
from .data import prepare
from .errors import KanStudioError
from .formula import evaluate, network_expr, safe_symbols
from .model import KAN
from .pareto import Candidate, Scorer
from .routes import plans

SIMPLE = 20  # an exact formula up to this complexity ends the search early
# One route's failure (a formula NumPy cannot evaluate, a singular fit) ends that route only.
ROUTE_ERRORS = (KanStudioError, ValueError, ArithmeticError, RuntimeError, TypeError)


@dataclass
class Result:
    """What discover() found: the Pareto front (simplest first) and the selected best formula."""

    variables: list[str]
    target: str
    symbols: list[sp.Symbol]
    pareto: list[Candidate]
    best: Candidate
    metrics: dict
    routes: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    seed: int = 0
    warnings: list[str] = field(default_factory=list)

    def predict(self, X: np.ndarray, which: Candidate | None = None) -> np.ndarray:
        """Evaluate the best (or a given) formula on rows of X in the variables' order."""
        return evaluate((which or self.best).expr, self.symbols, np.asarray(X, float))


def discover(
    data: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    seconds: float = 60.0,
    seed: int = 0,
    val_fraction: float = 0.2,
    r2_threshold: float = 0.99,
    functions: list[str] | None = None,
    callback: Callable[[dict], None] | None = None,
    stop_event: threading.Event | None = None,
) -> Result:
    """Find closed-form formulas for `target` from `features`, within about `seconds`.

    Routes (each a KAN architecture, plus a log-space route when inputs and target are positive)
    are tried in turn until the budget is spent or a formula is exact on held-out data. Every
    candidate's constants are refit on the training rows; the best is chosen as PySR does, but on
    the validation loss.
    """
    start = time.perf_counter()
    torch.manual_seed(seed)
    ds = prepare(data, target, features)
    X, y, names = ds.X, ds.y, ds.features
    symbols = safe_symbols(names)
    n_val = 0 if ds.small else int(round(val_fraction * len(y)))
    sc = Scorer(X, y, symbols, seed, n_val)
    tr, add = sc.tr, sc.add
    add(sp.Float(float(np.mean(y[tr]))), "constant")
    routes = []
    todo = plans(X[tr], y[tr], len(names), r2_threshold, functions)
    for i, (name, run) in enumerate(todo):
        elapsed = time.perf_counter() - start
        if elapsed > 0.8 * seconds or (stop_event is not None and stop_event.is_set()):
            break
        if callback:
            callback({"route": name, "done": i, "total": len(todo), "elapsed": elapsed})
        t0 = time.perf_counter()
        deadline = time.perf_counter() + max(5.0, (seconds - elapsed) / 2)
        try:
            found, composed = [], None
            for expr, network in run(X[tr], y[tr], symbols, seed, deadline):
                net = network(X[tr]) if network else None
                composed = _net_error(expr, symbols, X[tr], net)
                fitted = fit_formula(expr, symbols, X[tr], y[tr], deadline=deadline)
                for variant in [fitted.expr, *fitted.steps]:
                    add(variant, name, _net_error(variant, symbols, X[tr], net))
                found.append(str(fitted.expr))
            routes.append({"route": name, "seconds": time.perf_counter() - t0, "formula": "; ".join(found)})
            if composed is not None:  # the snapped network read as a formula: must be ~0
                routes[-1]["composed_vs_network"] = composed
        except ROUTE_ERRORS as err:
            routes.append({"route": name, "seconds": time.perf_counter() - t0, "error": str(err)})
        if sc.exact(SIMPLE):
            break  # exact on held-out data and simple: more routes cannot do better
        # An exact but long formula (a degenerate composition such as exp(-√((a·log m + b)²)) for m)
        # lets the remaining routes look for a simpler one; the Pareto front keeps the simplest.
    best = sc.select()[1]
    if best.expr.atoms(sp.Float) and best.route != "constant" and time.perf_counter() < start + seconds:
        # Late routes leave constants unsnapped (kappa**1.000003): polish the winner in what is left.
        try:
            polished = fit_formula(best.expr, symbols, X[tr], y[tr], deadline=start + seconds)
            for variant in [polished.expr, *polished.steps]:
                add(variant, f"{best.route}, polished", best.net_error)
        except ROUTE_ERRORS:
            pass
    pareto, best, metrics = sc.select()
    return Result(
        names, target, symbols, pareto, best, metrics, routes, time.perf_counter() - start, seed, ds.warnings
    )


def network_formulas(
    model: KAN, data: pd.DataFrame, target: str, features: list[str], seed: int = 0, seconds: float = 20.0
) -> Result:
    """Read a user's snapped network as formulas: composed, constants refit and snapped, scored."""
    start = time.perf_counter()
    ds = prepare(data, target, features)
    X, y, symbols = ds.X, ds.y, safe_symbols(ds.features)
    sc = Scorer(X, y, symbols, seed, 0 if ds.small else int(round(0.2 * len(y))))
    expr = network_expr(model, symbols)  # a ModelError names the edges still to snap or prune
    with torch.no_grad():
        net = (
            model(torch.as_tensor(X[sc.tr], dtype=model.dtype, device=model.device))
            .double()
            .cpu()
            .numpy()[:, 0]
        )
    sc.add(sp.Float(float(np.mean(y[sc.tr]))), "constant")
    sc.add(expr, "network", _net_error(expr, symbols, X[sc.tr], net))
    fitted = fit_formula(expr, symbols, X[sc.tr], y[sc.tr], deadline=start + seconds)
    for variant in [fitted.expr, *fitted.steps]:
        sc.add(variant, "network, refit", _net_error(variant, symbols, X[sc.tr], net))
    pareto, best, metrics = sc.select()
    route = {"route": "network", "seconds": time.perf_counter() - start, "formula": str(fitted.expr)}
    return Result(
        ds.features, target, symbols, pareto, best, metrics, [route], route["seconds"], seed, ds.warnings
    )


def _net_error(expr: sp.Expr, symbols: list, X: np.ndarray, net: np.ndarray | None) -> float | None:
    """RMS(formula − network) / std(network): how far a formula strays from the network it came
    from (None for a route without a network)."""
    if net is None:
        return None
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.mean((evaluate(expr, symbols, X) - net) ** 2)) / (np.std(net) + 1e-300))
