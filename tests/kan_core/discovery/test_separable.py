"""y = M(x₋ⱼ)·g(xⱼ): the monomial-factor screen and the route through discover (AI Feynman's
multiplicative separability with a product-of-powers factor)."""

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from kan_core import discover
from kan_core.discovery.routes import OSCILLATING, crossings
from kan_core.discovery.routes.separable import factor_exponents, index_exponents
from tests.kan_core.discovery.laws import plain


def test_the_factor_exponents_are_found_on_a_grid_of_sixths():
    rng = np.random.default_rng(4)
    X = rng.uniform([0.5, 1.0, 2.0], [3.0, 4.0, 6.0], (400, 3))
    y = X[:, 1] ** 1.5 / X[:, 2] * np.sin(2.7 * X[:, 0] + 0.3)  # several sign changes in x₀
    a, loss, base, fits = factor_exponents(X[:, 0], np.log(X[:, 1:]), y)
    np.testing.assert_allclose(a, [1.5, -1.0])
    assert loss < 1e-4 < 0.1 < base and fits < 500
    # Not separable: the shape input's role depends on another input.
    _, loss, _, _ = factor_exponents(X[:, 0], np.log(X[:, 1:]), np.sin(X[:, 0] * X[:, 1]))
    assert loss > 1e-2


def test_an_amplitude_times_a_damped_oscillation_is_recovered():
    rng = np.random.default_rng(5)
    s, k = rng.uniform(0, 12, 300), rng.uniform(0.5, 2.0, 300)
    y = k**2 * np.exp(-0.25 * s) * np.sin(2.5 * s)  # ~5 periods in range
    res = discover(pd.DataFrame({"s": s, "k": k, "y": y}), "y", seconds=10, seed=0)
    S, K = sp.symbols("s k")
    found = plain(res.best.expr)
    assert res.metrics["val_r2"] > 0.99999, found
    assert found.has(sp.exp) and found.has(sp.sin) and sp.degree(found.as_independent(S)[0], K) == 2, found


def test_oscillating_data_counts_many_crossings_and_polynomials_few():
    x = np.linspace(-1, 1, 400)
    assert crossings(x, np.sin(12 * x)) >= OSCILLATING > crossings(x, x**6 - x**4 + x)


def test_an_oscillation_whose_frequency_is_set_by_other_inputs_is_recovered():
    """A mass on a spring released from rest: x = 0.3·cos(t·√(k/m)), several periods in range.
    In log space the singular log|cos| defeats the single-index spline; on y itself, y is a
    function of u = t·k^(1/2)·m^(−1/2) alone only for those exponents (`index_exponents`)."""
    rng = np.random.default_rng(6)
    t, k, m = rng.uniform(0, 6, 600), rng.uniform(1, 4, 600), rng.uniform(0.5, 2, 600)
    y = 0.3 * np.cos(t * np.sqrt(k / m))
    a, loss, base, _ = index_exponents(t, np.log(np.column_stack([k, m])), y)
    np.testing.assert_allclose(a, [0.5, -0.5])
    assert loss < 1e-6 and base > 0.1
    df = pd.DataFrame({"t": t, "k": k, "m": m, "x": y})
    res = discover(df, "x", seconds=20, seed=0, routes=["g(input × monomial)"])
    T, K, M = sp.symbols("t k m")
    assert sp.simplify(plain(res.best.expr) - 0.3 * sp.cos(T * sp.sqrt(K) / sp.sqrt(M))) == 0, res.best.expr


def test_a_dense_noisy_monotone_curve_is_not_an_oscillation():
    """3x^1.5 + 1 on 8,000 rows at 1% noise crossed its median dozens of times over 5-row runs
    (the rows near the crossing point), so the sinusoid route went first and won with a sine in
    disguise; runs of n/200 rows count one crossing, and a real oscillation keeps its count."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 10, 8000)
    y = 3 * x**1.5 + 1
    assert crossings(x, y + 0.01 * np.sqrt(np.mean(y**2)) * rng.normal(size=len(x))) < OSCILLATING
    wave = np.sin(3 * x)  # 4.8 periods: 9 zeros in range
    assert 9 <= crossings(x, wave + 0.01 * rng.normal(size=len(x))) <= 10


def test_small_tables_keep_their_oscillations_and_tiny_ones_are_not_separated():
    """Runs of n/200 rows must not swallow a short table's periods (25 rows, 4 periods: 7 sign
    changes, as over 5-row moving averages); under 33 rows a spline interpolates anything, so
    the separable routes refuse instead of 'finding' x0^(9/2)·x1^3."""
    from kan_core.discovery.routes.base import Problem
    from kan_core.discovery.routes.separable import index_on_y_route
    from kan_core.errors import ModelError

    for n, periods in ((25, 4), (50, 8), (100, 20)):
        x = np.linspace(0, 1, n)
        assert crossings(x, np.sin(2 * np.pi * periods * x)) >= 2 * periods - 1
    X = np.random.default_rng(8).uniform(1, 2, (6, 2))
    p = Problem(X, np.cos(X[:, 0] / np.sqrt(X[:, 1])), list(sp.symbols("a b")), 0, float("inf"))
    with pytest.raises(ModelError):
        index_on_y_route(p)
