import hashlib
import json
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp

from kan_core.discovery.pareto import Scorer
from kan_core.symbolic.export import (
    FORMAT,
    candidate_dict,
    fingerprint,
    short_text,
    to_json,
    to_latex,
    to_python,
)
from kan_core.symbolic.formula import safe_symbols


def balanced(tex: str) -> bool:
    """Unescaped { and } pair up (escaped \\{ \\} are literal braces)."""
    depth, chars = 0, iter(tex)
    for ch in chars:
        if ch == "\\":
            next(chars, None)
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: 2 * a + b,
        lambda a, b: sp.sin(sp.pi * a) * sp.exp(-(b**2)),
        lambda a, b: sp.sqrt(a) / (1 + b**2),
        lambda a, b: a**b - sp.Rational(3, 4),
    ],
)
def test_plain_names_print_as_sympy_prints_them(build):
    for names in (["a", "b"], ["alpha", "n_mol"]):
        a, b = safe_symbols(names)
        expr = build(a, b)
        assert to_latex(expr, [a, b], names) == sp.latex(expr)


@pytest.mark.parametrize(
    "name, shown",
    [
        ("T_max [K]", r"T_{max}\,[\mathrm{K}]"),  # a unit in brackets: upright, after a thin space
        ("x (m/s)", r"x\,[\mathrm{m/s}]"),
        ("T_max [K & \\x]", r"\text{T\_max [K \& \textbackslash{}x]}"),  # an odd unit: literal text
        ("λ_0", r"\text{λ\_0}"),  # Greek letters stay letters inside \text
        ("α", r"\text{α}"),
        ("2theta", r"\text{2theta}"),
        ("a{b}", r"\text{a\{b\}}"),
    ],
)
def test_other_names_are_escaped_text(name, shown):
    v = safe_symbols([name])[0]
    w = sp.Symbol("w", real=True)
    expr = 3 * v**2 + w
    tex = to_latex(expr, [v, w], [name, "w"])
    assert tex == sp.latex(expr).replace(sp.latex(v), shown)  # SymPy's own form, the name as text
    assert balanced(tex)


def test_an_empty_name_keeps_the_symbol():
    v = safe_symbols([""])[0]
    assert to_latex(2 * v, [v], [""]) == sp.latex(2 * v)


@pytest.mark.parametrize(
    "build",
    [
        lambda a, b: sp.Float(1.5) * a + b / 3,
        lambda a, b: sp.sin(sp.pi * a) * sp.exp(-(b**2)) + sp.E,
        lambda a, b: sp.sqrt(sp.Abs(a)) * sp.log(b + 2) + sp.tanh(a * b),
        lambda a, b: sp.Piecewise((a, a > 0), (b, True)) + sp.atan(b) ** 2,
    ],
)
def test_generated_python_matches_lambdify(build):
    a, b = safe_symbols(["a", "b"])
    expr = build(a, b)
    pts = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    ns: dict = {}
    exec(compile(to_python(expr, [a, b], name="law"), "law.py", "exec"), ns)  # our own generated code
    ref = sp.lambdify([a, b], expr, "numpy")(pts[:, 0], pts[:, 1])
    out = ns["law"](pts[:, 0], pts[:, 1])
    assert out.dtype == np.float64 and out.shape == (40,)
    np.testing.assert_allclose(out, ref, rtol=1e-13)


def test_generated_python_broadcasts_a_constant_and_names_the_target():
    a, b = safe_symbols(["a", "b"])
    src = to_python(sp.Integer(3), [a, b], target="E [J]")
    assert "def formula(a, b):" in src and "# target: 'E [J]'" in src
    ns: dict = {}
    exec(compile(src, "formula.py", "exec"), ns)
    out = ns["formula"](np.zeros(4), np.zeros(4))
    assert out.shape == (4,) and out.dtype == np.float64 and (out == 3.0).all()
    with pytest.raises(ValueError):
        to_python(a, [a], name="class")  # a keyword


def _result():
    """A real Scorer selection on y = 1.5·v + 0.25, wrapped as discover's Result fields."""
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (30, 1))
    y = 1.5 * X[:, 0] + 0.25
    (v,) = safe_symbols(["v [m/s]"])
    sc = Scorer(X, y, [v], seed=0, n_val=6)
    sc.add(sp.Float(float(y.mean())), "constant")
    sc.add(sp.Float(1.5) * v + sp.Float(0.25), "line")
    front, best, metrics = sc.select()
    res = SimpleNamespace(
        verdict="law",
        verdict_reason="held-out R² 1",
        symbols=[v],
        variables=["v [m/s]"],
        target="y",
        best=best,
        pareto=front,
        metrics=metrics,
        routes=[{"route": "line", "seconds": 0.1, "formula": str(best.expr)}],
        seconds=0.5,
        seed=0,
        warnings=["a note"],
    )
    return res, X, y


def test_candidate_dict_reads_back():
    res, X, _ = _result()
    d = candidate_dict(res.best, res.symbols, res.variables, res.target)
    v = res.symbols[0]
    assert sp.sympify(d["sympy"], locals={v.name: v}) == res.best.expr
    assert d["constants"] == [0.25, 1.5] and d["route"] == "line" and d["complexity"] == res.best.complexity
    assert d["latex"] == r"1.5 v\,[\mathrm{m/s}] + 0.25"
    ns: dict = {}
    exec(compile(d["python"], "formula.py", "exec"), ns)  # our own generated code
    np.testing.assert_allclose(ns["formula"](X[:, 0]), 1.5 * X[:, 0] + 0.25, rtol=1e-15)


def test_json_report_has_the_documented_keys_and_round_trips():
    res, X, y = _result()
    report = to_json(res, fingerprint(X, y))
    assert set(report) == {
        "format",
        "format_version",
        "target",
        "variables",
        "verdict",
        "verdict_reason",
        "units",
        "groups",
        "best",
        "pareto",
        "routes",
        "seconds",
        "work_seconds",
        "seed",
        "data",
        "versions",
    }
    assert report["format"] == FORMAT and report["format_version"] == 1
    assert report["verdict"] == res.verdict and report["verdict_reason"] == res.verdict_reason
    assert report["variables"] == [{"name": "v [m/s]", "symbol": "v_m_s"}]
    assert report["best"]["metrics"]["n_val"] == 6 and report["best"]["route"] == "line"
    assert [p["route"] for p in report["pareto"]] == ["constant", "line"]
    assert report["data"] == {"fingerprint": fingerprint(X, y), "notes": ["a note"]}
    assert set(report["versions"]) == {"kan_core", "torch", "sympy", "numpy", "python"}
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_fingerprint_is_the_sha256_of_the_float64_data():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 2)), rng.normal(size=10)
    fp = fingerprint(X, y)
    assert fp == hashlib.sha256(X.astype("<f8").tobytes() + y.astype("<f8").tobytes()).hexdigest()
    assert fingerprint(np.asfortranarray(X), y.tolist()) == fp  # layout and container do not matter
    assert fingerprint(X.astype(np.float32), y) == fingerprint(X.astype(np.float32).astype(float), y)
    assert fingerprint(X.copy(), y.copy()) == fp  # stable
    y2 = y.copy()
    y2[3] += 1e-12
    assert fingerprint(X, y2) != fp
    X2 = X.copy()
    X2[0, 0] = -X2[0, 0]
    assert fingerprint(X2, y) != fp


def test_short_text_rounds_floats_for_tables_only():
    T, n = sp.symbols("T n")
    expr = sp.Float(8.2181870141653) * T ** sp.Float(1.00145236135291) * n + sp.Rational(1, 3)
    assert short_text(expr) == "8.218*T**1.001*n + 1/3"  # exact constants stay exact
    assert sp.sympify(short_text(expr)) != expr  # display only: the export keeps every digit
    assert short_text(T ** sp.Float(1.00027)) == "T**1.0003"  # not T**1.000, which reads as snapped
