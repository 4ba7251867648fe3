"""The interactive path finds the law and says how far to trust it: Suggest network → Train →
Auto-prune → Auto-snap on an ideal-gas table, constants with intervals, reliability, the report."""

import json
import time

import numpy as np
import pytest
import sympy as sp

from kan_core.symbolic.export import name_latex

from .conftest import click, download

pytestmark = pytest.mark.slow


def gas_table(n: int = 200, seed: int = 0) -> bytes:
    """P = R·n·T/V with 0.5% noise, units in the headers (as a lab would write it)."""
    rng = np.random.default_rng(seed)
    mol, T, V = rng.uniform(1, 5, n), rng.uniform(250, 450, n), rng.uniform(0.02, 0.2, n)
    P = 8.314 * mol * T / V * (1 + 0.005 * rng.normal(size=n))
    rows = "\n".join(f"{a:.4f},{b:.2f},{c:.5f},{d:.1f}" for a, b, c, d in zip(mol, T, V, P))
    return f"n_mol,T [K],V [m3],P [Pa]\n{rows}\n".encode()


def wait(at):
    studio = at.session_state["studio"]
    while studio.training:
        time.sleep(0.1)
    at.run()
    assert not at.exception


def test_ideal_gas_through_suggest_train_prune_snap(at):
    t0 = time.perf_counter()
    [u for u in at.file_uploader if u.label == "Upload CSV"][0].set_value(
        ("gas.csv", gas_table(), "text/csv")
    ).run()
    at.switch_page("app/pages/train.py").run()
    click(at, "Suggest network")
    assert [t for t in at.toggle if t.label == "Log-space"][0].value is True
    assert any("product of powers" in c.value for c in at.caption)
    click(at, "Train")
    wait(at)
    at.switch_page("app/pages/network.py").run()
    click(at, "Auto-prune")
    click(at, "Auto-snap")
    at.switch_page("app/pages/formula.py").run()
    assert not at.exception
    seconds = time.perf_counter() - t0
    studio = at.session_state["studio"]
    res = studio.results["network"]
    n, T, V = res.symbols
    c = sp.Wild("c", exclude=[n, T, V])
    match = res.best.expr.match(c * n * T / V)
    assert match is not None, res.best.expr
    assert abs(float(match[c]) - 8.314) < 0.03, match  # 0.5% noise on 200 rows: ±0.01 or so
    assert any(h.value.startswith("★") for h in at.subheader) and not at.warning
    report = json.loads(download(at, "Download formula (JSON)"))
    (iv,) = report["best"]["constant_intervals"]
    assert iv["low"] < 8.314 < iv["high"] and iv["high"] - iv["low"] < 0.1
    assert " ± " in iv["text"] and len(iv["text"].split(" ± ")[0]) <= 6  # 8.311, not 8.31128450626397
    tex = download(at, "Download LaTeX").decode()
    # "P [Pa] = …" (or "P = …" where the header's unit is read as a unit): the target, then the law.
    assert tex.startswith(name_latex(studio.dataset.target) + " = ") and r"n_{mol}" in tex
    print(f"ideal gas: {res.best.expr} in {seconds:.1f} s")


def test_a_poor_formula_gets_no_star_and_the_report_reads_offline(at):
    at.switch_page("app/pages/train.py").run()
    [t for t in at.text_input if t.label == "Hidden widths"][0].set_value("").run()  # 2 edges
    [n for n in at.number_input if n.label == "Steps"][0].set_value(1).run()
    click(at, "Train")
    wait(at)
    assert any("1 step" in s.value for s in at.success)
    at.switch_page("app/pages/network.py").run()
    [n for n in at.number_input if n.label == "Snap when R² ≥"][0].set_value(0.0).run()
    click(at, "Auto-snap")  # everything snapped after one step: a formula, but a poor one
    at.switch_page("app/pages/formula.py").run()
    assert not at.exception
    assert at.warning and at.warning[0].value.startswith("no reliable formula: ")
    assert not any(h.value.startswith("★") for h in at.subheader)
    report = json.loads(download(at, "Download formula (JSON)"))
    assert report["reliable"] is False and report["trust_notes"][0].startswith("no reliable formula")
    page = download(at, "Download report (HTML)").decode()
    assert page.startswith("<!DOCTYPE html>") and "<math" in page and "no reliable formula" in page
    assert "Plotly.newPlot" in page and "<script src=" not in page  # plotly.js inlined: reads offline
