"""discover(): train → prune → snap → formula → refit → check, over several routes, Pareto-selected."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import sympy as sp
import torch

from kan_core.discovery.noise import MIN_ROWS, neighbours, within_noise
from kan_core.discovery.pareto import Scorer, verdict
from kan_core.discovery.result import Result
from kan_core.discovery.routes import Problem, Settings, plans
from kan_core.discovery.routes.kan import from_log_space, log_symbols
from kan_core.discovery.routes.polynomial import difference_form
from kan_core.discovery.screen import duplicate_columns, relevant_columns
from kan_core.discovery.units_route import column_units, mark, pi_route, plan
from kan_core.discovery.work import (
    LOO_SECONDS,
    REFIT_SECONDS,
    ROUTE_SECONDS,
    WORK_SHARE,
    Work,
    one_blas_thread,
)
from kan_core.engine.model import KAN
from kan_core.errors import ConfigError, DataError, KanStudioError
from kan_core.io.data import prepare
from kan_core.symbolic.constants import fit_formula
from kan_core.symbolic.formula import evaluate, network_expr, safe_symbols

POLISH_SECONDS = 3 * REFIT_SECONDS  # work the polish of the winner may take past the budget
SIMPLE = 20  # an exact formula up to this complexity ends the search early
LAST_START = 5.0  # seconds: no route after the first starts with less than this left
# The routes' wall-clock outer limit: this share of the budget, so that what runs after a route
# was stopped (a last snapping pass, refits, SymPy's tidy-up, the verdict) ends within the budget.
WALL_SHARE = 0.85
SCREEN_MIN_SECONDS = 5.0  # shorter budgets skip the random-forest column screen (~1 s)
# One route's failure (a formula NumPy cannot evaluate, a singular fit) ends that route only.
ROUTE_ERRORS = (KanStudioError, ValueError, ArithmeticError, RuntimeError, TypeError)
# What a route may raise by design: our own errors and numerical failures — NumPy/SciPy signal a
# singular or non-finite problem with ValueError (LinAlgError, "array must not contain infs or
# NaNs"), torch with RuntimeError. Anything else (a TypeError, say) is a bug, and
# KAN_CORE_STRICT=1 (set by the tests and the benchmark workers) re-raises it.
EXPECTED_ERRORS = (KanStudioError, ArithmeticError, ValueError, RuntimeError)


def _strict() -> bool:
    return os.environ.get("KAN_CORE_STRICT", "0") == "1"


@one_blas_thread
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
    routes: list[str] | None = None,
    settings: Settings | None = None,
    units: dict[str, str] | None = None,
    work: Work | None = None,
) -> Result:
    """Find closed-form formulas for `target` from `features` within `seconds`.

    The routes of `kan_core.discovery.routes.plans` (direct searches, then KAN architectures
    trained, pruned and snapped as in the KAN paper, arXiv:2404.19756 §2.5) are tried in turn until
    the budget is spent or a simple formula is exact on held-out rows. Every candidate's constants
    are refit (SciPy least squares) and snapped to simple values; the best is chosen by PySR's rule
    (highest score −Δlog(loss)/Δcomplexity among losses ≤ 1.5 × the minimum, arXiv:2305.01582) on
    the validation loss, or by AICc on tiny data.

    Parameters
    ----------
    data : pandas.DataFrame
        The table, one row per observation (n rows); columns in any units.
    target : str
        The column to explain.
    features : list of str, optional
        The input columns (default: every other column).
    seconds : float, default 60
        Budget, finite and > 0. The search is sized in work, not wall time
        (`kan_core.discovery.work`): `WORK_SHARE` × seconds of work by a fixed cost model, so the
        same table, seed and budget give the same formula on an idle and on a busy machine; the
        wall clock is an outer limit only (every step ends by `seconds`).
    seed : int, default 0
        Seeds the train/validation split and the networks (0 to 2**32 − 1).
    val_fraction : float, default 0.2
        Share of rows held out for selection (none under 20 rows: leave-one-out instead).
    r2_threshold : float, default 0.99
        Edge fits below this R² are not snapped automatically.
    functions : list of str, optional
        Subset of the function library (`python -m kan_core functions`).
    callback : callable, optional
        Called with {"route", "done", "total", "elapsed"} before each route.
    stop_event : threading.Event, optional
        Ends the search before the next route.
    routes : list of str, optional
        Only these routes (names from `kan_core.discovery.routes.plans`: "polynomial",
        "log-space", "additive", "wide", …), in their usual order; default all that apply.
    settings : kan_core.discovery.routes.Settings, optional
        The routes' recipe numbers (first grid, sparsity λ, hidden width of "wide", …).
    units : dict of str to str, optional
        Units of columns in pint syntax ({"v": "m/s", "P": "kPa"}), over those read from the
        headers or a units row (`read_table`). With every searched column's unit known, a first
        route searches on the Buckingham π groups (`kan_core.discovery.units_route`), and every
        candidate is marked dimensionally consistent or not; inconsistent ones are not selected.
    work : kan_core.discovery.work.Work, optional
        The work account to spend (a nested search's share of its caller's); default
        `Work.for_seconds(seconds, now + seconds)`.

    Returns
    -------
    Result
        The Pareto front (`Result.equations`), the best formula and its metrics.

    Raises
    ------
    ConfigError
        A budget, seed, threshold, function or route name out of range; units for a missing column.
    DataError
        A table `prepare` refuses, values beyond ±1e100 / a target with nothing to fit, or a unit
        pint cannot read.
    """
    start = time.perf_counter()
    _check_options(seconds, seed, r2_threshold, functions, val_fraction)
    work = work if work is not None else Work.for_seconds(seconds, start + WALL_SHARE * seconds)
    end = work.wall_end  # every route, refit and SymPy rewrite ends by here (the outer limit)
    ds = prepare(data, target, features)
    check_scale(ds)
    X, y, names = ds.X, ds.y, ds.features
    symbols = safe_symbols(names)
    renamed = data.attrs.get("renamed") or {}
    columns = [renamed.get(str(c), str(c)) for c in data.columns]
    given = {renamed.get(k, k): v for k, v in (units or {}).items()}
    unit_texts, parsed, unit_notes = column_units(ds.units, given, columns)
    unit_texts = {c: t for c, t in unit_texts.items() if c in names or c == ds.target}
    n_val = 0 if ds.small else int(round(val_fraction * len(y)))
    sc = Scorer(X, y, symbols, seed, n_val)
    tr, add = sc.tr, sc.add
    add(sp.Float(float(np.mean(y[tr]))), "constant")
    mean = sc.cands[-1]
    keep, screened = _screen(X[tr], y[tr], names, seed, forest=seconds >= SCREEN_MIN_SECONDS)
    Xs, syms = X[tr][:, keep], [symbols[i] for i in keep]  # what the routes search over
    tried = []  # what each route found, or why it failed
    settings = settings or Settings()
    todo = plans(Xs, y[tr], settings)
    groups, groups_note = plan([names[i] for i in keep], syms, ds.target, parsed)
    unit_notes += [groups_note] if groups_note else []

    def solve_groups(frame: pd.DataFrame, inputs: list[str], budget: float) -> list[sp.Expr]:
        share = account[-1].share(budget)  # the π route's g(π), charged to the π route
        inner = discover(
            frame, "pi_y", inputs, seconds=max(budget, 0.1), seed=seed, functions=functions, work=share
        )
        account[-1].charge(share.spent)
        return [
            inner.best.expr,
            *[c.expr for c in inner.pareto if c is not inner.best and c.route != "constant"],
        ]

    if groups:
        todo.insert(0, ("units (π groups)", pi_route(groups, solve_groups)))
    if routes is not None:
        known = [name for name, _ in todo]
        if unknown := [r for r in routes if r not in known] or ([] if routes else ["(none given)"]):
            raise ConfigError(f"no route {unknown[0]!r} for this table; it has {', '.join(known)}")
        todo = [(name, run) for name, run in todo if name in routes]

    account: list[Work] = []  # the running route's account, which a nested search charges
    # Noisy data: the search also ends when a simple formula leaves only noise on held-out rows.
    nn = neighbours(sc.Xv[:, keep]) if sc.n_val >= MIN_ROWS and keep else None

    def solve_1d(frame: pd.DataFrame, budget: float) -> sp.Expr:  # the single-index route's g(u)
        inner = account[-1].share(budget)
        found = discover(frame, "r", ["u"], seconds=budget, seed=seed, functions=functions, work=inner)
        account[-1].charge(inner.spent)
        return found.best.expr

    # Which routes run, and with how much work, reads the work account only (not the clock).
    for i, (name, run) in enumerate(todo):
        elapsed = time.perf_counter() - start
        if work.spent > 0.8 * work.budget or work.late() or (stop_event is not None and stop_event.is_set()):
            break
        if i and work.left() < min(LAST_START * WORK_SHARE, 0.3 * work.budget):
            break  # too little left for a route to finish: starting one would overrun the budget
        if callback:
            callback({"route": name, "done": i, "total": len(todo), "elapsed": elapsed})
        share = work.share(max(LAST_START * WORK_SHARE, work.left() / 2))
        account.append(share)
        problem = Problem(
            Xs, y[tr], syms, seed, end, r2_threshold, functions, solve_1d, settings, end, work=share
        )
        tried.append(_run_route(name, run, problem, sc))
        work.charge(max(share.spent, ROUTE_SECONDS))
        if sc.exact(SIMPLE) or (nn is not None and within_noise(sc, nn, SIMPLE)):
            break  # exact, or within the noise, on held-out data and simple: more routes cannot do better
        # An exact but long formula (a degenerate composition such as exp(-√((a·log m + b)²)) for m)
        # lets the remaining routes look for a simpler one; the Pareto front keeps the simplest.
    unit_notes += mark(sc.cands, symbols, names, ds.target, parsed, sc.floor)
    best = sc.select()[1]
    # The winner's polish is afforded up to POLISH_SECONDS beyond the budget (work, not the clock).
    affordable = work.spent < work.budget + POLISH_SECONDS
    if best.expr.atoms(sp.Float) and best.route != "constant" and affordable and not work.late():
        # Late routes leave constants unsnapped (kappa**1.000003): polish the winner in what is left.
        try:
            polished = fit_formula(best.expr, symbols, X[tr], y[tr], deadline=end)
            for variant in [polished.expr, *polished.steps]:
                add(variant, f"{best.route}, polished", best.net_error)
        except ROUTE_ERRORS:
            pass
    late = mark(sc.cands, symbols, names, ds.target, parsed, sc.floor)  # the polished variants
    unit_notes += [n for n in late if n not in unit_notes]
    pareto, best, metrics = sc.select()
    law, why = verdict(sc, best)
    notes = [*ds.warnings, *screened, *unit_notes]
    if not law:
        notes.append(
            f"no formula explains the target better than its mean ({why}; best try: {str(best.expr)[:100]})"
        )
        pareto, best, metrics = sc.select(best=mean)
    return Result(
        names,
        target,
        symbols,
        pareto,
        best,
        metrics,
        tried,
        time.perf_counter() - start,
        seed,
        notes,
        verdict="law" if law else "no law",
        verdict_reason=why,
        units=unit_texts,
        groups=groups[0].text if groups else [],
        headers={v: k for k, v in renamed.items() if v in names or v == ds.target},
        work_seconds=work.spent,
    )


def check_budget(seconds: object) -> float:
    """A time budget must be a finite number of seconds > 0 (NaN or ∞ would never end).

    Raises
    ------
    ConfigError
        Naming the value and the fix.
    """
    ok = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
    if not isinstance(seconds, (int, float)) or not ok or not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"the time budget must be a finite number of seconds > 0, not {seconds!r}")
    return float(seconds)


MAX_MAGNITUDE = 1e100  # beyond this (or below its inverse) squared errors leave float64's range


def check_scale(ds) -> None:
    """Refuse columns whose scale no formula fit can handle in float64: a value beyond ±1e100 (one
    outlier of 1e250 makes every squared error infinite), a column whose largest value is below
    1e-100, or a target that is the same in all but a few rows.

    Raises
    ------
    DataError
        Naming the column, the value and the fix.
    """
    for name, col in zip([*ds.features, ds.target], [*ds.X.T, ds.y]):
        big = np.abs(col)
        top = int(np.argmax(big))
        if big[top] > MAX_MAGNITUDE:
            raise DataError(
                f"column {name!r} holds the value {col[top]:.6g}, beyond ±{MAX_MAGNITUDE:.0e}; "
                "fix or drop that row, or rescale the column (other units)"
            )
        if 0 < big[top] < 1 / MAX_MAGNITUDE:
            raise DataError(
                f"column {name!r} is at most {big[top]:.3g} in size, below {1 / MAX_MAGNITUDE:.0e}; "
                "rescale it (other units) before fitting"
            )
    values, counts = np.unique(ds.y, return_counts=True)
    if len(ds.y) - counts.max() < 3:
        raise DataError(
            f"the target {ds.target!r} is {values[np.argmax(counts)]:.4g} in all but "
            f"{len(ds.y) - counts.max()} row(s); there is nothing to fit a formula to"
        )


def _check_options(seconds, seed, r2_threshold, functions, val_fraction) -> None:
    """ConfigError for a discover() option out of range, naming it."""
    check_budget(seconds)
    if not (_is_count(seed) and seed < 2**32 and math.isfinite(r2_threshold) and 0 < r2_threshold <= 1):
        raise ConfigError("seed must be an integer from 0 to 2**32 − 1 and r2_threshold a number in (0, 1]")
    if functions is not None:
        from kan_core.library import FUNCTIONS

        unknown = [f for f in functions if f not in FUNCTIONS]
        if unknown or not functions:
            raise ConfigError(
                f"unknown function(s) {', '.join(map(repr, unknown)) or '(none given)'}; "
                "`python -m kan_core functions` lists them"
            )
    if not 0 <= val_fraction < 1:
        raise ConfigError(f"val_fraction must be in [0, 1), not {val_fraction!r}")


def _screen(
    X: np.ndarray, y: np.ndarray, names: list[str], seed: int, forest: bool = True
) -> tuple[list[int], list[str]]:
    """The columns to search over (duplicates and columns that do not matter left out) and notes.

    The forest screen costs about a second: `forest=False` (budgets under `SCREEN_MIN_SECONDS`)
    skips it."""
    keep, notes = duplicate_columns(X, y, names)
    if not forest:
        return keep, notes
    more, notes_more = relevant_columns(X[:, keep], y, [names[i] for i in keep], seed)
    return [keep[i] for i in more], notes + notes_more


def _run_route(name: str, run, p: Problem, sc: Scorer) -> dict:
    """Run one route, refit each formula it returns and score the variants; its report row."""
    t0, found, composed, loo = time.perf_counter(), [], None, sc.loo_refits
    try:
        for expr, network in run(p):
            net = network(p.X) if network else None
            composed = _net_error(expr, p.symbols, p.X, net)
            if time.perf_counter() > p.end:  # past the outer limit: scored as it is, no refit
                sc.add(expr, name, composed)
                found.append(str(expr))
                continue
            # The refit and snapping of one formula, in work: each constant is refit and snapped.
            p.account().charge(REFIT_SECONDS * max(1.0, len(expr.atoms(sp.Float)) / 3))
            # A wall-clock safety net: a refit (SymPy, least squares on a long formula) ends within
            # the route's share of the budget in seconds (at least 3 s), or at the outer limit.
            refit_by = min(p.end, time.perf_counter() + max(3.0, p.account().budget / WORK_SHARE))
            fitted = fit_formula(expr, p.symbols, p.X, p.y, deadline=refit_by)
            for variant in [fitted.expr, *fitted.steps]:
                sc.add(variant, name, _net_error(variant, p.symbols, p.X, net))
            shifted = difference_form(fitted.expr, p.symbols)  # (x₁ − x₂)² rather than its expansion
            if shifted != fitted.expr:
                sc.add(shifted, name, _net_error(shifted, p.symbols, p.X, net))
            found.append(str(fitted.expr))
        p.account().charge(LOO_SECONDS * (sc.loo_refits - loo))  # tiny data: leave-one-out scoring
    except ROUTE_ERRORS as err:
        if _strict() and not isinstance(err, EXPECTED_ERRORS):
            raise  # strict mode (tests, benchmark): a route's bug is not a "route failed"
        return {"route": name, "seconds": time.perf_counter() - t0, "error": str(err)}
    row: dict = {"route": name, "seconds": time.perf_counter() - t0, "formula": "; ".join(found)}
    if composed is not None:  # the snapped network read as a formula: must be ~0
        row["composed_vs_network"] = composed
    return row


def _is_count(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and bool(v >= 0)


def network_formulas(
    model: KAN,
    data: pd.DataFrame,
    target: str,
    features: list[str],
    seed: int = 0,
    seconds: float = 20.0,
    log_space: bool = False,
) -> Result:
    """Read a user's snapped network as formulas: composed, constants refit and snapped, scored.

    With `log_space` the network was trained on log|y| against log x (positive inputs, a target
    of one sign): its formula f(log x) is read back as y = ±exp(f(log x)), powers gathered.
    """
    start = time.perf_counter()
    ds = prepare(data, target, features)
    X, y, symbols = ds.X, ds.y, safe_symbols(ds.features)
    sc = Scorer(X, y, symbols, seed, 0 if ds.small else int(round(0.2 * len(y))))
    sign = -1.0 if log_space and (y < 0).all() else 1.0
    Xin = np.log(X[sc.tr]) if log_space else X[sc.tr]
    if log_space:  # a ModelError names the edges still to snap or prune
        expr = from_log_space(network_expr(model, log_symbols(symbols)), symbols, sign)
    else:
        expr = network_expr(model, symbols)
    with torch.no_grad():
        net = model(torch.as_tensor(Xin, dtype=model.dtype, device=model.device)).double().cpu().numpy()[:, 0]
    if log_space:
        net = sign * np.exp(net)
    sc.add(sp.Float(float(np.mean(y[sc.tr]))), "constant")
    sc.add(expr, "network", _net_error(expr, symbols, X[sc.tr], net))
    fitted = fit_formula(expr, symbols, X[sc.tr], y[sc.tr], deadline=start + seconds)
    for variant in [fitted.expr, *fitted.steps]:
        sc.add(variant, "network, refit", _net_error(variant, symbols, X[sc.tr], net))
    _, parsed, _ = column_units(ds.units, None, [*ds.features, ds.target])
    unit_notes = mark(sc.cands, symbols, ds.features, ds.target, parsed, sc.floor)
    pareto, best, metrics = sc.select()
    took = time.perf_counter() - start
    route = {"route": "network", "seconds": took, "formula": str(fitted.expr)}
    law, why = verdict(sc, best)
    return Result(
        ds.features,
        target,
        symbols,
        pareto,
        best,
        metrics,
        [route],
        took,
        seed,
        [*ds.warnings, *unit_notes],
        verdict="law" if law else "no law",
        verdict_reason=why,
        units=dict(ds.units),
    )


def _net_error(expr: sp.Expr, symbols: list, X: np.ndarray, net: np.ndarray | None) -> float | None:
    """RMS(formula − network) / std(network): how far a formula strays from the network it came
    from (None for a route without a network)."""
    if net is None:
        return None
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.mean((evaluate(expr, symbols, X) - net) ** 2)) / (np.std(net) + 1e-300))
