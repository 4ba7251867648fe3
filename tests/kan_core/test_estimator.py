import numpy as np
import pandas as pd
import pytest
import sympy as sp
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from kan_core import KAN, KANRegressor


@pytest.mark.slow
def test_check_estimator_passes():
    results = check_estimator(KANRegressor(steps=5), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 40


def test_fits_a_smooth_law_in_float64():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 5, size=(400, 2))
    y = X[:, 0] ** 1.5 / X[:, 1]
    est = KANRegressor(hidden=(4,), steps=40, random_state=0).fit(X, y)
    assert est.n_features_in_ == 2 and isinstance(est.model_, KAN)
    assert est.score(X, y) > 0.999
    assert est.predict(X).dtype == np.float64 and est.predict(X).shape == (400,)
    assert len(est.history_.train_rmse) == 40


def test_works_inside_sklearn_tools():
    rng = np.random.default_rng(1)
    # Bounded inputs: outside the training range a KAN edge falls back to its base function.
    X = rng.uniform(-2, 2, size=(150, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    scores = cross_val_score(
        make_pipeline(StandardScaler(), KANRegressor(steps=15, random_state=0)), X, y, cv=3
    )
    assert scores.min() > 0.99  # measured 0.9987


@pytest.mark.slow
def test_formula_regressor_passes_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    from kan_core import FormulaRegressor

    reason = "results depend on the wall-clock budget: a refit of noisy data may differ (issue #15, item 10)"
    weak = (
        "in 0.5 s on a busy machine the search on scikit-learn's 10-column, 1-informative, noisy data "
        "may end with a weak formula that the verdict rejects as no better than the mean (score 0)"
    )
    check_estimator(
        FormulaRegressor(seconds=0.5, random_state=0),
        expected_failed_checks={"check_regressor_data_not_an_array": reason, "check_regressors_train": weak},
    )


@pytest.mark.slow
def test_formula_regressor_finds_a_law_in_a_pipeline_and_cross_validation():
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from kan_core import FormulaRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"m": rng.uniform(1, 3, 300), "v": rng.uniform(1, 3, 300)})
    y = 0.5 * X["m"] * X["v"] ** 2
    est = FormulaRegressor(seconds=10, random_state=0).fit(X, y)
    assert (
        sp.simplify(
            est.sympy() - sp.Rational(1, 2) * sp.Symbol("m", real=True) * sp.Symbol("v", real=True) ** 2
        )
        == 0
    )
    assert est.equations_["best"].sum() == 1 and list(est.equations_.columns)[:4] == [
        "complexity",
        "loss",
        "val_loss",
        "score",
    ]
    assert "m" in est.latex() and np.allclose(est.predict(X), y)
    pipe = make_pipeline(FunctionTransformer(), FormulaRegressor(seconds=3, random_state=0))
    assert cross_val_score(pipe, X, y, cv=2).min() > 0.999
