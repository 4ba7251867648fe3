"""Buckingham π groups, the dimensional check of formulas, and discovery with units."""

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from kan_core import units as U
from kan_core.discovery.dimensional import (
    CONSISTENT,
    CONSTANT_UNITS,
    INCONSISTENT,
    NoGroups,
    constant_units,
    pi_groups,
    status,
)
from kan_core.discovery.pareto import Candidate
from kan_core.discovery.search import discover
from kan_core.discovery.units_route import mark
from kan_core.symbolic.export import to_json


def _groups(inputs: dict, target: tuple):
    names = list(inputs)
    syms = sp.symbols(names, positive=True)
    D = np.array([U.vector(U.parse(inputs[n], n)) for n in names] + [U.vector(U.parse(target[1], "y"))]).T
    return pi_groups(D, list(syms), names, target[0]), dict(zip(names, syms))


@pytest.mark.parametrize(
    "inputs, target, prefactor, pis",
    [
        # P·V = n·R·T: no group left, P = (n·R·T/V)·const
        ({"n": "mol", "T": "K", "V": "m3", "R": "J/(mol*K)"}, ("P", "Pa"), "n*R*T/V", []),
        # pendulum period T = sqrt(L/g)·const
        ({"L": "m", "g": "m/s^2"}, ("T", "s"), "sqrt(L/g)", []),
        # x = v·t·g(a·t/v)
        ({"v": "m/s", "t": "s", "a": "m/s^2"}, ("x", "m"), "v*t", ["a*t/v"]),
        # Coulomb: F = q1²/(ε r²)·g(q2/q1)
        ({"q1": "C", "q2": "C", "eps": "F/m", "r": "m"}, ("F", "N"), "q1**2/(eps*r**2)", ["q2/q1"]),
    ],
)
def test_pi_groups_match_the_hand_derived_ones(inputs, target, prefactor, pis):
    groups, syms = _groups(inputs, target)
    assert sp.simplify(groups.prefactor - sp.sympify(prefactor, locals=syms)) == 0
    assert [sp.simplify(g - sp.sympify(p, locals=syms)) for g, p in zip(groups.pis, pis)] == [0] * len(pis)
    assert len(groups.pis) == len(pis) and groups.text[-1].startswith("π_y = ")
    dims = {s: U.vector(U.parse(inputs[n], n)) for n, s in syms.items()}
    for g in groups.pis:  # every group is dimensionless
        assert status(g, dims, np.zeros(7)) == CONSISTENT


def test_no_groups_when_the_target_unit_cannot_be_made_from_the_inputs():
    with pytest.raises(NoGroups, match="dimensional constant may be missing"):
        _groups({"n": "mol", "T": "K", "V": "m3"}, ("P", "Pa"))


def test_status_of_right_flagged_and_wrong_formulas():
    n, T, V, t, x = sp.symbols("n T V t x", positive=True)
    dims = {s: U.vector(U.parse(u, "c")) for s, u in [(n, "mol"), (T, "K"), (V, "m3"), (t, "s"), (x, "m")]}
    pa, m = U.vector(U.parse("Pa", "P")), U.vector(U.parse("m", "x"))
    assert status(8.314 * n * T / V, dims, pa) == CONSTANT_UNITS  # R carries J/(mol·K)
    assert status(n * T / V, dims, pa) == INCONSISTENT
    assert status(x / t * t, dims, m) == CONSISTENT
    assert status(t + x, dims, m) == INCONSISTENT
    assert status(x * sp.sin(x), dims, m) == INCONSISTENT  # sin of a length
    assert status(0.12 * sp.exp(-0.15 * t) * sp.sin(3.1 * t + 0.4), dims, m) == CONSTANT_UNITS
    assert status(x + 1, dims, m) == CONSTANT_UNITS  # the offset carries metres, ±1 too
    assert status(sp.log(x) - sp.log(x * n / n), dims, np.zeros(7)) == CONSISTENT  # log of a ratio
    assert status(sp.atan2(x, 2 * x) + sp.sign(t), dims, np.zeros(7)) == CONSISTENT
    assert status(sp.Piecewise((x, x > 1), (2 * x, True)) + sp.Max(x, 3 * x), dims, m) == CONSISTENT


def test_inconsistent_candidates_are_not_selected():
    t, x = sp.symbols("t x", positive=True)
    parsed = {"t": U.parse("s", "t"), "x": U.parse("m", "x"), "y": U.parse("m", "y")}
    wrong = Candidate(t + x, "polynomial", 3, 0.6, 0.6)  # the consistent one is within 2×: dropped
    right = Candidate(2.0 * x, "one-variable", 3, 1.0, 1.0)
    cands = [Candidate(sp.Float(1.0), "constant", 1, 5.0, 5.0), wrong, right]
    notes = mark(cands, [t, x], ["t", "x"], "y", parsed)
    assert wrong not in cands and right in cands and right.dimension == CONSISTENT
    assert "1 dimensionally inconsistent" in notes[0]
    alone = [Candidate(sp.Float(1.0), "constant", 1, 5.0, 5.0), Candidate(t + x, "polynomial", 3, 0.0, 0.0)]
    assert mark(alone, [t, x], ["t", "x"], "y", parsed) == [] and len(alone) == 2  # nothing better: kept
    far = [Candidate(t + x, "polynomial", 3, 0.01, 0.01), Candidate(2.0 * x, "one-variable", 3, 1.0, 1.0)]
    assert "check the units" in mark(far, [t, x], ["t", "x"], "y", parsed)[0] and len(far) == 2


def test_constants_get_the_units_of_the_columns():
    n, T, V, t = sp.symbols("n T V t", positive=True)
    units = {n: U.parse("mol", ""), T: U.parse("K", ""), V: U.parse("m3", ""), t: U.parse("s", "")}
    ((value, unit),) = constant_units(sp.Float(8.314) * n * T / V, units, U.parse("Pa", "P"))
    assert float(value) == 8.314 and U.pretty(U.simplest(unit)[1]) == "J/(K·mol)"
    found = dict(
        (float(v), U.pretty(u)) for v, u in constant_units(0.12 * sp.sin(3.1 * t), units, U.parse("m", ""))
    )
    assert found == {0.12: "m", 3.1: "1/s"}


def _fall(n=300, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    t, m = rng.uniform(0.5, 3, n), rng.uniform(1, 5, n)
    d = 4.905 * t**2
    return pd.DataFrame({"t": t, "m": m, "d": d + rng.normal(0, noise * np.sqrt(np.mean(d**2)), n)})


def test_units_in_the_result_json_and_python_export():
    res = discover(_fall(), "d", seconds=4, units={"t": "s", "m": "kg", "d": "m"})
    assert sp.simplify(res.best.expr - 4.905 * sp.Symbol("t", real=True) ** 2) == 0
    assert res.units == {"t": "s", "m": "kg", "d": "m"} and res.best.dimension == CONSTANT_UNITS
    assert [(round(v, 3), u) for v, u in res.constant_units()] == [(4.905, "m/s²")]
    report = to_json(res)
    assert report["units"] == res.units and report["best"]["dimension"] == CONSTANT_UNITS
    assert report["best"]["constant_units"][0]["unit"] == "m/s²"
    assert "# target: 'd' in m\n    # t in s\n    # m in kg\n" in report["best"]["python"]
    # g is not in the table: the target's unit cannot be made from the inputs', the others answer
    assert any("units route found nothing" in w for w in res.warnings)


def test_units_that_contradict_the_data_do_not_crash():
    df = _fall()
    # Wrong on purpose: with d in kg the π route can only try d = c·m; the other routes find the law.
    res = discover(df, "d", seconds=4, units={"t": "s", "m": "kg", "d": "kg"})
    assert res.groups == ["π_y = d/m"] and res.verdict == "law"
    assert sp.simplify(res.best.expr - 4.905 * sp.Symbol("t", real=True) ** 2) == 0
    res = discover(df, "d", seconds=4, units={"t": "kg", "m": "s", "d": "m*s"})  # no π groups at all
    assert not res.groups and any("units route found nothing" in w for w in res.warnings)
    assert sp.simplify(res.best.expr - 4.905 * sp.Symbol("t", real=True) ** 2) == 0


@pytest.mark.slow
def test_units_recover_a_law_at_noise_01_that_is_missed_without_them():
    """Coulomb's law at 10% noise: on π groups the search is one-dimensional and finds it."""
    rng = np.random.default_rng(1)
    n = 400
    q1, q2, eps, r = (rng.uniform(1, 5, n) for _ in range(4))
    F = q1 * q2 / (4 * np.pi * eps * r**2)
    df = pd.DataFrame(
        {"q1": q1, "q2": q2, "eps": eps, "r": r, "F": F + rng.normal(0, 0.1 * np.sqrt(np.mean(F**2)), n)}
    )
    units = {"q1": "C", "q2": "C", "eps": "F/m", "r": "m", "F": "N"}
    truth = sp.sympify("q1*q2/(4*pi*eps*r**2)", locals={k: sp.Symbol(k, real=True) for k in units})
    with_units = discover(df, "F", seconds=8, units=units)
    ratio = sp.simplify(with_units.best.expr / truth)  # SRBench's rule: a constant ratio is exact
    assert not ratio.free_symbols and abs(float(ratio) - 1) < 0.05  # 10% noise on 400 rows
    assert with_units.groups == ["π₁ = q2/q1", "π_y = F·eps·r^2/q1^2"]
    without = discover(df, "F", seconds=8)
    assert sp.simplify(without.best.expr / truth).free_symbols  # not the law
