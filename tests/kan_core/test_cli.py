"""The command line. One end-to-end run through `python -m kan_core` (a process start costs
seconds); the other commands call `main` in this process. Already covered elsewhere: argument
checks and escaping (test_security), discover's JSON on sin(πx) and missing-file/unknown-target
errors (discovery/test_search), snapped edges in `inspect` (io/test_session)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from kan_core import KAN
from kan_core.__main__ import main
from kan_core.io.examples import catalog
from kan_core.io.session import Session, UndoHistory, save_session
from kan_core.library import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_discover_end_to_end_prints_the_formula_and_writes_the_report(tmp_path):
    rng = np.random.default_rng(0)
    x, z = rng.uniform(-2, 2, 40), rng.normal(size=40)
    rows = "\n".join(f"{a:.17g},{b:.17g},{3 * a + 1:.17g}" for a, b in zip(x, z))
    (tmp_path / "d.csv").write_text("x,z,y\n" + rows + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kan_core", "discover", "d.csv", "--target", "y", "--seconds", "5"]
        + ["--features", "x", "--out", "r.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["complexity", "val", "MSE", "train", "MSE", "score", "formula"]
    marked = [line for line in lines if " * " in line]
    assert len(marked) == 1 and marked[0].endswith("* 3*x + 1")  # the best row of the table
    assert "best: y = 3*x + 1" in lines and "wrote r.json" in lines
    assert any(line.startswith("validation R² 1, RMSE 0;") for line in lines)
    report = json.loads((tmp_path / "r.json").read_text())
    assert {"format", "target", "variables", "best", "pareto", "routes", "data", "versions"} <= set(report)
    assert report["variables"] == [{"name": "x", "symbol": "x"}]  # --features kept z out
    assert sp.simplify(sp.sympify(report["best"]["sympy"]) - (3 * sp.Symbol("x") + 1)) == 0
    assert report["best"]["constants"] == [] and report["best"]["metrics"]["val_r2"] == 1.0
    assert report["seed"] == 0 and len(report["data"]["fingerprint"]) == 64


def test_functions_lists_the_whole_library(capsys):
    assert main(["functions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "complexity", "domain"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == list(FUNCTIONS)
    for name, fn in FUNCTIONS.items():
        assert rows[name].split()[1] == str(fn.complexity)
        assert rows[name].endswith(", x != 0") == fn.excludes_zero
    assert rows["sin"].endswith("all reals") and "[0, inf]" in rows["log"]


def test_datasets_lists_every_catalog_entry(capsys):
    assert main(["datasets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    entries = catalog()
    assert len(lines) == 2 * len(entries)
    for e, name, detail in zip(entries, lines[::2], lines[1::2]):
        assert name == e["name"]
        assert detail.startswith(f"    target {e['target']}; ") and detail.endswith(f"[{e['license']}]")


def test_inspect_prints_training_undo_and_fingerprint(tmp_path, capsys):
    model = KAN([2, 3, 1], grid=5, k=3, seed=0, device="cpu")
    undo = UndoHistory()
    undo.push("prune", model)
    undo.push("snap 0:0->0", model)
    undo.undo(model)  # "snap 0:0->0" moves to redo
    meta = {"target": "F", "features": ["v", "m"], "fingerprint": "ab" * 32}
    history = {"step": [10, 20, 30], "train": [0.5, 0.25, None]}  # the studio's own curve name
    save_session(tmp_path / "s.kan", Session(model, meta, history, undo))
    assert main(["inspect", str(tmp_path / "s.kan")]) == 0
    out = capsys.readouterr().out.splitlines()
    # (G + k)·in·out spline coefficients plus two weights per edge: 8·2·3 + 2·6 + 8·3 + 2·3 = 90.
    assert "model: widths [2, 3, 1], grid 5, k 3, 90 parameters" in out
    assert "edges: 9 total, 0 pruned, 0 snapped, 9 splines, 0 locked" in out
    assert "data: target F; features v, m" in out and f"data fingerprint: {'ab' * 32}" in out
    assert "training: 30 steps, last train RMSE 0.25" in out  # the last value that is not null
    assert "undo: 1 step(s): prune; redo: 1" in out
    assert out[-1].startswith("formula: not available yet (9 edge(s) are still splines")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["inspect", "missing.kan"], "error: session file not found: missing.kan"),
        (["frobnicate"], "error: argument command: invalid choice: 'frobnicate'"),
        (["discover"], "error: the following arguments are required: data"),
        (["discover", "d.csv"], "error: file not found: d.csv"),
    ],
)
def test_errors_are_one_line_with_status_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse's own errors leave through exit(2)
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and err.startswith(message) and err.count("\n") == 1


def test_discover_explains_the_last_column_by_default(tmp_path, capsys):
    x = np.random.default_rng(0).uniform(1, 3, 60)
    pd.DataFrame({"x [m]": x, "y [m]": 3 * x}).to_csv(tmp_path / "d.csv", index=False)
    assert main(["discover", str(tmp_path / "d.csv"), "--seconds", "3"]) == 0
    out, err = capsys.readouterr()
    assert "note: target y, the last column (--target chooses another)" in err
    assert "best: y = 3*x" in out
