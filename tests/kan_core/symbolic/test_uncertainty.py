"""Constants' 95% intervals by a bootstrap over rows, and their display to supported digits."""

import numpy as np
import sympy as sp

from kan_core.symbolic.uncertainty import intervals, rounded, with_error


def test_digits_follow_the_interval():
    assert with_error(8.31128450626397, 0.0123) == "8.311 ± 0.012"
    assert with_error(0.120021, 0.00031) == "0.12002 ± 0.00031"
    assert with_error(2.5, 0.0) == "2.5"


def test_bootstrap_interval_covers_the_true_constant_at_the_noise_level():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (200, 2))
    y = 8.314 * X[:, 0] / X[:, 1] * (1 + 0.005 * rng.normal(size=200))
    a, b = sp.symbols("a b")
    c = float(np.sum(y * X[:, 0] / X[:, 1]) / np.sum((X[:, 0] / X[:, 1]) ** 2))  # least squares
    expr = sp.Float(c) * a / b
    (iv,) = intervals(expr, [a, b], X, y, seed=0)
    assert iv.low < 8.314 < iv.high
    # Relative standard error of the mean of 200 draws of 0.5% noise ≈ 0.035%: 95% half-width ≈ 0.006.
    assert 0.002 < (iv.high - iv.low) / 2 < 0.02
    assert str(rounded(expr, [iv])).startswith("8.31")
    assert len(str(rounded(expr, [iv])).split("*")[0]) <= 6


def test_exact_constants_have_no_interval():
    a = sp.Symbol("a")
    assert intervals(sp.Rational(1, 2) * a**2, [a], np.ones((5, 1)), np.ones(5)) == []
