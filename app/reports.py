"""Reports written by the command line, opened on the Formula page: `discover-many` (.jsonl, one
table per line) and `search` (.json). Parsed with json only, checked field by field; a bad file is
one DataError line. No streamlit here."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pandas as pd

from kan_core.batch import laws
from kan_core.errors import DataError

MAX_BYTES = 50 * 2**20


@dataclass
class Report:
    """What the page shows: a title, the summary table, and a few lines under it."""

    kind: str  # "discover-many" or "search"
    title: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _text(raw: bytes, name: str) -> str:
    if len(raw) > MAX_BYTES:
        raise DataError(f"{name} is over {MAX_BYTES // 2**20} MB; open a report written by the command line")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(
            f"{name} is not UTF-8 text; open the .json or .jsonl the command line wrote"
        ) from None


def _need(obj: object, key: str, kind: type | tuple, where: str) -> object:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise DataError(f"{where} has no valid {key!r}; open a report written by the command line")
    if isinstance(value, float) and not math.isfinite(value):
        raise DataError(f"{where}: {key!r} is not a finite number; the report is damaged")
    return value


def read_batch(raw: bytes, name: str = "the file") -> Report:
    """A `discover-many` report (JSON lines): the laws found, most common first.

    Parameters
    ----------
    raw : bytes
        The file's content.
    name : str
        Its name, for messages.

    Returns
    -------
    Report
        Title, summary table and notes.

    Raises
    ------
    DataError
        Not UTF-8, a line that is not a JSON object, or a row without its fields.
    """
    rows = []
    for i, line in enumerate(_text(raw, name).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise DataError(
                f"{name} line {i} is not JSON; open the .jsonl that discover-many wrote"
            ) from None
        where = f"{name} line {i}"
        _need(row, "table", str, where)
        if _need(row, "status", str, where) == "ok":
            _need(row, "formula", str, where)
            _need(row, "law", str, where)
        rows.append(row)
    if not rows:
        raise DataError(f"{name} holds no rows; open the .jsonl that discover-many wrote")
    found = laws(rows)
    table = pd.DataFrame(
        [
            {
                "law": g["law"],
                "tables": g["tables"],
                "formulas": g["formulas"],
                "names": ", ".join(g["names"]),
            }
            for g in found
        ],
        columns=["law", "tables", "formulas", "names"],
    )
    failed = [r for r in rows if r["status"] != "ok"]
    notes = [f"{len(rows)} table(s), {len(found)} law(s), {len(failed)} failed"]
    notes += [f"{r['table']}: {r['status']}" for r in failed[:10]]
    return Report("discover-many", "Laws found (constants c0, c1, … differ between tables)", table, notes)


def read_search(raw: bytes, name: str = "the file") -> Report:
    """A `search` report (JSON): the Pareto front across trials and the best configuration.

    Parameters
    ----------
    raw : bytes
        The file's content.
    name : str
        Its name, for messages.

    Returns
    -------
    Report
        Title, summary table and notes.

    Raises
    ------
    DataError
        Not UTF-8, not JSON, not a search report, or a front entry without its fields.
    """
    try:
        report = json.loads(_text(raw, name))
    except (json.JSONDecodeError, RecursionError):
        raise DataError(f"{name} is not JSON; open the .json that search wrote") from None
    if not isinstance(report, dict) or report.get("kind") != "search":
        raise DataError(
            f"{name} is not a search report; open the .json that `python -m kan_core search` wrote"
        )
    front = _need(report, "front", list, name)
    rows = []
    for i, p in enumerate(front):
        where = f"{name} front entry {i}"
        rows.append(
            {
                "complexity": _need(p, "complexity", int, where),
                "validation MSE": _need(p, "val_loss", (int, float), where),
                "best": "★" if p.get("best") is True else "",
                "formula": _need(p, "formula", str, where),
                "trial": str(p.get("trial", "")),
            }
        )
    table = pd.DataFrame(rows, columns=["complexity", "validation MSE", "best", "formula", "trial"])
    trials = report.get("trials") if isinstance(report.get("trials"), list) else []
    stopped = sum(isinstance(t, dict) and t.get("status") == "stopped early" for t in trials)
    notes = [f"{len(trials)} trial(s), {stopped} stopped early by ASHA"]
    best = report.get("best")
    if isinstance(best, dict) and isinstance(best.get("config"), dict):
        config = ", ".join(f"{k} = {v}" for k, v in best["config"].items())
        notes.append(f"best configuration: {config}")
    return Report("search", "Pareto front across trials", table, notes)


def read_report(raw: bytes, name: str) -> Report:
    """A report by its file name: `.jsonl` from discover-many, `.json` from search.

    Parameters
    ----------
    raw : bytes
        The file's content (parsed with json only).
    name : str
        The file's name: its suffix decides the kind.

    Returns
    -------
    Report
        Title, summary table and notes.

    Raises
    ------
    DataError
        Another kind of file, or one `read_batch` / `read_search` refuses.
    """
    lower = name.lower()
    if lower.endswith(".jsonl"):
        return read_batch(raw, name)
    if lower.endswith(".json"):
        return read_search(raw, name)
    raise DataError(f"{name} is neither .json (search) nor .jsonl (discover-many); open one of those")
