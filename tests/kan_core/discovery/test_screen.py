"""The screens before the search: duplicate quantities, columns that do not matter, and the verdict."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from kan_core import discover, read_table
from kan_core.discovery.screen import duplicate_columns, relevant_columns
from tests.kan_core.discovery.laws import same_law


def test_affine_duplicates_keep_the_column_of_the_simpler_law():
    rng = np.random.default_rng(0)
    celsius = rng.uniform(-20, 300, 200).round(2)
    length_m = rng.uniform(0.1, 2, 200)
    volume = rng.uniform(1, 2, 200)
    y = 8.314 * (celsius + 273.15) / volume * length_m  # a law in kelvin
    X = np.column_stack([celsius, length_m, celsius + 273.15, 100 * length_m, volume])
    keep, notes = duplicate_columns(X, y, ["t_c", "l_m", "t_k", "l_cm", "v"])
    assert keep == [1, 2, 4]  # kelvin over celsius; a pure rescaling keeps the first
    assert len(notes) == 2 and "'t_k' and 't_c'" in notes[0] and "'l_m' and 'l_cm'" in notes[1]
    quadratic = X[:, 1] ** 2 + X[:, 4]  # a polynomial is as simple in either unit: the first stays
    assert duplicate_columns(X[:, [1, 3, 4]], quadratic, ["l_m", "l_cm", "v"])[0] == [0, 2]
    independent = rng.normal(size=(200, 3))
    assert duplicate_columns(independent, independent[:, 0], ["a", "b", "c"]) == ([0, 1, 2], [])


def test_columns_that_do_not_matter_are_left_out_and_named():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (800, 12))
    y = 3 * X[:, 2] * X[:, 5] + np.sin(2 * X[:, 7])
    names = [f"c{i}" for i in range(12)]
    keep, notes = relevant_columns(X, y, names, seed=0)
    assert keep == [2, 5, 7]
    assert len(notes) == 1 and "9 column(s) do not change the target" in notes[0] and "'c0'" in notes[0]


def test_every_column_is_kept_when_all_matter_or_nothing_is_predictable():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 2, (600, 7))
    weights = np.array([1.0, 0.5, 2.0, 1.5, 0.8, 1.2, 0.6])
    assert relevant_columns(X, X @ weights, list("abcdefg"))[0] == list(range(7))
    assert relevant_columns(X, rng.normal(size=600), list("abcdefg"))[0] == list(range(7))
    assert relevant_columns(X[:, :4], X[:, 0], list("abcd"))[0] == [0, 1, 2, 3]  # few inputs: no screen


@pytest.mark.parametrize("seed", [0, 1])
def test_a_pure_noise_target_has_no_law(seed):
    rng = np.random.default_rng(10 + seed)
    df = pd.DataFrame(rng.uniform(0, 1, (300, 4)), columns=["a", "b", "c", "d"])
    df["y"] = rng.normal(1.0, 0.3, 300)
    result = discover(df, "y", seconds=4, seed=seed)
    assert result.verdict == "no law" and result.best.route == "constant"
    assert not result.best.expr.free_symbols and "no formula explains the target" in result.warnings[-1]


def test_a_weak_but_real_law_is_a_law():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, 400)
    df = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 0.6, 400)})  # R² about 0.5
    result = discover(df, "y", seconds=4, seed=0)
    assert result.verdict == "law" and {s.name for s in result.best.expr.free_symbols} == {"x"}


@pytest.mark.slow
def test_the_law_is_found_among_useless_and_duplicate_columns():
    rng = np.random.default_rng(4)
    X = rng.uniform(0.5, 2, (600, 10))
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)])
    df["y"] = 2.5 * df.x0 * df.x1 + df.x2**2
    df["x2_copy"] = 10 * df.x2 + 3  # the same quantity in other units
    result = discover(df, "y", seconds=15, seed=0)
    x0, x1, x2 = sp.symbols("x0 x1 x2")
    assert same_law(result.best.expr, sp.Rational(5, 2) * x0 * x1 + x2**2)
    notes = " ".join(result.warnings)
    assert "x2_copy" in notes and "7 column(s) do not change the target" in notes


SHARED = Path(__file__).resolve().parents[4] / "shared" / "cases"


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/cases not beside the repository")
def test_user_reports_pure_noise_and_unused_columns():
    noise = discover(read_table(SHARED / "pure_noise_target.csv"), "y", seconds=4, seed=0)
    assert noise.verdict == "no law"
    unused = discover(read_table(SHARED / "unused_columns.csv"), "y", seconds=10, seed=0)
    x0, x1, x2 = sp.symbols("x0 x1 x2")
    assert same_law(unused.best.expr, sp.Rational(5, 2) * x0 * x1 + x2**2)
    assert "27 column(s) do not change the target" in " ".join(unused.warnings)
