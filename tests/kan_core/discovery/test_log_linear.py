"""Log-linear laws (issue #15, item 5): attenuation, decay and Arrhenius factors, read exactly."""

import math
import time

import numpy as np
import pytest
import sympy as sp

from kan_core.discovery.routes.log_linear import log_linear
from kan_core.errors import ModelError
from kan_core.symbolic.constants import fit_formula
from tests.kan_core.discovery.laws import same_law

RNG = np.random.default_rng(0)


def _found(X, y, syms):
    return fit_formula(log_linear(X, y, syms, math.inf), syms, X, y).expr


def test_attenuation_with_a_three_way_product_is_exact():
    syms = sp.symbols("I0 e c l", positive=True)
    X = RNG.uniform([1, 0.1, 0.1, 0.5], [10, 2, 2, 3], (2000, 4))
    y = X[:, 0] * np.exp(-X[:, 1] * X[:, 2] * X[:, 3])
    assert same_law(
        _found(X, y, list(syms)), sp.Symbol("I0") * sp.exp(-sp.Symbol("e") * sp.Symbol("c") * sp.Symbol("l"))
    )


def test_decay_with_a_half_life_and_arrhenius():
    N0, t, th = syms = sp.symbols("N0 t th", positive=True)
    X = RNG.uniform([1, 0, 1], [10, 5, 4], (2000, 3)) + [0, 1e-3, 0]
    y = 3 * X[:, 0] * np.exp(-X[:, 1] / X[:, 2])
    assert same_law(_found(X, y, list(syms)), 3 * sp.Symbol("N0") * sp.exp(-sp.Symbol("t") / sp.Symbol("th")))
    A, T = syms2 = sp.symbols("A T", positive=True)
    X = RNG.uniform([1, 300], [10, 600], (2000, 2))
    y = X[:, 0] ** 2 * np.exp(-500 / X[:, 1])
    assert same_law(_found(X, y, list(syms2)), sp.Symbol("A") ** 2 * sp.exp(-500 / sp.Symbol("T")))


def test_a_law_that_is_not_log_linear_is_refused_in_one_fit():
    a, b = syms = sp.symbols("a b", positive=True)
    X = RNG.uniform(1, 2, (2000, 2))
    t0 = time.perf_counter()
    with pytest.raises(ModelError, match="not log-linear"):
        log_linear(X, X[:, 0] + np.sin(3 * X[:, 1]) + 2, list(syms), math.inf)
    assert time.perf_counter() - t0 < 5
