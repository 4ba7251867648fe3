"""Plotly figures of the experiments' result dicts (Compare, Continual learning, Solve a PDE).

The studio's pages draw them; `python -m app.figures RESULT.json` writes them to RESULT.html for
a result the CLI saved (the engine, kan_core, imports no plotting library).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = {"kan": "#1f3b73", "mlp": "#d95f02", "truth": "#999999"}
NAMES = {"kan": "KAN", "mlp": "MLP"}


def _done(fig: go.Figure, height: int, title: str) -> go.Figure:
    fig.update_layout(height=height, title=title, margin=dict(l=10, r=10, t=60, b=10))
    return fig


def compare_figure(result: dict) -> go.Figure:
    """Test RMSE against parameters (log–log, fitted N^−α per family) and training time per model."""
    fig = make_subplots(
        1, 2, subplot_titles=("test RMSE vs parameters", "training time per model"), horizontal_spacing=0.12
    )
    for kind in ("kan", "mlp"):
        fam = result.get(kind)
        if not fam or not fam["models"]:
            continue
        n = np.array([m["params"] for m in fam["models"]], dtype=float)
        e = np.array([m["test_rmse"] for m in fam["models"]])
        labels = [str(m["widths"]) for m in fam["models"]]
        sc = fam.get("scaling")
        name = NAMES[kind] + (f" (α = {sc['alpha']:.3g})" if sc else "")
        style = dict(color=COLORS[kind])
        fig.add_scatter(x=n, y=e, mode="markers+lines", name=name, text=labels, marker=style, row=1, col=1)
        if sc:
            xs = np.geomspace(n.min(), n.max(), 20)
            fig.add_scatter(
                x=xs, y=sc["c"] * xs ** -sc["alpha"], mode="lines", line=dict(dash="dot", **style),
                showlegend=False, hoverinfo="skip", row=1, col=1,
            )  # fmt: skip
        secs = [m["seconds"] for m in fam["models"]]
        fig.add_scatter(x=n, y=secs, mode="markers", name=NAMES[kind], marker=style, text=labels,
                        showlegend=False, row=1, col=2)  # fmt: skip
    fig.add_hline(y=result["rmse_target"], line=dict(color="#888", dash="dash"), row=1, col=1)
    fig.update_xaxes(type="log", title="parameters")
    fig.update_yaxes(type="log", title="test RMSE", row=1, col=1)
    fig.update_yaxes(title="seconds", row=1, col=2)
    return _done(fig, 420, f"KAN vs MLP, {result['budget']['seconds']} s each (dashed: RMSE target)")


def continual_figure(result: dict) -> go.Figure:
    """Both models' fits over the whole domain after every phase (the current region shaded)."""
    P, curves = result["phases"], result["curves"]
    fig = make_subplots(2, P, shared_yaxes=True, row_titles=["KAN", "MLP"],
                        subplot_titles=[f"after phase {p + 1}" for p in range(P)])  # fmt: skip
    truth = np.asarray(curves["truth"])
    lo, hi = float(truth.min()), float(truth.max())
    pad = 0.3 * (hi - lo or 1.0)
    for row, kind in enumerate(("kan", "mlp"), start=1):
        for p, pred in enumerate(curves.get(kind, [])):
            first = row == 1 and p == 0
            fig.add_scatter(x=curves["x"], y=truth, mode="lines", line=dict(color=COLORS["truth"]),
                            name="truth", showlegend=first, row=row, col=p + 1)  # fmt: skip
            fig.add_scatter(x=curves["x"], y=np.clip(pred, lo - pad, hi + pad), mode="lines",
                            line=dict(color=COLORS[kind]), name=NAMES[kind], showlegend=p == 0,
                            row=row, col=p + 1)  # fmt: skip
            a, b = result["regions"][p]
            fig.add_vrect(x0=a, x1=b, fillcolor="#ffd966", opacity=0.3, line_width=0, row=row, col=p + 1)
    fig.update_yaxes(range=[lo - pad, hi + pad])
    where = curves.get("slice", "")
    return _done(fig, 480, f"Continual learning ({result['task']}{', ' + where if where else ''})")


def forgetting_figure(result: dict) -> go.Figure:
    """Error on every region after every phase, one heatmap per model (log10 RMSE)."""
    fig = make_subplots(1, 2, subplot_titles=("KAN", "MLP"), horizontal_spacing=0.15)
    for col, kind in enumerate(("kan", "mlp"), start=1):
        errs = np.asarray(result.get(kind, {}).get("errors") or [[np.nan]], dtype=float)
        fig.add_heatmap(
            z=np.log10(np.maximum(errs, 1e-12)), text=np.vectorize(lambda v: f"{v:.3g}")(errs),
            texttemplate="%{text}", colorscale="Viridis", coloraxis="coloraxis", row=1, col=col,
            x=[f"region {r + 1}" for r in range(errs.shape[1])],
            y=[f"after {p + 1}" for p in range(errs.shape[0])],
        )  # fmt: skip
    fig.update_layout(coloraxis=dict(colorbar=dict(title="log10 RMSE")))
    fig.update_yaxes(autorange="reversed")
    return _done(fig, 380, "Test RMSE per region (rows: after phase p)")


def pde_figure(result: dict) -> go.Figure:
    """Exact solution, each model's solution and its absolute error on the 41 × 41 mesh."""
    kinds = [k for k in ("kan", "mlp") if k in result]
    titles = ["exact u"] + [f"{NAMES[k]} u" for k in kinds] + [""] + [f"{NAMES[k]} |u − u*|" for k in kinds]
    cols = 1 + len(kinds)
    fig = make_subplots(2, cols, subplot_titles=titles, horizontal_spacing=0.08, vertical_spacing=0.12)
    mesh, exact = result["mesh"], np.asarray(result["exact"])
    fig.add_heatmap(z=exact.T, x=mesh, y=mesh, coloraxis="coloraxis", row=1, col=1)
    for i, k in enumerate(kinds, start=2):
        field = np.asarray(result[k]["field"])
        fig.add_heatmap(z=field.T, x=mesh, y=mesh, coloraxis="coloraxis", row=1, col=i)
        fig.add_heatmap(z=np.abs(field - exact).T, x=mesh, y=mesh, coloraxis="coloraxis2", row=2, col=i)
    fig.update_layout(
        coloraxis=dict(colorscale="RdBu", cmid=0, colorbar=dict(title="u", y=0.78, len=0.45)),
        coloraxis2=dict(colorscale="Viridis", colorbar=dict(title="|error|", y=0.22, len=0.45)),
    )
    return _done(fig, 640, "Poisson ∇²u = f on [−1, 1]²")


def pde_curve_figure(result: dict) -> go.Figure:
    """Relative L2 error against LBFGS step for both models (log scale)."""
    fig = go.Figure()
    for k in ("kan", "mlp"):
        hist = result.get(k, {}).get("history", [])
        if hist:
            label = f"{NAMES[k]} ({result[k]['params']} params, {result[k]['seconds']:.1f} s)"
            fig.add_scatter(x=[h["step"] for h in hist], y=[h["rel_l2"] for h in hist], name=label,
                            mode="lines", line=dict(color=COLORS[k]))  # fmt: skip
    fig.update_yaxes(type="log", title="relative L2 error")
    fig.update_xaxes(title="LBFGS step")
    return _done(fig, 360, "Error against the exact solution while training")


FIGURES = {
    "compare": (compare_figure,),
    "continual": (continual_figure, forgetting_figure),
    "pde": (pde_figure, pde_curve_figure),
}


def figures(result: dict) -> list[go.Figure]:
    """Every figure of a result dict (by its "experiment" key); continual adds its `peaks2d` part."""
    figs = [f(result) for f in FIGURES[result["experiment"]]]
    if isinstance(result.get("peaks2d"), dict):
        figs += figures(result["peaks2d"])
    return figs


def write_html(result: dict, path: str | Path) -> Path:
    """All figures of a result in one self-contained HTML file (plotly.js inline, works offline)."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, fig in enumerate(figures(result))]
    path = Path(path)
    path.write_text(f"<html><head><meta charset='utf-8'></head><body>{''.join(parts)}</body></html>")
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m app.figures RESULT.json [OUT.html]`: the figures of a saved experiment result."""
    import json
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m app.figures RESULT.json [OUT.html]", file=sys.stderr)
        return 2
    src = Path(args[0])
    try:
        result = json.loads(src.read_text())
        html = write_html(result, Path(args[1]) if len(args) > 1 else src.with_suffix(".html"))
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"error: cannot draw {src.name}: {err}", file=sys.stderr)
        return 2
    print(f"wrote {html}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
