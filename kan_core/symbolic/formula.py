"""From a snapped KAN to a formula: safe symbols, composition, evaluation, canonical and tidy forms."""

from __future__ import annotations

import functools
import keyword
import math
import re
import time
import unicodedata
from functools import lru_cache

import numpy as np
import sympy as sp

from kan_core import library
from kan_core._runtime import Overtime, time_limited
from kan_core.engine.model import KAN
from kan_core.errors import ModelError

SYMPY_SECONDS = 2.0  # per expand/simplify: SymPy can take minutes on a formula that looks small
MAX_COMPLEXITY = 300  # beyond this many SymPy nodes a formula explains nothing; refitting it is slow


def _ascii_word(ch: str) -> str:
    """A Greek or accented Latin letter as ASCII ('μ' -> 'mu', 'Ω' -> 'Omega', 'ñ' -> 'n'); '_' else."""
    m = re.match(r"(?:GREEK|LATIN) (SMALL|CAPITAL) LETTER (\w+)", unicodedata.name(ch, ""))
    if not m:
        return "_"
    word = m.group(2).lower()
    return word if m.group(1) == "SMALL" else word.capitalize()


@lru_cache(maxsize=1)
def _reserved() -> frozenset[str]:
    """Names generated code must never shadow: Python's, NumPy's, math's and SymPy's."""
    import builtins
    import math

    extra = {
        "numpy",
        "math",
        "sympy",
        "scipy",
        "mpmath",
        "e",
        "pi",
        "E",
        "I",
        "N",
        "O",
        "S",
        "Q",
        "nan",
        "inf",
    }
    return frozenset(
        set(keyword.kwlist) | set(dir(builtins)) | set(dir(np)) | set(dir(math)) | set(sp.__dict__) | extra
    )


def safe_symbols(names: list[str]) -> list[sp.Symbol]:
    """SymPy symbols for column names: ASCII identifiers, unique after Python's NFKC folding,
    never a name of Python, NumPy, math or SymPy (so generated code cannot shadow a function or
    a constant such as e).

    `v [m/s²]` -> v_m_s2, `x₁` -> x1, `μ` -> mu, `2theta` -> x_2theta, `e` -> e_; the display keeps
    the names.
    """
    taken: set[str] = set()
    out = []
    for name in names:
        text = unicodedata.normalize("NFKC", str(name))
        word = "".join(ch if ch.isascii() else f"_{_ascii_word(ch)}_" for ch in text)
        s = re.sub(r"[^A-Za-z0-9]+", "_", word).strip("_") or "x"
        if s[0].isdigit():
            s = "x_" + s
        if s in _reserved():
            s += "_"
        base, n = s, 1
        while s in taken:
            n += 1
            s = f"{base}_{n}"
        taken.add(s)
        out.append(sp.Symbol(s, real=True))
    return out


def complexity(expr: sp.Expr) -> int:
    """Node count of the expression tree; a constant (6.28, 2·π, √2) counts as one node.

    The numeric factors of a product (or terms of a sum) are one coefficient, so h·ω/(2π) is no
    more complex than 0.159·h·ω.
    """
    if not expr.free_symbols:
        return 1
    if expr.is_Mul or expr.is_Add:
        numeric = any(not a.free_symbols for a in expr.args)
        return 1 + numeric + sum(complexity(a) for a in expr.args if a.free_symbols)
    return 1 + sum(complexity(a) for a in expr.args)


def network_expr(model: KAN, symbols: list[sp.Symbol]) -> sp.Expr:
    """The snapped network as one SymPy expression in the data's variables and units.

    Every active edge must be symbolic; masked edges are left out. The input and output
    standardisation inside the model are undone inside the expression.
    """
    if len(symbols) != model.widths[0] or model.widths[-1] != 1:
        raise ModelError(f"need {model.widths[0]} variable names and a single-output model")
    numeric = [
        f"{li}:{i}->{j}"
        for li, layer in enumerate(model.layers)
        for i, j in ((layer.mask > 0) & (layer.sym < 0)).nonzero().tolist()
    ]
    if numeric:
        raise ModelError(
            f"{len(numeric)} edge(s) are still splines ({', '.join(numeric[:5])}); snap or prune them first"
        )
    shift, scale = model.in_shift.tolist(), model.in_scale.tolist()
    nodes = [(s - sp.Float(m)) / sp.Float(sd) for s, m, sd in zip(symbols, shift, scale)]
    for li, layer in enumerate(model.layers):
        outs = [sp.Integer(0)] * layer.out_dim
        params = layer.sym_params.detach().double().cpu().numpy()
        active = (layer.mask > 0) & (layer.sym >= 0)
        for i, j in active.nonzero().tolist():
            fn = library.get(library.NAMES[int(layer.sym[i, j])])
            a, b, c, d = (sp.Float(float(v)) for v in params[i, j])
            outs[j] = outs[j] + (d if fn.name == "0" else c * fn.sympy(a * nodes[i] + b) + d)
        m = model.mult[li + 1]
        s = len(outs) - 2 * m
        nodes = outs[:s] + [outs[s + 2 * q] * outs[s + 2 * q + 1] for q in range(m)]
    return nodes[0] * sp.Float(float(model.out_scale[0])) + sp.Float(float(model.out_shift[0]))


def lambdify(args: list[sp.Symbol], expr: sp.Expr):
    """A NumPy function of `args` (positional): the arguments are renamed `_a0, _a1, …` first, so
    no column name, however chosen, can shadow what the generated code calls (e, abs, arcsin)."""
    plain = [sp.Symbol(f"_a{i}") for i in range(len(args))]
    return sp.lambdify(plain, expr.xreplace(dict(zip(args, plain))), "numpy")


def evaluate(expr: sp.Expr, symbols: list[sp.Symbol], X: np.ndarray) -> np.ndarray:
    """The expression on rows of X (n, len(symbols)), as float64 (NaN where undefined)."""
    if expr.has(sp.zoo, sp.nan):  # e.g. a constant snapped to 0 in a denominator; lambdify fails on it
        return np.full(len(X), np.nan)
    f = lambdify(symbols, expr)
    with np.errstate(all="ignore"):
        out = np.asarray(f(*np.asarray(X, float).T))
    if np.iscomplexobj(out):  # √ of a negative constant folds to I: no real value there
        out = np.where(out.imag == 0, out.real, np.nan)
    return np.broadcast_to(out.astype(float), (len(X),)).copy()


def canonical(expr: sp.Expr) -> sp.Expr:
    """Expand products and sums (not exp/log of sums), so coefficients become the constants."""
    return sp.expand(expr, power_exp=False, power_base=False, log=False)


def sympy_seconds(deadline: float = math.inf) -> float:
    """The time one SymPy rewrite may take: SYMPY_SECONDS, less when the deadline is nearer
    (at least 0.05 s, so a late formula still gets its quick canonical form)."""
    return max(0.05, min(SYMPY_SECONDS, deadline - time.perf_counter()))


def _phase(arg: sp.Expr) -> tuple[sp.Expr, float] | None:
    """(u, b) for an argument u + b with a float b, else None."""
    if not isinstance(arg, sp.Add):
        return None
    floats = [t for t in arg.args if isinstance(t, sp.Float)]
    return (arg - floats[0], float(floats[0])) if len(floats) == 1 else None


def fold_phases(expr: sp.Expr) -> sp.Expr:
    """sin/cos phases reduced to (−π, π], and a negative amplitude folded into the phase:
    −0.12·sin(3.1·t − 15.31) reads 0.12·sin(3.1·t + 0.40) (the same function)."""

    def reduce(f: sp.Expr) -> sp.Expr:
        found = _phase(f.args[0])
        if found is None:
            return f
        u, b = found
        return f.func(u + sp.Float(math.remainder(b, 2 * math.pi)))

    def flip(m: sp.Expr) -> sp.Expr:
        coeff, rest = m.as_coeff_Mul()
        if not (coeff.is_Number and coeff < 0 and isinstance(rest, (sp.sin, sp.cos))):
            return m
        found = _phase(rest.args[0])
        if found is None:
            return m
        u, b = found
        return -coeff * rest.func(u + sp.Float(math.remainder(b + math.pi, 2 * math.pi)))

    out = expr.replace(lambda e: isinstance(e, (sp.sin, sp.cos)), reduce)
    return out.replace(lambda e: isinstance(e, sp.Mul), flip)


def tidy(expr: sp.Expr, symbols: list[sp.Symbol], X: np.ndarray, deadline: float = math.inf) -> sp.Expr:
    """The simplest equivalent form among canonical and (for small formulas, before the deadline)
    simplify(), with sine and cosine phases folded (`fold_phases`)."""
    try:
        expr = fold_phases(expr)
    except (TypeError, ValueError, RecursionError):
        pass
    options = [expr]
    late = time.perf_counter() + 0.5 > deadline
    for rewrite in (canonical, sp.simplify) if complexity(expr) <= 60 and not late else (canonical,):
        try:
            options.append(time_limited(functools.partial(rewrite, expr), sympy_seconds(deadline)))
        except (Overtime, TypeError, ValueError, RecursionError):
            pass
    ref = evaluate(expr, symbols, X[:200])
    same = [
        e
        for e in options
        if np.allclose(evaluate(e, symbols, X[:200]), ref, rtol=1e-9, atol=1e-12, equal_nan=True)
    ]
    return min(same or [expr], key=complexity)
