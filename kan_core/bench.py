"""Benchmark harness: discover() on each equation of a formula CSV in worker processes (this machine's
or a Ray cluster's, `kan_core.workers`), judged as SRBench."""

from __future__ import annotations

import csv
import functools
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp

from kan_core._runtime import Overtime, time_limited
from kan_core.errors import ConfigError, DataError, printable
from kan_core.io.examples import parse_formula, sample_formula
from kan_core.workers import Executor, LocalPool, isolated

COLUMNS = ("id", "formula", "output", "variables", "n_vars")
ACCURATE_R2 = 0.999
MD_HEADER = "| id | status | exact | accurate | test R² | complexity | s | formula |\n|" + "---|" * 8
EMPTY_ROW = dict(exact=False, accurate=False, exact_reason=None)
EMPTY_ROW |= dict.fromkeys(("test_r2", "complexity", "seconds", "formula"))
Worker = Callable[["Equation", "Settings"], dict]  # returns the row's fields; runs in a worker process
Progress = Callable[[dict], None] | None


@dataclass(frozen=True)
class Equation:
    """One benchmark row: ground truth, target name, `name:low:high;…` text and the parsed ranges."""

    id: str
    formula: str
    output: str
    variables: str
    ranges: tuple[tuple[str, float, float], ...]


@dataclass(frozen=True)
class Settings:
    """How every equation is run and judged."""

    samples: int = 10_000
    noise: float = 0.0
    seconds: float = 60.0
    seed: int = 0
    test_rows: int = 2000
    simplify_s: float = 5.0  # per simplify() call while judging
    startup_s: float = 15.0  # slack for a worker's start, sampling and scoring around discover()
    units: tuple[tuple[str, str], ...] = ()  # (variable, unit): written into the tables' headers


def _equation(row: dict, seen: set, parse: bool = True) -> Equation:
    try:
        items = [v.split(":") for v in row["variables"].split(";")]
        ranges = tuple((n.strip(), float(lo), float(hi)) for n, lo, hi in items)
    except (ValueError, AttributeError):
        raise ValueError("variables must be name:low:high items separated by ';'") from None
    names = [r[0] for r in ranges]
    if not all(n.isidentifier() for n in names) or any(lo >= hi for _, lo, hi in ranges):
        raise ValueError("each variable needs an identifier name and low < high")
    if str(len(ranges)) != (row["n_vars"] or "").strip():
        raise ValueError(f"n_vars is {row['n_vars']!r} but {len(ranges)} variables are listed")
    if not row["id"] or row["id"] in seen or row["output"] in names or not str(row["output"]).isidentifier():
        raise ValueError("ids must be unique and the output an identifier that is not a variable")
    if parse:  # refuses anything but arithmetic of the variables (0.3 ms a row: only rows that run)
        parse_formula(row["formula"] or "", names)
    return Equation(row["id"], row["formula"], row["output"], row["variables"], ranges)


def read_benchmark(path: str | Path, ids: list[str] | None = None) -> list[Equation]:
    """The equations of a benchmark CSV (id, formula, output, variables, n_vars), all or those in `ids`."""
    name = Path(path).name
    try:
        rows = list(csv.DictReader(Path(path).read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        why = getattr(err, "strerror", None) or err
        raise DataError(f"cannot read {path}: {why}; give a UTF-8 CSV file") from None
    if missing := [c for c in COLUMNS if c not in (rows[0] if rows else {})]:
        what = f"lacks column(s) {', '.join(missing)}" if rows else "has no equations"
        raise DataError(f"{name} {what}; it needs a header {','.join(COLUMNS)} and one row per equation")
    out: list[Equation] = []
    seen: set[str] = set()
    wanted = set(ids) if ids else None
    for line, row in enumerate(rows, start=2):
        try:
            out.append(_equation(row, seen, parse=wanted is None or row["id"] in wanted))
            seen.add(out[-1].id)
        except (ValueError, OverflowError, RecursionError) as err:  # DataError from parse_formula included
            raise DataError(f"{name} line {line} ({printable(str(row['id'])[:40])}): {err}") from None
    if unknown := sorted(set(ids or []) - {e.id for e in out}):
        raise ConfigError(f"unknown equation id(s) {', '.join(unknown)}; see the file's id column")
    by_id = {e.id: e for e in out}
    return [by_id[i] for i in ids] if ids else out


def equation_seeds(seed: int, eq_id: str) -> tuple[int, int]:
    """Training and test sampling seeds, fixed by the run's seed and the id (not by order or jobs)."""
    a, b = np.random.SeedSequence([seed, *eq_id.encode()]).generate_state(2)
    return int(a), int(b)


def rationalize(expr: sp.Expr) -> sp.Expr:
    """Every float as the exact rational it was written as (1.5 → 3/2, 9.81 → 981/100)."""
    floats = [f for f in expr.atoms(sp.Float) if np.isfinite(float(f))]
    return expr.xreplace({f: sp.Rational(repr(float(f))) for f in floats})


def _significant(value: float, digits: int) -> str:
    return f"{value:.{digits - 1}e}"


def round_floats(expr: sp.Expr, digits: int = 4, truth: sp.Expr | None = None) -> sp.Expr:
    """Floats rounded to `digits` significant digits, as exact rationals so simplify() sees 2, not 2.0.

    The benchmark README's reading of SRBench's rule: constants are compared to 4 significant
    digits, so a float that agrees with one of `truth`'s constants (π, 1/3, 601.39…) to `digits`
    digits becomes that constant (0.3333 is 1/3, 0.333 is not); small terms are never rounded away.
    """
    constants: dict[str, sp.Expr] = {}
    for node in sp.preorder_traversal(truth) if truth is not None else ():
        if node.is_number and node.is_finite and node.is_real and node != 0:
            constants.setdefault(_significant(float(node), digits), node)
    out: dict[sp.Expr, sp.Expr] = {}
    for f in expr.atoms(sp.Float):
        if np.isfinite(float(f)):
            key = _significant(float(f), digits)
            out[f] = constants.get(key, sp.Rational(key) if float(f) != 0 else sp.Integer(0))
    return expr.xreplace(out)


def _numerically_constant(truth: sp.Expr, found: sp.Expr, ranges: tuple) -> bool:
    """Whether truth − found or truth / found is constant on random points of the ranges: a
    necessary condition for exactness that costs milliseconds (simplify may take minutes)."""
    syms = [
        next((s for s in truth.free_symbols | found.free_symbols if s.name == n), sp.Symbol(n))
        for n, *_ in ranges
    ]
    pts = np.random.default_rng(0).uniform(
        [lo for _, lo, _ in ranges], [hi for *_, hi in ranges], (64, len(ranges))
    )
    from kan_core.symbolic.formula import evaluate

    t, f = evaluate(truth, syms, pts), evaluate(found, syms, pts)
    with np.errstate(all="ignore"):
        for v in (t - f, t / f):
            if np.all(np.isfinite(v)) and np.ptp(v) <= 1e-6 * (np.abs(v).max() + np.abs(t).max()):
                return True
    return False


def judge_exact(
    truth: sp.Expr, found: sp.Expr, time_limit: float = 5.0, ranges: tuple | None = None
) -> tuple[bool, str]:
    """SRBench's rule, floats compared to 4 significant digits (see `round_floats`): truth − found or
    truth / found (≠ 0) is a constant; why.

    With the variables' `ranges`, a formula that is not even numerically equivalent is refused
    before SymPy is asked (the proof itself is always SymPy's).
    """
    truth = rationalize(sp.sympify(truth))  # x**1.5 is x**(3/2); 5000/8.314 an exact ratio
    found = round_floats(sp.sympify(found), truth=truth)  # a found 0 fails both: truth / 0 is zoo
    try:
        if ranges and not _numerically_constant(truth, found, ranges):
            return False, "not equivalent (numerically)"
    except (TypeError, ValueError, NameError, KeyError, ZeroDivisionError):
        pass  # an expression numpy cannot evaluate: let SymPy decide
    for name, combined in (("difference", truth - found), ("ratio", truth / found)):
        try:
            value = time_limited(functools.partial(sp.simplify, combined), time_limit)
        except Overtime:
            return False, f"simplify of the {name} took over {time_limit:g} s"
        if not value.free_symbols and value.is_finite and (name == "difference" or value.is_zero is False):
            return True, f"{name} is {value}"
    return False, "not equivalent"


def solve(eq: Equation, settings: Settings) -> dict:
    """Sample, discover and judge one equation (the default worker; runs in a worker process)."""
    from kan_core.discovery.pareto import r2 as r_squared
    from kan_core.discovery.search import discover

    names, (train_seed, test_seed) = [r[0] for r in eq.ranges], equation_seeds(settings.seed, eq.id)
    train = sample_formula(eq.formula, eq.variables, settings.samples, train_seed, settings.noise, eq.output)
    test = sample_formula(eq.formula, eq.variables, settings.test_rows, test_seed, 0.0, eq.output)
    if settings.units:  # the user's path: units in the headers (`v [m/s]`), read back by read_table
        train = with_units(train, dict(settings.units))
    result = discover(train, eq.output, names, seconds=settings.seconds, seed=settings.seed)
    y, pred = test[eq.output].to_numpy(float), result.predict(test[names].to_numpy(float))
    with np.errstate(all="ignore"):
        score = r_squared(y, pred)
    r2 = score if np.isfinite(score) else None
    # An identity has to hold only where the data lives: variables sampled from positive ranges are
    # positive, so that sqrt(a*b) = sqrt(a)*sqrt(b) is recognised.
    syms = [sp.Symbol(n, positive=True) if lo > 0 else sp.Symbol(n, real=True) for n, lo, _ in eq.ranges]
    truth = parse_formula(eq.formula, names).xreplace({sp.Symbol(s.name): s for s in syms})
    found = result.best.expr.xreplace(dict(zip(result.symbols, syms)))
    exact, reason = judge_exact(truth, found, settings.simplify_s, eq.ranges)
    row = dict(seconds=result.seconds, formula=str(found), complexity=result.best.complexity, test_r2=r2)
    row |= dict(accurate=r2 is not None and r2 > ACCURATE_R2, exact=exact, exact_reason=reason)
    row["verdict"] = result.verdict
    return row | {"routes": result.routes}  # what each route found, or why it failed


def with_units(table: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """The table as a user would give it, headers `name [unit]`, read back by `read_table`."""
    from kan_core.io.data import read_table
    from kan_core.units import registry

    registry()  # pint's definitions load once per process (~1 s): start-up, like the imports
    named = table.rename(columns={c: f"{c} [{units[c]}]" for c in table.columns if c in units})
    return read_table(named.to_csv(index=False).encode())


def failed_row(eq: Equation, status: str) -> dict:
    """The row of an equation that gave no result.

    Parameters
    ----------
    eq : Equation
        The equation.
    status : str
        Why (``crash: …``, ``timeout``).

    Returns
    -------
    dict
        The report row, every result field empty.
    """
    return dict(id=eq.id, truth=eq.formula, n_vars=len(eq.ranges), **EMPTY_ROW) | {"status": status}


def run_one(eq: Equation, threads: int, settings: Settings, worker: Worker = solve) -> dict:
    """One equation's row: `worker` in a process of its own, killed when it outlives its budget
    (+50%, startup and judging); a crash or an overrun gives a failed row, never an exception.

    Parameters
    ----------
    eq : Equation
        The equation.
    threads : int
        torch threads in the worker process.
    settings : Settings
        Budget, samples, noise, seed.
    worker : callable, default solve
        ``worker(eq, settings) -> dict``, importable by name.

    Returns
    -------
    dict
        The report row.
    """
    limit = 1.5 * settings.seconds + settings.startup_s + 2 * settings.simplify_s
    row = failed_row(eq, "ok") | isolated(worker, (eq, settings), limit, threads)
    if row["status"] == "ok" and (row["seconds"] or 0) > 1.5 * settings.seconds:
        row |= dict(status="timeout", exact=False, accurate=False)  # finished, but over budget
    return row


def run_bench(
    eqs: list[Equation],
    settings: Settings,
    jobs: int = 1,
    worker: Worker = solve,
    progress: Progress = None,
    executor: Executor | None = None,
) -> list[dict]:
    """One row per equation, each in its own worker process, `jobs` at a time on this machine (or
    as Ray tasks with ``executor=kan_core.cluster.RayPool(address)``); a crash, a worker that outlives
    its budget or one a cluster lost gives a failed row, never an exception."""
    executor = executor or LocalPool(jobs)
    call = partial(run_one, settings=settings, worker=worker)
    return executor.map(call, eqs, progress, lost=lambda eq, why: failed_row(eq, f"crash: {why}"))


def summarize(rows: list[dict], settings: Settings) -> dict:
    """Rates, median time and the run's conditions (budget, noise, machine) for the report."""
    n, times = len(rows) or 1, [r["seconds"] for r in rows if r["seconds"] is not None]
    return {
        "equations": len(rows),
        "exact_rate": sum(r["exact"] for r in rows) / n,
        "accurate_rate": sum(r["accurate"] for r in rows) / n,
        "median_seconds": float(np.median(times)) if times else None,
        "failures": sum(r["status"] != "ok" for r in rows),
        "settings": asdict(settings),  # noise, budget (seconds), samples, seed, …
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": dict(cpus=os.cpu_count(), platform=platform.platform(), torch=metadata.version("torch")),
    }


def summary_line(summary: dict) -> str:
    """Exact rate, accurate rate and median seconds, with the noise level and budget."""
    med, run = summary["median_seconds"], summary["settings"]
    return (
        f"exact {summary['exact_rate']:.1%}, accurate (R² > {ACCURATE_R2}) {summary['accurate_rate']:.1%}, "
        f"median {'n/a' if med is None else f'{med:.4g}'} s over {summary['equations']} equation(s); "
        f"noise {run['noise']:g}, budget {run['seconds']:g} s, {summary['failures']} failed"
    )


def md_row(r: dict) -> str:
    """One equation's row of the Markdown table (also the CLI's progress line)."""
    cells = [r["id"], r["status"], "yes" if r["exact"] else "no", "yes" if r["accurate"] else "no"]
    cells += [f"{v:.4g}" if v is not None else "" for v in (r["test_r2"], r["complexity"], r["seconds"])]
    cells.append(f"`{r['formula']}`" if r["formula"] else "")
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def write_report(rows: list[dict], summary: dict, out: str | Path) -> Path:
    """The JSON report at `out` and a Markdown table next to it (same name, .md); the latter's path."""
    out = Path(out)
    md = out.with_name(out.name + ".md") if out.suffix == ".md" else out.with_suffix(".md")
    out.write_text(json.dumps({"summary": summary, "equations": rows}, indent=2))
    lines = [f"**{summary_line(summary)}**", "", MD_HEADER, *map(md_row, rows)]
    md.write_text("\n".join(lines) + "\n")
    return md
