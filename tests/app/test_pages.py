"""The studio through Streamlit's AppTest: every page, the whole edit path, downloads, bad input."""

import io
import json

import numpy as np
import pytest

from kan_core.io.session import load_session

from .conftest import click, download, train

pytestmark = pytest.mark.slow


def test_opens_on_an_example_and_every_page_renders(at):
    studio = at.session_state["studio"]
    assert studio.source and studio.dataset is not None and at.title[0].value == "Data"
    assert [s.label for s in at.selectbox][:2] == ["Example dataset", "Target"]
    for page in ("train", "network", "formula"):
        at.switch_page(f"app/pages/{page}.py").run()
        assert not at.exception and at.title[0].value == page.capitalize()


def test_upload_choose_target_and_bad_files_keep_the_old_data(at):
    up = [u for u in at.file_uploader if u.label == "Upload CSV"][0]
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.4f};{b:.4f};{a * b:.4f}" for a, b in rng.uniform(1, 2, (50, 2)))
    up.set_value(("lab.csv", f"mass;speed;p\n{rows}\n".replace(".", ",").encode(), "text/csv")).run()
    studio = at.session_state["studio"]
    assert studio.source == "lab.csv" and studio.dataset.target == "p"
    assert studio.dataset.features == ["mass", "speed"]
    target = [s for s in at.selectbox if s.label == "Target"][0]
    target.set_value("speed").run()
    assert studio.dataset.target == "speed" and studio.dataset.features == ["mass"]
    up = [u for u in at.file_uploader if u.label == "Upload CSV"][0]
    up.set_value(("bad.csv", b"a,a,y\n1,2,3\n", "text/csv")).run()
    assert [e.value for e in at.error] == [
        "duplicate column name(s): a; rename them so each column is unique"
    ]
    assert studio.source == "lab.csv" and studio.dataset.target == "speed"


def test_train_select_prune_undo_snap_formula_and_downloads(at):
    studio = train(at)
    assert studio.steps_done == 50 and "completed" in at.success[0].value
    assert len(studio.curves["train"]) == 50 and studio.curves["val"]
    at.switch_page("app/pages/network.py").run()
    table_key = f"edges_{studio.version}"
    at.session_state[table_key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert studio.selected == (0, 0, 0)
    assert any(m.value == "**Selected edge: layer 0, 0 → 0**" for m in at.markdown)
    click(at, "Prune edge")
    assert float(studio.model.layers[0].mask[0, 0]) == 0 and studio.undo.labels[0] == ["prune edge"]
    click(at, "Undo")
    assert float(studio.model.layers[0].mask[0, 0]) == 1
    click(at, "Redo")
    assert float(studio.model.layers[0].mask[0, 0]) == 0
    click(at, "Auto-prune")
    assert "pruned" in at.success[0].value
    train(at, steps=20)
    at.switch_page("app/pages/network.py").run()
    click(at, "Auto-snap")
    assert at.success[0].value.startswith("snapped")
    at.switch_page("app/pages/formula.py").run()
    assert not at.exception and at.latex, [i.value for i in at.info]
    report = json.loads(download(at, "Download formula (JSON)"))
    assert report["format"] == "kan-studio/formula" and report["target"] == "f"
    assert at.latex  # shown with constants rounded to their intervals; full precision in the files
    source = download(at, "Download Python").decode()
    namespace: dict = {}
    exec(compile(source, "formula.py", "exec"), namespace)  # our own generated code, not user text
    X, y = studio.dataset.X, studio.dataset.y
    pred = namespace["formula"](*X.T)
    assert np.sqrt(np.mean((pred - y) ** 2)) <= 1.5 * report["best"]["metrics"]["val_rmse"] + 1e-9
    assert download(at, "Download LaTeX").decode() == "f = " + report["best"]["latex"]
    session = load_session(studio.session_file())
    assert session.meta["target"] == "f" and "auto-snap" in session.undo.labels[0]


def test_a_session_restores_onto_the_same_data(at):
    studio = train(at, steps=5)
    raw = studio.session_file()
    before = studio.model.edges()
    click(at, "Reset model")
    assert studio.model is None
    [u for u in at.file_uploader if u.label == "Restore session"][0].set_value(
        ("work.kan", raw, "application/zip")
    ).run()
    assert studio.model is not None and studio.model.edges() == before and studio.steps_done == 5
    assert any("restored work.kan" in s.value for s in at.success)
    [u for u in at.file_uploader if u.label == "Restore session"][0].set_value(
        ("junk.kan", io.BytesIO(b"not a zip").getvalue(), "application/zip")
    ).run()
    assert [e.value for e in at.error] == [
        "junk.kan is not a KAN Studio session (damaged, truncated or another file type)"
    ]
    assert studio.model is not None


def test_settings_come_from_and_go_to_the_url(at):
    at.query_params["hidden"] = "3,2"
    at.query_params["steps"] = "7"
    at.query_params["optimizer"] = "Nonsense"
    del at.session_state["studio"]
    at.switch_page("app/pages/train.py").run()
    studio = at.session_state["studio"]
    assert (studio.settings.hidden, studio.settings.steps, studio.settings.optimizer) == ("3,2", 7, "LBFGS")
    assert at.query_params["hidden"] == ["3,2"] or at.query_params["hidden"] == "3,2"


def test_discover_runs_in_a_worker_with_progress_stop_and_result(at):
    import time

    at.switch_page("app/pages/formula.py").run()
    studio = at.session_state["studio"]
    click(at, "Discover")
    job = studio.discovery
    assert job is not None and job.running and not at.exception
    stop = [b for b in at.button if b.label == "Stop"][0]
    assert not stop.disabled
    stop.click().run()
    assert job.status == "stopped" and any("stopped" in i.value for i in at.info)
    click(at, "Discover")  # again, to the end: the default example's law is found within the budget
    job = studio.discovery
    while job.running:
        time.sleep(0.2)
    at.run()
    assert "discover" in studio.results and not at.exception
    assert any("Done in" in s.value for s in at.success)
