"""What each cell of a table is, and the table's number format decided from all its cells at once.

A cell is empty, a missing-value word (NA, -, null…), a spreadsheet error (#DIV/0!…), a number or
text. A number's separators vote: '1.234,56' says ',' is the decimal mark and '.' groups thousands;
'2.5' or '0.125' say '.' is the decimal mark; '1.234.567' says '.' groups thousands; '2.928' could be
either (ambiguous). The votes of every cell decide one format for the file, or a one-line DataError
names the contradiction. pandas' read_csv then parses with those options; nothing here parses.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kan_core.errors import DataError
from kan_core.units import header_units, unit_note

EMPTY, MISSING, ERROR, NUMBER, TEXT = range(5)

# pandas' default missing markers plus those seen in real exports (dashes, '?', n.d.)
MISSING_WORDS = frozenset(
    "NA N/A n/a na NaN nan -NaN -nan NULL null Null None none <NA> #NA #N/A #N/A N/A -1.#IND 1.#IND "
    "-1.#QNAN 1.#QNAN - -- — – ? n.a. n.d. N.A. N.D.".split(" ")
)
ERROR_CELL = re.compile(
    r"#(?:DIV/0!?|VALUE!|REF!|NUM!|NAME\?|NULL!|SPILL!|CALC!|FIELD!|BLOCKED!|CONNECT!|BUSY!|"
    r"UNKNOWN!|GETTING_DATA)|Err:\d{3}",
    re.IGNORECASE,
)
SPACES = "\u00a0\u202f\u2009\u2007"  # no-break, narrow no-break, thin and figure spaces
_SPACE_TO_ASCII = str.maketrans(SPACES + "\u2212", " " * len(SPACES) + "-")  # and U+2212 minus
_NUMBER = re.compile(r"([+-]?)(\d(?:[\d.,' ]*\d)?[.,]?|[.,]\d+)([eE][+-]?\d+)?( ?%)?")
_SPECIAL = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)
_NAMES = {".": "'.'", ",": "','", "'": "an apostrophe", " ": "a space", ";": "';'", "\t": "a tab"}


@dataclass
class Cells:
    """One entry per distinct cell text: its kind, what it says about the format, its clean text."""

    kind: np.ndarray  # int8: EMPTY, MISSING, ERROR, NUMBER or TEXT
    decimal: np.ndarray  # '.', ',' or '' — the separator this number uses as a decimal mark
    thousands: np.ndarray  # '.', ',', "'", ' ' or '' — the separator it uses to group digits
    ambiguous: np.ndarray  # '.' or ',' for '2.928'-like numbers, else ''
    big_int: np.ndarray  # bool: a plain integer of four or more digits (no grouping used)
    percent: np.ndarray  # bool: ends with '%'
    clean: np.ndarray  # object: the text pandas parses ('' for anything but a number)
    stripped: np.ndarray  # object: the cell without surrounding spaces

    @property
    def finite_int(self) -> np.ndarray:
        """Numbers written without a decimal mark or exponent (they read as integers)."""
        return np.array([not (set(c) & set("eEiInN")) for c in self.clean], bool)


def _groups_ok(groups: list[str]) -> bool:
    """Thousands grouping: 1-3 leading digits (no leading zero unless alone), then groups of 3."""
    first = groups[0]
    return 1 <= len(first) <= 3 and not (first.startswith("0")) and all(len(g) == 3 for g in groups[1:])


def _number(mant: str, has_exp: bool) -> tuple[str, str, str] | None:
    """(decimal, thousands, ambiguous) separators of a mantissa, or None when it is no number."""
    seps = [c for c in mant if not c.isdigit()]
    if not seps:
        return "", "", ""
    kinds = set(seps)
    if has_exp:  # '1,5E+03': one decimal mark, never grouping
        return (seps[0], "", "") if len(seps) == 1 and seps[0] in ".," else None
    groups = re.split(r"[.,' ]", mant)
    if len(kinds) == 1:
        c = seps[0]
        if len(seps) > 1:  # '1.234.567', "1'234'567"
            return ("", c, "") if _groups_ok(groups) else None
        if c in "' ":
            return ("", c, "") if _groups_ok(groups) else None
        before, after = groups
        if len(after) == 3 and _groups_ok([before, after]):
            return "", "", c  # '2.928'
        return c, "", ""  # '2.5', '0.125', '1234.5', '.5', '5.'
    last = seps[-1]  # two kinds: '1.234,56', '1,234.5', "1'234.5", '1 234,5'
    rest = set(seps[:-1])
    if last not in ".," or seps.count(last) > 1 or len(rest) > 1:
        return None
    (t,) = rest
    if not _groups_ok(groups[:-1]):
        return None
    return last, t, ""


def _fast(stripped: pd.Series, cells: Cells) -> np.ndarray:
    """Vectorised classification of the common cells (plain integers and decimals with '.' or
    ','); returns the mask of cells done. Everything else goes through `_number` one by one."""
    done = np.zeros(len(stripped), bool)
    if not len(stripped):
        return done
    plain = stripped.str.fullmatch(r"[+-]?\d+").to_numpy(bool)
    cells.big_int[plain] = stripped[plain].str.fullmatch(r"[+-]?0*[1-9]\d{3,}").to_numpy(bool)
    done |= plain
    for c in ".,":
        e = re.escape(c)
        dec = stripped.str.fullmatch(rf"[+-]?(?:\d*{e}\d+|\d+{e})(?:[eE][+-]?\d+)?").to_numpy(bool)
        amb = dec & stripped.str.fullmatch(rf"[+-]?[1-9]\d{{0,2}}{e}\d{{3}}").to_numpy(bool)
        cells.decimal[dec & ~amb] = c
        cells.ambiguous[amb] = c
        done |= dec
    cells.kind[done] = NUMBER
    cells.clean[done] = cells.stripped[done]
    return done


def classify(values: np.ndarray) -> Cells:
    """Classify distinct cell texts (a 1-d object array of str)."""
    n = len(values)
    stripped = pd.Series(values, dtype="string[pyarrow]").str.strip()  # also no-break, thin spaces
    cells = Cells(
        np.full(n, TEXT, np.int8),
        np.full(n, "", object),
        np.full(n, "", object),
        np.full(n, "", object),
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.full(n, "", object),
        stripped.to_numpy(object),
    )
    done = _fast(stripped, cells)
    for i in np.flatnonzero(~done):
        s = cells.stripped[i]
        if not s:
            cells.kind[i] = EMPTY
        elif s in MISSING_WORDS:
            cells.kind[i] = MISSING
        elif ERROR_CELL.fullmatch(s):
            cells.kind[i] = ERROR
        elif _SPECIAL.fullmatch(s):
            cells.kind[i], cells.clean[i] = NUMBER, s
        elif len(s) <= 400 and (m := _NUMBER.fullmatch(s.translate(_SPACE_TO_ASCII))):
            sign, mant, exp, per = m.groups()
            seps = _number(mant, bool(exp))
            if seps is not None:
                cells.kind[i] = NUMBER
                cells.decimal[i], cells.thousands[i], cells.ambiguous[i] = seps
                cells.big_int[i] = mant.isdigit() and len(mant.lstrip("0")) >= 4
                cells.percent[i] = per is not None
                cells.clean[i] = sign + mant + (exp or "")
    return cells


@dataclass
class NumberFormat:
    """read_csv's `decimal` and `thousands`, and notes on how they were chosen.

    A note is (text with '{}' for the example's parsed value, unique id of the example cell).
    """

    decimal: str = "."
    thousands: str | None = None
    notes: list[tuple[str, int]] = field(default_factory=list)


def decide(cells: Cells, codes: np.ndarray, sep: str, where) -> NumberFormat:
    """One number format for the cells `codes` (unique ids of every numeric column's cells, a
    2-d array rows × columns). `where(uid)` names the first place a cell appears ("column 'x',
    line 5"). The delimiter breaks ties: ';' files write '1.234' for 1234, ',' files for 1.234."""
    used = np.zeros(len(cells.kind), bool)
    used[codes.ravel()] = True
    number = used & (cells.kind == NUMBER)

    def first(arr: np.ndarray, c: str) -> int | None:
        hit = np.flatnonzero(number & (arr == c))
        return int(hit[0]) if len(hit) else None

    def cite(uid: int) -> str:
        return f"'{show(cells.stripped[uid])}' in {where(uid)}"

    dec = {c: u for c in ".," if (u := first(cells.decimal, c)) is not None}
    thou = {c: u for c in ".,' " if (u := first(cells.thousands, c)) is not None}
    amb = {c: u for c in ".," if (u := first(cells.ambiguous, c)) is not None}
    for c in set(dec) & set(thou):
        raise DataError(
            f"{_NAMES[c]} is a decimal mark in {cite(dec[c])} but groups thousands in {cite(thou[c])};"
            " save the table with one number format"
        )
    if len(dec) > 1:
        raise DataError(
            f"both '.' ({cite(dec['.'])}) and ',' ({cite(dec[','])}) are used as decimal marks;"
            " save the table with one number format"
        )
    fmt = NumberFormat()
    decimal = next(iter(dec), None) or {".": ",", ",": "."}.get(next(iter(thou), ""))
    for c, uid in amb.items():
        example = f"'{cells.stripped[uid]}' → {{}}"
        if c in thou or c == decimal:
            continue  # consistent with the rest of the file
        if decimal is not None:  # the other mark is the decimal one, so c groups thousands
            thou[c] = uid
            why = f"{_NAMES[decimal]} is the decimal mark ({cite(dec[decimal])})"
            fmt.notes.append((f"{_NAMES[c]} read as a thousands separator ({example}) because {why}", uid))
            continue
        cols = (cells.ambiguous[codes] == c).any(axis=0)
        plain = (cells.big_int[codes] & number[codes]).any(axis=0)
        if (cols & plain).any():
            why, grouping = "numbers of four or more digits in the same columns are not grouped", False
        else:
            why = f"the delimiter is {_NAMES[sep]}"
            grouping = c != ("," if sep == ";" else ".")
        head = f"every number with {_NAMES[c]} has exactly three digits after it: read {_NAMES[c]} as"
        if grouping:
            thou[c], decimal = uid, "," if c == "." else "."
            other = "," if sep == ";" else ";"
            text = (
                f"{head} a thousands separator ({example}) because {why}; if it is the decimal mark,"
                f" save the file with {_NAMES[other]} as delimiter"
            )
        else:
            decimal = c
            text = f"{head} the decimal mark ({example}) because {why}; if it groups thousands, remove it"
        fmt.notes.insert(0, (text, uid))
    if len(thou) > 1:
        a, b = list(thou)[:2]
        raise DataError(
            f"two thousands separators: {_NAMES[a]} in {cite(thou[a])} and {_NAMES[b]} in {cite(thou[b])};"
            " save the table with one number format"
        )
    fmt.thousands = next(iter(thou), None)
    fmt.decimal = decimal or ("," if fmt.thousands == "." else ".")
    if fmt.thousands == fmt.decimal:  # pragma: no cover - excluded by the checks above
        raise DataError("the number format is contradictory; save the table with one number format")
    if not fmt.notes and (fmt.thousands or fmt.decimal == ","):
        shown = thou.get(fmt.thousands) if fmt.thousands else dec.get(",")
        if shown is not None:
            parts = ([f"{_NAMES[fmt.thousands]} as thousands separator"] if fmt.thousands else []) + (
                ["',' as decimal mark"] if fmt.decimal == "," else []
            )
            fmt.notes.append(
                (f"numbers read with {' and '.join(parts)} (e.g. '{cells.stripped[shown]}' → {{}})", shown)
            )
    return fmt


def show(text: str, width: int = 24) -> str:
    """A cell's text safe for one line of a message: control characters escaped, long text cut."""
    text = text if len(text) <= width else text[: width - 1] + "…"
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def lines(numbers, most: int = 3) -> str:
    """'line 5', 'lines 5, 9, 14' or 'lines 5, 9, 14 and 7 more'."""
    numbers = [int(n) for n in numbers]
    shown = ", ".join(map(str, numbers[:most])) + (
        f" and {len(numbers) - most} more" if len(numbers) > most else ""
    )
    return f"line{'s' if len(numbers) > 1 else ''} {shown}"


TOTAL = re.compile(r"(?:grand\s+|sub-?)?(?:total|totals|sum|summe|gesamt|totaal|totale|somme|suma)\b.*", re.I)


class Table:
    """The decisions about one file's cells: which rows and columns hold data, and how to read them."""

    def __init__(self, cells: pd.DataFrame, header: list[str], lines: np.ndarray, sep: str, notes: list[str]):
        names = [str(c) for c in cells.columns]
        self.names = [h or c for h, c in zip(header, names)] if len(header) == len(names) else names
        self.header, self.sep, self.notes = header, sep, notes
        n, m = cells.shape
        flat = (
            pd.concat([cells[c] for c in cells.columns], ignore_index=True) if m else pd.Series([], dtype=str)
        )
        codes, uniques = pd.factorize(flat)
        self.codes = codes.reshape(m, n).T  # rows × columns of ids into the distinct texts
        self.cells = classify(np.asarray(uniques, dtype=object))
        self.kind = self.cells.kind[self.codes]
        self.lines = lines
        self.keep = np.ones(n, bool)
        self.units: dict[str, str] = {}

    def frame(self) -> pd.DataFrame:
        """The table: numeric columns parsed by pandas, text columns as text, notes in attrs."""
        if len(self.lines):
            self._drop_rows()
        rows = np.flatnonzero(self.keep)
        codes, kind = self.codes[rows], self.kind[rows]
        has_text = (kind == TEXT).any(axis=0)
        has_number = (kind == NUMBER).any(axis=0)
        numeric = np.flatnonzero(~has_text & (has_number | (len(rows) == 0)))
        fmt = decide(self.cells, codes[:, numeric], self.sep, lambda uid: self._first(codes, numeric, uid))
        values = self._parse(codes[:, numeric], numeric, fmt)
        columns, missing = {}, {}
        for j, name in enumerate(self.names):
            if j in values:
                columns[name] = values[j]
                info = self._missing(codes[:, j], kind[:, j], rows)
                if info:
                    missing[name] = info
            elif has_text[j]:
                text = self.cells.stripped[codes[:, j]].copy()
                text[kind[:, j] < NUMBER] = np.nan
                columns[name] = text
            elif not name.startswith("Unnamed: "):  # trailing delimiters leave unnamed empty columns
                self.notes.append(f"column '{show(name)}' is empty: ignored")
        for uid_note, uid in fmt.notes:
            r, j = self._first(codes, numeric, uid, index=True)
            self.notes.append(uid_note.format(f"{columns[self.names[j]][r]:.10g}"))
        df = pd.DataFrame(columns, index=pd.Index(self.lines[rows], name="line"))
        df = self._row_numbers(df)
        if df.shape[1] == 0:
            raise DataError(
                "every column is empty (no numbers and no text); check the file and its delimiter"
            )
        renames, found = header_units([str(c) for c in df.columns])
        if found:
            df = df.rename(columns=renames)
            missing = {renames.get(k, k): v for k, v in missing.items()}
            self.units = {**{renames.get(k, k): v for k, v in self.units.items()}, **found}
            shown = ", ".join(
                unit_note(renames.get(h, h), found[renames.get(h, h)]) for h in list(renames)[:6]
            )
            if shown:
                self.notes.append(f"units read from the headers: {shown}")
        df.attrs.update(notes=self.notes, units=self.units, missing=missing, index="line", renamed=renames)
        return df

    def _first(self, codes: np.ndarray, numeric: np.ndarray, uid: int, index: bool = False):
        r, j = np.argwhere(codes[:, numeric] == uid)[0]
        return (
            (r, numeric[j])
            if index
            else f"column '{show(self.names[numeric[j]])}', line {self.lines[self.keep][r]}"
        )

    def _drop_rows(self) -> None:
        """Repeated headers, comment lines, a units row under the header, trailing total rows."""
        st, kind, codes = self.cells.stripped, self.kind, self.codes
        same = np.ones(len(self.lines), bool)
        for j, name in enumerate(self.header):
            same &= np.isin(codes[:, j], np.flatnonzero(st == name))
        if same.any():
            self.keep &= ~same
            verb = "repeats" if same.sum() == 1 else "repeat"
            self.notes.append(f"{lines(self.lines[same])} {verb} the header (joined exports?): dropped")
        hashed = np.array([s.startswith("#") for s in st], bool)
        comment = hashed[codes[:, 0]] & (kind[:, 0] == TEXT) & (kind[:, 1:] == EMPTY).all(axis=1)
        if comment.any():
            self.keep &= ~comment
            first = show(st[codes[np.flatnonzero(comment)[0], 0]])
            self.notes.append(f"{lines(self.lines[comment])} after the header: comment ('{first}'…): dropped")
        kept = np.flatnonzero(self.keep)
        if len(kept) > 1:
            self._units_row(kept[0], kept[1:])
        kept = np.flatnonzero(self.keep)
        for r in kept[::-1][:3]:
            text = [st[c] for c, k in zip(codes[r], kind[r]) if k == TEXT]
            if len(text) != 1 or not TOTAL.fullmatch(text[0]):
                break
            self.keep[r] = False
            self.notes.append(f"line {self.lines[r]} is a total row ('{show(text[0])}'): dropped")

    def _units_row(self, r: int, rest: np.ndarray) -> None:
        kind = self.kind[r]
        text = kind == TEXT
        if not text.any() or (kind == NUMBER).any() or (kind == ERROR).any():
            return
        below = self.kind[rest]
        if not ((below == NUMBER).any(axis=0)[text]).all() or (below[:, text] == TEXT).all(axis=0).any():
            return  # the columns below are not numbers: not a units row
        cells = [self.cells.stripped[c] for c in self.codes[r][text]]
        if any(len(c) > 24 for c in cells):
            shown = ", ".join(f"'{show(c)}'" for c in cells[:3])
            raise DataError(
                f"line {self.lines[r]} holds text under the header ({shown}), not numbers or units;"
                " delete that row"
            )
        self.units = {self.names[j]: c for j, c in zip(np.flatnonzero(text), cells)}
        for j in np.flatnonzero(kind == MISSING):  # '-' in a units row: dimensionless
            if self.cells.stripped[self.codes[r][j]] in ("-", "–", "—"):
                self.units[self.names[j]] = "-"
        self.keep[r] = False
        self.notes.append(
            f"line {self.lines[r]} holds text ({', '.join(show(c, 12) for c in cells[:8])}): read as units"
        )

    def _parse(self, codes: np.ndarray, numeric: np.ndarray, fmt: NumberFormat) -> dict[int, np.ndarray]:
        """pandas parses the numeric columns (`codes` holds their cells) with the chosen options;
        a column of percentages is read in % (its unit)."""
        out: dict[int, np.ndarray] = {}
        if not len(numeric):
            return out
        pct = self.cells.percent[codes] & (self.cells.kind[codes] == NUMBER)
        for i, j in enumerate(numeric):
            if pct[:, i].any():
                plain = (self.cells.kind[codes[:, i]] == NUMBER) & ~pct[:, i]
                if plain.any():
                    a, b = np.flatnonzero(pct[:, i])[0], np.flatnonzero(plain)[0]
                    kept, st = self.lines[self.keep], self.cells.stripped
                    raise DataError(
                        f"column '{show(self.names[j])}' mixes percentages ('{st[codes[a, i]]}',"
                        f" line {kept[a]}) and plain numbers ('{st[codes[b, i]]}', line {kept[b]});"
                        " write them one way"
                    )
                self.units[self.names[j]] = "%"
                self.notes.append(f"column '{show(self.names[j])}' holds percentages: read in % (12% → 12)")
        value = np.full(len(self.cells.kind), np.nan)
        ids = np.zeros(len(value), bool)
        ids[codes.ravel()] = True
        ids = np.flatnonzero(ids & (self.cells.kind == NUMBER))
        if len(ids):  # pandas parses each distinct text once; cells take their text's value
            value[ids] = self._numbers(self.cells.clean[ids], fmt)
        plain = (self.cells.kind == NUMBER) & (self.cells.decimal == "") & self.cells.finite_int
        for i, j in enumerate(numeric):
            col = value[codes[:, i]]
            whole = (
                plain[codes[:, i]].all() and len(col) and np.abs(col).max() < 2**53 and (col % 1 == 0).all()
            )
            out[j] = col.astype(np.int64) if whole else col
        return out

    def _numbers(self, texts: np.ndarray, fmt: NumberFormat) -> np.ndarray:
        options: dict[str, Any] = dict(header=None, sep="\t", thousands=fmt.thousands, decimal=fmt.decimal)
        options.update(quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=[""], skip_blank_lines=False)
        text = "\n".join(texts)
        try:
            return pd.read_csv(io.StringIO(text), dtype=float, **options)[0].to_numpy()
        except ValueError:  # pandas disagrees with the classifier on some text: name it
            values = pd.read_csv(io.StringIO(text), dtype=str, **options)[0]
            bad = texts[pd.to_numeric(values, errors="coerce").isna().to_numpy()][0]
            raise DataError(f"cannot read '{show(bad)}' as a number; check that cell") from None

    def _missing(self, codes: np.ndarray, kind: np.ndarray, rows: np.ndarray) -> list:
        """[(word, count, first lines)] for cells read as missing in one numeric column."""
        gaps = np.flatnonzero(kind != NUMBER)
        if not len(gaps):
            return []
        ids, first, counts = np.unique(codes[gaps], return_index=True, return_counts=True)
        order = np.argsort(first)
        lines = self.lines[rows]
        return [
            (
                self.cells.stripped[ids[k]] or "empty",
                int(counts[k]),
                [int(x) for x in lines[gaps[codes[gaps] == ids[k]][:3]]],
            )
            for k in order
        ]

    def _row_numbers(self, df: pd.DataFrame) -> pd.DataFrame:
        """R's write.csv and pandas' to_csv write the row numbers as a first, unnamed column."""
        if not len(df.columns) or not str(df.columns[0]).startswith("Unnamed: 0") or len(df) < 2:
            return df
        first = df.iloc[:, 0]
        if not pd.api.types.is_numeric_dtype(first) or first.isna().any():
            return df
        v = first.to_numpy(float)
        if v[0] in (0, 1) and (np.diff(v) == 1).all():
            self.notes.append(
                f"the first column has no name and holds row numbers {v[0]:g}…{v[-1]:g}: not used"
            )
            return df.iloc[:, 1:]
        return df
