import json
import os
import time

import pytest
import sympy as sp

from kan_core.__main__ import main
from kan_core.bench import (
    Equation,
    Settings,
    equation_seeds,
    judge_exact,
    read_benchmark,
    round_floats,
    run_bench,
    summarize,
    summary_line,
    write_report,
)
from kan_core.errors import ConfigError, DataError

x, y = sp.symbols("x y", positive=True)
HEADER = "id,formula,output,variables,n_vars\n"


def fake_worker(eq: Equation, settings: Settings) -> dict:
    """Stands in for solve() in worker processes; the equation's id says how it behaves."""
    if eq.id == "raises":
        raise ValueError("cannot sample\nsecond line")
    if eq.id == "dies":
        os._exit(3)
    if eq.id == "hangs":
        time.sleep(60)
    seconds = 2 * settings.seconds if eq.id == "slow" else 0.01
    return dict(seconds=seconds, formula="x", complexity=1, test_r2=1.0, exact=True, accurate=True)


def write_csv(tmp_path, body: str):
    path = tmp_path / "formulas.csv"
    path.write_text(HEADER + body)
    return path


@pytest.mark.parametrize(
    "truth, found, exact",
    [
        (x * y, y * x, True),
        (sp.sqrt(x * y), x**0.5 * y**0.5, True),  # float exponents; positive variables
        (x * y, x * y + 3.2, True),  # constant offset
        (x * y, 2.5 * x * y, True),  # constant ratio
        (x / 2 + y, 0.5000001 * x + y, True),  # rounds to 0.5
        (x / 3 + y, 0.33 * x + y, False),  # 0.33 is not 1/3 ...
        (x / 3, 0.33 * x, True),  # ... but alone it is a constant ratio, which SRBench accepts
        (x * y, x + y, False),
        (sp.exp(sp.sin(sp.pi * x)), sp.exp(sp.sin(3.14 * x)), False),  # 3 digits of π are not π ...
        (sp.exp(sp.sin(sp.pi * x)), sp.exp(sp.sin(3.14159 * x)), True),  # ... 4 are (the stated reading)
        (x**1.5 + 1, 3 * x ** sp.Rational(3, 2) + 1, False),
        (3 * x**1.5 + 1, 3 * x ** sp.Rational(3, 2) + 1, True),  # the truth's floats are exact too
        (x * sp.exp(-5000 / (8.314 * y)), x * sp.exp(-601.395236949723 / y), True),
        (x * sp.exp(-5000 / (8.314 * y)), x * sp.exp(-601.3 / y), False),
        (x * (1 + 0.000012 * (y - 3)), 1.20000000000004e-5 * x * (y - 3) + x, True),  # not rounded to 0
        (x * y, x * y + 1e-5 * x**2, False),  # a small extra term is never rounded away
        (x * y, sp.Integer(0), False),
        (x * y, sp.Float(0.0), False),
    ],
)
def test_exact_solution_rule(truth, found, exact):
    assert judge_exact(truth, found)[0] is exact
    # The numerical pre-check never changes a verdict; it only spares SymPy the hopeless cases.
    assert judge_exact(truth, found, ranges=(("x", 1.0, 5.0), ("y", 1.0, 5.0)))[0] is exact


def test_a_numerically_different_formula_is_refused_without_simplify():
    hard = sum(sp.sin(k * x + y) ** k / (1 + sp.cos(x * k)) for k in range(1, 6))  # minutes in simplify
    start = time.perf_counter()
    exact, reason = judge_exact(hard, x * y, time_limit=120, ranges=(("x", 1.0, 2.0), ("y", 1.0, 2.0)))
    assert not exact and reason == "not equivalent (numerically)" and time.perf_counter() - start < 30


def test_round_floats_to_significant_digits():
    assert round_floats(0.333349 * x + 2.0 * y**2.0) == sp.Rational(3333, 10000) * x + 2 * y**2
    assert round_floats(1e-4 * x + y) == x / 10000 + y  # small terms stay
    assert round_floats(0.33333 * x, truth=x / 3) == x / 3  # agrees with a constant of the truth
    assert round_floats(0.333 * x, truth=x / 3) == sp.Rational(333, 1000) * x


def test_a_simplify_that_runs_too_long_is_not_exact():
    hard = sum(sp.sin(k * x + y) ** k / (1 + sp.cos(x * k)) for k in range(1, 6))  # minutes in simplify
    start = time.perf_counter()
    exact, reason = judge_exact(hard, x, time_limit=0.3)
    assert not exact and "took over 0.3 s" in reason
    assert time.perf_counter() - start < 5


def test_reads_checks_and_selects_equations(tmp_path):
    path = write_csv(tmp_path, "a,x*y,f,x:1:2;y:-1:1,2\nb,sqrt(x),g,x:0.5:3,1\n")
    eqs = read_benchmark(path)
    assert [e.id for e in eqs] == ["a", "b"]
    assert eqs[0].ranges == (("x", 1.0, 2.0), ("y", -1.0, 1.0)) and eqs[1].variables == "x:0.5:3"
    assert [e.id for e in read_benchmark(path, ["b"])] == ["b"]
    with pytest.raises(ConfigError, match="unknown equation id"):
        read_benchmark(path, ["c"])


@pytest.mark.parametrize(
    "text, message",
    [
        (HEADER, "has no equations"),
        ("id,formula,output,variables\na,x,f,x:0:1\n", "lacks column.s. n_vars"),
        (HEADER + "a,x*y,f,x:1:2;y,2\n", "line 2 .a.: variables must be name:low:high"),
        (HEADER + "a,x,f,x:2:1,1\n", "low < high"),
        (HEADER + "a,x,f,x:0:1,2\n", "n_vars is '2' but 1 variables"),
        (HEADER + "a,x,f,x:0:1,1\na,x,f,x:0:1,1\n", "line 3 .a.: ids must be unique"),
        (HEADER + "a,x,x,x:0:1,1\n", "not a variable"),
        (HEADER + "a,__import__('os'),f,x:0:1,1\n", "is not allowed"),
        (HEADER + "a,x*z,f,x:0:1,1\n", "'z' is not allowed"),
    ],
)
def test_bad_benchmark_files_give_one_line_data_errors(tmp_path, text, message):
    path = tmp_path / "formulas.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as err:
        read_benchmark(path)
    assert "\n" not in str(err.value)


def test_missing_file_is_a_cli_error(tmp_path, capsys):
    assert main(["bench", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot read") and "No such file" in err and "\n" not in err


def test_seeds_depend_on_seed_and_id_only():
    assert equation_seeds(0, "I.12.2") == equation_seeds(0, "I.12.2")
    assert len({equation_seeds(0, "I.12.2"), equation_seeds(1, "I.12.2"), equation_seeds(0, "I.12.3")}) == 3
    train, test = equation_seeds(0, "a")
    assert train != test


def test_report_files_and_summary(tmp_path):
    rows = [
        dict(
            id="a",
            status="ok",
            exact=True,
            accurate=True,
            test_r2=1.0,
            complexity=3,
            seconds=2.0,
            formula="x*y",
        ),
        dict(
            id="b", status="timeout", exact=False, accurate=False, test_r2=None, complexity=None, seconds=9.0
        ),
    ]
    rows[1]["formula"] = None
    summary = summarize(rows, Settings(seconds=5, noise=0.01))
    assert summary["exact_rate"] == 0.5 and summary["median_seconds"] == 5.5 and summary["failures"] == 1
    assert summary["machine"]["cpus"] == os.cpu_count() and summary["settings"]["noise"] == 0.01
    line = "exact 50.0%, accurate (R² > 0.999) 50.0%, median 5.5 s over 2 equation(s); noise 0.01, budget 5 s"
    assert summary_line(summary) == line + ", 1 failed"
    md = write_report(rows, summary, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["equations"][0]["formula"] == "x*y"
    assert md == tmp_path / "r.md" and "| a | ok | yes | yes | 1 | 3 | 2 | `x*y` |" in md.read_text()


@pytest.mark.slow
def test_crashes_and_overruns_become_failed_rows(tmp_path):
    eqs = read_benchmark(
        write_csv(tmp_path, "".join(f"{i},x,f,x:0:1,1\n" for i in ("ok", "raises", "dies", "hangs", "slow")))
    )
    settings = Settings(seconds=1.0, startup_s=1.0, simplify_s=0.1)
    seen = []
    start = time.perf_counter()
    rows = run_bench(eqs, settings, jobs=2, worker=fake_worker, progress=seen.append)
    assert time.perf_counter() - start < 60  # a hang never ends; start-up under load is slow
    status = {r["id"]: r["status"] for r in rows}
    assert status == {
        "ok": "ok",
        "raises": "crash: ValueError: cannot sample",
        "dies": "crash: worker exited with code 3",
        "hangs": "timeout",
        "slow": "timeout",  # finished, but over 1.5 × the budget
    }
    assert [r["id"] for r in rows] == ["ok", "raises", "dies", "hangs", "slow"]
    assert sorted(r["id"] for r in seen) == sorted(status)
    assert rows[0]["exact"] and not any(r["exact"] or r["accurate"] for r in rows[1:])


@pytest.mark.slow
def test_cli_runs_and_judges_two_simple_laws(tmp_path, capsys):
    csv_path = write_csv(tmp_path, "mul,x*y,f,x:1:2;y:1:2,2\nlin,x+2*y,g,x:-1:1;y:-1:1,2\n")
    out = tmp_path / "report.json"
    args = ["bench", str(csv_path), "--samples", "300", "--seconds", "10", "--jobs", "1", "--out", str(out)]
    assert main(args) == 0
    report = json.loads(out.read_text())
    rows = {r["id"]: r for r in report["equations"]}
    assert all(r["status"] == "ok" and r["accurate"] and r["test_r2"] > 0.999 for r in rows.values())
    assert rows["mul"]["exact"] and rows["lin"]["exact"], rows
    summary = report["summary"]
    assert (
        summary["exact_rate"] == 1.0
        and summary["settings"]["samples"] == 300
        and summary["settings"]["seconds"] == 10
    )
    assert "| mul | ok | yes | yes |" in out.with_suffix(".md").read_text()
    assert capsys.readouterr().out.startswith("exact 100.0%, accurate (R² > 0.999) 100.0%, median ")
