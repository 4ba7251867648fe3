"""Never lose work: the workspace on the server's disk under the URL's key, new data asks first,
a failed restore can be retried, uploader chips are emptied after each file."""

import os
import time

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from app import services, store
from kan_core.symbolic.export import short_text

from .conftest import APP, click, train


def csv(names: str, f, n: int = 60, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    X = rng.uniform(1, 2, (n, 2))
    rows = "\n".join(f"{a:.5f},{b:.5f},{f(a, b):.5f}" for a, b in X)
    return f"{names}\n{rows}\n".encode()


def reopen(key: str) -> AppTest:
    """A new browser session (a reload) opening the page with the workspace key in its URL."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = key
    at.run()
    assert not at.exception
    return at


def upload(at, name: str, raw: bytes) -> None:
    [u for u in at.file_uploader if u.label == "Upload CSV"][0].set_value((name, raw, "text/csv")).run()
    assert not at.exception


def test_reload_restores_data_model_undo_and_settings(at):
    key = at.query_params["ws"]
    key = key[0] if isinstance(key, list) else key
    assert store.valid_key(key)
    upload(at, "lab.csv", csv("a,b,y", lambda a, b: a * b))
    studio = train(at, steps=3)
    click(at, "Reset model")  # an undoable step: the undo stack must survive the reload too
    studio = train(at, steps=2)
    at.run()
    again = reopen(key).session_state["studio"]
    assert again is not studio and again.source == "lab.csv"
    assert again.dataset.features == ["a", "b"] and again.steps_done == 2
    assert again.model.edges() == studio.model.edges() and again.undo.labels[0] == ["reset"]
    assert np.allclose(again.dataset.X, studio.dataset.X)


def test_unknown_or_malformed_keys_get_a_fresh_workspace(at):
    for key in ["A" * 32, "../../etc", ""]:
        fresh = reopen(key)
        new = fresh.query_params["ws"]
        new = new[0] if isinstance(new, list) else new
        assert new != key and store.valid_key(new) and fresh.session_state["studio"].model is None


def test_disk_is_bounded_least_recently_used_first(tmp_path, monkeypatch):
    monkeypatch.setenv("KAN_STUDIO_WORKSPACES", str(tmp_path))
    keys = [store.new_key() for _ in range(5)]
    for i, k in enumerate(keys):
        assert store.save(k, {"workspace.json": b"{}", "data.csv": b"x\n1\n"})
        os.utime(tmp_path / k, (time.time() - 100 + i, time.time() - 100 + i))
    monkeypatch.setattr(store, "MAX_WORKSPACES", 3)
    store.load(keys[0])  # used again: now the most recent
    store.save(store.new_key(), {"workspace.json": b"{}"})
    left = {p.name for p in tmp_path.iterdir()}
    assert len(left) == 3 and keys[0] in left and keys[1] not in left and keys[2] not in left
    monkeypatch.setattr(store, "MAX_WORKSPACE_BYTES", 10)
    assert not store.save(store.new_key(), {"data.csv": b"x" * 11})


def test_new_data_asks_discard_is_one_undo_away_keep_continues(at):
    upload(at, "one.csv", csv("a,b,y", lambda a, b: a + b))
    studio = train(at, steps=3)
    model = studio.model
    at.switch_page("app/pages/data.py").run()
    upload(at, "two.csv", csv("a,b,y", lambda a, b: a - b, seed=1))
    assert studio.source == "one.csv" and studio.model is model  # nothing replaced yet
    click(at, "Keep model")
    assert studio.source == "two.csv" and studio.model is model and studio.steps_done == 3
    upload(at, "three.csv", csv("p,q,r", lambda a, b: a / b))
    click(at, "Keep model")  # other columns: the new table is not used
    assert studio.source == "two.csv" and studio.model is model
    assert any("lacks the model's column" in i.value for i in at.info)
    upload(at, "three.csv", csv("p,q,r", lambda a, b: a / b))
    click(at, "Discard model")
    assert studio.source == "three.csv" and studio.model is None
    click(at, "Undo")
    assert studio.source == "two.csv" and studio.model is model and studio.dataset.features == ["a", "b"]


def test_failed_restore_can_be_retried_and_chips_are_emptied(at):
    upload(at, "lab.csv", csv("a,b,y", lambda a, b: a * b))
    studio = train(at, steps=2)
    raw = studio.session_file()
    at.switch_page("app/pages/data.py").run()
    upload(at, "other.csv", csv("p,q,r", lambda a, b: a + b))
    click(at, "Discard model")
    restore = [u for u in at.file_uploader if u.label == "Restore session"][0]
    restore.set_value(("work.kan", raw, "application/zip")).run()
    assert studio.model is None and "load that data first" in at.error[0].value
    assert [u for u in at.file_uploader if u.label == "Restore session"][0].value is None  # chip emptied
    assert [u for u in at.file_uploader if u.label == "Upload CSV"][0].value is None
    upload(at, "lab.csv", csv("a,b,y", lambda a, b: a * b))
    click(at, "Retry restore")
    assert studio.model is not None and studio.steps_done == 2
    assert any("restored work.kan" in s.value for s in at.success)


def formula_page(at) -> dict:
    """What the Formula page shows: formula, verdict line, metrics, constants and Pareto tables."""
    at.switch_page("app/pages/formula.py").run()
    assert not at.exception, at.exception
    return {
        "latex": [x.value for x in at.latex],
        "subheaders": [x.value for x in at.subheader],
        "warnings": [x.value for x in at.warning],
        "metrics": [(m.label, m.value) for m in at.metric],
        "tables": [df.value.data if hasattr(df.value, "data") else df.value for df in at.dataframe],
    }


def test_reload_keeps_the_discover_result_and_a_damaged_one_is_one_line(at, tmp_path):
    key = at.query_params["ws"]
    key = key[0] if isinstance(key, list) else key
    studio = at.session_state["studio"]
    res = studio.run_discover(seconds=2)  # what the Discover button's worker returns
    shown = formula_page(at)  # this run saves the workspace
    assert [short_text(e) for e in res.equations["sympy"]] == shown["tables"][-1]["formula"].tolist()
    again = reopen(key)
    assert any("its Discover result" in i.value for i in again.info)
    back = again.session_state["studio"].results["discover"]
    assert [c.expr for c in back.pareto] == [c.expr for c in res.pareto] and back.verdict == res.verdict
    assert back.best.expr == res.best.expr and back.metrics == res.metrics
    got = formula_page(again)
    for k in ("latex", "subheaders", "warnings", "metrics"):
        assert got[k] == shown[k], k
    assert len(got["tables"]) == len(shown["tables"])
    for a, b in zip(got["tables"], shown["tables"]):
        assert a.equals(b)  # constants with their intervals, and the Pareto table
    # A result file that cannot be read back: the workspace opens without it, the page says so.
    path = tmp_path / "workspaces" / key / "result.json"
    path.write_text(path.read_text().replace('"route": "', '"route": 7, "x": "', 1))
    broken = reopen(key)
    s = broken.session_state["studio"]
    assert s.source == studio.source and "discover" not in s.results
    page = formula_page(broken)
    assert len(page["warnings"]) == 1 and "could not be read back" in page["warnings"][0]
    assert "\n" not in page["warnings"][0]


def test_a_reload_during_a_long_run_keeps_the_model_of_the_last_checkpoint(at, monkeypatch):
    monkeypatch.setattr(services, "CHECKPOINT_SECONDS", 0.5, raising=False)
    key = at.query_params["ws"]
    key = key[0] if isinstance(key, list) else key
    upload(at, "tiny.csv", csv("a,b,y", lambda a, b: a * b, n=12))  # tiny: every row trains, no split
    at.switch_page("app/pages/train.py").run()
    [n for n in at.number_input if n.label == "Steps"][0].set_value(5000).run()
    click(at, "Train")
    studio = at.session_state["studio"]
    deadline = time.time() + 10
    while time.time() < deadline:  # until a checkpoint a few steps in
        cp = getattr(studio.job, "checkpoint", None)
        if cp is not None and cp.step >= 3:
            break
        time.sleep(0.1)
    at.run()  # any run while training (the Train page's live view polls the same way)
    assert studio.training, "the run ended before a reload could interrupt it"
    again = reopen(key).session_state["studio"]  # the reload, training still going on
    studio.stop()
    assert again.model is not None, "the reload lost the model trained so far"
    saved = at.session_state["checkpoint_saved"][1]
    assert saved >= 3 and again.steps_done == saved
    assert again.curves["step"] == list(range(1, saved + 1))
    # The weights are those after step `saved`: their RMSE on the rows is the one logged then.
    X = torch.tensor(again.dataset.X, dtype=again.model.dtype)
    with torch.no_grad():
        pred = again.model(X)[:, 0].double().numpy()
    rmse = float(np.sqrt(np.mean((pred - again.dataset.y) ** 2)))
    assert rmse == pytest.approx(again.curves["train"][-1], rel=1e-4)
    assert studio.steps_done > saved  # training went on after the checkpoint
