"""A `Result` read back from the formula JSON that `kan_core.symbolic.export.to_json` writes (the
CLI's `--out`, the studio's saved workspace). Parsed with `json` and, formula by formula, with the
safe `parse_formula` (Python's `ast`, node by node, a fixed list of SymPy functions): nothing read
from the file runs as code."""

from __future__ import annotations

import math
from typing import Any

import sympy as sp

from kan_core.discovery.pareto import Candidate
from kan_core.discovery.result import Result
from kan_core.errors import DataError
from kan_core.io.examples import READBACK_FUNCTIONS, parse_formula
from kan_core.symbolic.export import FORMAT, FORMAT_VERSION
from kan_core.symbolic.formula import MAX_COMPLEXITY, safe_symbols

MAX_CHARS = 50 * MAX_COMPLEXITY  # a formula at the complexity cap, 15-digit constants included
_EULER = "E"  # how SymPy prints exp(1); never a safe symbol's name (those avoid SymPy's names)


class _Bad(Exception):
    """A field that is missing or of the wrong kind (the message names it)."""


def _get(obj: object, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _text(obj: object, key: str) -> str:
    value = _get(obj, key)
    if not isinstance(value, str):
        raise _Bad(key)
    return value


def _items(obj: object, key: str) -> list:
    value = _get(obj, key)
    if not isinstance(value, list):
        raise _Bad(key)
    return value


def _mapping(obj: object, key: str) -> dict:
    value = _get(obj, key)
    if not isinstance(value, dict):
        raise _Bad(key)
    return value


def _number(obj: object, key: str, optional: bool = False) -> float | None:
    value = _get(obj, key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Bad(key)
    return float(value)


def _expr(text: str, names: list[str], symbols: list[sp.Symbol]) -> sp.Expr:
    """A formula's `sympy` text in the result's own symbols (real, like `safe_symbols`)."""
    parsed = parse_formula(text, [*names, _EULER], functions=READBACK_FUNCTIONS, max_chars=MAX_CHARS)
    return parsed.xreplace({sp.Symbol(n): s for n, s in zip(names, symbols)} | {sp.Symbol(_EULER): sp.E})


def _exact(expr: sp.Expr, constants: object) -> sp.Expr:
    """`expr` with each constant (printed to 15 digits) replaced by the report's full-precision
    value it rounds (`constants`, exact as JSON floats); constants without a match stay."""
    if not isinstance(constants, list):
        return expr
    exact = [float(c) for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)]
    swap = {}
    for atom in expr.atoms(sp.Float):
        v = float(atom)
        near = [c for c in exact if abs(c - v) <= 1e-13 * abs(c)]
        if near:
            swap[atom] = sp.Float(min(near, key=lambda c: abs(c - v)))
    return expr.xreplace(swap) if swap else expr


def _candidate(obj: object, names: list[str], symbols: list[sp.Symbol]) -> Candidate:
    dimension = _get(obj, "dimension")
    if dimension is not None and not isinstance(dimension, str):
        raise _Bad("dimension")
    complexity = _number(obj, "complexity")
    if complexity is None or not complexity == int(complexity) >= 1:
        raise _Bad("complexity")
    return Candidate(
        expr=_exact(_expr(_text(obj, "sympy"), names, symbols), _get(obj, "constants")),
        route=_text(obj, "route"),
        complexity=int(complexity),
        train_mse=_number(obj, "train_mse") or 0.0,
        val_mse=_number(obj, "val_mse") or 0.0,
        score=_number(obj, "score") or 0.0,
        net_error=_number(obj, "formula_vs_network", optional=True),
        dimension=dimension,
    )


def result_from_json(report: object) -> Result:
    """The `Result` a formula JSON report (`to_json`) describes: variables, target, Pareto front
    (simplest first), best (the same object as its row of the front), metrics, routes, verdict,
    units, π groups and notes. Formulas come back in the same symbols (`safe_symbols` of the
    variables), constants to the 15 digits the report prints.

    Raises
    ------
    DataError
        When the report is not one `to_json` wrote (another format or version, a missing or
        mistyped field, symbols that are not the variables' safe symbols) or a formula in it is
        refused by `parse_formula`; one line naming what is wrong.
    """
    try:
        if not isinstance(report, dict) or report.get("format") != FORMAT:
            raise _Bad("format")
        if report.get("format_version") != FORMAT_VERSION:
            raise _Bad("format_version")
        target = _text(report, "target")
        variables = _items(report, "variables")
        names = [_text(v, "name") for v in variables]
        symbols = safe_symbols(names)
        sym_names = [s.name for s in symbols]
        if [_text(v, "symbol") for v in variables] != sym_names:
            raise _Bad("variables' symbols")
        pareto = [_candidate(c, sym_names, symbols) for c in _items(report, "pareto")]
        raw_best = _mapping(report, "best")
        best = _candidate(raw_best, sym_names, symbols)
        key = (str(best.expr), best.route, best.complexity)
        best = next((c for c in pareto if (str(c.expr), c.route, c.complexity) == key), best)
        metrics = dict(_mapping(raw_best, "metrics"))
        if any(_number(metrics, k, optional=True) is None and v is not None for k, v in metrics.items()):
            raise _Bad("metrics")
        routes = [dict(r) for r in _items(report, "routes") if isinstance(r, dict)]
        data = _get(report, "data") if isinstance(_get(report, "data"), dict) else {}
        verdict = str(report.get("verdict", "law"))
        if verdict not in ("law", "no law"):
            raise _Bad("verdict")
        seconds, work = _number(report, "seconds"), _number(report, "work_seconds", optional=True)
        headers = {n: v["column"] for n, v in zip(names, variables) if isinstance(v.get("column"), str)}
        return Result(
            variables=names,
            target=target,
            symbols=symbols,
            pareto=pareto,
            best=best,
            metrics=metrics,
            routes=routes,
            seconds=seconds if seconds is not None and math.isfinite(seconds) else 0.0,
            seed=int(_number(report, "seed") or 0),
            warnings=[str(n) for n in data.get("notes", []) if isinstance(n, str)],
            verdict=verdict,
            verdict_reason=str(report.get("verdict_reason", "")),
            units={str(k): str(v) for k, v in (report.get("units") or {}).items()},
            groups=[str(g) for g in report.get("groups") or []],
            headers=headers,
            work_seconds=work or 0.0,
        )
    except DataError as err:  # a formula parse_formula refuses
        raise DataError(f"a formula in the report cannot be read back: {err}") from None
    except _Bad as bad:
        raise DataError(f"the formula report has no valid {bad}; it was not written by kan_core") from None
    except (AttributeError, TypeError, ValueError) as err:
        raise DataError(f"the formula report cannot be read ({type(err).__name__}); it is damaged") from None
