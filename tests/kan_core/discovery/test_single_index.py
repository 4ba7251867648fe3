from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from kan_core.discovery.routes import Problem
from kan_core.discovery.routes.single_index import fit_index, index_route, monomials, simple_ratio
from kan_core.errors import ModelError
from kan_core.symbolic.formula import safe_symbols


def _no_full_search(frame, seconds):
    raise AssertionError("the quick one-variable search should have been enough")


def test_simple_ratios():
    assert simple_ratio(0.49) == Fraction(1, 2) and simple_ratio(-0.668) == Fraction(-2, 3)
    assert simple_ratio(0.26, 4) == Fraction(1, 4) and simple_ratio(0.01) == 0


def test_the_index_of_a_relativistic_law_is_the_ratio_v_over_c():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(1, 5, 2000), rng.uniform(1, 2, 2000), rng.uniform(3, 10, 2000)])
    y = X[:, 0] / (1 - X[:, 1] / X[:, 2])  # ω₀ / (1 − v/c)
    b, loss, a = fit_index(X, y)
    assert np.array_equal(np.abs(b), [0, 1, 1]) and b[1] == -b[2]  # snapped exactly: u = (v/c)^±1
    assert loss < 1e-6
    # M·g(u) = (M·u^k)·(g(u)/u^k): every candidate for M differs from ω₀ by a power of v/c.
    for exps in monomials(a, b):
        assert exps[0] == 1 and exps[1] == -exps[2]
    assert [1, 0, 0] in monomials(a, b)


def test_index_route_recovers_a_law_with_a_sign_changing_factor():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 3, (2000, 3))
    y = X[:, 0] * np.cos(X[:, 1]) / X[:, 2] ** 2  # p·cos θ / r²: y crosses zero
    p, theta, r = syms = safe_symbols(["p", "theta", "r"])
    found = index_route(Problem(X, y, syms, 0, float("inf"), solve_1d=_no_full_search))
    best = found[0][0]
    assert np.max(np.abs(found[0][1](X) - y)) < 1e-8
    assert abs(best.subs({p: 2.0, theta: 0.7, r: 1.5}) - 2 * np.cos(0.7) / 2.25) < 1e-8


def test_index_route_refuses_what_is_no_single_index_law():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 5, (2000, 4))
    y = X[:, 0] * (X[:, 1] ** 2 + X[:, 2] ** 2 + X[:, 3] ** 2)  # m·(u² + v² + w²): two indices
    calls = []
    with pytest.raises(ModelError, match="not a single-index law"):
        index_route(
            Problem(X, y, safe_symbols(list("muvw")), 0, float("inf"), solve_1d=lambda f, s: calls.append(s))
        )
    assert not calls  # refused before any one-variable search


@pytest.mark.slow
def test_discover_finds_the_planck_law_through_the_single_index_route():
    import pandas as pd

    from kan_core.discovery.search import discover

    rng = np.random.default_rng(3)
    df = pd.DataFrame({c: rng.uniform(1, 5, 3000) for c in ["h", "w", "k", "t"]})
    df["E"] = df.h * df.w / (np.exp(df.h * df.w / (df.k * df.t)) - 1)
    res = discover(df, "E", seconds=30)
    h, w, k, t = sp.symbols("h w k t", positive=True)
    found = res.best.expr.xreplace({s: sp.Symbol(s.name, positive=True) for s in res.best.expr.free_symbols})
    assert sp.simplify(found - h * w / (sp.exp(h * w / (k * t)) - 1)) == 0, found
    assert res.best.route == "single-index"
