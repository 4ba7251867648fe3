"""Units in a `discover` run: the columns' units, the π-group route, and the dimensional check.

With every searched column's unit known, the first route searches for y/M(x) = g(π₁, …, π_m) on
the Buckingham π groups (`dimensional.pi_groups`) with a nested `discover` on the m dimensionless
inputs, and maps each formula back to the columns. Every candidate is then marked consistent,
"constant carries units" or inconsistent (`dimensional.status`); inconsistent ones are not selected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import sympy as sp

from kan_core import units as U
from kan_core.discovery.dimensional import INCONSISTENT, Groups, NoGroups, pi_group_choices, status
from kan_core.discovery.routes.base import Found, Problem, Route
from kan_core.symbolic.constants import released
from kan_core.symbolic.formula import evaluate, safe_symbols

CHOICES = 2  # π-group choices searched (distinct prefactors: m·c²·g(v/c) and m·v²·h(c/v))
MAX_MAPPED = 2  # formulas of the nested search's Pareto front mapped back (each is refit: ≤ 3 s)
DROP_RATIO = 2.0  # inconsistent formulas are dropped when a consistent one's loss is within this factor
SEARCH_SHARE = 0.5  # of the route's time, for the nested search; the rest for the refits
KEEP_QUANTILE = 0.5  # the π search runs on the rows with |M| above this quantile …
SEARCH_ROWS = 500  # … at most this many of them (chosen at random, seeded)


def column_units(
    known: Mapping[str, str], given: Mapping[str, str] | None, columns: list[str]
) -> tuple[dict[str, str], dict[str, U.Unit], list[str]]:
    """({column: unit text}, {column: pint unit}, notes) from the table's units and the user's.

    The user's mapping wins over units read from the headers or a units row.

    Raises
    ------
    ConfigError
        Units for a column that is not in the table.
    DataError
        A unit pint cannot read, naming the column and the text.
    """
    texts = {**{c: t for c, t in known.items() if c in columns}, **U.check_mapping(given, columns)}
    parsed = {c: U.parse(t, c) for c, t in texts.items() if t.strip()}
    notes = [
        f"column {c!r} is in {texts[c]}, an offset unit: a law in absolute temperature needs kelvin"
        for c, u in parsed.items()
        if U.is_offset(u)
    ]
    return texts, parsed, notes


def plan(
    names: list[str], symbols: list[sp.Symbol], target: str, parsed: dict[str, U.Unit]
) -> tuple[list[Groups], str | None]:
    """The π groups to search for these inputs (`CHOICES` at most, shortest first; none when a
    unit is missing or no group exists) and a note."""
    missing = [n for n in [*names, target] if n not in parsed]
    if not parsed:
        return [], None
    if missing:
        return [], f"units route skipped: no unit for {', '.join(map(repr, missing[:5]))}"
    D = np.array([U.vector(parsed[n]) for n in [*names, target]]).T
    if not np.linalg.matrix_rank(D):
        return [], None  # every column dimensionless: the π groups are the columns themselves
    try:
        choices = pi_group_choices(D, symbols, names, target, CHOICES)
    except NoGroups as err:
        return [], f"units route found nothing: {err}"
    return choices, "π groups: " + "; ".join(choices[0].text)


def pi_route(
    choices: list[Groups], solve: Callable[[pd.DataFrame, list[str], float], list[sp.Expr]]
) -> Route:
    """The route that searches g on the π groups, y = M(x)·g(π₁, …, π_m), for each choice of
    groups in turn (the first gets the larger share of the time)."""

    def run(p: Problem) -> Found:
        work = p.account()
        found: Found = []
        for k, groups in enumerate(choices):
            left = work.left()
            if left <= 0 or work.late() or (k and not groups.pis):
                break
            share = left * (0.6 if k + 1 < len(choices) else 1.0)
            try:
                found += _search(groups, p, share, solve)
            except ValueError:
                if k + 1 == len(choices) and not found:
                    raise
            if _exact(found, p):
                break  # the next choice of groups cannot do better
        return found

    return run


def _exact(found: Found, p: Problem) -> bool:
    """Some formula fits the rows to round-off (relative MSE under 1e-12)."""
    with np.errstate(all="ignore"):
        errs = [np.mean((evaluate(e, p.symbols, p.X) - p.y) ** 2) for e, _ in found]
    return any(np.isfinite(e) and e <= 1e-12 * np.mean(p.y**2) for e in errs)


def _search(groups: Groups, p: Problem, budget: float, solve) -> Found:
    """y = M·g(π) for one choice of groups, g by a nested search of `budget` work seconds."""

    with np.errstate(all="ignore"):
        M = evaluate(groups.prefactor, p.symbols, p.X)
        Y = p.y / M
        Pi = [evaluate(g, p.symbols, p.X) for g in groups.pis]
    finite = np.isfinite(Y) & np.logical_and.reduce([np.isfinite(v) for v in Pi]) & (M != 0)
    if finite.mean() < 0.5:
        raise ValueError("the π groups are not finite on most rows (zero or negative columns)")
    if not groups.pis:
        return [(sp.Float(float(np.median(Y[finite]))) * groups.prefactor, None)]
    names = [f"pi{i + 1}" for i in range(len(groups.pis))]
    # Noise on y becomes noise/|M| on y/M: search g on the rows where |M| is largest, whose
    # π values carry the least noise (the refit on all rows then weighs every row alike).
    rows = np.flatnonzero(finite & (np.abs(M) >= np.quantile(np.abs(M[finite]), KEEP_QUANTILE)))
    if len(rows) > SEARCH_ROWS:  # the nested search's cost grows with its rows
        rows = np.sort(np.random.default_rng(p.seed).choice(rows, SEARCH_ROWS, replace=False))
    frame = pd.DataFrame(dict(zip(names, [v[rows] for v in Pi])) | {"pi_y": Y[rows]})
    if budget < 0.5:
        return []
    found = solve(frame, names, SEARCH_SHARE * budget)
    inner = safe_symbols(names)
    # |π| is π where π > 0 on every row (the nested search does not know its inputs' signs).
    plain = {sp.Abs(s): s for s, v in zip(inner, Pi) if (v[finite] > 0).all()}
    back = dict(zip(inner, groups.pis))
    return [(groups.prefactor * released(g).xreplace(plain).xreplace(back), None) for g in found[:MAX_MAPPED]]


def mark(
    cands: list, symbols: list[sp.Symbol], names: list[str], target: str, parsed: dict, floor: float = 0.0
) -> list[str]:
    """Set each candidate's `dimension`; drop the inconsistent ones when a consistent formula other
    than the constant fits nearly as well (validation loss within `DROP_RATIO`, losses under
    `floor` equal). Returns a note on what was dropped or kept."""
    if target not in parsed:
        return []
    dims = {s: U.vector(parsed[n]) for s, n in zip(symbols, names) if n in parsed}
    goal = U.vector(parsed[target])
    for c in cands:
        c.dimension = status(c.expr, dims, goal) if c.expr.free_symbols <= set(dims) else None
    bad = [c for c in cands if c.dimension == INCONSISTENT]
    good = [c.val_mse for c in cands if c.dimension not in (None, INCONSISTENT) and c.route != "constant"]
    if not bad or not good:
        return []
    if min(good) > DROP_RATIO * min(c.val_mse for c in bad) + 1e-12 * float(
        np.var([c.val_mse for c in cands])
    ):
        # A consistent formula is far worse: the units may be wrong or the law needs a constant the
        # check cannot place. Keep them, and say so.
        top = min(bad, key=lambda c: c.val_mse)
        return [
            f"the best-fitting formula is dimensionally inconsistent ({str(top.expr)[:60]}): check the units"
        ]
    for c in bad:
        cands.remove(c)
    return [f"{len(bad)} dimensionally inconsistent formula(s) left out (e.g. {str(bad[0].expr)[:60]})"]
