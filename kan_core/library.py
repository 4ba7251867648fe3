"""The symbolic function library: name, torch function, SymPy function, complexity, domain."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
import torch

from kan_core.errors import ConfigError


@dataclass(frozen=True)
class Fn:
    """One library entry; `domain` is the open/closed interval its argument must stay in."""

    name: str
    torch: Callable[[torch.Tensor], torch.Tensor]
    sympy: Callable[[sp.Expr], sp.Expr]
    complexity: int
    domain: tuple[float, float] = (-math.inf, math.inf)
    excludes_zero: bool = False  # 1/x-like: the argument must not cross 0
    # Which of a, b in c·f(a·x+b)+d the fit may move: the others are redundant with c, d
    # (e.g. exp(a·x+b) = e^b·exp(a·x), (a·x+b)² = a²·(x+b/a)²) and stay at a=±1, b=0.
    free: str = "ab"

    def valid(self, lo: float, hi: float) -> bool:
        """True when an argument ranging over [lo, hi] stays inside the domain."""
        if lo < self.domain[0] or hi > self.domain[1]:
            return False
        return not (self.excludes_zero and lo <= 0.0 <= hi)


_POS = (0.0, math.inf)


def _real_cbrt(x: sp.Expr) -> sp.Expr:
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


_UNIT = (-1.0, 1.0)

FUNCTIONS: dict[str, Fn] = {
    f.name: f
    for f in [
        Fn("0", lambda x: torch.zeros_like(x), lambda x: sp.Integer(0), 0, free=""),
        Fn("x", lambda x: x, lambda x: x, 1, free=""),
        Fn("x^2", lambda x: x * x, lambda x: x**2, 2, free="b"),
        Fn("x^3", lambda x: x**3, lambda x: x**3, 3, free="b"),
        Fn("x^4", lambda x: x**4, lambda x: x**4, 4, free="b"),
        Fn("1/x", lambda x: 1 / x, lambda x: 1 / x, 2, excludes_zero=True, free="b"),
        Fn("1/x^2", lambda x: x**-2, lambda x: x**-2, 3, excludes_zero=True, free="b"),
        Fn("sqrt", torch.sqrt, sp.sqrt, 2, _POS, free="b"),
        Fn("1/sqrt", torch.rsqrt, lambda x: 1 / sp.sqrt(x), 3, _POS, excludes_zero=True, free="b"),
        Fn("x^1.5", lambda x: x**1.5, lambda x: x ** sp.Rational(3, 2), 3, _POS, free="b"),
        Fn("exp", torch.exp, sp.exp, 2, free="a"),
        Fn("log", torch.log, sp.log, 2, _POS, excludes_zero=True, free="b"),
        Fn("sin", torch.sin, sp.sin, 2),
        Fn("cos", torch.cos, sp.cos, 2),
        Fn("tan", torch.tan, sp.tan, 3, (-math.pi / 2, math.pi / 2)),
        Fn("tanh", torch.tanh, sp.tanh, 3),
        Fn("sigmoid", torch.sigmoid, lambda x: 1 / (1 + sp.exp(-x)), 3),
        Fn("arcsin", torch.arcsin, sp.asin, 4, _UNIT),
        Fn("arccos", torch.arccos, sp.acos, 4, _UNIT),
        Fn("arctan", torch.arctan, sp.atan, 4),
        Fn("arctanh", torch.arctanh, sp.atanh, 4, _UNIT),
        Fn("gaussian", lambda x: torch.exp(-x * x), lambda x: sp.exp(-(x**2)), 3),
        Fn("abs", torch.abs, sp.Abs, 3, free="b"),
        Fn("sign", torch.sign, sp.sign, 4, free="b"),
        Fn("sinh", torch.sinh, sp.sinh, 3),
        Fn("cosh", torch.cosh, sp.cosh, 3),
        # The real cube root, odd and finite for negative arguments (x^(1/3) is complex there).
        Fn("cbrt", lambda x: torch.sign(x) * x.abs() ** (1 / 3), _real_cbrt, 3, free="b"),
    ]
}

NAMES: tuple[str, ...] = tuple(FUNCTIONS)


def select(names: list[str] | None = None) -> list[Fn]:
    """The entries called `names` (all when None), with a one-line error for unknown names."""
    return list(FUNCTIONS.values()) if names is None else [get(n) for n in names]


def get(name: str) -> Fn:
    """The library entry called `name`, or a one-line error listing the choices."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise ConfigError(f"unknown function {name!r}; choose one of: {', '.join(NAMES)}") from None
