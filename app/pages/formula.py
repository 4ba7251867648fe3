"""Formula page: Pareto table, the best formula, its fit to data and network, exports, sessions; and
the reports of the command line's `search` and `discover-many`."""

import json

import numpy as np
import pandas as pd
import streamlit as st

from app.plots import extrapolation_figure, prediction_figure, residual_figure
from app.report_html import report_html
from app.reports import read_report
from app.services import fmt
from app.text import md
from app.trust import (
    DEFAULT_R2,
    along_input,
    better_source,
    box_problems,
    constant_unit_texts,
    data_box,
    unreliable,
)
from app.ui import action, show_flash, studio
from kan_core.errors import KanStudioError
from kan_core.symbolic.export import name_latex, short_text, to_json, to_latex, to_python
from kan_core.symbolic.uncertainty import METHOD, intervals, rounded

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

if s.result_note and "discover" not in s.results:  # a saved result that could not be read back
    st.warning(md(s.result_note))
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

threshold = (st.columns([1, 3])[0]).number_input(
    "Reliable when validation R² ≥",
    0.0,
    1.0,
    DEFAULT_R2,
    format="%.4g",
    help="Below this (or when discovery's verdict is 'no law') the best formula is not shown as a find",
)
names_ = list(results)
pick = better_source(results, threshold)
source = (
    st.radio("Formula from", names_, index=pick, horizontal=True, key=f"source_{names_}_{pick}")
    if len(results) > 1
    else names_[0]
)
res = results[source]
best, syms, names = res.best, res.symbols, res.variables
problem = unreliable(res, threshold)

key = ("intervals", source, str(best.expr), s.data_id)
if st.session_state.get("intervals_key") != key:
    with st.spinner("Bootstrapping the constants' intervals…"):
        st.session_state["intervals"] = intervals(best.expr, syms, ds.X, ds.y, seed=s.settings.seed)
    st.session_state["intervals_key"] = key
found = st.session_state["intervals"]
shown = rounded(best.expr, found)

if problem:
    st.warning(md(problem))
    st.subheader(f"Best candidate (not reliable): {md(ds.target)} =")
else:
    st.subheader(f"★ {md(ds.target)} =")
# Long formulas scroll inside their box instead of running off the page.
st.markdown(
    "<style>.stLatex, [data-testid='stMarkdownContainer'] .katex-display"
    "{overflow-x:auto;overflow-y:hidden;max-width:100%}</style>",
    unsafe_allow_html=True,
)
st.latex(f"{to_latex(shown, syms, names)}")
m = res.metrics
net = m.get("formula_vs_network")
c1, c2, c3, c4 = st.columns(4)
c1.metric("R² (validation)", fmt(m["val_r2"]))
c2.metric("RMSE (validation)", fmt(m["val_rmse"]))
c3.metric("vs network (rel. RMS)", fmt(net) if net is not None else "–")
c4.metric("complexity", best.complexity)
if found:
    st.caption(f"Constants with 95% intervals ({METHOD.format(n=100)}); full precision in the downloads.")
    table = {
        "constant": [iv.text for iv in found],
        "95% interval": [f"[{iv.low:.6g}, {iv.high:.6g}]" for iv in found],
        "full precision": [repr(iv.value) for iv in found],
    }
    if unit_of := constant_unit_texts(res):  # 8.314 J/(K·mol): in the units of the columns
        table["unit"] = [unit_of(iv.value) for iv in found]
    st.dataframe(pd.DataFrame(table), hide_index=True)
if res.groups:
    st.caption(md("Buckingham π groups: " + "; ".join(res.groups)))
for w in res.warnings:
    st.caption(md(w))
st.caption(f"Where the data ends: {md(data_box(ds.X, names))}")
domain = box_problems(res, ds.X)
if domain:
    st.warning(md(domain))

st.subheader("Accuracy / complexity trade-off")
table = res.equations  # the same table as the CLI's and Result.equations
pareto = pd.DataFrame(
    {
        "complexity": table["complexity"],
        "validation MSE": table["val_loss"],
        "score": table["score"],
        "best": np.where(table["best"] & (problem is None), "★", ""),
        "formula": [short_text(e) for e in table["sympy"]],  # 4 digits; in full below
        "route": table["route"],
    }
)
if table["dimension"].notna().any():  # units known: consistent, constant carries units, inconsistent
    pareto["dimensions"] = table["dimension"].fillna("unknown")
st.dataframe(
    pareto.style.format({"validation MSE": "{:.4g}", "score": "{:.4g}"}),
    hide_index=True,
    width="stretch",
    column_config={"formula": st.column_config.TextColumn("formula", width="large")},
)
with st.expander("Pareto formulas in full"):
    for c, eq in zip(table["complexity"], table["equation"]):
        st.code(f"{c}: {eq}", language=None, wrap_lines=True)

pred = res.predict(ds.X)
ok = np.isfinite(pred)
figs = [
    prediction_figure(ds.y[ok], pred[ok], ds.target),
    residual_figure(ds.X[ok], ds.y[ok] - pred[ok], names),
]
left, right = st.columns(2)
left.plotly_chart(figs[0], width="stretch")
right.plotly_chart(figs[1], width="stretch")
j = names.index(st.selectbox("Along input", names)) if len(names) > 1 else 0
line = along_input(res, ds.X, j)
data = (ds.X[:, j], ds.y) if len(names) == 1 else None
figs.append(extrapolation_figure(line, names[j], ds.target, data))
st.plotly_chart(figs[-1], width="stretch")
if len(names) > 1:
    st.caption("The other inputs are held at their medians; shaded: beyond the data (extrapolation).")

st.subheader("Export")
report = to_json(res, s.fingerprint())
report["best"]["constant_intervals"] = [iv.as_dict() for iv in found]
report["constant_interval_method"] = METHOD.format(n=100)
report["reliable"] = problem is None
report["trust_notes"] = [n for n in (problem, domain) if n]
target_tex = name_latex(ds.target)
d1, d2, d3, d4 = st.columns(4)
d1.download_button(
    "Download formula (JSON)", json.dumps(report, indent=2, default=str), "formula.json", "application/json"
)
d2.download_button(
    "Download LaTeX", f"{target_tex} = {to_latex(best.expr, syms, names)}", "formula.tex", "text/plain"
)
d3.download_button(
    "Download Python", to_python(best.expr, syms, target=ds.target), "formula.py", "text/x-python"
)


def html_report() -> str:
    """The self-contained report (built when the button is pressed)."""
    settings = {"source": s.source, "target": ds.target, "features": ", ".join(names), "rows": len(ds.y)}
    settings |= {"formula from": source, "R² threshold": threshold} | s.settings.to_query()
    return report_html(
        res,
        shown,
        found,
        figs,
        source=s.source,
        fingerprint=s.fingerprint(),
        settings=settings,
        notes=[n for n in (problem, domain) if n],
    )


d4.download_button("Download report (HTML)", html_report, "kan-studio-report.html", "text/html")
