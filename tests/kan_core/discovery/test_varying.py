"""y = Σₘ gₘ(xⱼ)·φₘ: the varying-coefficient screen and route (initial-value solutions)."""

import numpy as np
import pandas as pd
import sympy as sp

from kan_core import discover
from kan_core.discovery.routes.single_index import _design
from kan_core.discovery.routes.varying import INTERVALS, _coefficient_kinds, screen
from tests.kan_core.discovery.laws import plain, same_law


def test_the_screen_finds_the_input_whose_curves_carry_the_others():
    RNG = np.random.default_rng(11)
    t, a, b = RNG.uniform(0, 6, 1500), RNG.uniform(-1, 1, 1500), RNG.uniform(1, 3, 1500)
    X = np.column_stack([a, t, b])
    found = screen(X, a * np.cos(2 * t) + b * np.exp(-t / 3))
    assert found and found[0][1] == 1 and found[0][0] < 1e-8
    assert not screen(X, np.sin(a * t * b))  # not linear in any two inputs
    assert not screen(X, a + np.cos(t) + b**2)  # additive: its coefficients do not vary


def test_unneeded_and_constant_coefficients_are_recognised():
    RNG = np.random.default_rng(12)
    t, a, b = RNG.uniform(0, 6, 1500), RNG.uniform(-1, 1, 1500), RNG.uniform(1, 3, 1500)
    y = 2.5 * a + b * np.exp(-t / 3) + 0.001 * RNG.normal(size=1500)  # no c₀(t); a's is constant
    D = _design(t, INTERVALS)
    assert _coefficient_kinds(D, np.column_stack([np.ones(1500), a, b]), y) == ["none", "constant", "curve"]


def test_an_initial_value_solution_is_recovered():
    """A released oscillator, x = x₀·cos 2t + (v₀/2)·sin 2t: neither a product of powers nor a sum
    of one-input functions; linear in x₀ and v₀ with coefficients cos 2t and sin 2t / 2."""
    RNG = np.random.default_rng(13)
    t, x0, v0 = RNG.uniform(0, 6, 2000), RNG.uniform(-1, 1, 2000), RNG.uniform(-2, 2, 2000)
    df = pd.DataFrame({"t": t, "x0": x0, "v0": v0, "x": x0 * np.cos(2 * t) + v0 * np.sin(2 * t) / 2})
    res = discover(df, "x", seconds=20, seed=0, routes=["varying coefficients"])
    T, X0, V0 = sp.symbols("t x0 v0")
    assert same_law(res.best.expr, X0 * sp.cos(2 * T) + V0 * sp.sin(2 * T) / 2), res.best.expr


def test_a_relaxation_to_a_moving_level_at_1_percent_noise():
    """A capacitor charging from V₀ towards Vₛ: V = Vₛ + (V₀ − Vₛ)·e^(−t/3), 1% noise."""
    RNG = np.random.default_rng(14)
    t, vs, v0 = RNG.uniform(0, 12, 4000), RNG.uniform(5, 10, 4000), RNG.uniform(0, 2, 4000)
    truth = vs + (v0 - vs) * np.exp(-t / 3)
    df = pd.DataFrame({"t": t, "Vs": vs, "V0": v0})
    df["V"] = truth + 0.01 * np.sqrt(np.mean(truth**2)) * RNG.normal(size=len(t))
    res = discover(df, "V", seconds=20, seed=0, routes=["varying coefficients"])
    T, VS, V0 = sp.symbols("t Vs V0")
    found = plain(res.best.expr)
    rounded = found.xreplace(
        {f: sp.nsimplify(round(float(f), 2), rational=True) for f in found.atoms(sp.Float)}
    )
    assert sp.simplify(rounded - (VS + (V0 - VS) * sp.exp(-T / 3))) == 0, found


def test_a_single_product_is_left_to_the_factor_route():
    """A·e^(−600/T) is a varying-coefficient law with one term; the route's spline curve of
    e^(−600/T) at 1% noise came back as a sine in disguise, while the monomial × g(input) route,
    fitting y itself, writes A·e^(−601.3/T). The route declines one-term laws."""
    import pytest

    from kan_core.discovery.routes.base import Problem
    from kan_core.discovery.routes.varying import varying_route
    from kan_core.errors import ModelError

    rng = np.random.default_rng(15)
    X = np.column_stack([rng.uniform(1, 10, 3000), rng.uniform(250, 600, 3000)])
    y = X[:, 0] * np.exp(-600 / X[:, 1])
    p = Problem(X, y, list(sp.symbols("A T")), 0, float("inf"), solve_1d=lambda frame, s: sp.Integer(0))
    with pytest.raises(ModelError, match="single product"):
        varying_route(p)
