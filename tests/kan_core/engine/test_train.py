import math
import re
import threading

import numpy as np
import pytest
import torch

from kan_core import KAN, ConfigError, DataError, TrainConfig, TrainingDiverged, fit


def toy(n, seed, scale_x=1.0, shift_x=0.0, scale_y=1.0):
    """exp(sin(πx) + y²) on [-1, 1]², optionally in other units."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=g) * 2 - 1
    target = torch.exp(torch.sin(math.pi * u[:, 0]) + u[:, 1] ** 2)
    return u * scale_x + shift_x, target[:, None] * scale_y


def rmse(model, X, y):
    with torch.no_grad():
        return torch.sqrt(torch.mean((model(X) - y) ** 2)).item()


@pytest.mark.slow
def test_kan_fits_exp_sin_plus_square():
    X, y = toy(1000, 0)
    Xt, yt = toy(1000, 1)
    model = KAN([2, 5, 1], grid=5, k=3, seed=0, device="cpu")
    hist = fit(model, X, y, steps=50, opt="lbfgs")
    assert hist.status == "completed" and len(hist.train_rmse) == 50
    assert rmse(model, Xt, yt) <= 1e-2  # measured 4.0e-3


def test_same_seed_same_history_and_weights():
    X, y = toy(300, 0)
    runs = []
    for _ in range(2):
        model = KAN([2, 3, 1], seed=3, device="cpu")
        hist = fit(
            model,
            X,
            y,
            steps=15,
            opt="adam",
            batch_size=64,
            lamb=1e-3,
            val_fraction=0.2,
            grid_update_every=5,
            seed=7,
        )
        runs.append((hist, model.state_dict()))
    (h1, s1), (h2, s2) = runs
    assert h1.train_rmse == h2.train_rmse and h1.val_rmse == h2.val_rmse and h1.reg == h2.reg
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    other = KAN([2, 3, 1], seed=4, device="cpu")
    assert fit(other, X, y, steps=15, opt="adam", seed=7).train_rmse != h1.train_rmse


def test_inputs_of_any_scale_train_without_normalising():
    X, y = toy(800, 0, scale_x=3e4, shift_x=1e6, scale_y=1e-5)
    Xt, yt = toy(500, 1, scale_x=3e4, shift_x=1e6, scale_y=1e-5)
    model = KAN([2, 5, 1], seed=0, device="cpu")
    fit(model, X.double(), y.double(), steps=30, opt="lbfgs")
    rel = rmse(model, Xt, yt) / yt.std().item()
    assert rel <= 2e-2
    lo, hi = model.layers[0].grid_range
    assert torch.all(lo < -1) and torch.all(hi > 1)  # grid in standardised units spans the data


PATTERN = r"^training diverged at step (\d+); weights restored to step (\d+); lower the learning rate$"


def diverge(model, X, y, **kwargs):
    seen = {0: {k: v.clone() for k, v in model.state_dict().items()}}
    user_cb = kwargs.pop("callback", None)

    def remember(step, metrics):
        seen[step] = {k: v.clone() for k, v in model.state_dict().items()}
        if user_cb:
            user_cb(step, metrics)

    with pytest.raises(TrainingDiverged, match=PATTERN) as err:
        fit(model, X, y, callback=remember, **kwargs)
    bad, good = (int(v) for v in re.match(PATTERN, str(err.value)).groups())
    assert err.value.history.status == "diverged" and bad == err.value.history.step[-1] + 1
    assert all(torch.equal(model.state_dict()[k], seen[good][k]) for k in seen[good])
    assert math.isfinite(rmse(model, X, y))  # the restored weights evaluate finite
    return bad, good


def test_nan_guard_with_a_huge_learning_rate():
    X, y = toy(200, 0)
    model = KAN([2, 3, 1], seed=0, device="cpu")
    fit(model, X, y, steps=3, opt="adam")
    assert diverge(model, X, y, steps=50, opt="adam", lr=1e12) == (2, 0)


@pytest.mark.parametrize("opt, expected", [("adam", (24, 20)), ("lbfgs", (24, 20))])
def test_nan_guard_restores_the_last_checked_snapshot(opt, expected):
    X, y = toy(200, 0)
    model = KAN([2, 3, 1], seed=0, device="cpu")

    def blow_up(step, metrics):
        if step == 23:
            with torch.no_grad():
                model.layers[1].w_b.fill_(float("inf"))

    # Adam's loss at 24 measures the inf weights; snapshots are every 10 steps.
    assert diverge(model, X, y, steps=50, opt=opt, callback=blow_up) == expected


def test_stop_event_stops_and_keeps_the_model():
    X, y = toy(200, 0)
    model = KAN([2, 3, 1], seed=0, device="cpu")
    stop = threading.Event()

    def cb(step, metrics):
        assert set(metrics) >= {"train_rmse", "step", "steps"}
        if step == 7:
            stop.set()

    hist = fit(model, X, y, steps=100, opt="adam", callback=cb, stop_event=stop)
    assert hist.status == "stopped" and hist.step[-1] == 7 and len(hist.train_rmse) == 7
    more = fit(model, X, y, steps=5, opt="adam")  # continues from the trained model
    assert more.train_rmse[0] <= hist.train_rmse[0]


def test_validation_split_and_explicit_validation_set():
    X, y = toy(300, 0)
    hist = fit(KAN([2, 3, 1], seed=0, device="cpu"), X, y, steps=5, val_fraction=0.25)
    assert len(hist.val_rmse) == 5 and all(np.isfinite(hist.val_rmse))
    Xv, yv = toy(50, 9)
    hist = fit(KAN([2, 3, 1], seed=0, device="cpu"), X, y, steps=4, X_val=Xv, y_val=yv)
    assert hist.val_step == [1, 2, 3, 4]


def test_sparsity_penalty_shrinks_edges():
    X, y = toy(300, 0)
    y = torch.sin(math.pi * X[:, :1])  # the second input is irrelevant
    scores = []
    for lamb in (0.0, 1e-2):
        model = KAN([2, 3, 1], seed=0, device="cpu")
        hist = fit(model, X, y, steps=100, opt="adam", lamb=lamb)
        assert (hist.reg[-1] > 0) == (lamb > 0)
        scores.append(model.attribution(X)["edges"][0][1].sum().item())
    assert scores[1] < 0.3 * scores[0]  # measured 0.22 -> 0.03


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"opt": "sgd"}, ConfigError, "unknown optimizer"),
        ({"val_fraction": 1.5}, ConfigError, "val_fraction"),
    ],
)
def test_bad_settings(kwargs, error, match):
    X, y = toy(20, 0)
    with pytest.raises(error, match=match):
        fit(KAN([2, 1], device="cpu"), X, y, steps=1, **kwargs)


def test_bad_data_is_a_one_line_error():
    model = KAN([2, 1], device="cpu")
    X, y = toy(20, 0)
    with pytest.raises(DataError, match="input column"):
        fit(model, X[:, :1].repeat(1, 3), y, steps=1)
    with pytest.raises(DataError, match="row"):
        fit(model, X, y[:5], steps=1)
    X[3, 0] = float("nan")
    with pytest.raises(DataError, match="NaN or inf"):
        fit(model, X, y, steps=1)
    assert not bool(model.initialized)  # nothing was changed by the refused calls


def test_numpy_and_float64_inputs():
    X, y = toy(100, 0)
    hist = fit(KAN([2, 2, 1], device="cpu"), X.double().numpy(), y[:, 0].numpy(), steps=2)
    assert len(hist.train_rmse) == 2


def test_train_config_is_validated_and_overridable():
    cfg = TrainConfig(steps=3, opt="ADAM")
    assert cfg.opt == "adam" and cfg.replace(steps=7).steps == 7 and cfg.steps == 3
    with pytest.raises(ConfigError, match="unknown training option"):
        cfg.replace(step=3)
    with pytest.raises(ConfigError, match="unknown training option"):
        fit(KAN([2, 1], device="cpu"), *toy(20, 0), cfg, stepz=3)
    with pytest.raises(ConfigError, match="lr must be"):
        TrainConfig(lr=-1.0)
    X, y = toy(50, 0)
    hist = fit(KAN([2, 1], device="cpu"), X, y, cfg, steps=4)  # a keyword overrides the config
    assert hist.step == [1, 2, 3, 4]


def test_fit_estimator_and_studio_share_the_training_defaults():
    from app.services import TrainSettings
    from kan_core import KANRegressor

    base, est, studio = TrainConfig(), KANRegressor(), TrainSettings()
    assert (est.steps, est.opt, est.lr, est.lamb, est.batch_size) == (
        base.steps,
        base.opt,
        base.lr,
        base.lamb,
        base.batch_size,
    )
    assert (studio.steps, studio.optimizer.lower(), studio.seed) == (base.steps, base.opt, base.seed)
    assert studio.lr == 1.0 and base.lr is None and studio.lamb > base.lamb  # the documented differences


def test_old_names_still_work_with_a_warning():
    X, y = toy(40, 0)
    model = KAN([2, 2, 1], device="cpu")
    hist = fit(model, X, y, steps=2)
    with pytest.warns(DeprecationWarning, match="train_rmse"):
        assert hist.train_loss == hist.train_rmse
    with pytest.warns(DeprecationWarning, match="attribution"):
        old = model.edge_scores(X)
    assert torch.equal(old["edges"][0], model.attribution(X)["edges"][0])
    with pytest.warns(DeprecationWarning, match="refined"):
        assert model.refine(7).layers[0].grid == 7 and model.layers[0].grid == 5
