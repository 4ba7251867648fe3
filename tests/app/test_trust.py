"""How far to trust a formula: reliability, the better source, the data's box, extrapolation."""

import numpy as np
import sympy as sp

from app.trust import along_input, better_source, box_problems, unreliable
from kan_core.discovery.pareto import Candidate
from kan_core.discovery.search import Result

x, y = sp.symbols("x y")


def result(expr, val_r2, verdict="law", complexity=3):
    best = Candidate(expr, "test", complexity, 0.1, 0.1)
    return Result(["x", "y"], "z", [x, y], [best], best, {"val_r2": val_r2}, verdict=verdict)


def test_poor_or_no_law_results_are_not_finds():
    assert unreliable(result(x * y, 0.9999)) is None
    assert unreliable(result(x * y, 0.63)).startswith("no reliable formula: validation R² 0.63 is below 0.99")
    assert unreliable(result(x * y, 0.95), threshold=0.9) is None
    no_law = result(sp.Float(1.0), 0.0, verdict="no law")
    no_law.verdict_reason = "held-out R² 0.01, p = 0.4 against the mean"
    assert unreliable(no_law) == "no reliable formula: held-out R² 0.01, p = 0.4 against the mean"


def test_the_better_scoring_source_comes_first():
    net, disc = result(x * y, 0.7), result(x * y, 0.9999)
    assert better_source({"Snapped network": net, "Discover": disc}) == 1
    assert better_source({"Snapped network": disc, "Discover": net}) == 0
    simpler = result(x * y, 0.9999, complexity=2)
    assert better_source({"a": disc, "b": simpler}) == 1  # equally good: the simpler one


def test_undefined_in_the_data_box_is_flagged_and_the_plot_extends_beyond():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, 100), rng.uniform(1, 2, 100)])
    assert box_problems(result(x * y, 1.0), X) is None
    msg = box_problems(result(sp.sqrt(x) * y, 1.0), X)
    assert msg.startswith("the formula is undefined or infinite in ") and "x = -" in msg
    assert box_problems(result(y / x, 1.0), np.array([[0.0, 1.0], [1.0, 2.0]])) is not None
    line = along_input(result(x * y, 1.0), X, 1)
    assert line["x"][0] < X[:, 1].min() and line["x"][-1] > X[:, 1].max() and line["x"][0] > 0
