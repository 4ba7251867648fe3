"""Batch discovery: one `discover` per table (one experiment, material or sample), each in a worker
process of its own on this machine or as a Ray task, one JSON line per table, and the laws found
grouped by shape (the same formula with different constants)."""

from __future__ import annotations

import glob
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import sympy as sp

from kan_core.errors import ConfigError, KanStudioError
from kan_core.workers import Executor, LocalPool, isolated

SUFFIXES = (".csv", ".tsv", ".txt")
STARTUP_S = 15.0  # slack for a worker's start and the reading of its table, as in the benchmark


@dataclass(frozen=True)
class Table:
    """One table of a batch: its name (the path as given) and its bytes (read once, here)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Job:
    """What every table of the batch is asked."""

    target: str
    features: tuple[str, ...] | None = None
    seconds: float = 60.0
    seed: int = 0


def find_tables(pattern: str) -> list[Path]:
    """The tables a folder holds (its .csv, .tsv and .txt files) or a glob pattern matches, sorted.

    Parameters
    ----------
    pattern : str
        A folder, or a glob pattern (``**`` recurses).

    Returns
    -------
    list of Path
        The files, sorted by path.

    Raises
    ------
    ConfigError
        Nothing matches.
    """
    path = Path(pattern).expanduser()
    if path.is_dir():
        files = [f for f in path.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES]
    else:
        files = [Path(f) for f in glob.glob(str(path), recursive=True) if Path(f).is_file()]
    if not files:
        raise ConfigError(
            f"no tables in {pattern!r}; give a folder of .csv files or a pattern like 'runs/*.csv'"
        )
    return sorted(files)


def law(expr: sp.Expr) -> tuple[str, list[float]]:
    """A formula's shape, its numbers replaced by c0, c1, … (exponents kept), and those numbers.

    ``2.5*x*y`` and ``3*x*y`` share the shape ``c0*x*y``; ``x**2`` and ``x**3`` do not.

    Parameters
    ----------
    expr : sympy.Expr
        A discovered formula.

    Returns
    -------
    tuple of (str, list of float)
        The shape as text and its constants c0, c1, … in order.
    """
    consts: list[float] = []

    def walk(e: sp.Expr) -> sp.Expr:
        if e.is_Number:
            consts.append(float(e))
            return sp.Symbol(f"c{len(consts) - 1}")
        if e.is_Pow:
            return sp.Pow(walk(e.base), e.exp, evaluate=False)
        if e.args:
            return e.func(*map(walk, e.args), evaluate=False)
        return e

    return str(walk(expr)), consts


def discover_table(table: Table, job: Job) -> dict:
    """Read one table and discover its law (runs in a worker process).

    Parameters
    ----------
    table : Table
        Its name and bytes.
    job : Job
        Target, features, budget, seed.

    Returns
    -------
    dict
        The row's fields; ``{"status": "error: …"}`` for data `read_table` or `discover` refused.
    """
    from kan_core.discovery.search import discover
    from kan_core.io.data import read_table

    try:
        df = read_table(table.data)
        features = list(job.features) if job.features else None
        result = discover(df, job.target, features, seconds=job.seconds, seed=job.seed)
    except KanStudioError as err:  # this table's data: a row that says why, not a crash
        return {"status": f"error: {err}"}
    shape, consts = law(result.best.expr)
    m = result.metrics
    row = dict(formula=str(result.best.expr), law=shape, constants=consts, complexity=result.best.complexity)
    row |= dict(val_r2=m["val_r2"], val_rmse=m["val_rmse"], seconds=result.seconds, rows=len(df))
    return row | {"variables": result.variables, "warnings": result.warnings}


def run_one(table: Table, threads: int, job: Job) -> dict:
    """One table's row, from `discover_table` in a worker process of its own.

    Parameters
    ----------
    table : Table
        The table.
    threads : int
        torch threads in the worker process.
    job : Job
        What to discover.

    Returns
    -------
    dict
        ``{"table": name, "status": …, …}``; a crash or an overrun of 1.5 × the budget plus
        startup gives a failed row, never an exception.
    """
    limit = 1.5 * job.seconds + STARTUP_S
    return {"table": table.name} | isolated(discover_table, (table, job), limit, threads)


def run_batch(
    paths: list[Path],
    job: Job,
    executor: Executor | None = None,
    progress: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Discover a law in every table, in worker processes (`LocalPool(2)` unless an executor is given).

    Parameters
    ----------
    paths : list of Path
        The tables (see `find_tables`); read here, so a cluster's workers need no shared disk.
    job : Job
        Target, features, budget and seed, the same for every table.
    executor : LocalPool or kan_core.cluster.RayPool, optional
        Where the tables run (default: this machine, two at a time).
    progress : callable, optional
        Called with each table's row as it finishes.

    Returns
    -------
    list of dict
        One row per table, in the paths' order: table, status (ok, ``error: …`` for data the
        discovery refused, crash, timeout), formula, law, constants, complexity, val_r2,
        val_rmse, seconds, rows, variables, warnings.

    Raises
    ------
    DataError
        A table cannot be read from disk.
    """
    from kan_core.io.data import read_bytes

    tables = [Table(str(p), read_bytes(p)) for p in paths]
    executor = executor or LocalPool(2)
    failed = lambda t, why: {"table": t.name, "status": f"crash: {why}"}  # noqa: E731
    return executor.map(partial(run_one, job=job), tables, progress, lost=failed)


def laws(rows: list[dict]) -> list[dict]:
    """The laws found in the rows whose status is ok, most common first.

    Parameters
    ----------
    rows : list of dict
        Rows of `run_batch` (or read back from its JSON lines).

    Returns
    -------
    list of dict
        ``{"law", "tables", "formulas", "names"}``: the shape, how many tables share it, how
        many distinct formulas (constants) among them, and the tables' names.
    """
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("status") == "ok":
            groups.setdefault(r["law"], []).append(r)
    out = [
        {
            "law": shape,
            "tables": len(rs),
            "formulas": len({r["formula"] for r in rs}),
            "names": [r["table"] for r in rs],
        }
        for shape, rs in groups.items()
    ]
    return sorted(out, key=lambda g: (-g["tables"], g["law"]))


def write_jsonl(row: dict, out) -> None:
    """Append one row as a JSON line to an open text file, flushed (a long batch keeps what it did)."""
    out.write(json.dumps(row, default=str) + "\n")
    out.flush()
