"""Network page: the KAN with its learned curves; click an edge to inspect, prune, snap or lock it."""

import time

import pandas as pd
import streamlit as st

from app.plots import edge_figure, edge_from_points, importance_figure, network_figure
from app.services import edge_detail, edge_table, fit_curve, fit_text, fmt
from app.state import is_log
from app.text import md
from app.ui import action, reported, show_flash, studio
from kan_core.symbolic.edges import edge_fits, in_data_units

s = studio()
st.title("Network")
if s.model is None:
    show_flash()
    st.info("Train a model first (Train page).")
    st.stop()
if s.training:
    st.warning("Training is running; any edit below stops it first and keeps the model trained so far.")
s.poll()
ds, X = s.dataset, s.sample()
names, target = ds.features, ds.target


def on_click(key: str) -> None:
    """Select the edge a click on the network landed on."""
    edge = edge_from_points(st.session_state[key]["selection"]["points"])
    if edge is not None:
        s.selected = edge


t0 = time.perf_counter()
fig = network_figure(s.model, X, names, target, s.selected)
chart_key = f"net_{s.version}_{s.selected}"
st.plotly_chart(
    fig,
    key=chart_key,
    on_select=lambda: on_click(chart_key),
    selection_mode="points",
    width="stretch",
    config={"displayModeBar": False},
)
st.caption(
    "Click an edge (or pick a row in the edge table) to select it. "
    "Line strength = attribution; green = snapped; purple box = locked. "
    f"Figure built in {1000 * (time.perf_counter() - t0):.0f} ms."
)
show_flash()

c1, c2, c3, c4, c5 = st.columns([2, 1, 2, 1, 1])
threshold = c1.number_input(
    "Prune threshold (share of the layer's strongest edge)", 0.0, 1.0, 0.05, format="%.3g"
)
c2.button("Auto-prune", on_click=action(s.auto_prune, threshold, done="pruned {out} edge(s)"))
r2 = c3.number_input("Snap when R² ≥", 0.0, 1.0, 0.99, format="%.4g")


def do_auto_snap() -> None:
    """Snap every edge that fits well enough and report how many."""
    with reported():
        report = s.auto_snap(r2)
        done = sum(r["accepted"] for r in report)
        st.session_state.setdefault("flash", []).append(
            (
                "success",
                f"snapped {done} of {len(report)} edge(s); {len(report) - done} below R² {r2:g} stay splines",
            )
        )


with c4:
    st.button("Auto-snap", on_click=do_auto_snap)
undo_labels, redo_labels = s.undo.labels
c5.button(
    "Undo",
    on_click=action(s.undo_step),
    disabled=not undo_labels,
    help=f"Undo {undo_labels[-1]}" if undo_labels else "Nothing to undo",
)
c5.button(
    "Redo",
    on_click=action(s.redo_step),
    disabled=not redo_labels,
    help=f"Redo {redo_labels[-1]}" if redo_labels else "Nothing to redo",
)

panel = st.container()  # always present, so the layout below does not shift when it empties
if s.selected is not None:
    li, i, j = s.selected
    with panel.container(border=True):
        st.markdown(f"**Selected edge: layer {li}, {i} → {j}**")
        src = names[i] if li == 0 else f"hidden node {i}"
        dst = target if li == len(s.model.layers) - 1 else f"hidden node {j}"
        state = next(e for e in s.model.edges() if (e["layer"], e["i"], e["j"]) == s.selected)
        st.caption(f"{md(src)} → {md(dst)}; now: {state['state']}{', locked' if state['locked'] else ''}")
        key = ("fits", s.version, s.selected)
        if st.session_state.get("fits_key") != key:
            st.session_state["fits"] = edge_fits(s.model, X, li, i, j)[:5]
            st.session_state["fits_key"] = key
        fits = st.session_state["fits"]
        # Suggestions are written in the units of the edge's x axis, the same as the plot beside them.
        shown = [in_data_units(f, s.model, li, i) for f in fits]
        xname = (f"log({names[i]})" if is_log(s.model) else names[i]) if li == 0 else f"node {i}"
        left, right = st.columns([3, 2])
        with right:
            table = pd.DataFrame(
                {
                    "function": [f.fn for f in fits],
                    "R²": [fmt(f.r2) for f in fits],
                    "complexity": [f.complexity for f in fits],
                    "fit": [fit_text(f, xname) for f in shown],
                }
            )
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={"fit": st.column_config.TextColumn("fit", width="large")},
            )
            st.caption(f"Fits in the units of {md(xname)}, as plotted; ranked by R² and simplicity.")
            pick = st.selectbox(
                "Suggestion", range(len(fits)), format_func=lambda k: f"{fits[k].fn} (R² {fmt(fits[k].r2)})"
            )
            b1, b2, b3 = st.columns(3)
            b1.button("Snap edge", type="primary", on_click=action(s.snap_edge, s.selected, fits[pick]))
            b2.button("Prune edge", on_click=action(s.prune_edge, s.selected))
            locked = state["locked"]
            b3.button(
                "Unlock edge" if locked else "Lock edge",
                on_click=action(s.lock_edge, s.selected, not locked),
                help="A locked edge keeps its function while training continues",
            )
        with left:
            d = edge_detail(s.model, X, s.selected)
            overlay = (fits[pick].fn, fit_curve(fits[pick], d["x"], s.model, li, i))
            xlabel = xname if li == 0 else f"hidden node {i}"
            st.plotly_chart(
                edge_figure(d["x"], d["phi"], d["inputs"], xlabel, overlay),
                width="stretch",
                key="edge_detail",
            )

left, right = st.columns([3, 2])
with left:
    st.subheader("Edges")
    rows = edge_table(s.model, X, names, target)
    table_key = f"edges_{s.version}"
    event = st.dataframe(
        rows.drop(columns="id").style.format({"attribution": "{:.4g}"}),
        key=table_key,
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        width="stretch",
        height=min(400, 38 + 35 * len(rows)),
    )
    picked = event.selection.rows if event is not None else []
    if picked and st.session_state.get("table_pick") != (table_key, picked[0]):
        st.session_state["table_pick"] = (table_key, picked[0])
        s.selected = tuple(rows.iloc[picked[0]]["id"])
        st.rerun()
with right:
    st.subheader("Feature importance")
    scores = s.model.attribution(X)["nodes"][0].tolist()
    st.plotly_chart(importance_figure(names, scores), width="stretch", key="importance")
