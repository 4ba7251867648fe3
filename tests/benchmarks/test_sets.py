"""Every benchmark CSV in `benchmarks/` loads with kan_core.bench and samples finite, varying targets."""

from pathlib import Path

import numpy as np
import pytest

from kan_core.bench import read_benchmark
from kan_core.io.examples import sample_formula

SETS = Path(__file__).resolve().parents[2] / "benchmarks"
CSVS = sorted(SETS.glob("*.csv"))
ROWS = [(path.name, eq) for path in CSVS for eq in read_benchmark(path)]
# The classic sets and their sizes (Keijzer-6, a harmonic sum over integers, has no closed form).
CLASSIC = {"nguyen.csv": 12, "keijzer.csv": 14, "korns.csv": 15, "strogatz.csv": 14}


def test_the_classic_sets_are_all_there():
    sizes = {name: len(read_benchmark(SETS / name)) for name in CLASSIC}
    assert sizes == CLASSIC


@pytest.mark.parametrize("name, eq", ROWS, ids=[f"{name}:{eq.id}" for name, eq in ROWS])
def test_every_equation_samples_finite_varying_targets(name, eq):
    df = sample_formula(eq.formula, eq.variables, n=200, seed=0, target=eq.output)
    y = df[eq.output].to_numpy(float)
    x = df[[n for n, *_ in eq.ranges]].to_numpy(float)
    assert df.shape == (200, len(eq.ranges) + 1)
    assert np.isfinite(y).all() and np.isfinite(x).all()
    assert np.ptp(y) > 1e-9 * np.abs(y).max()  # not constant
    lows, highs = np.array([r[1:] for r in eq.ranges]).T
    assert (x >= lows).all() and (x <= highs).all()


@pytest.mark.parametrize(
    "file, eq_id, reference",
    [  # the formulas written out again with numpy, independently of the CSV parser
        ("nguyen.csv", "Nguyen-7", lambda v: np.log(v["x"] + 1) + np.log(v["x"] ** 2 + 1)),
        ("keijzer.csv", "Keijzer-9", lambda v: np.arcsinh(v["x"])),
        ("korns.csv", "Korns-7", lambda v: 213.80940889 * (1 - np.exp(-0.54723748542 * v["x0"]))),
        ("strogatz.csv", "Strogatz-shearflow1", lambda v: np.cos(v["x"]) / np.tan(v["y"])),
    ],
)
def test_sampled_targets_follow_the_published_formula(file, eq_id, reference):
    (eq,) = read_benchmark(SETS / file, ids=[eq_id])
    df = sample_formula(eq.formula, eq.variables, n=200, seed=1, target=eq.output)
    assert np.allclose(df[eq.output], reference(df), rtol=1e-12, atol=1e-12)
