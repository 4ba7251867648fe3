"""A Result written with `to_json` and read back with `result_from_json`: the same formulas (exact
constants, every function discovery can produce), nothing in the file run as code."""

import json

import numpy as np
import pytest
import sympy as sp

from kan_core.discovery.pareto import Candidate
from kan_core.discovery.result import Result
from kan_core.discovery.result_json import result_from_json
from kan_core.errors import DataError
from kan_core.symbolic.export import to_json
from kan_core.symbolic.formula import safe_symbols

NAMES = ["x", "E", "v [m/s]"]  # E is SymPy's e: its safe symbol is E_; a header with a unit


def _result() -> Result:
    x, e_, v = safe_symbols(NAMES)
    c = 0.1 + 0.2  # 0.30000000000000004: not written exactly by 15 printed digits
    exprs = [
        sp.Float(2.004836154270391),
        sp.Float(c) * x + sp.Rational(3, 2) * v,
        sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3) - sp.Float(-1.25e-7) * sp.E * e_,
        sp.atanh(sp.Float(0.5) * x) + 1 / sp.sqrt(v) - sp.Float(6.02214076e23) * sp.sin(sp.pi * e_),
        sp.exp(-(x**2)) * sp.cosh(v) / (1 + sp.exp(-e_)) + sp.log(v) * x**-2,
    ]
    pareto = [
        Candidate(e, f"route {i}", i + 1, 10.0**-i, 2 * 10.0**-i, 0.5 * i, None if i % 2 else 1e-15)
        for i, e in enumerate(exprs)
    ]
    pareto[2].dimension = "consistent"
    return Result(
        variables=NAMES,
        target="y",
        symbols=[x, e_, v],
        pareto=pareto,
        best=pareto[3],
        metrics={"train_rmse": 0.125, "val_rmse": float("nan"), "val_r2": 0.75, "n_train": 8, "n_val": 2},
        routes=[{"route": "route 3", "seconds": 0.25, "formula": str(exprs[3])}],
        seconds=1.5,
        seed=7,
        warnings=["a note"],
        verdict="law",
        verdict_reason="held-out R² 0.75",
        units={"v [m/s]": "m/s"},
        groups=["π₁ = x/E"],
        headers={"v [m/s]": "v [m/s] (header)"},
        work_seconds=2.5,
    )


def _round_trip(res: Result) -> Result:
    return result_from_json(json.loads(json.dumps(to_json(res, "abc"), default=str)))


def test_round_trip_gives_the_same_formulas_table_and_verdict():
    res = _result()
    back = _round_trip(res)
    assert [s.name for s in back.symbols] == ["x", "E_", "v_m_s"] and back.symbols == res.symbols
    for a, b in zip(res.pareto, back.pareto, strict=True):
        assert b.expr == a.expr  # structurally equal: every constant exact, not only to 15 digits
        assert sp.simplify(b.expr - a.expr) == 0
    assert back.best is back.pareto[3]
    got, want = back.equations.drop(columns="sympy"), res.equations.drop(columns="sympy")
    assert got.equals(want)
    assert back.metrics["val_r2"] == 0.75 and np.isnan(back.metrics["val_rmse"])
    assert (back.verdict, back.verdict_reason, back.seed, back.seconds) == ("law", "held-out R² 0.75", 7, 1.5)
    assert back.units == res.units and back.groups == res.groups and back.warnings == ["a note"]
    assert back.headers == {"v [m/s]": "v [m/s] (header)"} and back.work_seconds == 2.5
    X = np.random.default_rng(0).uniform(0.1, 0.9, (20, 3))
    np.testing.assert_array_equal(back.predict(X), res.predict(X))


def test_a_best_outside_the_front_comes_back_on_its_own():
    res = _result()
    res.best = Candidate(sp.Float(2.0), "constant", 1, 1.0, 1.0)  # "no law": the mean
    res.verdict = "no law"
    back = _round_trip(res)
    assert back.best.expr == sp.Float(2.0) and all(c is not back.best for c in back.pareto)
    assert back.verdict == "no law"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('touch pwned')",
        "x.__class__",
        "eval('1')",
        "Symbol('pwned')",
        "lambda: 1",
    ],
)
def test_code_in_a_report_is_refused_and_never_run(text, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = json.loads(json.dumps(to_json(_result()), default=str))
    report["pareto"][1]["sympy"] = text
    with pytest.raises(DataError, match="cannot be read back") as err:
        result_from_json(report)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage, field",
    [
        (lambda r: r.update(format="something/else"), "format"),
        (lambda r: r.update(format_version=99), "format_version"),
        (lambda r: r["variables"][0].update(symbol="y_"), "symbols"),
        (lambda r: r["pareto"][0].pop("complexity"), "complexity"),
        (lambda r: r["best"].update(metrics=[1]), "metrics"),
        (lambda r: r.update(verdict="maybe"), "verdict"),
    ],
)
def test_a_damaged_or_foreign_report_is_one_data_error(damage, field):
    report = json.loads(json.dumps(to_json(_result()), default=str))
    damage(report)
    with pytest.raises(DataError, match=field):
        result_from_json(report)
    with pytest.raises(DataError):
        result_from_json([report])
