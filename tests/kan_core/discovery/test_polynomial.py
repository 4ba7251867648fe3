import numpy as np
import sympy as sp

from kan_core.discovery.routes.polynomial import sparse_polynomial
from kan_core.symbolic.formula import safe_symbols


def test_a_sum_of_products_keeps_exactly_its_terms():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, (3000, 6))
    y = X[:, 0] * X[:, 3] + X[:, 1] * X[:, 4] + X[:, 2] * X[:, 5]
    syms = safe_symbols(["x1", "x2", "x3", "y1", "y2", "y3"])
    expr = sparse_polynomial(X, y, syms, float("inf"))
    x1, x2, x3, y1, y2, y3 = syms
    terms = sp.Add.make_args(sp.expand(expr))
    kept = [t for t in terms if abs(float(t.as_coeff_Mul()[0])) > 1e-9]
    assert {t.as_coeff_Mul()[1] for t in kept} == {x1 * y1, x2 * y2, x3 * y3}
    assert all(abs(float(t.as_coeff_Mul()[0]) - 1) < 1e-9 for t in kept)


def test_noise_keeps_the_true_terms_and_drops_the_rest():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (3000, 3))
    clean = 3 * X[:, 0] ** 2 - X[:, 1] * X[:, 2] + 0.5
    y = clean + rng.normal(0, 0.01 * np.sqrt(np.mean(clean**2)), 3000)
    a, b, c = syms = safe_symbols(["a", "b", "c"])
    expr = sp.expand(sparse_polynomial(X, y, syms, float("inf")))
    assert abs(float(expr.coeff(a, 2)) - 3) < 0.01 and abs(float(expr.coeff(b).coeff(c)) + 1) < 0.01
    assert len(sp.Add.make_args(expr)) <= 5  # of 19 monomials (degree 3 in 3 variables)


def test_distances_and_bell_curves_are_polynomials_of_a_transformed_target():
    import time

    from kan_core.discovery.routes.polynomial import difference_form, transformed_polynomials

    X = np.random.default_rng(5).uniform(-2, 2, (400, 4))
    x1, y1, x2, y2 = syms = sp.symbols("x1 y1 x2 y2")
    cases = [
        (sp.sqrt((x1 - x2) ** 2 + (y1 - y2) ** 2), "a distance in the plane"),
        (3 / ((x1 - x2) ** 2 + (y1 - y2) ** 2 + sp.Rational(1, 2)), "a softened inverse square"),
        (2 * sp.exp(-((x1 - x2) ** 2) * sp.Rational(5, 4)), "a bell curve centred on another input"),
    ]
    for law, kind in cases:
        y = sp.lambdify(syms, law, "numpy")(*X.T)
        found = transformed_polynomials(X, y, list(syms), time.perf_counter() + 20)
        pred = sp.lambdify(syms, found[0], "numpy")(*X.T)
        assert np.max(np.abs(pred - y)) < 1e-8 * np.abs(y).max(), kind
        rounded = difference_form(found[0], list(syms)).xreplace(
            {f: sp.nsimplify(f, rational=True, tolerance=1e-9) for f in found[0].atoms(sp.Float)}
        )
        assert sp.simplify(rounded - law) == 0, (kind, rounded)
        assert x1 - x2 in sp.preorder_traversal(difference_form(found[0], list(syms))), kind


def test_in_differences_leaves_polynomials_without_the_symmetry_alone():
    from kan_core.discovery.routes.polynomial import in_differences

    a, b = sp.symbols("a b")
    assert in_differences(a**2 + b**2, [a, b]) == a**2 + b**2
    assert sp.expand(in_differences(a**2 - 2 * a * b + b**2 + 3, [a, b]) - ((a - b) ** 2 + 3)) == 0


def test_a_noisy_distance_is_still_a_polynomial_of_its_square():
    """A distance between two points at 1% noise: no transform is exact to 1e-5 any more, but the
    fit of y² read back as y leaves only noise; a few rows where the fitted square dips below zero
    (the points meet) are lifted so the refit can start. `discover` then snaps it exactly."""
    import pandas as pd

    from kan_core import discover
    from tests.kan_core.discovery.laws import same_law

    rng = np.random.default_rng(2)
    X = rng.uniform(-3, 3, (6000, 4))
    truth = np.sqrt((X[:, 0] - X[:, 2]) ** 2 + (X[:, 1] - X[:, 3]) ** 2)
    df = pd.DataFrame(X, columns=["px", "py", "qx", "qy"])
    df["d"] = truth + 0.01 * np.sqrt(np.mean(truth**2)) * rng.normal(size=len(truth))
    res = discover(df, "d", seconds=10, seed=0, routes=["polynomial of T(y)"])
    px, py, qx, qy = sp.symbols("px py qx qy")
    law = sp.sqrt((px - qx) ** 2 + (py - qy) ** 2)
    found = res.best.expr.xreplace({f: sp.Float(round(float(f), 3)) for f in res.best.expr.atoms(sp.Float)})
    assert same_law(sp.nsimplify(found, rational=True), law), res.best.expr
