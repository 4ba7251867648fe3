import math

import numpy as np
import pytest
import sympy as sp
from sklearn.metrics import r2_score

from kan_core.discovery.pareto import Candidate, Scorer, pareto_front, r2, select_best, select_small_sample
from kan_core.symbolic.constants import loo_mse
from kan_core.symbolic.formula import complexity

x = sp.Symbol("x", real=True)


def cand(expr, c, val, train=None):
    return Candidate(sp.sympify(expr), "test", c, val if train is None else train, val)


def test_the_front_keeps_what_no_simpler_candidate_beats():
    a, dominated, c, tie, e = (
        cand(x, 1, 1.0),
        cand(x + 1, 3, 2.0),  # worse than the simpler x
        cand(2 * x, 3, 0.5),
        cand(2 * x + 1, 5, 0.5),  # no better than the simpler 2·x
        cand(sp.sin(x), 7, 0.1),
    )
    front = pareto_front([e, tie, c, dominated, a], floor=1e-14)
    assert front == [a, c, e]
    # PySR's score: −Δlog(loss)/Δcomplexity against the previous front member (0 for the first).
    assert a.score == 0.0
    assert c.score == pytest.approx((math.log(1.0) - math.log(0.5)) / 2, rel=1e-12)
    assert e.score == pytest.approx((math.log(0.5) - math.log(0.1)) / 4, rel=1e-12)


def test_the_same_formula_appears_once():
    first, again = cand(2 * x, 3, 0.5), cand(2 * x, 3, 0.5)
    assert pareto_front([first, again, cand(x, 1, 1.0)], floor=1e-14)[1:] == [first]


def test_losses_under_the_floor_are_equal():
    simple, finer = cand(2 * x, 3, 1e-20), cand(2 * x + x**2 * 1e-9, 9, 1e-25)
    start = cand(sp.Integer(1), 1, 4.0)
    front = pareto_front([finer, simple, start], floor=1e-14)
    assert front == [start, simple]
    assert simple.score == pytest.approx((math.log(4.0) - math.log(1e-14)) / 2, rel=1e-12)


def test_exact_constants_beat_their_round_off_at_equal_complexity():
    rounded = cand(sp.Float(6.28318530717959) * x, 3, 1e-31)  # lower loss, but only round-off
    exact = cand(2 * sp.pi * x, 3, 1e-30)
    front = pareto_front([rounded, exact], floor=1e-20)
    assert [c.expr for c in front] == [2 * sp.pi * x]
    # Above the floor a float that fits better is a real improvement and wins.
    rounded.val_mse, exact.val_mse = 1e-3, 2e-3
    assert [c.expr for c in pareto_front([rounded, exact], floor=1e-20)] == [rounded.expr]


def test_select_best_takes_the_top_score_among_near_best_losses():
    # Scores: b = ln(1/0.01)/2 = 2.303, c = ln(0.01/0.009)/3 = 0.035; both ≤ 1.5 × 0.009.
    a, b, c = cand(x, 1, 1.0), cand(2 * x, 3, 0.01), cand(2 * x + sp.sin(x), 6, 0.009)
    front = pareto_front([a, b, c], floor=1e-14)
    assert b.score == pytest.approx(math.log(100) / 2) and c.score == pytest.approx(
        math.log(0.01 / 0.009) / 3
    )
    assert select_best(front) is b
    # Here b (score ln 10 = 2.30) is 2× the best loss, outside 1.5×: c (score ln 2 / 2) is chosen.
    a, b, c = cand(x, 1, 1.0), cand(2 * x, 2, 0.1), cand(2 * x + sp.sin(x), 4, 0.05)
    front = pareto_front([a, b, c], floor=1e-14)
    assert b.score == pytest.approx(math.log(10)) and c.score == pytest.approx(math.log(2) / 2)
    assert select_best(front) is c


def test_select_best_breaks_score_ties_by_simplicity():
    a, b = cand(x, 3, 1.0), cand(2 * x, 5, 1.0)
    a.score = b.score = 0.5
    assert select_best([b, a]) is a


def test_small_samples_choose_by_aicc():
    n, floor = 10, 1e-14
    one = cand(sp.Float(2.1) * x, 3, 9.0, train=0.5)  # k = 1
    two = cand(sp.Float(2.0) * x + sp.Float(0.3), 5, 9.0, train=0.1)  # k = 2
    three = cand(sp.Float(2.0) * x + sp.Float(0.3) + sp.Float(0.01) * x**2, 9, 9.0, train=0.09)  # k = 3

    def aicc(mse, k):
        return n * math.log(mse) + 2 * k + 2 * k * (k + 1) / (n - k - 1)

    # By hand: -4.43, -17.31, -14.08: two constants win although three fit a little better.
    assert aicc(0.1, 2) < aicc(0.09, 3) < aicc(0.5, 1)
    assert select_small_sample([one, two, three], n, floor) is two
    # With as many constants as rows allow (n − k − 1 ≤ 0) a formula cannot be chosen.
    assert (
        select_small_sample([one, cand(sp.Float(1.5) * x + sp.Float(0.2), 5, 1.0, train=1e-9)], 3, floor)
        is one
    )


def test_small_samples_keep_the_simplest_law_within_the_noise():
    """Kepler's six planets: an offset of −1.04 days lowers the training MSE from 594 to 94.6 and
    wins the AICc (45.3 vs 46.3), but F = 15.8 on (1, 3) degrees of freedom (p ≈ 0.03) cannot tell
    the two apart at 1%: c·a^(3/2) is chosen. A 100-fold gain (p < 0.001) keeps the offset."""
    n, floor = 6, 1e-14
    power = cand(sp.Float(364.8) * x ** sp.Rational(3, 2), 5, 852.0, train=594.1)  # k = 2
    offset = cand(sp.Float(366.1) * x ** sp.Rational(3, 2) - sp.Float(1.04), 7, 185.0, train=94.6)  # k = 3
    assert select_small_sample([power, offset], n, floor) is power
    clear = cand(sp.Float(366.1) * x ** sp.Rational(3, 2) - sp.Float(1.04), 7, 185.0, train=5.94)
    assert select_small_sample([power, clear], n, floor) is clear


def test_scorer_splits_disjointly_and_reproducibly():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (20, 1))
    y = 2 * X[:, 0] + 1
    sc = Scorer(X, y, [x], seed=3, n_val=5)
    assert len(sc.val) == 5 and len(sc.tr) == 15
    assert sorted([*sc.val, *sc.tr]) == list(range(20))
    assert np.array_equal(sc.Xv, X[sc.val]) and np.array_equal(sc.yv, y[sc.val])
    assert np.array_equal(Scorer(X, y, [x], seed=3, n_val=5).val, sc.val)
    assert not np.array_equal(Scorer(X, y, [x], seed=4, n_val=5).val, sc.val)
    assert sc.floor == pytest.approx(1e-14 * np.var(y))
    assert Scorer(X, np.ones(20), [x], seed=0, n_val=5).floor == 1e-14  # constant y: floor of 1


def test_scorer_losses_metrics_and_selection():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (30, 1))
    y = 2 * X[:, 0] + 1
    sc = Scorer(X, y, [x], seed=0, n_val=6)
    mean = float(np.mean(y[sc.tr]))
    sc.add(sp.Float(mean), "constant")
    sc.add(2 * x + 1, "exact")
    const, exact = sc.cands
    assert const.train_mse == pytest.approx(np.var(y[sc.tr]), rel=1e-12)
    assert const.val_mse == pytest.approx(np.mean((y[sc.val] - mean) ** 2), rel=1e-12)
    assert (
        exact.val_mse <= sc.floor and exact.complexity == complexity(2 * x + 1) == 5
    )  # +, its constant, ×, 2, x
    assert sc.exact() and not sc.exact(max_complexity=4)
    front, best, metrics = sc.select()
    assert front == [const, exact] and best is exact
    assert metrics["n_train"] == 24 and metrics["n_val"] == 6
    assert metrics["val_r2"] == 1.0 and metrics["val_rmse"] <= 1e-12
    assert metrics["formula_vs_network"] is None


def test_tiny_data_is_scored_by_leave_one_out():
    X = np.linspace(0.0, 1.0, 6)[:, None]
    y = np.array([0.1, 0.9, 2.2, 2.8, 4.1, 5.0])
    sc = Scorer(X, y, [x], seed=0, n_val=0)
    expr = sp.Float(4.9) * x + sp.Float(0.05)
    sc.add(expr, "line")
    assert np.array_equal(sc.Xv, X[sc.tr]) and len(sc.tr) == 6
    assert sc.cands[0].val_mse == pytest.approx(loo_mse(expr, [x], X[sc.tr], y[sc.tr]), rel=1e-9)
    _, best, metrics = sc.select()
    assert best is sc.cands[0] and metrics["n_val"] == 0


def test_r2_matches_scikit_learn():
    rng = np.random.default_rng(2)
    y = rng.normal(size=50)
    pred = y + rng.normal(scale=0.3, size=50)
    assert r2(y, pred) == pytest.approx(r2_score(y, pred), rel=1e-12)
    assert r2(y, np.full(50, y.mean())) == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(r2(np.ones(5), np.zeros(5)))
