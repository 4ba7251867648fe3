"""The three claim pages (Compare, Continual learning, Solve a PDE) through AppTest, on small settings."""

import json
import time

import pytest

from .conftest import click, download

pytestmark = pytest.mark.slow


def finish(at, kind):
    job = at.session_state["experiments"][kind]
    deadline = time.time() + 60
    while job.running and time.time() < deadline:
        time.sleep(0.1)
    at.run()
    assert not at.exception, at.exception
    return job


def number(at, label, value):
    [n for n in at.number_input if n.label == label][0].set_value(value).run()


def test_compare_runs_on_the_loaded_data_and_offers_the_json(at):
    at.switch_page("app/pages/compare.py").run()
    assert not at.exception and at.title[0].value == "Compare"
    number(at, "Seconds per model", 0.5)
    [t for t in at.text_input if t.label == "KAN sizes (hidden:grid)"][0].set_value("1:3").run()
    [t for t in at.text_input if t.label == "MLP sizes (hidden widths)"][0].set_value("4").run()
    click(at, "Run")
    job = finish(at, "compare")
    assert job.status == "completed" and any("completed" in s.value for s in at.success)
    report = json.loads(download(at, "Download JSON"))
    assert [len(report[k]["models"]) for k in ("kan", "mlp")] == [1, 1]
    assert report["split"]["test"] == 200  # the default example's 1000 rows, 20% held out
    assert len(at.dataframe[0].value) == 2 and len(at.get("plotly_chart")) == 1


def test_continual_and_pde_pages_run_and_stop(at):
    at.switch_page("app/pages/pde.py").run()
    assert at.title[0].value == "Solve a PDE"
    number(at, "LBFGS steps per phase", 500)
    click(at, "Run")
    [b for b in at.button if b.label == "Stop"][0].click().run()
    job = finish(at, "pde")
    assert job.status == "stopped" and any("stopped early" in i.value for i in at.info)
    number(at, "LBFGS steps per phase", 1)
    number(at, "Collocation points per side", 7)
    click(at, "Run")
    job = finish(at, "pde")
    report = json.loads(download(at, "Download JSON"))
    assert job.status == "completed" and report["kan"]["steps"] == 2 and report["mlp"]["steps"] == 2
    assert any("relative L2 error" in m.value for m in at.markdown)
    at.switch_page("app/pages/continual.py").run()
    assert at.title[0].value == "Continual learning"
    [s for s in at.selectbox if s.label == "Task"][0].set_value("Loaded data, sorted by a column").run()
    number(at, "Adam steps per phase", 10)
    number(at, "Phases", 2)
    click(at, "Run")
    job = finish(at, "continual")
    report = json.loads(download(at, "Download JSON"))
    assert job.status == "completed" and report["task"] == "data" and len(report["mlp"]["errors"]) == 2
    assert len(at.get("plotly_chart")) == 2
