"""Helpers for asserting recovered laws by SymPy."""

import sympy as sp


def plain(expr: sp.Expr) -> sp.Expr:
    """The expression over plain symbols (discover's symbols carry assumptions)."""
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols})


def _exact_fractions(expr: sp.Expr) -> sp.Expr:
    """Floats within 1e-9 (relative) of a fraction with a small denominator, as that fraction
    (0.4999999999997 → 1/2): round-off of a fitted constant, not a different law."""
    swap = {}
    for f in expr.atoms(sp.Float):
        q = sp.Rational(float(f)).limit_denominator(1024)
        if abs(float(q) - float(f)) <= 1e-9 * abs(float(f)):
            swap[f] = q
    return expr.xreplace(swap)


def same_law(expr: sp.Expr, truth: sp.Expr) -> bool:
    """Whether SymPy proves expr − truth = 0 (symbols matched by name)."""
    return sp.simplify(plain(_exact_fractions(expr)) - truth) == 0
