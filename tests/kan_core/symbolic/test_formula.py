import math

import numpy as np
import pytest
import sympy as sp
import torch

from kan_core import KAN
from kan_core.errors import ModelError
from kan_core.symbolic.constants import fit_formula, nice_values
from kan_core.symbolic.export import to_latex, to_python, to_sympy
from kan_core.symbolic.formula import complexity, evaluate, network_expr, safe_symbols


def hand_built():
    """A fully snapped [2, [1, 1], 1] network with product and sum nodes, with known constants."""
    model = KAN([2, [1, 1], 1], seed=0, device="cpu").double()
    with torch.no_grad():
        model.in_shift[:] = torch.tensor([0.5, -1.0])
        model.in_scale[:] = torch.tensor([2.0, 0.5])
        model.out_shift[:] = 3.0
        model.out_scale[:] = 1.5
    l0, l1 = model.layers
    l0.set_symbolic(0, 0, "sin", (1.2, 0.3, 0.7, 0.1))  # sum node
    l0.set_symbolic(1, 0, "x^2", (1.0, -0.2, 0.5, 0.0))
    l0.set_symbolic(0, 1, "x", (1.0, 0.0, 2.0, 1.0))  # product's first factor
    l0.set_mask(1, 1, False)
    l0.set_mask(0, 2, False)
    l0.set_symbolic(1, 2, "exp", (0.4, 0.0, 1.0, 0.0))  # product's second factor
    l1.set_symbolic(0, 0, "tanh", (0.9, 0.1, 1.1, -0.2))
    l1.set_symbolic(1, 0, "x", (1.0, 0.0, -0.6, 0.05))
    return model


def test_composition_equals_the_hand_written_expression():
    model = hand_built()
    a, b = safe_symbols(["a", "b"])
    za, zb = (a - 0.5) / 2, (b + 1) / 0.5
    s = 0.7 * sp.sin(1.2 * za + 0.3) + 0.1 + 0.5 * (zb - 0.2) ** 2
    p = (2 * za + 1) * sp.exp(0.4 * zb)
    out = 1.1 * sp.tanh(0.9 * s + 0.1) - 0.2 - 0.6 * p + 0.05
    truth = 1.5 * out + 3.0
    expr = network_expr(model, [a, b])
    rng = np.random.default_rng(0)
    pts = rng.uniform(-2, 2, (200, 2))
    assert np.allclose(evaluate(expr, [a, b], pts), evaluate(truth, [a, b], pts), rtol=1e-12)
    assert sp.simplify(sp.nsimplify(expr - truth, rational=True)) == 0


def test_formula_equals_the_network_to_1e_6():
    model = hand_built()
    syms = safe_symbols(["a", "b"])
    rng = np.random.default_rng(1)
    pts = rng.uniform(-2, 2, (1000, 2))
    with torch.no_grad():
        net = model(torch.tensor(pts)).numpy()[:, 0]
    formula = evaluate(network_expr(model, syms), syms, pts)
    assert np.max(np.abs(formula - net) / (np.abs(net) + 1e-12)) <= 1e-6


def test_unsnapped_edges_are_a_clear_error():
    with pytest.raises(ModelError, match=r"still splines \(0:0->0"):
        network_expr(KAN([2, 1], device="cpu"), safe_symbols(["a", "b"]))


def test_safe_symbols_for_awkward_column_names():
    names = [s.name for s in safe_symbols(["v [m/s]", "2theta", "lambda", "x", "x", "E", "sin"])]
    assert names == ["v_m_s", "x_2theta", "lambda_", "x", "x_2", "E_", "sin_"]
    assert all(n.isidentifier() for n in names)


def test_constants_snap_only_when_the_error_does_not_grow():
    x, y = safe_symbols(["x", "y"])
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (500, 2))
    target = X[:, 0] * X[:, 1] + np.sin(np.pi * X[:, 0])
    noisy_start = (
        0.2500003 * (x + y) ** 2 - 0.2499998 * (x - y) ** 2 + 1.00001 * sp.sin(3.14159 * x) + 1e-6 * x
    )
    fitted = fit_formula(noisy_start, [x, y], X, target)
    assert sp.simplify(fitted.expr - (x * y + sp.sin(sp.pi * x))) == 0
    kept = fit_formula(0.37 * x + 0.0, [x, y], X, 0.37 * X[:, 0])  # 0.37 is not a "nice" value: kept
    assert abs(float(kept.expr.coeff(x)) - 0.37) < 1e-9
    assert nice_values(3.1416)[1] == sp.pi and nice_values(0.49999)[:2] == [0, sp.Rational(1, 2)]
    # ħ = h/(2π) and π² appear in physics laws: they are candidates, after the plain fractions.
    assert 1 / (2 * sp.pi) in nice_values(0.1591549) and sp.pi**2 in nice_values(9.8696)
    assert nice_values(2.0)[1] == 2 and nice_values(1 / 3)[1] == sp.Rational(1, 3)
    assert 48 * sp.pi**2 not in nice_values(473.8)  # a noisy slope is no multiple of π²


def test_exports_agree_with_sympy():
    a, b = safe_symbols(["a", "b"])
    expr = sp.Float(1.5) * sp.sin(sp.pi * a) * sp.exp(-(b**2)) + sp.sqrt(sp.Abs(a)) / 3
    pts = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    ns: dict = {}
    exec(compile(to_python(expr, [a, b], target="f"), "<export>", "exec"), ns)  # our own generated code
    assert np.allclose(ns["formula"](pts[:, 0], pts[:, 1]), evaluate(expr, [a, b], pts), rtol=1e-13)
    back = sp.sympify(to_sympy(expr), locals={"a": a, "b": b})
    assert np.allclose(evaluate(back, [a, b], pts), evaluate(expr, [a, b], pts), rtol=1e-13)
    assert r"\sin" in to_latex(expr, [a, b], ["a", "b"])
    assert to_latex(a, [a], ["v [m/s]"]) == r"v\,[\mathrm{m/s}]"  # the unit upright, no macro of the name's
    assert complexity(a * b) == 3 and math.isfinite(complexity(expr))


def test_undefined_expressions_evaluate_to_nan_and_are_no_candidates():
    from kan_core.discovery.pareto import Scorer

    x = sp.Symbol("x")
    X = np.linspace(1, 2, 10)[:, None]
    assert np.isnan(evaluate(sp.zoo * x, [x], X)).all()  # a constant snapped to 0 in a denominator
    # √ of a negative constant folds to I: NaN, not a TypeError or a silently dropped imaginary part.
    assert np.isnan(evaluate(sp.sqrt(sp.Integer(-2)) * x, [x], X)).all()
    assert np.array_equal(np.isnan(evaluate(sp.sqrt(x - 1.5), [x], X)), X[:, 0] < 1.5)
    sc = Scorer(X, 2 * X[:, 0], [x], seed=0, n_val=3)
    sc.add(x / sp.Integer(0), "broken")
    sc.add(2 * x, "good")
    assert [c.route for c in sc.cands] == ["good"]
