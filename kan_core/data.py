"""Reading and validating user tables: every problem is one DataError line naming what and the fix."""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

MAX_BYTES = 200 * 2**20  # the studio's upload cap is the same (.streamlit/config.toml)
MAX_ROWS = 1_000_000
MAX_FEATURES = 100
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


def read_table(source: str | Path | bytes, max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """A CSV/TSV file (path or bytes) as a DataFrame: delimiter sniffed (, ; tab), UTF-8 with or
    without BOM or latin-1, decimal commas when the delimiter is a semicolon."""
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
    text = _decode(raw)
    head = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    decimal = "," if sep == ";" else "."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                io.StringIO(text), sep=sep, decimal=decimal, skipinitialspace=True, index_col=False
            )
    except pd.errors.ParserWarning:  # pandas would silently drop the extra fields
        raise DataError(f"{_ragged_row(text, sep)}; fix that row or check the delimiter") from None
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(
            f"cannot parse the file as a table ({str(err).splitlines()[0]}); check the delimiter"
        ) from None
    _check_header(df, text, sep)
    # Trailing delimiters (common in spreadsheet exports) make empty, unnamed columns.
    empty = [c for c in df.columns if str(c).startswith("Unnamed: ") and df[c].isna().all()]
    return df.drop(columns=empty)


def _ragged_row(text: str, sep: str) -> str:
    """Name the first line with more fields than the header."""
    rows = csv.reader(io.StringIO(text.lstrip()), delimiter=sep)
    width = len(next(rows))
    for n, row in enumerate(rows, start=2):
        if len(row) > width:
            return f"line {n} has {len(row)} fields but the header has {width}"
    return "a line has more fields than the header"  # pragma: no cover


def _check_header(df: pd.DataFrame, text: str, sep: str) -> None:
    if df.shape[1] == 0 or all(_is_number(str(n)) for n in df.columns):
        raise DataError("the first row holds numbers, not column names; add a header row")
    # pandas renames a repeated name to "name.1"; the header itself tells the truth.
    header = next(csv.reader(io.StringIO(text.lstrip().splitlines()[0]), delimiter=sep))
    seen, dupes = set(), []
    for name in (h.strip() for h in header):
        if name in seen:
            dupes.append(name)
        seen.add(name)
    if dupes:
        raise DataError(f"duplicate column name(s): {', '.join(dupes)}; rename them so each column is unique")


def _is_number(s: str) -> bool:
    try:
        float(s.replace(",", "."))
        return True
    except ValueError:
        return False


def prepare(
    df: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    drop_missing: bool = True,
    max_rows: int = MAX_ROWS,
    max_features: int = MAX_FEATURES,
) -> Dataset:
    """Select target and features, check them, and return float arrays.

    Missing or non-finite cells drop their rows when `drop_missing` (counted in `warnings`),
    else they are an error; constant features are an error naming them.
    """
    cols = [str(c) for c in df.columns]
    df = df.set_axis(cols, axis=1)
    if target not in cols:
        raise DataError(f"target column {target!r} not found; columns are: {', '.join(cols)}")
    features = [c for c in cols if c != target] if features is None else [str(f) for f in features]
    missing = [f for f in features if f not in cols]
    if missing:
        raise DataError(f"feature column(s) not found: {', '.join(missing)}; columns are: {', '.join(cols)}")
    if not features:
        raise DataError("no feature columns; choose at least one input column besides the target")
    if target in features:
        raise DataError(f"{target!r} is both the target and a feature; remove it from the features")
    if len(features) > max_features:
        raise DataError(f"{len(features)} features is over {max_features}; choose the columns to use")
    if len(df) > max_rows:
        raise DataError(f"{len(df):,} rows is over {max_rows:,}; sample rows (e.g. df.sample) first")
    table = df[features + [target]]
    numeric = table.apply(pd.to_numeric, errors="coerce")
    text_cols = [c for c in table.columns if numeric[c].isna().sum() > table[c].isna().sum()]
    if text_cols:
        raise DataError(f"non-numeric column(s): {', '.join(text_cols)}; exclude them from the features")
    warnings = []
    bad = ~np.isfinite(numeric.to_numpy(float)).all(1)
    if bad.any():
        n_nan, n_inf = int(numeric.isna().to_numpy().sum()), int(np.isinf(numeric.to_numpy(float)).sum())
        what = ", ".join(
            p for p in (f"{n_nan} missing" if n_nan else "", f"{n_inf} infinite" if n_inf else "") if p
        )
        if not drop_missing:
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{what} value(s) in {int(bad.sum())} row(s) (first: row {first + 2}); drop those rows"
            )
        warnings.append(f"dropped {int(bad.sum())} row(s) with {what} value(s)")
        numeric = numeric[~bad]
    if len(numeric) < 3:
        raise DataError(f"only {len(numeric)} usable row(s); at least 3 are needed")
    constant = [c for c in features if numeric[c].nunique() <= 1]
    if constant:
        raise DataError(f"constant column(s): {', '.join(constant)}; they carry no information, exclude them")
    if numeric[target].nunique() <= 1:
        raise DataError(f"the target {target!r} is constant; there is nothing to explain")
    if len(numeric) < SMALL_DATA:
        warnings.append(
            f"only {len(numeric)} rows: using a small model, no validation split, simple formulas"
        )
    return Dataset(
        numeric[features].to_numpy(float),
        numeric[target].to_numpy(float),
        features,
        target,
        warnings,
        int(bad.sum()),
    )
