import numpy as np
import pytest

from kan_core.engine.budget import Budget
from kan_core.errors import ConfigError
from kan_core.experiments.continual import continual, forgetting, peaks, phases_by_column


def test_forgetting_on_a_hand_made_error_matrix():
    E = [
        [0.1, 0.9, 0.9],
        [0.3, 0.2, 0.9],
        [0.6, 0.1, 0.05],
    ]
    f = forgetting(E)
    assert f["per_region"] == pytest.approx([0.5, -0.1])
    assert f["mean"] == pytest.approx(0.2) and f["max"] == pytest.approx(0.5)
    assert (f["first_learned"], f["first_at_end"]) == (0.1, 0.6)
    with pytest.raises(ConfigError):
        forgetting([[0.1, 0.2]])


def test_peaks_and_phases_by_column():
    X, y, phase = peaks("peaks1d", n_per_phase=20)
    assert X.shape == (100, 1) and np.array_equal(np.bincount(phase), [20] * 5)
    assert X[phase == 0].max() <= -0.6 and X[phase == 4].min() >= 0.6 and 0.9 < y.max() <= 1.01
    X2, _, _ = peaks("peaks2d", n_per_phase=10)
    assert X2.shape == (50, 2)
    Xu = np.column_stack([np.arange(12.0)[::-1], np.zeros(12)])
    ph = phases_by_column(Xu, np.zeros(12), 0, 3)
    assert list(ph) == [2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0]  # sorted by column 0, cut in 3 chunks
    with pytest.raises(ConfigError):
        phases_by_column(Xu, np.zeros(12), 5, 3)


@pytest.mark.slow
def test_the_kan_keeps_the_first_peak_while_the_mlp_forgets_it():
    """The paper's claim on the 1-D task, with a reduced budget (measured first: KAN error on
    region 1 after phase 5 ≈ 0.03 with 0.0 right after phase 1; MLP ≫ 1)."""
    budget = Budget(seconds=None, adam_steps=60, lbfgs_steps=10, search_steps=10, lrs=(1e-2, 3e-2))
    res = continual(task="peaks1d", budget=budget)
    kan, mlp = res["kan"]["forgetting"], res["mlp"]["forgetting"]
    assert np.asarray(res["kan"]["errors"]).shape == (5, 5) and len(res["curves"]["kan"]) == 5
    assert kan["first_learned"] < 0.02 and kan["first_at_end"] < 0.1
    assert mlp["first_at_end"] > 3 * kan["first_at_end"] and mlp["mean"] > kan["mean"]
