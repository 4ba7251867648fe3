"""Built-in example datasets from `datasets/catalog.json`: formulas sampled with a seed, real files."""

from __future__ import annotations

import io
import json
import tokenize
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sympy as sp

from .errors import ConfigError, DataError

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


def parse_formula(text: str, names: list[str]) -> sp.Expr:
    """A formula in SymPy syntax, allowing only `names`, pi, numbers, + - * / ** ( ) and a
    whitelist of functions.

    Every token is checked before SymPy sees the text, so no attribute access, call of anything
    else or other Python can get through (SymPy's parser evaluates its translation).
    """
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    allowed = set(names) | set(ALLOWED_FUNCTIONS) | {"pi"}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise DataError(f"cannot read formula {text!r}; check its brackets") from None
    for tok in tokens:
        bad_name = tok.type == tokenize.NAME and tok.string not in allowed
        bad_op = tok.type == tokenize.OP and tok.string not in {"+", "-", "*", "/", "**", "(", ")", ","}
        other = tok.type not in (
            tokenize.NAME,
            tokenize.OP,
            tokenize.NUMBER,
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.ENDMARKER,
        )
        if bad_name or bad_op or other:
            raise DataError(
                f"formula {text!r}: {tok.string!r} is not allowed; use the variables, numbers, "
                "+ - * / ** and " + ", ".join(ALLOWED_FUNCTIONS)
            )
    local = {n: sp.Symbol(n) for n in names}
    local.update({f: getattr(sp, f) for f in ALLOWED_FUNCTIONS}, pi=sp.pi)
    base = {"Integer": sp.Integer, "Float": sp.Float, "Rational": sp.Rational, "Symbol": sp.Symbol}
    try:
        expr = parse_expr(text, local_dict=local, global_dict=base, transformations=standard_transformations)
    except (SyntaxError, TypeError, ValueError) as err:
        raise DataError(f"cannot read formula {text!r} ({err}); check its syntax") from None
    if not isinstance(expr, sp.Expr):
        raise DataError(f"formula {text!r} is not an expression")
    return expr


def sample_formula(
    formula: str, variables: str, n: int = 1000, seed: int = 0, noise: float = 0.0, target: str = "f"
) -> pd.DataFrame:
    """Rows sampled uniformly from `name:low:high;…` ranges, target from the formula (+ noise·RMS)."""
    spec = [v.split(":") for v in variables.split(";")]
    names = [s[0] for s in spec]
    expr = parse_formula(formula, names)
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({name: rng.uniform(float(lo), float(hi), n) for name, lo, hi in spec})
    y = np.broadcast_to(sp.lambdify([sp.Symbol(v) for v in names], expr, "numpy")(*df.to_numpy().T), (n,))
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
