import math

import numpy as np
import pytest

from kan_core.engine.budget import Budget
from kan_core.errors import ConfigError, DataError
from kan_core.experiments.compare import compare, scaling_exponent, smallest_reaching


def test_scaling_exponent_recovers_a_known_power_law():
    n = np.array([50, 120, 400, 1500, 6000])
    noise = np.exp(np.random.default_rng(0).normal(0, 0.02, n.size))
    fit = scaling_exponent(n, 3.0 * n**-2.5 * noise)
    assert abs(fit["alpha"] - 2.5) < 0.05 and abs(fit["c"] / 3.0 - 1) < 0.2 and fit["points"] == 5
    exact = scaling_exponent([10, 100], [1.0, 0.01])
    assert math.isclose(exact["alpha"], 2.0) and math.isclose(exact["c"], 100.0)
    assert scaling_exponent([10, 10], [1.0, 0.5]) is None  # one size only: no exponent
    assert scaling_exponent([10, 100, 1000], [1.0, np.nan, 0.0]) is None  # one usable point


def test_smallest_reaching_picks_the_fewest_parameters_under_the_target():
    models = [
        {"params": 300, "test_rmse": 0.01},
        {"params": 40, "test_rmse": 0.2},
        {"params": 90, "test_rmse": 0.05},
    ]
    assert smallest_reaching(models, 0.06)["params"] == 90
    assert smallest_reaching(models, 0.001) is None


def test_a_short_compare_run_measures_both_families_on_one_split():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 2))
    y = np.exp(np.sin(np.pi * X[:, 0]) + X[:, 1] ** 2)
    tiny = Budget(seconds=None, adam_steps=10, lbfgs_steps=2, search_steps=5, lrs=(1e-2,))
    seen = []
    res = compare(
        X,
        y,
        kan_sizes=[(1, 3), (2, 3)],
        mlp_sizes=[(4,), (8,)],
        budget=tiny,
        callback=lambda s, m: seen.append(m),
    )
    assert res["split"] == {"train": 72, "val": 24, "test": 24}
    for kind in ("kan", "mlp"):
        models = res[kind]["models"]
        assert len(models) == 2 and all(math.isfinite(m["test_rmse"]) and m["test_rmse"] > 0 for m in models)
        assert models[0]["params"] < models[1]["params"] and res[kind]["scaling"]["points"] == 2
    assert res["kan"]["models"][0]["params"] == 3 * 8  # [2, 1, 1], grid 3: 3 edges × (6 coef + w_s + w_b)
    assert res["mlp"]["models"][0]["params"] == 2 * 4 + 4 + 4 + 1
    assert res["rmse_target"] == pytest.approx(
        0.05 * np.std(y[np.random.default_rng(0).permutation(120)[:24]])
    )
    assert {m["family"] for m in seen} == {"kan", "mlp"}


def test_bad_input_is_refused_in_one_line():
    with pytest.raises(DataError):
        compare(np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(ConfigError):
        compare(np.zeros((50, 1)), np.zeros(50), kan_sizes=[])
