"""Built-in examples (`kan_core/datasets/`, package data): formulas sampled with a seed, real files."""

from __future__ import annotations

import ast
import json
import keyword
import math
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.errors import ConfigError, DataError
from kan_core.symbolic.formula import evaluate

CATALOG = Path(__file__).resolve().parents[1] / "datasets" / "catalog.json"
ALLOWED_FUNCTIONS = (
    "sin",
    "cos",
    "tan",
    "exp",
    "log",
    "sqrt",
    "asin",
    "acos",
    "atan",
    "tanh",
    "sinh",
    "cosh",
)
# Also produced by discovery (`kan_core.library`: abs, sign, the real cube root, arctanh): what
# `parse_formula(..., functions=READBACK_FUNCTIONS)` takes when reading back formulas we wrote.
READBACK_FUNCTIONS = ALLOWED_FUNCTIONS + ("Abs", "sign", "asinh", "acosh", "atanh")


MAX_FORMULA_CHARS = 2000
MAX_EXPONENT = 64  # |n| in a numeric power a**n: 9**9**9 would otherwise be computed while parsing
MAX_LITERAL_DIGITS = 40
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def parse_formula(
    text: str,
    names: list[str],
    *,
    functions: tuple[str, ...] = ALLOWED_FUNCTIONS,
    max_chars: int = MAX_FORMULA_CHARS,
) -> sp.Expr:
    """A formula in Python/SymPy syntax over `names`: numbers, pi, + - * / ** ( ) and the functions
    in `functions` (ALLOWED_FUNCTIONS; at most READBACK_FUNCTIONS, SymPy's names) — built node by
    node from Python's `ast`, never evaluated as code.

    The text is NFKC-normalised first (as Python itself does with identifiers) and variable names
    must be plain ASCII identifiers as given, so no look-alike can reach a Python name.

    Raises
    ------
    DataError
        On anything else (attribute access, other calls, strings, a numeric power with an exponent
        over MAX_EXPONENT, literals over MAX_LITERAL_DIGITS digits, text over `max_chars`).
    ConfigError
        When `functions` names one outside READBACK_FUNCTIONS.
    """
    if unknown := [f for f in functions if f not in READBACK_FUNCTIONS]:
        raise ConfigError(
            f"parse_formula cannot read function {unknown[0]!r}; use {', '.join(READBACK_FUNCTIONS)}"
        )
    text = unicodedata.normalize("NFKC", str(text))
    names = [str(n) for n in names]
    shown = ascii(text[:60])
    bad_names = [n for n in names if not (n.isascii() and n.isidentifier()) or keyword.iskeyword(n)]
    if bad_names:
        raise DataError(f"variable name {ascii(bad_names[0])} is not a plain ASCII identifier; rename it")
    clash = sorted(set(names) & (set(functions) | {"pi"}))
    if clash:
        raise DataError(f"variable name {clash[0]!r} is also a function or constant; rename it")
    if len(text) > max_chars:
        raise DataError(f"formula {shown}… is over {max_chars} characters; shorten it")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise DataError(f"cannot read formula {shown}; check its brackets and operators") from None
    local = {n: sp.Symbol(n) for n in names} | {"pi": sp.pi}
    try:
        expr = _build(tree.body, local, functions)
    except RecursionError:
        raise DataError(f"formula {shown} is nested too deeply") from None
    except _Refused as why:
        raise DataError(
            f"formula {shown}: {why}; use the variables, numbers, + - * / ** and " + ", ".join(functions)
        ) from None
    if not isinstance(expr, sp.Expr) or expr.has(sp.zoo, sp.nan):
        raise DataError(f"formula {shown} is not a finite expression")
    return expr


def _digits(base: sp.Expr, exponent: sp.Expr) -> float:
    """Decimal orders of magnitude of base**exponent, estimated in floats (inf when unknowable)."""
    size = abs(_as_float(base))
    if size == 0 or not np.isfinite(size):
        return 0.0 if size == 0 else math.inf
    return abs(_as_float(exponent)) * abs(math.log10(size))


def _as_float(value: sp.Expr) -> float:
    """A numeric SymPy value as a float; inf when it overflows, NaN when it is not real."""
    try:
        with np.errstate(all="ignore"):
            return float(value)
    except OverflowError:
        return math.inf
    except (TypeError, ValueError):  # complex or symbolic
        return math.nan


class _Refused(Exception):
    """A node parse_formula does not accept (the message names it)."""


def _build(node: ast.AST, local: dict, functions: tuple[str, ...]) -> sp.Expr:
    """One `ast` node as SymPy, recursively; only arithmetic, numbers, names and allowed calls."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if len(str(node.value)) > MAX_LITERAL_DIGITS:
            raise _Refused(f"the number {str(node.value)[:12]}… is too long")
        return sp.Integer(node.value) if isinstance(node.value, int) else sp.Float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in local:
            raise _Refused(f"{ascii(node.id)} is not allowed (not a declared variable)")
        return local[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        arg = _build(node.operand, local, functions)
        return -arg if isinstance(node.op, ast.USub) else arg
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
        a, b = _build(node.left, local, functions), _build(node.right, local, functions)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        if isinstance(node.op, ast.Div):
            return a / b
        if b.is_number and (not b.is_finite or not abs(_as_float(b)) <= MAX_EXPONENT):
            raise _Refused(f"the exponent {str(b)[:12]} is over {MAX_EXPONENT}")
        if a.is_number and b.is_number and not _digits(a, b) <= 300:
            raise _Refused("a numeric power beyond 1e±300")
        return a**b
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
        if len(node.args) != 1 or node.keywords:
            raise _Refused(f"{node.func.id}() takes exactly one argument")
        return getattr(sp, node.func.id)(_build(node.args[0], local, functions))
    what = (
        node.func.id
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        else type(node).__name__
    )
    raise _Refused(f"{ascii(what)} is not allowed")


def sample_formula(
    formula: str, variables: str, n: int = 1000, seed: int = 0, noise: float = 0.0, target: str = "f"
) -> pd.DataFrame:
    """Rows sampled uniformly from `name:low:high;…` ranges, target from the formula (+ noise·RMS)."""
    spec = [v.split(":") for v in variables.split(";")]
    names = [s[0] for s in spec]
    expr = parse_formula(formula, names)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({name: rng.uniform(float(lo), float(hi), n) for name, lo, hi in spec})
    try:
        y = evaluate(expr, [sp.Symbol(v) for v in names], df.to_numpy())
    except (TypeError, ValueError, OverflowError):
        y = np.full(n, np.nan)
    if not np.isfinite(y).all():
        bad = int(np.sum(~np.isfinite(y)))
        raise DataError(
            f"formula {ascii(formula[:60])} is undefined or overflows on {bad} of {n} sampled rows; "
            "check it and the variables' ranges"
        )
    if noise:
        y = y + rng.normal(0.0, noise * np.sqrt(np.mean(y**2)), n)
    df[target] = y
    return df


@lru_cache(maxsize=1)
def catalog() -> list[dict]:
    """The examples: name, kind, target, description, source, license, known formula."""
    return json.loads(CATALOG.read_text())["examples"]


def load_example(name: str, n: int = 1000, seed: int = 0, noise: float = 0.0) -> tuple[pd.DataFrame, dict]:
    """An example's table and its catalog entry; formula examples are sampled with `seed`."""
    entry = next((e for e in catalog() if e["name"] == name), None)
    if entry is None:
        raise ConfigError(f"unknown example {name!r}; `python -m kan_core datasets` lists them")
    if entry["kind"] == "formula":
        return sample_formula(entry["formula"], entry["variables"], n, seed, noise, entry["target"]), entry
    if entry["kind"] == "file":
        return pd.read_csv(CATALOG.parent / entry["file"]), entry
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, entry["loader"])(as_frame=True)
    return bunch.frame, entry
