import numpy as np
import sympy as sp

from kan_core.discovery.routes.one_variable import one_variable
from kan_core.symbolic.formula import evaluate


def test_a_transform_of_the_target_makes_a_composition_one_library_fit():
    u = np.linspace(0.1, 0.7, 400)
    x = sp.Symbol("x")
    for truth in (1 / sp.sqrt(1 - x**2), 1 / (sp.exp(x) - 1), sp.sqrt(1 - 2 * x**2)):
        y = sp.lambdify(x, truth)(u)
        best = one_variable(u, y, x)[0]
        assert np.max(np.abs(evaluate(best, [x], u[:, None]) - y)) < 1e-7 * np.max(np.abs(y)), (truth, best)


def test_a_target_that_changes_sign_is_fit_as_it_is():
    u = np.linspace(0.0, 6.0, 300)
    x = sp.Symbol("x")
    y = 2 * np.cos(u) - 1
    found = one_variable(u, y, x, top=2)
    assert len(found) == 2
    assert np.max(np.abs(evaluate(found[0], [x], u[:, None]) - y)) < 1e-8
