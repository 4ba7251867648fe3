"""One-variable sums: power sums with offsets, sinusoids, damped oscillations, the real cube root."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from kan_core import discover, read_table
from kan_core.discovery.routes.sums import _linear, power_sums, sinusoids
from kan_core.symbolic.formula import evaluate
from tests.kan_core.discovery.laws import same_law

x = sp.Symbol("x")
SHARED = Path(__file__).resolve().parents[4] / "shared" / "cases"


def _best_error(exprs, xs, ys):
    return min(float(np.max(np.abs(evaluate(e, [x], xs[:, None]) - ys))) for e in exprs)


def test_power_sums_recover_an_offset_power_and_a_difference_of_inverse_powers():
    rng = np.random.default_rng(0)
    xs = rng.uniform(0.5, 50, 400)
    found = power_sums(xs, 2.5 * xs**-0.5 + 1.2, x, time.perf_counter() + 10)
    assert _best_error(found, xs, 2.5 * xs**-0.5 + 1.2) < 1e-8
    xs = rng.uniform(0.9, 3, 400)
    lj = 4 * (xs**-12 - xs**-6)  # a Lennard-Jones-like difference of inverse powers
    found = power_sums(xs, lj, x, time.perf_counter() + 10)
    assert _best_error(found, xs, lj) < 1e-8 * np.abs(lj).max()
    assert power_sums(np.array([-1.0, 2.0, 3.0]), np.ones(3), x, time.perf_counter() + 1) == []


def test_sinusoids_find_many_periods_and_a_damped_oscillation():
    rng = np.random.default_rng(1)
    xs = rng.uniform(-3, 3, 500)
    ys = 2 * np.sin(7 * xs) - 0.5 * np.cos(2 * xs)  # ~7 periods of the fast term in range
    assert _best_error(sinusoids(xs, ys, x, time.perf_counter() + 10), xs, ys) < 1e-8
    ts = np.sort(rng.uniform(0, 10, 500))
    ys = 1.5 * np.exp(-0.3 * ts) * np.sin(4 * ts + 0.2) + 0.1
    assert _best_error(sinusoids(ts, ys, x, time.perf_counter() + 10), ts, ys) < 1e-8


def test_discover_writes_the_real_cube_root_and_a_power_with_offset_exactly():
    rng = np.random.default_rng(2)
    xs = rng.uniform(-8, 8, 300)
    res = discover(pd.DataFrame({"x": xs, "y": 2 * np.cbrt(xs)}), "y", seconds=8, seed=0)
    assert same_law(res.best.expr, 2 * sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3))
    xs = rng.uniform(1, 100, 300)
    res = discover(pd.DataFrame({"x": xs, "y": 3 * xs**0.25 - 2}), "y", seconds=8, seed=0)
    assert same_law(res.best.expr, 3 * x ** sp.Rational(1, 4) - 2)


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/cases not beside the repository")
def test_user_reports_sum_of_sines_power_offset_cube_root():
    res = discover(read_table(SHARED / "sum_of_sines.csv"), "y", seconds=20, seed=0)
    assert same_law(res.best.expr, sp.sin(5 * x) + sp.cos(3 * x))
    res = discover(read_table(SHARED / "power_law_offset.csv"), "y", seconds=20, seed=0)
    assert abs(float(res.predict(np.array([[1e4]]))[0]) - 0.2109) < 5e-4  # extrapolates a decade out
    res = discover(read_table(SHARED / "cube_root_negative.csv"), "y", seconds=20, seed=0)
    assert np.isfinite(res.predict(np.array([[-5.0]]))).all()
    assert same_law(res.best.expr, sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3))


def test_a_polynomial_is_not_mimicked_by_slow_sinusoids():
    # Two sines with a hundredth of a period in range and amplitudes of 10⁶ fit x³ + x² + x to
    # round-off: no law. The route returns no such sum, and discover finds the polynomial.
    xs = np.random.default_rng(3).uniform(-1, 1, 400)
    ys = xs**3 + xs**2 + xs
    for expr in sinusoids(xs, ys, x, time.perf_counter() + 10):
        for term in expr.atoms(sp.sin):
            assert abs(float(term.args[0].as_coefficients_dict()[x])) * 2 >= 0.5, expr
    res = discover(pd.DataFrame({"x": xs, "y": ys - xs**5}), "y", seconds=8, seed=0)
    assert same_law(res.best.expr, -(x**5) + x**3 + x**2 + x)


def test_a_power_sum_refit_whose_trial_exponent_overflows_fails_quietly(capfd):
    """c/x on x in [0.02, 0.2] at 0.5% noise: the refit tried exponents that overflow float64;
    LAPACK then printed 'DLASCL … illegal value' to the server log and the route died."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.02, 0.2, 160)
    y = 8.314 / x * (1 + 0.005 * rng.normal(size=160))
    found = power_sums(x, y, sp.Symbol("x", positive=True), time.perf_counter() + 10)
    assert found and "DLASCL" not in capfd.readouterr().err
    assert _linear(np.array([[np.inf, 1.0], [1.0, 1.0]]), np.ones(2))[1] == float("inf")
