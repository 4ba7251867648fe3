"""Column units, read by pint: from headers (`v [m/s]`, `P (kPa)`), a units row, or a mapping.

A column without a unit is *unknown* (not dimensionless). Units are used for their dimensions
(Buckingham π groups, `kan_core.discovery.dimensional`) and to give a formula's constants their
units (`kan_core.discovery.dimensional.constant_units`). pint parses every unit; nothing here
evaluates text, and the text is checked first so that no unit can ask for a huge power.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pint

from kan_core.errors import ConfigError, DataError

# pint's base dimensions, in the order of a dimension vector.
BASE = ("[length]", "[mass]", "[time]", "[temperature]", "[substance]", "[current]", "[luminosity]")
DIMENSIONLESS = frozenset({"-", "1", "–", "—", "dimensionless", "unitless", "none"})
Unit = Any  # a pint unit (pint's classes are generic over their registry; mypy cannot follow them)
MAX_TEXT = 40
MAX_EXPONENT = 12
# `m3`, `cm2`, `s-1`: a unit name followed directly by a power, as headers often write it.
# Not after a digit or a point, so 1e-3 stays a number.
_TRAILING_POWER = re.compile(r"(?<![\w.])([A-Za-zµμΩÅ]+)(-?\d{1,2})(?![\d.])")
# What may follow `**`: a small signed number or fraction, bare or in parentheses.
_EXPONENT = re.compile(r"\s*(\(\s*[-+]?\d{1,2}(?:\.\d+)?(?:\s*/\s*\d{1,2})?\s*\)|[-+]?\d{1,2}(?:\.\d+)?)")
# `name [unit]`, or `name (unit)` with a space before the parenthesis (`f(t)` is a name).
_HEADER = re.compile(r"^(?P<name>.*?\S)(?:\s*\[(?P<bracket>[^\[\]]*)\]|\s+\((?P<paren>[^()]*)\))\s*$")


def _powers_are_safe(text: str) -> bool:
    """Every power in pint's reading of `text` raises a unit (a letter, or a parenthesised group
    holding one) to a small number, never a power of a power: no 9**9**9 can reach pint."""
    t = _TRAILING_POWER.sub(r"\1**\2", pint.util.string_preprocessor(text))
    for m in re.finditer(r"\*\*", t):
        exp = _EXPONENT.match(t, m.end())
        if exp is None or t[exp.end() :].lstrip().startswith("**"):
            return False
        base = t[: m.start()].rstrip()
        if base.endswith(")"):
            depth, i = 0, len(base) - 1
            while i >= 0:
                depth += {")": 1, "(": -1}.get(base[i], 0)
                if depth == 0:
                    break
                i -= 1
            if i < 0 or not re.search(r"[^\W\d_]", base[i:]):
                return False
        elif not base or not re.match(r"[^\W\d_]", base[-1]):
            return False
    return True


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """The one pint registry (loading it takes about 1 s), with `m3` read as m**3."""
    return pint.UnitRegistry(preprocessors=[lambda s: _TRAILING_POWER.sub(r"\1**\2", s)])


def parse(text: str, column: str) -> Unit:
    """The pint unit written as `text` for `column`.

    Parameters
    ----------
    text : str
        pint syntax ("m/s", "kg/m**3", "kPa", "m3", "°C"); "-" or "1" is dimensionless.
    column : str
        Named in the error.

    Returns
    -------
    Unit

    Raises
    ------
    DataError
        One line naming the column and the text pint cannot read (or a power over 12).
    """
    text = str(text).strip()
    ureg = registry()
    if text.lower() in DIMENSIONLESS:
        return ureg.dimensionless
    shown = text[:MAX_TEXT] + ("…" if len(text) > MAX_TEXT else "")
    fix = "write it as pint does, e.g. m/s, kg/m**3, kPa, J/(mol*K)"
    if len(text) > MAX_TEXT or not _powers_are_safe(text):
        raise DataError(f"column {column!r}: cannot read the unit {shown!r}; {fix}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ureg.parse_expression(text)
    except Exception as err:  # pint raises many types (UndefinedUnitError, TokenError, …)
        why = str(err).split("\n")[0][:80]
        raise DataError(f"column {column!r}: cannot read the unit {shown!r} ({why}); {fix}") from None
    if not isinstance(value, pint.Quantity):
        return ureg.dimensionless  # a bare number such as "100"
    if not all(abs(e) <= MAX_EXPONENT for e in value.dimensionality.values()):  # type: ignore[operator]
        raise DataError(f"column {column!r}: the unit {shown!r} has a power over {MAX_EXPONENT}; {fix}")
    return value.units


def vector(unit: Unit) -> np.ndarray:
    """The unit's dimension: exponents of pint's base dimensions `BASE`, shape (7,)."""
    dim: Any = registry().get_dimensionality(unit)
    return np.array([float(dim.get(b, 0)) for b in BASE])


def is_offset(unit: Unit) -> bool:
    """°C and °F: zero is not "none", so laws in absolute temperature read wrong in them."""
    return not registry().Quantity(1, unit)._is_multiplicative


def split_header(header: str) -> tuple[str, str] | None:
    """(name, unit text) when a header ends in `[unit]` or in `(unit)` that pint reads, else None.

    Brackets always mean a unit (an unreadable one is an error later); parentheses only when pint
    reads them, so `f(x)` or `count (approx)` stay names.
    """
    m = _HEADER.match(header)
    if not m or m.group("name").strip() in ("", "[", "("):
        return None
    if m.group("bracket") is not None:
        return m.group("name").strip(), m.group("bracket").strip()
    text = m.group("paren").strip()
    try:
        parse(text, header)
    except DataError:
        return None
    return m.group("name").strip(), text


def check_mapping(units: Mapping[str, str] | None, columns: list[str]) -> dict[str, str]:
    """A user's {column: unit} mapping, every column known and every unit readable.

    Raises
    ------
    ConfigError
        A column that is not in the table.
    DataError
        A unit pint cannot read.
    """
    out: dict[str, str] = {}
    for name, text in (units or {}).items():
        if name not in columns:
            raise ConfigError(
                f"units given for {name!r}, which is not a column; columns are: {', '.join(columns)}"
            )
        parse(text, name)
        out[str(name)] = str(text).strip()
    return out


def parse_option(text: str) -> dict[str, str]:
    """The CLI's `--units "v=m/s,P=kPa"` as a mapping (',' or ';' between entries).

    Raises
    ------
    ConfigError
        An entry without '=' or with an empty name.
    """
    out = {}
    for part in re.split(r"[;,]\s*(?=[^=;,]+=)", text.strip()):
        name, sep, unit = part.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f'--units entry {part!r} is not NAME=UNIT (e.g. --units "v=m/s,P=kPa")')
        out[name.strip()] = unit.strip()
    return out


def pretty(unit: Unit) -> str:
    """Short text of a unit: 'J/(mol·K)', 'm/s', '1' for dimensionless."""
    if unit == registry().dimensionless:
        return "1"
    text = f"{unit:~P}"  # pint's pretty form: m³·Pa/K/mol
    parts = text.split("/")
    if len(parts) > 2:
        text = f"{parts[0]}/({'·'.join(parts[1:])})"
    return text


def simplest(unit: Unit) -> tuple[float, Unit]:
    """(factor, unit): `unit` as 1 `unit` = factor · (a shorter unit), for constants' display
    (Pa·m³/(mol·K) → 1 J/(mol·K)). Tries the SI named units with pint's `to_preferred`."""
    ureg = registry()
    q: Any = ureg.Quantity(1.0, unit)
    if unit == ureg.dimensionless or not q._is_multiplicative:
        return 1.0, unit
    if q.dimensionless:  # J·s²/(kg·m²) is 1, km/m is 1000
        return float(q.to(ureg.dimensionless).magnitude), ureg.dimensionless
    named = [
        ureg.J,
        ureg.N,
        ureg.W,
        ureg.Pa,
        ureg.C,
        ureg.V,
        ureg.ohm,
        ureg.T,
        ureg.Hz,
        ureg.kg,
        ureg.m,
        ureg.s,
    ]
    try:
        better = q.to_preferred(named)
    except Exception:  # pint cannot always express a unit in the preferred ones
        return 1.0, unit
    if len(pretty(better.units)) < len(pretty(unit)):
        return float(better.magnitude), better.units
    return 1.0, unit


def unit_note(name: str, text: str) -> str:
    """'T in C (coulomb)': the unit as written and as pint read it, so a misreading shows."""
    try:
        unit = parse(text, name)
    except DataError:
        return f"{name} in {text} (not a unit pint knows)"
    long = "dimensionless" if unit == registry().dimensionless else f"{unit}"
    return f"{name} in {text}" + (f" ({long})" if long != text else "")


def header_units(names: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """({header: name}, {name: unit text}) for the headers that carry a unit (`split_header`).

    A header keeps its full text when its bare name would clash with another column's.
    """
    split = {h: s for h in names if (s := split_header(h)) is not None}
    taken = [split[h][0] if h in split else h for h in names]
    renames, units = {}, {}
    for h, (name, text) in split.items():
        if taken.count(name) == 1:
            renames[h] = name
            units[name] = text
        else:
            units[h] = text
    return renames, units


# The Feynman database's units table writes exponents of m, s, kg, T (kelvin) and V (volt).
FEYNMAN_BASE = {"m": "m", "s": "s", "kg": "kg", "T": "K", "V": "V"}


def read_dimension_table(path: str) -> dict[str, str]:
    """{variable: unit text} from a table of base-unit exponents (the AI Feynman database's units
    file: columns Variable, m, s, kg, T, V, where T is kelvin and V volt; Udrescu & Tegmark 2020).

    Raises
    ------
    DataError
        A missing column or an exponent that is not a number, naming the line.
    """
    import csv
    from pathlib import Path

    try:
        rows = list(csv.DictReader(Path(path).read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise DataError(
            f"cannot read the units file {path}: {getattr(err, 'strerror', None) or err}"
        ) from None
    need = ["Variable", *FEYNMAN_BASE]
    if not rows or any(c not in rows[0] for c in need):
        raise DataError(f"the units file {path} needs the columns {', '.join(need)}")
    out: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        try:
            values = [float(row[c]) for c in FEYNMAN_BASE]
        except (TypeError, ValueError):
            values = [math.nan]
        if not all(math.isfinite(v) and v == int(v) and abs(v) <= MAX_EXPONENT for v in values):
            raise DataError(f"the units file {path}, line {line}: exponents must be whole numbers up to 12")
        if row["Variable"].strip() in out:
            raise DataError(
                f"the units file {path}, line {line}: {row['Variable'].strip()!r} is listed twice"
            )
        exps = {u: int(v) for u, v in zip(FEYNMAN_BASE.values(), values)}
        text = "*".join(f"{u}**{e}" if e != 1 else u for u, e in exps.items() if e)
        out[row["Variable"].strip()] = text or "1"
    return out
