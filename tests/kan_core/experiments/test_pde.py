import json
import math

import pytest
import torch

from kan_core.__main__ import main
from kan_core.experiments.pde import collocation, exact, laplacian, pde_loss, poisson, relative_l2

D64 = torch.float64


def test_the_exact_solution_has_zero_loss_and_a_wrong_one_does_not():
    interior, boundary = collocation(15, dtype=D64)
    assert interior.shape == (13 * 13, 2) and boundary.shape == (4 * 14, 2)
    terms = pde_loss(exact, interior, boundary)
    assert float(terms["total"].detach()) < 1e-25 and terms["residual"] < 1e-24
    wrong = pde_loss(lambda x: 1.1 * exact(x), interior, boundary)
    assert wrong["residual"] == pytest.approx(
        0.01 * float(torch.mean((2 * math.pi**2 * exact(interior)) ** 2))
    )
    assert relative_l2(lambda x: 1.1 * exact(x), torch.cat([interior, boundary])) == pytest.approx(0.1)


def test_laplacian_by_autograd_of_a_known_function():
    x = torch.rand(30, 2, dtype=D64, generator=torch.Generator().manual_seed(0))
    u, lap = laplacian(lambda p: p[:, 0] ** 3 + p[:, 0] * p[:, 1] ** 2, x)
    assert torch.allclose(lap, 6 * x[:, 0] + 2 * x[:, 0])


@pytest.mark.slow
def test_a_tiny_poisson_run_and_the_three_clis_end_to_end(tmp_path, capsys):
    res = poisson(steps=2, points=7, grids=(3, 4), mlp_widths=(2, 8, 1))
    for kind in ("kan", "mlp"):
        m = res[kind]
        assert m["steps"] == 4 and math.isfinite(m["rel_l2"]) and 0 < m["rel_l2"] < 2
        assert m["history"][-1]["rel_l2"] == pytest.approx(m["rel_l2"])
    assert res["kan"]["params"] == 30 * 9  # [2, 10, 1] at grid 4 after extension: 9 numbers per edge
    out = tmp_path / "pde.json"
    assert main(["pde", "--steps", "1", "--points", "7", "--grids", "3", "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert saved["kan"]["steps"] == 1 and saved["mlp"]["steps"] == 1
    from app.figures import main as draw

    assert draw([str(out)]) == 0 and "Plotly" in out.with_suffix(".html").read_text()[:200_000]
    assert f"relative L2 {saved['kan']['rel_l2']:.4g}" in capsys.readouterr().out
    csv = tmp_path / "d.csv"
    csv.write_text(
        "a,b,y\n" + "\n".join(f"{i / 40:.3f},{(i * 7 % 40) / 40:.3f},{i / 40 + 1:.3f}" for i in range(40))
    )
    out = tmp_path / "compare.json"
    args = [
        "compare",
        str(csv),
        "--target",
        "y",
        "--seconds",
        "0.3",
        "--kan",
        "1:3",
        "--mlp",
        "4",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    saved = json.loads(out.read_text())
    assert [len(saved[k]["models"]) for k in ("kan", "mlp")] == [1, 1] and saved["data"]["features"] == [
        "a",
        "b",
    ]
    out = tmp_path / "continual.json"
    args = [
        "continual",
        "--data",
        str(csv),
        "--target",
        "y",
        "--sort-by",
        "b",
        "--phases",
        "2",
        "--steps",
        "10",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    saved = json.loads(out.read_text())
    assert (
        saved["task"] == "data" and len(saved["kan"]["errors"]) == 2 and saved["data"]["features"][0] == "b"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["compare", "missing.csv", "--target", "y"],
        ["compare", "x.csv", "--target", "y", "--kan", "3"],
        ["pde", "--grids", "10,5"],
        ["continual", "--data", "x.csv"],
        ["pde", "--out", "/no/such/folder/p.json"],
    ],
)
def test_cli_errors_are_one_line_and_exit_2(args, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("a,y\n" + "\n".join(f"{i},{2 * i}" for i in range(20)))
    try:
        code = main(args)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
