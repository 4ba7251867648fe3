"""Reading and validating user tables: every problem is one DataError line naming what and the fix.

`read_table` decides the delimiter and the number format from the whole file (kan_core.io.tableformat),
lets pandas parse with those options, and records what it decided: `df.attrs["notes"]` (one line
each), `df.attrs["units"]` (a units row under the header), `df.attrs["missing"]` (which words or
spreadsheet errors stood for missing cells, and where). The index holds the file's line numbers.
`prepare` copies those notes into `Dataset.warnings` and adds its own per-column decisions.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kan_core.errors import DataError
from kan_core.io import tableformat as tf
from kan_core.io.tableformat import lines as _lines
from kan_core.io.tableformat import show as _show

MAX_BYTES = 200 * 2**20  # the studio's upload cap is the same (.streamlit/config.toml)
MAX_ROWS = 1_000_000
MAX_FEATURES = 100
MAX_COLUMNS = 10_000  # wider headers are refused before any cell is read
SNIFF_LINES, SNIFF_CHARS = 50, 2**20  # the delimiter is decided on a bounded sample
SMALL_DATA = 20  # below this many rows: warn, no validation split, simple formulas preferred


@dataclass
class Dataset:
    """Numeric inputs and target ready for training, with what was done to get them."""

    X: np.ndarray
    y: np.ndarray
    features: list[str]
    target: str
    warnings: list[str] = field(default_factory=list)
    dropped_rows: int = 0
    report: list[dict] = field(default_factory=list)  # column health: one row per column
    units: dict[str, str] = field(default_factory=dict)  # unit text per column that has one (pint syntax)

    @property
    def small(self) -> bool:
        """Tiny data (Kepler has 6 rows): use a small model and no validation split."""
        return len(self.y) < SMALL_DATA


def _decode(raw: bytes) -> str:
    if not raw.strip():
        raise DataError("the file is empty; choose a CSV file with a header row and data rows")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export is UTF-16
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError("the UTF-16 text cannot be decoded; save the file as UTF-8 CSV") from None
    if b"\x00" in raw[:4096]:
        raise DataError("this is not a text file (binary content); export your data as CSV")
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError("cannot decode the file; save it as UTF-8 CSV")  # pragma: no cover


def _read_bytes(source: str | Path | bytes, max_bytes: int) -> bytes:
    if isinstance(source, bytes):
        raw = source
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"file not found: {source}")
        size, cap = path.stat().st_size / 2**20, max_bytes / 2**20
        if path.stat().st_size > max_bytes:
            raise DataError(
                f"{path.name} is {size:.0f} MB, over the {cap:.0f} MB cap; sample rows or raise the cap"
            )
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise DataError(f"the file is over the {max_bytes / 2**20:.0f} MB cap; sample rows or raise the cap")
    return raw


def read_bytes(path: str | Path, max_bytes: int = MAX_BYTES) -> bytes:
    """A table file's bytes, under the same size cap as `read_table` (which accepts them), for work
    shipped elsewhere (a batch's tables to a cluster's workers).

    Raises
    ------
    DataError
        The file is missing or over the cap.
    """
    return _read_bytes(path, max_bytes)


def read_table(source: str | Path | bytes, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """Read a CSV/TSV table the way its author meant it, saying what was decided.

    The delimiter (, ; tab) and the number format (decimal mark, thousands separator) are decided
    from the whole file; UTF-8 with or without BOM, UTF-16 or latin-1 are read; comment lines
    before the header, a units row, repeated headers, a trailing total row, missing-value words
    and spreadsheet errors, percentages, empty and row-number columns are handled with a note each.
    Parsing is pandas' (`read_csv`); no cell is ever evaluated.

    Parameters
    ----------
    source : str, Path or bytes
        A file path or the file's bytes (an upload).
    max_bytes : int
        Larger files are refused.

    Returns
    -------
    pandas.DataFrame, shape (n_rows, n_columns)
        Numeric columns as float64, others as text; the index holds the file's line numbers.
        ``attrs["notes"]``: one line per decision (shown to the user); ``attrs["units"]``: units
        found in a units row, per column; ``attrs["missing"]``: missing-value words per column.

    Raises
    ------
    DataError
        One line naming the cause and the fix: unreadable or binary file, no header, rows of the
        wrong width (with their line numbers), a contradictory number format, a file too large.
    """
    text = _decode(_read_bytes(source, max_bytes))
    lines = re.split(r"\r\n|\r|\n", text)
    top = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None
    )
    if top is None:
        raise DataError("the file holds only comment lines ('#'); add a header row and data rows")
    notes = []
    comments = [i + 1 for i in range(top) if lines[i].strip()]
    if comments:
        what = "are comments" if len(comments) > 1 else "is a comment"
        notes.append(f"{_lines(comments)} before the header {what}: skipped")
        text = "\n".join(lines[top:])
    sep = _delimiter(lines, top)
    header = _check_header(lines[top], sep)
    _check_widths(text if comments else "\n".join(lines[top:]), sep, len(header), top)
    cells = _parse_strings(text, sep)
    data_lines = [i + 1 for i in range(top + 1, len(lines)) if lines[i].strip()]
    if len(data_lines) != len(cells):  # quoted line breaks: count records instead
        data_lines = list(range(top + 2, top + 2 + len(cells)))
    return tf.Table(cells, header, np.array(data_lines, dtype=np.int64), sep, notes).frame()


def _delimiter(lines: list[str], top: int) -> str:
    """The delimiter (',', ';' or tab) that splits the header and the first data lines into the
    same number of fields, on a bounded sample (csv.reader is linear; csv.Sniffer is not)."""
    sample: list[str] = []
    size = 0
    for line in lines[top:]:
        if len(sample) >= SNIFF_LINES or (sample and size + len(line) > SNIFF_CHARS):
            break
        if line.strip():
            sample.append(line)
            size += len(line)
    best, best_score = ",", None
    for cand in (",", ";", "\t"):
        try:
            rows = list(csv.reader(sample, delimiter=cand))
        except csv.Error:
            continue
        width = len(rows[0]) if rows else 0
        if width < 2:
            continue
        same = sum(len(r) == width for r in rows) / len(rows)
        numeric = sum(_is_number(c.strip().rstrip("%")) for r in rows[1:] for c in r)
        score = (same, numeric)
        if best_score is None or score > best_score:
            best, best_score = cand, score
    return best


def _parse_strings(text: str, sep: str) -> pd.DataFrame:
    """Every cell as the text in the file (pandas does the CSV quoting rules)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text), sep=sep, dtype=str, na_filter=False, skipinitialspace=True, index_col=False
            )
    except pd.errors.ParserWarning:  # pandas would silently drop the extra fields
        raise DataError(f"{_ragged_row(text, sep)}; fix that row or check the delimiter") from None
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(
            f"cannot parse the file as a table ({str(err).splitlines()[0]}); check the delimiter"
        ) from None
    return df.fillna("")


def _check_widths(text: str, sep: str, width: int, offset: int) -> None:
    """Refuse a row with more fields than the header, or a field too long, before pandas sees the
    file (pandas builds a column per extra field first: one 4 MB line of '1,' took 79 s and 3 GB).
    One pass of csv.reader: linear time, one row in memory at a time."""
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    try:
        for row in rows:
            if len(row) > width:
                line = offset + rows.line_num
                raise DataError(
                    f"line {line} has {len(row):,} fields but the header has {width}; "
                    "fix that row or check the delimiter"
                )
    except csv.Error as err:
        line = offset + rows.line_num
        raise DataError(f"line {line}: {err}; fix that row (a field over 131,072 characters?)") from None


def _ragged_row(text: str, sep: str) -> str:
    """Name the first line with more fields than the header."""
    try:
        rows = csv.reader(io.StringIO(text.lstrip()), delimiter=sep)
        width = len(next(rows))
        for n, row in enumerate(rows, start=2):
            if len(row) > width:
                return f"line {n} has {len(row)} fields but the header has {width}"
    except (csv.Error, StopIteration):
        pass
    return "a line has more fields than the header"


def _check_header(line: str, sep: str) -> list[str]:
    """The header's names, stripped; refused when too wide, numeric or repeated (linear time)."""
    try:
        header = [h.strip() for h in next(csv.reader([line], delimiter=sep), [])]
    except csv.Error as err:
        raise DataError(f"the header line cannot be read ({err}); shorten the column names") from None
    if len(header) > MAX_COLUMNS:
        raise DataError(
            f"the header has {len(header):,} columns, over the {MAX_COLUMNS:,} cap; keep the columns"
            f" you need (at most {MAX_FEATURES} are used as features)"
        )
    if not header or all(_is_number(h) for h in header):
        raise DataError("the first row holds numbers, not column names; add a header row")
    seen, dupes = set(), []
    for name in header:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    if dupes:
        shown = ", ".join(_show(d) for d in dupes[:10]) + (
            f" and {len(dupes) - 10} more" if len(dupes) > 10 else ""
        )
        raise DataError(f"duplicate column name(s): {shown}; rename them so each column is unique")
    return header


def _is_number(s: str) -> bool:
    try:
        float(s.replace(",", "."))
        return True
    except ValueError:
        return False


def _names(cols: list[str], most: int = 20) -> str:
    """A list of column names for a message, cut after `most`."""
    shown = ", ".join(_show(c) for c in cols[:most])
    return shown + (f" … ({len(cols):,} in all)" if len(cols) > most else "")


def _line_numbers(df: pd.DataFrame):
    """Position → 'line N' when the index holds file lines (read_table), else 'row N' (header = 1)."""
    idx = df.index
    if df.attrs.get("index") == "line" and pd.api.types.is_integer_dtype(idx) and len(idx) and idx[0] >= 2:
        return lambda pos: f"line {int(idx[pos])}", lambda pos: int(idx[pos])
    return lambda pos: f"row {pos + 2}", lambda pos: pos + 2


def _text_cells(table: pd.DataFrame, numeric: pd.DataFrame, where) -> list[tuple[str, str]]:
    """(column, "name (line 3: 'abc')") for each column with cells that are not numbers."""
    found = []
    for c in table.columns:
        text = numeric[c].isna().to_numpy() & table[c].notna().to_numpy()
        if text.any():
            pos = np.flatnonzero(text)
            more = f", {len(pos) - 1} more" if len(pos) > 1 else ""
            found.append((c, f"{_show(c)} ({where(pos[0])}: '{_show(str(table[c].iloc[pos[0]]))}'{more})"))
    return found


def prepare(
    df: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    drop_missing: bool = True,
    max_rows: int = MAX_ROWS,
    max_features: int = MAX_FEATURES,
) -> Dataset:
    """Select the target and features, check them, and return float arrays.

    Parameters
    ----------
    df : pandas.DataFrame, shape (n, m)
        A table, typically from `read_table` (whose notes, units and line numbers are used).
    target : str
        The column to explain.
    features : list of str, optional
        Input columns (default: every other non-empty column).
    drop_missing : bool, default True
        Rows with missing or non-finite cells are dropped (and counted in `warnings`); False
        makes them an error.
    max_rows, max_features : int
        Size limits (an error names the fix).

    Returns
    -------
    Dataset
        X (n_kept, d) and y (n_kept,) as float64, the names, `warnings` (read_table's notes, then
        one line per decision taken here) and `report` (one row per column: use, how it was read,
        missing cells).

    Raises
    ------
    DataError
        One line naming the column(s) and the fix: unknown or repeated columns, text cells,
        constant columns, a constant target, fewer than 3 usable rows, too many rows or features.
    """
    cols = [str(c) for c in df.columns]
    where, line_of = _line_numbers(df)
    df = df.set_axis(cols, axis=1)
    renamed = df.attrs.get("renamed") or {}  # `P [Pa]` was read as P in Pa: both names work
    target = renamed.get(target, target)
    features = None if features is None else [renamed.get(f, f) for f in features]
    if target not in set(cols):
        raise DataError(f"target column {target!r} not found; columns are: {_names(cols)}")
    notes = [str(n) for n in df.attrs.get("notes", [])]
    report: list[dict] = []
    features = _choose_features(df, target, features, max_features, notes, report)
    if len(df) > max_rows:
        raise DataError(f"{len(df):,} rows is over {max_rows:,}; sample rows (e.g. df.sample) first")
    table = df[features + [target]]
    values = _numbers(table, target, where)
    bad = ~np.isfinite(values).all(1)
    report += _missing_report(df, table, target, values, drop_missing, line_of, notes)
    if bad.any():
        values = _drop_bad_rows(values, bad, drop_missing, where, line_of, notes)
    _check_variation(values, features, target)
    if len(values) < SMALL_DATA:
        notes.append(f"only {len(values)} rows: using a small model, no validation split, simple formulas")
    units = {c: str(u) for c, u in (df.attrs.get("units") or {}).items() if c in features or c == target}
    return Dataset(values[:, :-1], values[:, -1], features, target, notes, int(bad.sum()), report, units)


def _choose_features(df, target: str, features, max_features: int, notes: list, report: list) -> list[str]:
    """The feature columns: given ones checked, or every other non-empty column."""
    cols = list(df.columns)
    if features is None:
        features = [c for c in cols if c != target]
        if len(features) > max_features:
            raise DataError(f"{len(features)} features is over {max_features}; choose the columns to use")
        empty = [c for c in features if df[c].isna().all()] if len(df) else []
        for c in empty:
            notes.append(f"column '{_show(c)}' is empty: ignored")
            report.append({"column": c, "use": "not used", "read as": "empty", "missing cells": len(df)})
        features = [c for c in features if c not in set(empty)]
    else:
        features = [str(f) for f in features]
        absent = [f for f in features if f not in set(cols)]
        if absent:
            raise DataError(f"feature column(s) not found: {_names(absent)}; columns are: {_names(cols)}")
        twice = sorted({f for f in features if features.count(f) > 1}, key=features.index)
        if twice:
            raise DataError(f"feature column(s) listed twice: {_names(twice)}; list each column once")
    if not features:
        raise DataError("no feature columns; choose at least one input column besides the target")
    if target in set(features):
        raise DataError(f"{target!r} is both the target and a feature; remove it from the features")
    if len(features) > max_features:
        raise DataError(f"{len(features)} features is over {max_features}; choose the columns to use")
    return features


def _numbers(table: pd.DataFrame, target: str, where) -> np.ndarray:
    """The table as floats (NaN for missing cells); a DataError names any cell that is text."""
    numeric = pd.DataFrame(
        {
            c: table[c]
            if pd.api.types.is_numeric_dtype(table[c])
            else pd.to_numeric(table[c], errors="coerce")
            for c in table.columns
        }
    )
    text = _text_cells(table, numeric, where)
    if text:
        bad_features = [t for c, t in text if c != target]
        parts = [f"non-numeric column(s): {', '.join(t for _, t in text)}"]
        if bad_features:
            parts.append(
                f"exclude {_names([c for c, _ in text if c != target])} from the features or fix those cells"
            )
        if len(bad_features) < len(text):
            parts.append(
                f"the target {_show(target)} must hold numbers: fix those cells or choose another target"
            )
        raise DataError("; ".join(parts))
    if len(numeric):
        empty = [c for c in table.columns[:-1] if numeric[c].isna().all()]
        if empty:
            raise DataError(f"column(s) {_names(empty)} hold no numbers; remove them from the features")
        if numeric[target].isna().all():
            raise DataError(f"the target {target!r} holds no numbers; choose another target")
    return numeric.to_numpy(float)


def _missing_report(df, table, target: str, values, drop_missing: bool, line_of, notes: list) -> list[dict]:
    """One report row per used column; a note per column whose missing cells drop rows."""
    missing_words = df.attrs.get("missing", {}) or {}
    units = df.attrs.get("units") or {}
    report = []
    for i, c in enumerate(table.columns):
        gaps = np.flatnonzero(~np.isfinite(values[:, i]))
        words = missing_words.get(c) if isinstance(missing_words, dict) else None
        if len(gaps) and drop_missing:
            if words:
                what = ", ".join(f"'{_show(w)}' ×{k}" if w != "empty" else f"empty ×{k}" for w, k, _ in words)
            else:
                what = f"{len(gaps)} missing or infinite"
            firsts = sorted({ln for _, _, lns in words for ln in lns})[:3] if words else []
            firsts = firsts or [line_of(p) for p in gaps[:3]]
            notes.append(
                f"column '{_show(c)}': {len(gaps)} cell(s) not numbers ({what}; first lines"
                f" {', '.join(map(str, firsts))}): their rows are dropped"
            )
        report.append(
            {
                "column": c,
                "use": "target" if c == target else "feature",
                "read as": "numbers" + (f" in {units[c]}" if c in units else ""),
                "missing cells": int(len(gaps)),
            }
        )
    return report


def _drop_bad_rows(values, bad, drop_missing: bool, where, line_of, notes: list) -> np.ndarray:
    """The rows with only finite cells (noted), or a DataError when dropping is not allowed."""
    n_nan, n_inf = int(np.isnan(values).sum()), int(np.isinf(values).sum())
    what = ", ".join(
        p for p in (f"{n_nan} missing" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if p
    )
    first = int(np.flatnonzero(bad)[0])
    if not drop_missing:
        raise DataError(
            f"{what} value(s) in {int(bad.sum())} row(s) (first: {where(first)}); drop those rows"
        )
    lines = [line_of(p) for p in np.flatnonzero(bad)[:3]]
    which = _lines(lines) if len(lines) == bad.sum() else "first " + _lines(lines)
    notes.append(f"dropped {int(bad.sum())} row(s) with {what} value(s) ({which})")
    return values[~bad]


def _check_variation(values: np.ndarray, features: list[str], target: str) -> None:
    """Enough rows, no constant feature, a target that varies."""
    if len(values) < 3:
        raise DataError(f"only {len(values)} usable row(s); at least 3 are needed")
    constant = [c for i, c in enumerate(features) if len(np.unique(values[:, i])) <= 1]
    if constant:
        raise DataError(f"constant column(s): {_names(constant)}; they carry no information, exclude them")
    if len(np.unique(values[:, -1])) <= 1:
        raise DataError(f"the target {target!r} is constant; there is nothing to explain")
