"""Dimensional analysis in discovery: Buckingham π groups, and the dimensional check of formulas.

Buckingham's π theorem (E. Buckingham, Phys. Rev. 4, 345, 1914): a law among quantities whose
dimension matrix D (base dimensions × columns) has rank r is a law among the dimensionless products
of its columns, one fewer for each independent dimension. AI Feynman (Udrescu & Tegmark,
arXiv:1905.11481, §2.1) and PhySO (Tenachi et al., arXiv:2303.03192) use the same reduction: the
search runs on fewer, dimensionless inputs, and the answer is mapped back.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from kan_core import units as U

MAX_SUBSETS = 2000  # repeating-variable sets tried when choosing readable groups
MAX_DENOMINATOR = 6  # exponents such as 1/2, 3/2, 1/3 are kept; anything finer is not a π group


class NoGroups(ValueError):
    """The columns' units admit no π reduction (the target's unit cannot be made from the inputs')."""


@dataclass(frozen=True)
class Groups:
    """y = prefactor · g(π₁, …, π_m), each π_j a dimensionless product of input columns.

    prefactor : monomial in the input symbols with the target's dimension; pis : the m groups
    (SymPy products of input symbols); text : one readable line per group ("π₁ = v·t/x"), the
    target's group last ("π_y = P·V/(T·n)").
    """

    prefactor: sp.Expr
    pis: list[sp.Expr]
    text: list[str]


def _rational(a: np.ndarray) -> list[Fraction] | None:
    out = [Fraction(float(v)).limit_denominator(MAX_DENOMINATOR) for v in a]
    return out if np.allclose([float(f) for f in out], a, atol=1e-9) else None


def _integer(fracs: list[Fraction]) -> list[int]:
    """The smallest integer multiple of the exponents (a π group may be raised to any power)."""
    lcm = math.lcm(*(f.denominator for f in fracs)) if fracs else 1
    ints = [int(f * lcm) for f in fracs]
    g = math.gcd(*ints) or 1
    return [i // g for i in ints]


def _monomial(symbols: list[sp.Symbol], exps) -> sp.Expr:
    return sp.Mul(*(s ** sp.Rational(e) for s, e in zip(symbols, exps) if e != 0))


def _show(names: list[str], exps) -> str:
    """v·t/x from names and exponents."""

    def power(n: str, e) -> str:
        e = abs(Fraction(e))
        return n if e == 1 else f"{n}^{e}" if e.denominator == 1 else f"{n}^({e})"

    top = [power(n, e) for n, e in zip(names, exps) if e > 0]
    bottom = [power(n, e) for n, e in zip(names, exps) if e < 0]
    num = "·".join(top) or "1"
    if not bottom:
        return num
    den = bottom[0] if len(bottom) == 1 else f"({'·'.join(bottom)})"
    return f"{num}/{den}"


def pi_groups(D: np.ndarray, symbols: list[sp.Symbol], names: list[str], target: str) -> Groups:
    """The shortest Buckingham π groups (`pi_group_choices`' first)."""
    return pi_group_choices(D, symbols, names, target, 1)[0]


def pi_group_choices(
    D: np.ndarray, symbols: list[sp.Symbol], names: list[str], target: str, count: int = 2
) -> list[Groups]:
    """Buckingham π groups of d inputs and a target, the `count` shortest distinct choices.

    Every set of r = rank(D_inputs) "repeating" inputs with independent dimensions is tried; each
    other input and the target are made dimensionless with powers of the repeating ones, and the
    choices are ranked by their total |exponent| (integer exponents preferred). Choices differ in
    their prefactor (m·c²·g(v/c) or m·v²·h(c/v)): the law may be simple in one and not the other.

    Parameters
    ----------
    D : numpy.ndarray, shape (k, d + 1)
        Dimension vectors (`kan_core.units.vector`) of the d inputs, then of the target.
    symbols, names : list, length d
        The inputs' SymPy symbols and display names.
    target : str
        The target's display name.

    Returns
    -------
    list of Groups
        Shortest first, at most `count`.

    Raises
    ------
    NoGroups
        When the target's dimension is not a product of the inputs' (a dimensional constant such
        as G or R is missing from the table, or the units are wrong).
    """
    d = len(symbols)
    Dx = D[:, :d]
    r = int(np.linalg.matrix_rank(Dx)) if d else 0
    if int(np.linalg.matrix_rank(D)) > r:
        raise NoGroups(
            f"the unit of {target!r} is not a product of powers of the inputs' units; a dimensional "
            "constant may be missing from the table, or a unit is wrong"
        )
    choices: list[tuple] = []
    for R in itertools.islice(itertools.combinations(range(d), r), MAX_SUBSETS):
        B = Dx[:, list(R)]
        if r and np.linalg.matrix_rank(B) < r:
            continue
        rows, cost = [], 0.0
        for j in [*[j for j in range(d) if j not in R], d]:
            a = np.linalg.lstsq(B, -D[:, j], rcond=None)[0] if r else np.zeros(0)
            fr = _rational(a)
            if fr is None:
                break
            exps = [Fraction(0)] * d
            for i, f in zip(R, fr):
                exps[i] = f
            if j < d:
                exps[j] = Fraction(1)
                exps = [Fraction(e) for e in _integer(exps)]
                if exps[j] < 0:
                    exps = [-e for e in exps]
            cost += sum(abs(float(e)) for e in exps) + sum(e.denominator != 1 for e in exps)
            rows.append((j, exps))
        else:
            choices.append((cost, len(choices), rows))
    if not choices:
        raise NoGroups("the units' exponents are not small fractions; no readable π groups")
    out: list[Groups] = []
    for _, _, rows in sorted(choices):
        pis, text = [], []
        for j, exps in rows:
            if j < d:
                pis.append(_monomial(symbols, exps))
                text.append(f"π{_sub(len(pis))} = {_show(names, exps)}")
            else:  # the target's group: y·Π x^a, so y = Π x^(−a) · g(π)
                prefactor = _monomial(symbols, [-e for e in exps])
                text.append(f"π_y = {_show([target, *names], [Fraction(1), *exps])}")
        if all(g.prefactor != prefactor for g in out):
            out.append(Groups(prefactor, pis, text))
        if len(out) == count:
            break
    return out


def _sub(i: int) -> str:
    return str(i).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


class _Mismatch(Exception):
    pass


_FREE = "free"  # a fitted constant that may carry any unit


def _dim(e: sp.Expr, dims: dict, free: bool):
    if e.is_Symbol:
        return dims[e]
    if e.is_Number or isinstance(e, sp.NumberSymbol):
        return _FREE if free and e not in (sp.S.One, sp.S.NegativeOne) else np.zeros(len(U.BASE))
    if isinstance(e, sp.Piecewise):
        return _same([_dim(v, dims, free) for v, _ in e.args])  # the conditions are not checked
    if e.is_Add or isinstance(e, (sp.Min, sp.Max, sp.Mod)):
        # A number standing alone in a sum may carry the sum's unit, ±1 too (x + 1 with x in m).
        parts = [_FREE if free and a.is_Number else _dim(a, dims, free) for a in e.args]
        return _same(parts)
    if isinstance(e, sp.atan2):
        _same([_dim(a, dims, free) for a in e.args])
        return np.zeros(len(U.BASE))
    if isinstance(e, (sp.sign, sp.Heaviside)):  # unitless whatever their argument's unit
        for a in e.args:
            _dim(a, dims, free)
        return np.zeros(len(U.BASE))
    if isinstance(e, sp.log) and free:  # log(x) + c = log(x·e^c): a constant carries x's unit
        _dim(e.args[0], dims, free)
        return np.zeros(len(U.BASE))
    if e.is_Mul:
        parts = [_dim(a, dims, free) for a in e.args]
        return _FREE if any(isinstance(p, str) for p in parts) else sum(parts)
    if e.is_Pow:
        base = _dim(e.base, dims, free)
        if e.exp.is_Number:
            return base if isinstance(base, str) else base * float(e.exp)
        _dimensionless(e.exp, dims, free)
        _dimensionless(e.base, dims, free)
        return np.zeros(len(U.BASE))
    if isinstance(e, sp.Abs):
        return _dim(e.args[0], dims, free)
    if isinstance(e, sp.Function):
        for a in e.args:
            _dimensionless(a, dims, free)
        return np.zeros(len(U.BASE))
    raise _Mismatch


def _same(parts: list):
    """The one unit shared by `parts` (free constants adopt it); a mismatch otherwise."""
    fixed = [p for p in parts if not isinstance(p, str)]
    if not fixed:
        return _FREE
    if any(not np.allclose(p, fixed[0]) for p in fixed):
        raise _Mismatch
    return fixed[0]


def _dimensionless(e: sp.Expr, dims: dict, free: bool) -> None:
    d = _dim(e, dims, free)
    if not isinstance(d, str) and np.any(np.abs(d) > 1e-9):
        raise _Mismatch


CONSISTENT, CONSTANT_UNITS, INCONSISTENT = "consistent", "constant carries units", "inconsistent"


def status(expr: sp.Expr, dims: dict[sp.Symbol, np.ndarray], target: np.ndarray) -> str:
    """Whether a formula's dimensions match the target's.

    "consistent": with every number dimensionless; "constant carries units": only when a fitted
    constant carries a unit (8.314 J/(mol·K), a frequency 3.1/s); "inconsistent": no choice of
    constants' units makes it right (t + x, sin of a length).
    """
    forms = [expr]
    if expr.has(sp.log):  # log(x) − log(y) is log(x/y)
        forms.append(sp.logcombine(expr, force=True))
    for free, answer in ((False, CONSISTENT), (True, CONSTANT_UNITS)):
        for form in forms:
            try:
                d = _dim(form, dims, free)
            except (_Mismatch, KeyError, TypeError):
                continue
            if isinstance(d, str) or np.allclose(d, target):
                return answer
    return INCONSISTENT


def _unit(e: sp.Expr, units: dict, ureg: Any):
    """The pint unit of a product of symbols and numbers (numbers dimensionless)."""
    if e.is_Symbol:
        return units[e]
    if e.is_Mul:
        out = ureg.dimensionless
        for a in e.args:
            out = out * _unit(a, units, ureg)
        return out
    if e.is_Pow and e.exp.is_Number:
        return _unit(e.base, units, ureg) ** float(e.exp)
    if e.is_Add:
        return _unit(e.args[0], units, ureg)
    return ureg.dimensionless


def constant_units(expr: sp.Expr, units: dict[sp.Symbol, U.Unit], target: U.Unit) -> list[tuple]:
    """[(constant, unit)] for the formula's fitted constants, in the units of the user's columns.

    A product's numeric coefficient takes the unit that makes the product's unit the one required
    there (the target's at the top, none inside a function); constants elsewhere are dimensionless.
    """
    ureg = U.registry()
    found: list[tuple] = []

    def visit(e: sp.Expr, required) -> None:
        if e.is_Number and e not in (sp.S.One, sp.S.NegativeOne):
            found.append((e, required))
        elif e.is_Add:
            for a in e.args:
                visit(a, required)
        elif e.is_Mul:
            nums = [a for a in e.args if a.is_Number]
            rest = [a for a in e.args if not a.is_Number]
            if nums and abs(nums[0]) != 1:
                other = _unit(sp.Mul(*rest), units, ureg)
                found.append((nums[0], required / other))
            for a in rest:
                visit(a, _unit(a, units, ureg))
        elif e.is_Pow and e.exp.is_Number:
            visit(e.base, required ** (1 / float(e.exp)))
        elif isinstance(e, sp.Function):
            for a in e.args:
                visit(a, ureg.dimensionless)

    try:
        visit(expr, target)
    except (TypeError, ValueError, KeyError, ZeroDivisionError):
        return []
    return found
