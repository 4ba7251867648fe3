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
