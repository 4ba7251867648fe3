"""Exports of a formula, all generated from its SymPy expression: LaTeX, SymPy, Python, JSON."""

from __future__ import annotations

import hashlib
import keyword
import platform
import re
import unicodedata

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

FORMAT = "kan-studio/formula"
FORMAT_VERSION = 1


_LATEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"} | {
    "\\": r"\textbackslash{}",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


def latex_text(text: str) -> str:
    """`text` as literal upright LaTeX (\\text{…}, KaTeX and amsmath): every special character
    escaped, so a column name such as `50% & \\input{x}` prints as itself and runs no macro."""
    clean = unicodedata.normalize("NFC", str(text))
    shown = (c for c in clean if c.isprintable() and not unicodedata.combining(c))
    body = "".join(_LATEX_SPECIAL.get(c, c) for c in shown)
    return r"\text{" + body + "}"


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?")
_WITH_UNIT = re.compile(r"\s*(?P<base>[^\[\](){}]+?)\s*[\[(]\s*(?P<unit>[^\[\]()]+?)\s*[\])]\s*")
_UNIT = re.compile(r"[A-Za-z0-9/^.*·\-]+")


def name_latex(name: str) -> str:
    """A column name as LaTeX: `n_mol` is n with subscript "mol" (the whole word; SymPy's form), `T [K]` is
    T\\,[\\mathrm{K}] (units in brackets or parentheses), anything else literal text (escaped)."""
    m = _WITH_UNIT.fullmatch(name)
    if m and _UNIT.fullmatch(m["unit"]):
        return f"{name_latex(m['base'])}\\,[\\mathrm{{{m['unit'].replace('·', ' ')}}}]"
    if _PLAIN.fullmatch(name):
        return sp.latex(sp.Symbol(name))  # SymPy's own: n_mol is n_{mol}, the whole word below
    return latex_text(name)


def to_latex(expr: sp.Expr, symbols: list[sp.Symbol], names: list[str]) -> str:
    """LaTeX with each variable shown under its column name (`name_latex`: escaped; never a macro
    of the name's)."""
    shown = {s: name_latex(n) for s, n in zip(symbols, names) if latex_text(n) != r"\text{}"}
    return sp.latex(expr, symbol_names=shown)


def short_text(expr: sp.Expr, digits: int = 4) -> str:
    """The formula as text with every float shown to `digits` significant digits, for tables
    (display only: `to_sympy`, the JSON and the Python export keep full precision).

    >>> short_text(sp.Float(8.31128450626) * sp.Symbol("T"))
    '8.311*T'
    >>> short_text(sp.Symbol("V") ** sp.Float(1.00027))
    'V**1.0003'
    """

    def shown(f: sp.Float) -> sp.Float:
        # A fitted 1.00027 must not read as a snapped 1.000: more digits until it differs.
        for n in range(digits, 9):
            short = sp.Float(f, n)
            if float(str(short)) != round(float(str(short))) or float(f) == round(float(f)):
                return short
        return sp.Float(f, 9)

    return str(expr.xreplace({f: shown(f) for f in expr.atoms(sp.Float)}))


def to_sympy(expr: sp.Expr) -> str:
    """A string `sympy.sympify` reads back (variables as their safe symbol names)."""
    return sp.sstr(expr, full_prec=True)


def to_python(
    expr: sp.Expr,
    symbols: list[sp.Symbol],
    name: str = "formula",
    target: str = "y",
    units: list[str | None] | None = None,
    target_unit: str | None = None,
) -> str:
    """Self-contained NumPy source of `def formula(<variables>)` (needs only numpy).

    The arguments are the safe symbol names (`formula.safe_symbols`: ASCII identifiers that shadow
    nothing); the target's own name appears only as an ASCII-escaped Python literal in a comment.

    Raises
    ------
    ValueError
        When `name` or a symbol is not a plain ASCII identifier (generated code would not compile).
    """
    ident = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
    bad = [s.name for s in symbols if not ident.fullmatch(s.name) or keyword.iskeyword(s.name)]
    if not ident.fullmatch(name) or keyword.iskeyword(name) or bad:
        raise ValueError(f"not a safe Python identifier: {bad[0] if bad else name!r}")
    args = ", ".join(s.name for s in symbols)
    body = NumPyPrinter({"fully_qualified_modules": True}).doprint(expr)
    # Units as comments (ASCII-escaped like every user text here): "x in m", "target: 'P' in Pa".
    unit_lines = "".join(f"    # {s.name} in {ascii(u)[1:-1]}\n" for s, u in zip(symbols, units or []) if u)
    returns = f" in {ascii(target_unit)[1:-1]}" if target_unit else ""
    return (
        "import numpy\n\n\n"
        f"def {name}({args}):\n"
        f"    # target: {ascii(str(target))}{returns}\n"
        f"{unit_lines}"
        f"    # {ascii(to_sympy(expr))[1:-1]}\n"
        f"    value = {body}\n"
        f"    return numpy.broadcast_to(value, numpy.broadcast({args}).shape).astype(float)\n"
    )


def candidate_dict(
    cand, symbols: list[sp.Symbol], names: list[str], target: str, units: dict[str, str] | None = None
) -> dict:
    """One formula in the report's stable shape (see README, 'Formula JSON')."""
    units = units or {}
    return {
        "sympy": to_sympy(cand.expr),
        "latex": to_latex(cand.expr, symbols, names),
        "python": to_python(
            cand.expr,
            symbols,
            target=target,
            units=[units.get(n) for n in names],
            target_unit=units.get(target),
        ),
        "dimension": getattr(cand, "dimension", None),
        "complexity": cand.complexity,
        "train_mse": cand.train_mse,
        "val_mse": cand.val_mse,
        "score": cand.score,
        "route": cand.route,
        "constants": [float(c) for c in sorted(cand.expr.atoms(sp.Float), key=float)],
        "formula_vs_network": cand.net_error,
    }


def _variable(symbol: sp.Symbol, name: str, headers: dict[str, str]) -> dict:
    """{name, symbol} and, for a column renamed from a header with a unit, that `column` header."""
    return {"name": name, "symbol": symbol.name} | ({"column": headers[name]} if name in headers else {})


def _constant_units(result) -> list[tuple[float, str]]:
    return result.constant_units() if hasattr(result, "constant_units") else []


def fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the numeric data the formulas were fitted on."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


def to_json(result, data_fingerprint: str | None = None) -> dict:
    """The JSON report: variables, target, best, pareto, metrics, routes, data, versions."""
    import torch

    from kan_core import __version__

    syms, names, target = result.symbols, result.variables, result.target
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "target": target,
        "variables": [_variable(s, n, getattr(result, "headers", {})) for s, n in zip(syms, names)],
        "verdict": getattr(result, "verdict", "law"),
        "verdict_reason": getattr(result, "verdict_reason", ""),
        "units": dict(getattr(result, "units", {})),
        "groups": list(getattr(result, "groups", [])),
        "best": {
            **candidate_dict(result.best, syms, names, target, getattr(result, "units", {})),
            "metrics": result.metrics,
            "constant_units": [{"value": v, "unit": u} for v, u in _constant_units(result)],
        },
        "pareto": [
            candidate_dict(c, syms, names, target, getattr(result, "units", {})) for c in result.pareto
        ],
        "routes": result.routes,
        "seconds": result.seconds,
        "work_seconds": getattr(result, "work_seconds", 0.0),
        "seed": result.seed,
        "data": {"fingerprint": data_fingerprint, "notes": list(result.warnings)},
        "versions": {
            "kan_core": __version__,
            "torch": torch.__version__,
            "sympy": sp.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
    }
