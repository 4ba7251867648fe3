import math

import numpy as np
import pytest
import sympy as sp

from kan_core.errors import ModelError
from kan_core.symbolic.constants import ConstantFit, fit_formula, loo_mse, nice_values, spans_decades

x = sp.Symbol("x", real=True)
XS = np.random.default_rng(0).uniform(-2, 2, (200, 1))


@pytest.mark.parametrize(
    "value, first",
    [
        (math.pi / 2, sp.pi / 2),  # π/2 (cost 2 + 3) before 8/5 (cost 5, farther)
        (0.75, sp.Rational(3, 4)),
        (-0.75, -sp.Rational(3, 4)),
        (1 / (4 * math.pi), 1 / (4 * sp.pi)),
        (2.5, sp.Rational(5, 2)),
        (math.sqrt(2), sp.Rational(7, 5)),  # no √ forms: the simplest fraction within 2% (1.0% off)
        (1.3, sp.Rational(9, 7)),  # 9/7 (1.1% off) is simpler than the exact 13/10
    ],
)
def test_nice_values_start_with_zero_then_the_simplest(value, first):
    vals = nice_values(value)
    assert vals[0] == 0 and vals[1] == first
    assert len(set(vals)) == len(vals)
    for v in vals[1:]:  # within 2% (fractions) or 0.5% (π-forms) of the value
        assert abs(float(v) - value) <= (0.005 if v.has(sp.pi) else 0.02) * abs(value)


def test_nice_values_have_small_numerators_and_denominators():
    assert nice_values(0.0) == [0]
    assert nice_values(61.0) == [0]  # numerators stop at 60, π-forms at 12
    assert nice_values(60.0)[1] == 60
    assert sp.Rational(13, 10) in nice_values(1.3) and sp.Rational(13, 10) not in nice_values(1.3, max_den=9)
    assert 13 * sp.pi not in nice_values(13 * math.pi) and 12 * sp.pi in nice_values(12 * math.pi)


def test_fit_recovers_and_snaps_exact_constants():
    y = 2.5 * np.sin(1.3 * XS[:, 0]) + 0.7
    start = sp.Float(2.3) * sp.sin(sp.Float(1.25) * x) + sp.Float(0.6)
    fitted = fit_formula(start, [x], XS, y)
    truth = sp.Rational(5, 2) * sp.sin(sp.Rational(13, 10) * x) + sp.Rational(7, 10)
    assert sp.simplify(fitted.expr - truth) == 0
    assert not fitted.expr.atoms(sp.Float) and fitted.mse <= 1e-20
    assert fitted.steps  # the variants met on the way (for the Pareto front)


def test_fit_keeps_constants_that_are_not_simple():
    y = 2.5 * np.sin(1.37 * XS[:, 0]) + 0.713  # 1.37 ≈ 11/8 and 0.713 ≈ 5/7 are close, not equal
    fitted = fit_formula(sp.Float(2.3) * sp.sin(sp.Float(1.3) * x) + sp.Float(0.6), [x], XS, y)
    floats = sorted(float(f) for f in fitted.expr.atoms(sp.Float))
    assert floats == pytest.approx([0.713, 1.37], abs=1e-6)
    assert sp.Rational(5, 2) in fitted.expr.atoms(sp.Rational)  # the amplitude is exact: snapped
    assert fitted.mse <= 1e-12


def test_fit_refuses_undefined_and_oversized_formulas():
    with pytest.raises(ModelError, match="undefined"):
        fit_formula(sp.zoo * x, [x], XS, XS[:, 0])
    huge = sum(sp.Float(0.1 * k) * sp.sin(sp.Float(k + 0.5) * x) ** 3 for k in range(1, 60))
    with pytest.raises(ModelError, match="too complex"):
        fit_formula(huge, [x], XS, XS[:, 0])


def test_leave_one_out_of_a_line_matches_the_hat_matrix():
    X = np.array([[0.0], [0.5], [1.0], [1.7], [2.0], [3.1], [4.0]])
    y = np.array([-0.3, 1.2, 1.9, 3.8, 4.1, 6.0, 8.4])
    A = np.column_stack([X[:, 0], np.ones(len(X))])
    H = A @ np.linalg.solve(A.T @ A, A.T)
    resid = y - H @ y
    ref = float(np.mean((resid / (1 - np.diag(H))) ** 2))  # LOO residuals of least squares
    expr = sp.Float(1.9) * x + sp.Float(-0.2)
    assert loo_mse(expr, [x], X, y) == pytest.approx(ref, rel=1e-6)
    # A second, by-hand reference: refit without each row in turn.
    by_hand = [
        (np.polyval(np.polyfit(X[np.arange(7) != i, 0], y[np.arange(7) != i], 1), X[i, 0]) - y[i]) ** 2
        for i in range(7)
    ]
    assert ref == pytest.approx(np.mean(by_hand), rel=1e-12)


def test_spans_decades():
    assert spans_decades(np.array([1.0, 5.0, 11.0])) is True
    assert spans_decades(np.array([1.0, 10.0])) is False  # more than a factor 10 is needed
    assert spans_decades(np.array([0.0, 100.0])) is False  # not all positive
    assert spans_decades(np.array([-1.0, 100.0])) is False


def _gas_like(slope: float, rows: int = 200, noise: float = 0.005, seed: int = 1):
    """y = slope·x with relative noise on x in [200, 500] (a gas law read along one column)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(200, 500, (rows, 1))
    return X, slope * X[:, 0] * (1 + noise * rng.normal(size=rows))


@pytest.mark.parametrize("slope, near", [(8.314, sp.Rational(25, 3)), (1.3966, sp.Rational(7, 5))])
def test_a_simple_value_the_data_rules_out_is_not_snapped(slope, near):
    """0.23–0.27% off a simple fraction at 0.5% noise on 200 rows: the F-test refuses the snap
    (it raises the refit MSE by ~20%), so the least-squares value stays, not the fraction."""
    X, y = _gas_like(slope)
    fitted = fit_formula(sp.Float(slope * 0.99) * x, [x], X, y)
    least_squares = float(X[:, 0] @ y / (X[:, 0] @ X[:, 0]))
    assert float(fitted.expr / x) == pytest.approx(least_squares, rel=5e-4)  # a float, or 4π/9 for 1.3966
    assert near not in fitted.expr.atoms(sp.Rational)


def test_a_simple_value_within_the_noise_is_snapped():
    X, y = _gas_like(2.0)
    assert fit_formula(sp.Float(1.97) * x, [x], X, y).expr == 2 * x


def test_dropping_a_term_refits_what_was_snapped_beside_it():
    """With an offset the slope 8.314 may snap to 25/3 (the offset absorbs the cost); the variant
    without the offset must refit the slope, not keep the fraction the data then rules out."""
    X, y = _gas_like(8.314)
    fitted = fit_formula(sp.Float(8.3) * x + sp.Float(0.5), [x], X, y)
    for variant in [fitted.expr, *fitted.steps]:
        if variant.free_symbols and variant.is_Mul:  # c·x alone: its c must be the data's slope
            c = float(variant.as_coeff_Mul()[0])
            assert abs(c - 8.314) < 0.002 * 8.314, variant


@pytest.mark.parametrize("noise", ["additive", "multiplicative"])
def test_a_power_law_over_decades_snaps_under_either_kind_of_noise(noise):
    """70·M^(3/4) over M in [1, 1000] at 1% noise: relative weights suit multiplicative noise; under
    additive noise (1% of the RMS) they weigh the tiny, noisiest values most and the exponent came
    out 0.754, which the snap then refused. The residuals choose the weights now."""
    M = sp.Symbol("M", positive=True)
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 1000, (8000, 1))
    truth = 70 * X[:, 0] ** 0.75
    if noise == "additive":
        y = truth + 0.01 * np.sqrt(np.mean(truth**2)) * rng.normal(size=len(truth))
    else:
        y = truth * (1 + 0.01 * rng.normal(size=len(truth)))
    found = fit_formula(sp.Float(71.0) * M ** sp.Float(0.746), [M], X, y).expr
    coef, power = found.as_coeff_Mul()
    assert power == M ** sp.Rational(3, 4) and abs(float(coef) / 70 - 1) < 2e-3, found


def test_a_dropped_term_stays_dropped_in_the_simpler_variants():
    """y = 2xy + 3.7 exactly, with a round-off term 1e-17·x: the variant without the offset must
    not bring the round-off term back as a fitted 2.68·x."""
    yv = sp.Symbol("yv", real=True)
    X = np.random.default_rng(3).uniform(-2, 2, (300, 2))
    y = 2 * X[:, 0] * X[:, 1] + 3.7
    start = sp.Float(2.0000000001) * x * yv + sp.Float(1e-17) * x + sp.Float(3.7000001)
    cf = ConstantFit(start, [x, yv], X, y)
    cf.refit()
    variants = cf.snap()
    assert cf.expr() == 2 * x * yv + sp.Rational(37, 10)
    for variant in variants:
        assert not (variant.has(x) and float(sp.Poly(variant, x, yv).coeff_monomial(x)) != 0), variant
