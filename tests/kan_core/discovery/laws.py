"""Helpers for asserting recovered laws by SymPy."""

import sympy as sp


def plain(expr: sp.Expr) -> sp.Expr:
    """The expression over plain symbols (discover's symbols carry assumptions)."""
    return expr.xreplace({s: sp.Symbol(s.name) for s in expr.free_symbols})


def same_law(expr: sp.Expr, truth: sp.Expr) -> bool:
    """Whether SymPy proves expr − truth = 0 (symbols matched by name)."""
    return sp.simplify(plain(expr) - truth) == 0
