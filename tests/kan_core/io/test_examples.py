import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from kan_core.errors import ConfigError, DataError
from kan_core.io.examples import catalog, load_example, parse_formula, sample_formula


def test_every_catalog_entry_loads_with_its_target():
    names = [e["name"] for e in catalog()]
    assert len(names) == len(set(names)) >= 12
    for entry in catalog():
        df, same = load_example(entry["name"], n=64)
        assert same is entry and entry["target"] in df.columns and len(df) >= 6
        assert np.isfinite(df[entry["target"]].to_numpy(float)).all()


def test_formula_examples_are_seeded_and_follow_their_formula():
    a, _ = load_example("Feynman I.39.1 (gas energy)", n=100, seed=3)
    b, _ = load_example("Feynman I.39.1 (gas energy)", n=100, seed=3)
    assert a.equals(b)
    assert np.allclose(a["E_n"], 1.5 * a["pr"] * a["V"])
    noisy = sample_formula("x", "x:0:1", n=2000, seed=0, noise=0.1)
    rel = np.std(noisy["f"] - noisy["x"]) / np.sqrt(np.mean(noisy["x"] ** 2))
    assert 0.09 < rel < 0.11
    with pytest.raises(ConfigError, match="unknown example"):
        load_example("nope")


@pytest.mark.parametrize(
    "text", ["x.__class__", '__import__("os")', 'open("f")', "x; y", "lambda: 1", "x[0]", "exp(x", "x = 1"]
)
def test_formula_parser_refuses_anything_but_math(text):
    with pytest.raises(DataError):
        parse_formula(text, ["x", "y"])


def test_formula_parser_reads_math():
    x, y = sp.symbols("x y")
    assert parse_formula("3/2*x*sin(pi*y)**2 + sqrt(y)", ["x", "y"]) == sp.Rational(3, 2) * x * sp.sin(
        sp.pi * y
    ) ** 2 + sp.sqrt(y)


def test_catalog_keeps_license_notes_and_cli_lists_it():
    for entry in catalog():
        assert entry["license"] and entry["source"]
    assert "MIT" in (Path(__file__).resolve().parents[3] / "kan_core" / "datasets" / "README.md").read_text()
    out = subprocess.run(
        [sys.executable, "-m", "kan_core", "datasets"], capture_output=True, text=True, check=True
    )
    assert "Kepler's planets" in out.stdout and "Diabetes" in out.stdout
