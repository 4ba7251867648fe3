"""Formula page: Pareto table, the best formula, its fit to data and network, exports, sessions; and
the reports of the command line's `search` and `discover-many`."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from app.plots import prediction_figure, residual_figure
from app.reports import read_report
from app.services import fmt
from app.text import md
from app.ui import action, show_flash, studio
from kan_core.errors import KanStudioError
from kan_core.symbolic.export import to_json, to_latex, to_python

s = studio()
st.title("Formula")
show_flash()

with st.expander("Reports from the command line (search, discover-many)"):
    upload = st.file_uploader("Open a report", type=["json", "jsonl"], key="report_file")
    if upload is not None:
        try:
            report = read_report(upload.getvalue(), upload.name)
        except KanStudioError as err:
            st.error(md(err))
        else:
            st.caption(md(report.title))
            st.dataframe(report.table, hide_index=True, width="stretch")
            for note in report.notes:
                st.caption(md(note))

if s.dataset is None:
    st.info("Load data on the Data page first.")
    st.stop()
ds = s.dataset

with st.expander("Discover formulas automatically", expanded=s.model is None and "discover" not in s.results):
    st.caption("Tries several KAN architectures (and log-space for positive data), snaps, refits constants.")
    budget = st.slider("Time budget (seconds)", 5, 120, 20)
    searching = s.discovery is not None and s.discovery.running
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Discover", type="primary", on_click=action(s.start_discover, budget), disabled=searching)
    c2.button("Stop", key="stop_discover", on_click=action(s.stop_discover), disabled=not searching)

    @st.fragment(run_every=0.5 if searching else None)
    def progress() -> None:
        """The search's progress, refreshed twice a second while it runs in its worker process."""
        job = s.discovery
        if job is None:
            return
        if job.running:
            info = job.progress
            route = f"route {info['done'] + 1}/{info['total']}: {info['route']}" if info else "starting…"
            st.progress(
                min(job.elapsed / job.seconds, 1.0), text=f"Discovering… {route} ({job.elapsed:.0f} s)"
            )
            return
        if s.poll_discover():
            st.rerun()  # show the new result below
        if job.status == "completed":
            st.success(f"Done in {job.result.seconds:.1f} s")
        elif job.status == "stopped":
            st.info(f"Discovery {job.message}; earlier results are kept")
        else:
            st.error(md(job.message))

    progress()

results = {}
if s.model is not None:
    try:
        with st.spinner("Reading the network as a formula…"):
            results["Snapped network"] = s.network_formula()
    except KanStudioError as err:
        st.info(f"Formula from the network: {md(err)}. (Network page → Auto-snap, or Discover above.)")
if "discover" in s.results:
    results["Discover"] = s.results["discover"]
if not results:
    st.info("No formula yet: snap every edge on the Network page, or run Discover above.")
    st.stop()

source = st.radio("Formula from", list(results), horizontal=True) if len(results) > 1 else next(iter(results))
res = results[source]
best, syms, names = res.best, res.symbols, res.variables

st.subheader(f"{md(ds.target)} =")
st.latex(f"{to_latex(best.expr, syms, names)}")
m = res.metrics
net = m.get("formula_vs_network")
c1, c2, c3, c4 = st.columns(4)
c1.metric("R² (validation)", fmt(m["val_r2"]))
c2.metric("RMSE (validation)", fmt(m["val_rmse"]))
c3.metric("vs network (rel. RMS)", fmt(net) if net is not None else "–")
c4.metric("complexity", best.complexity)
for w in res.warnings:
    st.caption(md(w))

st.subheader("Accuracy / complexity trade-off")
table = res.equations  # the same table as the CLI's and Result.equations
pareto = pd.DataFrame(
    {
        "complexity": table["complexity"],
        "validation MSE": table["val_loss"],
        "score": table["score"],
        "best": np.where(table["best"], "★", ""),
        "formula": table["equation"],
        "route": table["route"],
    }
)
st.dataframe(
    pareto.style.format({"validation MSE": "{:.4g}", "score": "{:.4g}"}), hide_index=True, width="stretch"
)

pred = res.predict(ds.X)
ok = np.isfinite(pred)
left, right = st.columns(2)
left.plotly_chart(prediction_figure(ds.y[ok], pred[ok], ds.target), width="stretch")
right.plotly_chart(residual_figure(ds.X[ok], ds.y[ok] - pred[ok], names), width="stretch")

st.subheader("Export")
d1, d2, d3 = st.columns(3)
report = to_json(res, s.fingerprint())
d1.download_button(
    "Download formula (JSON)", json.dumps(report, indent=2, default=str), "formula.json", "application/json"
)
d2.download_button("Download LaTeX", to_latex(best.expr, syms, names), "formula.tex", "text/plain")
d3.download_button(
    "Download Python", to_python(best.expr, syms, target=ds.target), "formula.py", "text/x-python"
)
