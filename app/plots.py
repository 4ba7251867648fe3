"""Plotly figures for the studio: pure functions of the model and arrays (testable without a browser)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import torch

from kan_core import KAN

from .text import plotly_text

INK, SNAP, LOCK, PICK, FAINT = "#1f3b73", "#1a9850", "#7b3294", "#f46d43", "#c8c8c8"
CURVE_POINTS = 40
BOX_H = 0.36  # height of an edge's inset curve, in layer spacings
GAP = 0.5  # space between one input's edge boxes and the next input's, in box widths


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    kw.setdefault("showlegend", False)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), **kw)
    return fig


def _row(n: int) -> np.ndarray:
    """x positions of n nodes spread over [0, 1]."""
    return (np.arange(n) + 0.5) / max(n, 1)


def _segments(points: list[tuple[list, list]]) -> tuple[list, list]:
    """None-separated coordinates: many polylines in one trace (one trace, not one per edge)."""
    xs, ys = [], []
    for x, y in points:
        xs += [*x, None]
        ys += [*y, None]
    return xs, ys


def edge_boxes(model: KAN) -> list[dict]:
    """Geometry of every drawn edge: endpoints and the box holding its inset curve."""
    out = []
    for li, layer in enumerate(model.layers):
        n_in, n_out = layer.in_dim, layer.out_dim
        # Each input's boxes side by side, a half-box gap between inputs: the groups read apart.
        xi, xo, width = _row(n_in), _row(n_out), 1.0 / (n_in * n_out + GAP * (n_in - 1))
        for e, (i, j) in enumerate((i, j) for i in range(n_in) for j in range(n_out)):
            cx = (e + 0.5 + GAP * i) * width
            out.append(
                {
                    "edge": (li, i, j),
                    "from": (xi[i], li),
                    "to": (xo[j], li + 1),
                    "cx": cx,
                    "cy": li + 0.5,
                    "w": 0.8 * width,
                    "h": BOX_H,
                }
            )
    return out


@torch.no_grad()
def network_figure(
    model: KAN, X: torch.Tensor, names: list[str], target: str, selected: tuple | None = None
) -> go.Figure:
    """The KAN as in the paper: nodes per layer, each edge with its learned curve in a small box.

    Line opacity shows the edge's attribution; snapped edges are green with their function's
    name, pruned edges are gone. Invisible markers along every edge carry its id for clicks.
    """
    names, target = [plotly_text(n) for n in names], plotly_text(target)  # shown as typed
    scores = [s / (s.max() + 1e-30) for s in model.attribution(X)["edges"]]
    curves = [model.edge_curves(li, CURVE_POINTS, raw_units=False)[1] for li in range(len(model.layers))]
    from kan_core import library

    groups: dict[str, list] = {
        k: [] for k in ("strong", "medium", "weak", "snap", "curve", "snapcurve", "box", "lock")
    }
    clicks: dict[str, list] = {"x": [], "y": [], "customdata": [], "hovertext": []}
    labels: dict[str, list] = {"x": [], "y": [], "text": []}
    pick: list = []
    for b in edge_boxes(model):
        li, i, j = b["edge"]
        layer = model.layers[li]
        if layer.mask[i, j] == 0 or _dead(model, li, i) or _dead(model, li + 1, _node(model, li + 1, j)):
            continue  # pruned, or touching a node no longer part of the network (nothing in or out)
        f = int(layer.sym[i, j])
        state = library.NAMES[f] if f >= 0 else "spline"
        s = float(scores[li][i, j])
        (x0, y0), (x1, y1), cx, cy, w, h = b["from"], b["to"], b["cx"], b["cy"], b["w"], b["h"]
        lines = [([x0, cx], [y0, cy - h / 2]), ([cx, x1], [cy + h / 2, y1])]
        key = "snap" if f >= 0 else ("strong" if s > 0.3 else "medium" if s > 0.05 else "weak")
        groups[key] += lines
        phi = curves[li][:, i, j].double().numpy()
        span = phi.max() - phi.min()
        yy = cy + (h * 0.8) * ((phi - phi.min()) / span - 0.5) if span > 1e-9 else np.full_like(phi, cy)
        groups["snapcurve" if f >= 0 else "curve"].append(
            (list(cx + w * np.linspace(-0.4, 0.4, len(phi))), list(yy))
        )
        box = (
            [cx - w / 2, cx + w / 2, cx + w / 2, cx - w / 2, cx - w / 2],
            [cy - h / 2] * 2 + [cy + h / 2] * 2 + [cy - h / 2],
        )
        groups["lock" if bool(layer.lock[i, j]) else "box"].append(box)
        if f >= 0:
            labels["x"].append(cx), labels["y"].append(cy + h / 2 + 0.05), labels["text"].append(state)
        src = names[i] if li == 0 else f"node {i}"
        hover = (
            f"layer {li}, {i} → {j}<br>{src} → {'node ' + str(j) if li < len(model.layers) - 1 else target}"
        )
        hover += f"<br>{state}, attribution {s:.3g}{' (locked)' if layer.lock[i, j] else ''}"
        # Points along both halves of the edge and the box centre: a click anywhere on it selects it.
        points = [
            (xa + t * (xb - xa), ya + t * (yb - ya))
            for t in np.linspace(0.1, 0.9, 9)
            for (xa, xb), (ya, yb) in lines
        ]
        for px, py in [*points, (cx, cy)]:
            clicks["x"].append(px)
            clicks["y"].append(py)
            clicks["customdata"].append([li, i, j])
            clicks["hovertext"].append(hover)
        if selected is not None and tuple(selected) == (li, i, j):
            pick = lines + [box]
    fig = go.Figure()
    style = {
        "strong": dict(color=INK, width=2.2),
        "medium": dict(color=INK, width=1.4),
        "weak": dict(color=FAINT, width=1),
        "snap": dict(color=SNAP, width=2.2),
        "curve": dict(color=INK, width=1.6),
        "snapcurve": dict(color=SNAP, width=1.8),
        "box": dict(color="#e3e3e3", width=1),
        "lock": dict(color=LOCK, width=2),
    }
    for key, segs in groups.items():
        xs, ys = _segments(segs)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=style[key], hoverinfo="skip", name=key))
    if pick:
        xs, ys = _segments(pick)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=PICK, width=4), hoverinfo="skip"))
    fig.add_trace(go.Scatter(**labels, mode="text", textfont=dict(color=SNAP, size=11), hoverinfo="skip"))
    _nodes(fig, model, names, target)
    hidden = dict(marker=dict(opacity=0))  # clickable, never drawn, never fading the rest
    fig.add_trace(
        go.Scatter(
            **clicks,
            mode="markers",
            hovertemplate="%{hovertext}<extra></extra>",
            name="edges",
            marker=dict(size=14, opacity=0),
            selected=hidden,
            unselected=hidden,
        )
    )
    n = len(model.layers)
    axis = dict(visible=False, fixedrange=True)
    return _layout(
        fig,
        160 + 190 * n,
        xaxis=dict(axis, range=[-0.03, 1.03]),
        yaxis=dict(axis, range=[-0.45, n + 0.4]),
        plot_bgcolor="white",
        hovermode="closest",
        hoverdistance=30,  # markers every 10% of an edge (not on the shared nodes): a click lands near one
    )


def _nodes(fig: go.Figure, model: KAN, names: list[str], target: str) -> None:
    """Node markers with the input names below and the target above."""
    xs, ys, text, pos = [], [], [], []
    for p, n in enumerate(model.widths):
        for k, x in enumerate(_row(n)):
            if _dead(model, p, k):
                continue  # every edge into or out of it pruned: not part of the network any more
            xs.append(x), ys.append(p)
            text.append(names[k] if p == 0 else target if p == len(model.widths) - 1 else "")
            pos.append("bottom center" if p == 0 else "top center")
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            text=text,
            textposition=pos,
            hoverinfo="skip",
            marker=dict(size=11, color="white", line=dict(color=INK, width=2)),
            textfont=dict(size=13),
        )
    )
    for p in range(1, len(model.widths)):
        m = model.mult[p]
        if m:
            n = model.widths[p]
            xs = _row(n)[n - m :]
            fig.add_trace(go.Scatter(x=xs, y=[p] * m, mode="text", text=["×"] * m, hoverinfo="skip"))


def _alive(model: KAN, p: int, k: int) -> bool:
    """Hidden node k of node layer p has an edge in and an edge out (a multiplication node's two
    factors are the sub-nodes sums + 2·(k − sums) and the next one)."""
    out_ok = bool((model.layers[p].mask[k, :] > 0).any())
    sums = model.widths[p] - model.mult[p]
    ins = [k] if k < sums else [sums + 2 * (k - sums), sums + 2 * (k - sums) + 1]
    in_ok = all(bool((model.layers[p - 1].mask[:, c] > 0).any()) for c in ins)
    return out_ok and in_ok


def _node(model: KAN, p: int, j: int) -> int:
    """The node of node layer p that the previous layer's output j feeds (a multiplication node
    takes two outputs)."""
    sums = model.widths[p] - model.mult[p]
    return j if j < sums else sums + (j - sums) // 2


def _dead(model: KAN, p: int, k: int) -> bool:
    """A hidden node (not an input or the output) that is not `_alive`."""
    return 0 < p < len(model.widths) - 1 and not _alive(model, p, k)


def edge_from_points(points: list[dict]) -> tuple[int, int, int] | None:
    """The edge a plotly selection points at (its customdata), or None."""
    for p in points or []:
        data = p.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 3:
            try:
                return int(data[0]), int(data[1]), int(data[2])
            except (TypeError, ValueError):
                continue
    return None


def loss_figure(
    curves: dict[str, list], live: dict[str, list] | None = None, offset: int = 0, log_space: bool = False
) -> go.Figure:
    """Train and validation RMSE against step, log y axis; a running job's curves appended.
    `log_space`: the network fits log|y|, so the errors are in log units (the axis says so)."""
    steps, train = list(curves.get("step", [])), list(curves.get("train", []))
    vsteps, val = list(curves.get("val_step", [])), list(curves.get("val", []))
    if live:
        steps += [s + offset for s in live["step"]]
        train += live["train"]
        vsteps += [s + offset for s in live["val_step"]]
        val += live["val"]
    fig = go.Figure()
    fmt = "~s" if min([*train, *val], default=0.0) >= 1 else ".3~g"
    title = "RMSE of log|target| (log space)" if log_space else "RMSE (target units)"
    mode = "lines+markers" if len(steps) <= 2 else "lines"  # one step is a point, not an empty chart
    fig.add_trace(go.Scatter(x=steps, y=train, mode=mode, name="train", line=dict(color=INK)))
    if val:
        fig.add_trace(go.Scatter(x=vsteps, y=val, mode=mode, name="validation", line=dict(color=PICK)))
    return _layout(
        fig,
        320,
        xaxis_title="step",
        # Every log tick in full, not the bare digits 2, 3, … between decades: 20k, 30k for errors
        # of 1 or more (SI prefixes), 0.02, 0.03 below (a "20m" would read as metres).
        yaxis=dict(type="log", title=title, minorloglabels="complete", tickformat=fmt),
        showlegend=True,
        legend=dict(orientation="h", y=1.12),
    )


def edge_figure(
    x: np.ndarray, phi: np.ndarray, inputs: np.ndarray, xlabel: str, fit: tuple | None = None
) -> go.Figure:
    """One edge's curve over its inputs' range, a histogram of those inputs, a suggestion overlaid."""
    xlabel = plotly_text(xlabel)
    fig = go.Figure()
    fig.add_trace(
        go.Histogram(x=inputs, nbinsx=30, yaxis="y2", marker=dict(color=FAINT), opacity=0.6, name="inputs")
    )
    fig.add_trace(go.Scatter(x=x, y=phi, mode="lines", line=dict(color=INK, width=3), name="learned"))
    if fit is not None:
        fig.add_trace(
            go.Scatter(x=x, y=fit[1], mode="lines", line=dict(color=SNAP, dash="dash"), name=fit[0])
        )
    return _layout(
        fig,
        300,
        xaxis_title=xlabel,
        yaxis=dict(title="φ(x)"),
        showlegend=True,
        legend=dict(orientation="h", y=1.15),
        yaxis2=dict(overlaying="y", side="right", showgrid=False, title="count"),
        bargap=0.02,
    )


def importance_figure(names: list[str], scores: list[float]) -> go.Figure:
    """Input columns ranked by attribution."""
    names = [plotly_text(n) for n in names]
    order = np.argsort(scores)
    fig = go.Figure(
        go.Bar(
            x=[scores[k] for k in order], y=[names[k] for k in order], orientation="h", marker=dict(color=INK)
        )
    )
    return _layout(fig, 80 + 28 * len(names), xaxis_title="attribution (mean |φ| of its strongest edge)")


def prediction_figure(y: np.ndarray, pred: np.ndarray, target: str) -> go.Figure:
    """Predicted against actual with the identity line."""
    target = plotly_text(target)
    lo, hi = float(min(y.min(), pred.min())), float(max(y.max(), pred.max()))
    fig = go.Figure(
        [
            go.Scattergl(
                x=y, y=pred, mode="markers", marker=dict(size=4, color=INK, opacity=0.5), name="rows"
            ),
            go.Scatter(
                x=[lo, hi], y=[lo, hi], mode="lines", line=dict(color=PICK, dash="dash"), name="y = x"
            ),
        ]
    )
    return _layout(fig, 340, xaxis_title=f"actual {target}", yaxis_title=f"formula's {target}")


def _panels(columns: list, y, names: list[str], ytitle: str) -> go.Figure:
    """y against each of the first 6 columns, one panel each, shared y axis."""
    names, ytitle = [plotly_text(n) for n in names], plotly_text(ytitle)
    from plotly.subplots import make_subplots

    k = min(len(names), 6)
    fig = make_subplots(rows=1, cols=max(k, 1), shared_yaxes=True, subplot_titles=names[:k])
    for c in range(k):
        marker = dict(size=3, color=INK, opacity=0.45)
        fig.add_trace(go.Scattergl(x=columns[c], y=y, mode="markers", marker=marker), row=1, col=c + 1)
    fig.update_yaxes(title_text=ytitle, row=1, col=1)
    return _layout(fig, 280)


def residual_figure(X: np.ndarray, resid: np.ndarray, names: list[str]) -> go.Figure:
    """Residual against each input, one panel per input (first 6)."""
    return _panels(list(X.T), resid, names, "residual")


def scatter_figure(df, target: str, features: list[str]) -> go.Figure:
    """Target against each feature (first 6), on at most 2,000 rows."""
    rows = df.iloc[:: max(1, len(df) // 2000)]
    return _panels([rows[f] for f in features], rows[target], features, target)


def extrapolation_figure(
    line: dict, xname: str, target: str, data: tuple[np.ndarray, np.ndarray] | None = None
) -> go.Figure:
    """The formula along one input (`trust.along_input`), beyond the data's range on both sides,
    with the parts outside the data shaded and labelled "extrapolation"; the rows overlaid when
    the formula has only this input."""
    xname, target = plotly_text(xname), plotly_text(target)
    fig = go.Figure()
    if data is not None:
        marker = dict(size=4, color=FAINT, opacity=0.8)
        fig.add_trace(go.Scattergl(x=data[0], y=data[1], mode="markers", marker=marker, name="rows"))
    fig.add_trace(go.Scatter(x=line["x"], y=line["y"], mode="lines", line=dict(color=INK), name="formula"))
    lo, hi = float(line["lo"]), float(line["hi"])
    x0, x1 = float(line["x"][0]), float(line["x"][-1])
    for a, b in ((x0, lo), (hi, x1)):
        if b > a:
            fig.add_vrect(
                x0=a,
                x1=b,
                fillcolor=FAINT,
                opacity=0.35,
                line_width=0,
                annotation_text="extrapolation",
                annotation_position="top left",
            )
    return _layout(fig, 320, xaxis_title=xname, yaxis_title=target)
