"""The workspace without a browser: training robustness (divergence, stop, data change, two users)."""

import time

import numpy as np
import pandas as pd
import pytest
import torch

from app.services import TrainingJob, TrainSettings
from app.state import Studio
from kan_core.errors import ConfigError, ModelError


def studio(seed: int = 0, n: int = 300) -> Studio:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.uniform(-1, 1, n), "b": rng.uniform(-1, 1, n)})
    df["y"] = np.sin(3 * df.a) + df.b**2 + seed
    s = Studio()
    s.load_upload(df.to_csv(index=False).encode(), f"data{seed}.csv")
    return s


def finite(model) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in model.state_dict().values() if v.is_floating_point())


def test_divergence_restores_weights_and_leaves_a_usable_workspace():
    s = studio()
    s.train(TrainSettings(steps=2))
    s.job.wait()
    s.poll()
    # The Train page caps the learning rate at 10; the job itself must survive any value.
    wild = TrainSettings(optimizer="Adam", lr=1e12, steps=50, lamb=0.0)
    s.job = TrainingJob(s.model, s.dataset.X, s.dataset.y, wild, small=False)
    s.job.wait()
    s.poll()
    assert s.job.status == "diverged" and "lower the learning rate" in s.job.message
    assert finite(s.model) and s.steps_done == 2 + s.job.step
    s.train(TrainSettings(steps=3))
    s.job.wait()
    assert s.job.status == "completed" and finite(s.model)


def test_stop_mid_training_keeps_a_consistent_model_and_continues():
    s = studio()
    s.train(TrainSettings(optimizer="Adam", lr=0.01, steps=5000))
    time.sleep(0.5)
    s.stop()
    job = s.job
    assert job.status == "stopped" and 0 < job.step < 5000 and not s.training
    assert s.steps_done == job.step == len(s.curves["train"]) and finite(s.model)
    X = torch.tensor(s.dataset.X, dtype=s.model.dtype)
    with torch.no_grad():
        before = s.model(X)
    s.train(TrainSettings(steps=2))  # the same architecture: training continues on the same model
    s.job.wait()
    s.poll()
    assert s.steps_done == job.step + 2 and s.curves["step"][-1] == s.steps_done
    with torch.no_grad():
        assert not torch.equal(before, s.model(X))


def test_changing_the_data_while_training_stops_the_job_first():
    s = studio()
    s.train(TrainSettings(optimizer="Adam", lr=0.01, steps=5000))
    time.sleep(0.3)
    job = s.job
    s.load_example("x*y")
    assert not job.running and job.status == "stopped"
    assert s.model is None and s.dataset.features == ["x", "y"] and s.curves == {}
    with pytest.raises(ModelError, match="train a model first"):
        s.auto_prune(0.1)


def test_two_sessions_training_at_once_match_training_alone():
    alone = []
    for seed in (1, 2):
        s = studio(seed)
        s.train(TrainSettings(steps=8, seed=seed))
        s.job.wait()
        alone.append(s.model.state_dict())
    both = [studio(1), studio(2)]
    for seed, s in zip((1, 2), both):
        s.train(TrainSettings(steps=8, seed=seed))
    for s in both:
        s.job.wait()
    for s, ref in zip(both, alone):
        assert s.job.status == "completed"
        for key, value in s.model.state_dict().items():
            assert torch.equal(value, ref[key]), key


def test_edits_are_undoable_and_a_bad_setting_is_one_line():
    s = studio()
    with pytest.raises(ConfigError, match="hidden widths 'x'"):
        s.train(TrainSettings(hidden="x"))
    s.train(TrainSettings(steps=3))
    s.job.wait()
    s.lock_edge((0, 0, 0), True)
    s.prune_edge((0, 1, 0))
    assert s.undo.labels[0] == ["lock edge", "prune edge"]
    s.undo_step()
    assert float(s.model.layers[0].mask[1, 0]) == 1 and bool(s.model.layers[0].lock[0, 0])
    s.train(TrainSettings(steps=1, grid=7))  # a grid change is a structural, undoable step
    s.job.wait()
    assert s.model.layers[0].grid == 7 and s.undo.labels[0][-1] == "grid 7"
    s.reset()
    s.undo_step()
    assert s.model is not None and s.model.layers[0].grid == 7


def test_settings_from_a_link_ignore_bad_values():
    got = TrainSettings.from_query(
        {"hidden": "4,4", "grid": "abc", "lr": "-1", "optimizer": "Adam", "k": "9"}
    )
    assert (got.hidden, got.grid, got.lr, got.optimizer, got.k) == ("4,4", 5, 1.0, "Adam", 3)
    assert TrainSettings.from_query(got.to_query()) == got
    assert TrainSettings(hidden="3, 2").widths(4) == [4, 3, 2, 1]
    assert TrainSettings(hidden="").widths(2) == [2, 1]


def test_hidden_widths_that_spell_the_whole_network_are_read_as_such():
    """`3, [2, 1], 1` for three inputs is the network the help text shows, not hidden layers of
    3, [2, 1] and 1 nodes ([3, 3, [2, 1], 1, 1] was built silently)."""
    whole = TrainSettings(hidden="3, [2, 1], 1")
    assert whole.widths(3) == [3, [2, 1], 1] and whole.whole_network(3)
    assert TrainSettings(hidden="3, 5, 1").widths(3) == [3, 5, 1]
    assert TrainSettings(hidden="3, [2, 1], 1").widths(4) == [4, 3, [2, 1], 1, 1]  # 4 inputs: hidden
    assert TrainSettings(hidden="3, 1").widths(3) == [3, 3, 1, 1]  # two entries: hidden widths


def test_wide_and_long_tables_load_with_a_choice_made_for_the_user():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(50, 120)), columns=[f"c{k}" for k in range(120)])
    s = Studio()
    s.load_upload(wide.to_csv(index=False).encode(), "wide.csv")
    assert s.dataset.target == "c119" and s.dataset.features == [f"c{k}" for k in range(10)]
    assert s.notes[0] == "119 numeric columns: the first 10 are selected; choose the features to use"
    s.set_columns("c0", ["c5", "c7"])
    assert s.dataset.features == ["c5", "c7"]


@pytest.mark.parametrize(
    "query",
    [{"seed": "-5"}, {"seed": str(10**30)}, {"lr": "1e-9"}, {"lr": "nan"}, {"hidden": "²"}, {"lamb": "inf"}],
)
def test_settings_from_a_link_stay_within_the_train_pages_widgets(query):
    got = TrainSettings.from_query(query)
    assert got == TrainSettings()  # out of the widgets' bounds: the default is kept
    got.validate()


def _saved(s: Studio, undo_model=None) -> bytes:
    from kan_core.io.session import Session, session_bytes

    session = Session(
        s.model,
        {"target": s.dataset.target, "features": s.dataset.features, "steps_done": 2},
        {"step": [1, 2], "train": [0.5, 0.4]},
    )
    if undo_model is not None:
        session.undo.push("edit", undo_model)
    return session_bytes(session)


def test_restore_refuses_undo_steps_of_another_model_and_keeps_the_workspace():
    from kan_core import KAN
    from kan_core.errors import SessionError

    s = studio()
    s.train(TrainSettings(steps=2))
    s.job.wait()
    s.poll()
    raw = _saved(s, undo_model=KAN([5, 3, 1], seed=0, device="cpu"))
    model, curves = s.model, dict(s.curves)
    with pytest.raises(SessionError, match="inputs do not match"):
        s.restore(raw, "other.kan")
    assert s.model is model and s.curves == curves


def test_restore_while_training_stops_the_job_and_keeps_the_sessions_curves():
    s = studio()
    s.train(TrainSettings(steps=2))
    s.job.wait()
    s.poll()
    raw = _saved(s)
    s.train(TrainSettings(optimizer="Adam", lr=0.01, steps=5000))
    time.sleep(0.3)
    job = s.job
    s.restore(raw, "saved.kan")
    time.sleep(0.3)
    s.poll()
    assert not job.running and s.curves["step"] == [1, 2] and s.steps_done == 2


def test_discovery_runs_in_a_worker_and_stop_ends_it_within_a_second():
    s = studio()
    job = s.start_discover(60)
    deadline = time.perf_counter() + 60
    while not job.progress and time.perf_counter() < deadline:  # the search is under way
        time.sleep(0.05)
        job.poll()
    t0 = time.perf_counter()
    s.stop_discover()
    assert time.perf_counter() - t0 < 1.0
    assert job.status == "stopped" and not job._proc.is_alive() and "discover" not in s.results


def test_discovery_result_reaches_the_workspace():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.uniform(1, 2, 200)})
    df["y"] = 2 * df.x + 1
    s = Studio()
    s.load_upload(df.to_csv(index=False).encode(), "line.csv")
    job = s.start_discover(10)
    while job.running:
        time.sleep(0.1)
    assert s.poll_discover() and not s.poll_discover()  # taken in once
    res = s.results["discover"]
    assert np.allclose(res.predict(df[["x"]]), df.y) and res.best.complexity <= 5


def test_new_data_stops_a_running_discovery_and_drops_its_result():
    s = studio()
    job = s.start_discover(60)
    s.load_example("x*y")
    assert job.status == "stopped" and not s.poll_discover()


def test_inspect_reads_a_studio_session_trained_in_log_space(tmp_path, capsys):
    from app.services import TrainSettings
    from kan_core.__main__ import main

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 4, (80, 2))
    rows = "\n".join(f"{a:.5f},{b:.5f},{3 * a / b:.6f}" for a, b in X)
    s = Studio()
    s.load_upload(f"p,q,r\n{rows}\n".encode(), "ratio.csv")
    s.train(TrainSettings(hidden="", log_space=True, lamb=0.0, steps=20))
    s.job.wait()
    s.poll()
    s.auto_snap(0.99)
    (tmp_path / "s.kan").write_bytes(s.session_file())
    assert main(["inspect", str(tmp_path / "s.kan")]) == 0
    out = capsys.readouterr().out.splitlines()
    rmse = [line for line in out if line.startswith("training: 20 steps, last train RMSE ")]
    assert rmse and np.isfinite(float(rmse[0].rsplit(" ", 1)[1]))
    assert "trained in log space: log|target| against the logs of the features" in out
    formula = out[-1].removeprefix("formula: r = ")
    import sympy as sp

    p, q = sp.symbols("p q")
    expr = sp.sympify(formula)
    assert abs(float(expr.subs({p: 2.0, q: 1.5})) - 4.0) < 0.05  # 3·p/q, read back through exp


@pytest.mark.slow
def test_suggested_network_snaps_a_sine_of_four_periods_with_its_phase():
    from app.services import TrainSettings
    from kan_core.discovery.suggest import suggest_network

    t = np.sort(np.random.default_rng(3).uniform(0, 8, 200))
    rows = "\n".join(f"{a:.4f},{0.12 * np.sin(3.1 * a + 0.4):.6f}" for a in t)
    s = Studio()
    s.load_upload(f"time (s),x (m)\n{rows}\n".encode(), "pendulum.csv")
    sug = suggest_network(s.dataset.X, s.dataset.y, s.dataset.features)
    s.train(TrainSettings(hidden=sug.hidden, log_space=sug.log_space, grid=sug.grid, lamb=0.0))
    s.job.wait()
    s.poll()
    s.auto_snap(0.99)
    expr = s.network_formula().best.expr
    (u,) = s.network_formula().symbols
    import sympy as sp

    A, w, p = sp.Wild("A", exclude=[u]), sp.Wild("w", exclude=[u]), sp.Wild("p", exclude=[u])
    m = expr.match(A * sp.sin(w * u + p))
    assert m is not None, expr
    assert abs(float(m[A]) - 0.12) < 1e-3 and abs(float(m[w]) - 3.1) < 1e-3 and abs(float(m[p]) - 0.4) < 1e-2
