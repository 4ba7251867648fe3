import math

import pytest
import torch

from kan_core.engine.budget import Budget, train_budgeted
from kan_core.engine.mlp import MLP
from kan_core.errors import ConfigError

STEPS = Budget(seconds=None, adam_steps=100, lbfgs_steps=10, search_steps=10, lrs=(1e-3, 1e-2))


def data(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g) * 4 - 2
    return X, (torch.sin(X[:, :1]) + 0.5 * X[:, 1:] ** 2) * 10 + 3


def test_shape_parameter_count_and_seeded_init():
    m = MLP([2, 8, 4, 1], seed=3, device="cpu")
    assert m(torch.zeros(5, 2)).shape == (5, 1)
    assert m.n_params() == (2 * 8 + 8) + (8 * 4 + 4) + (4 + 1)
    same = MLP([2, 8, 4, 1], seed=3, device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), same.parameters()))
    torch.manual_seed(1)
    a = torch.rand(1)
    torch.manual_seed(1)
    MLP([2, 3, 1], seed=9, device="cpu")
    assert torch.equal(torch.rand(1), a)  # the global generator is left as it was


@pytest.mark.parametrize("widths", [[2], [2, 0, 1], "ab"])
def test_bad_widths_are_one_line_errors(widths):
    with pytest.raises(ConfigError, match="MLP widths"):
        MLP(widths, device="cpu")


def test_normalization_standardises_inputs_and_outputs():
    X, y = data()
    m = MLP([2, 4, 1], device="cpu")
    m.set_normalization(X, y)
    z = (X - m.in_shift) / m.in_scale
    assert torch.allclose(z.mean(0), torch.zeros(2), atol=1e-5) and torch.allclose(
        z.std(0, unbiased=False), torch.ones(2)
    )
    assert math.isclose(float(m.out_shift), float(y.mean()), rel_tol=1e-5)


def test_budgeted_training_is_deterministic_and_keeps_the_best_validation_weights():
    X, y = data()
    runs = []
    for _ in range(2):
        m = MLP([2, 16, 1], seed=0, device="cpu")
        m.set_normalization(X[:150], y[:150])
        seen = []
        rep = train_budgeted(
            m, X[:150], y[:150], X[150:], y[150:], STEPS, callback=lambda s, mt, seen=seen: seen.append(mt)
        )
        runs.append((rep, [p.detach().clone() for p in m.parameters()]))
    (a, wa), (b, wb) = runs
    assert a["val_rmse"] == b["val_rmse"] and all(torch.equal(p, q) for p, q in zip(wa, wb))
    assert a["val_rmse"] < 0.05 * float(y.std())  # a smooth 2-D target, learnt well in 110 steps
    assert math.isclose(
        a["val_rmse"], min(m["val_rmse"] for m in seen if m["phase"] != "search"), rel_tol=1e-6
    )
    assert set(a["lr_search"]) == {"0.001", "0.01"} and a["lr"] in (1e-3, 1e-2)


def test_stop_and_bad_budgets():
    X, y = data(50)
    m = MLP([2, 4, 1], device="cpu")
    stop = __import__("threading").Event()
    stop.set()
    rep = train_budgeted(m, X, y, X, y, STEPS, stop=stop)
    assert rep["status"] == "stopped" and rep["steps"] == {"adam": 0, "lbfgs": 0}
    with pytest.raises(ConfigError):
        train_budgeted(m, X, y, X, y, Budget(seconds=-1))
