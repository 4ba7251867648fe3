"""Data page: pick an example or upload a CSV, choose target and features, look at the data."""

import streamlit as st

from app.plots import scatter_figure
from app.text import md
from app.ui import flash, reported, show_flash, studio
from kan_core.io.examples import catalog

s = studio()
st.title("Data")
show_flash()
EXAMPLES = [e["name"] for e in catalog()]


def on_example(key: str) -> None:
    """Load the chosen example."""
    name = st.session_state.get(key)
    if name:
        with reported():
            s.load_example(name, n=int(st.session_state.get("example_rows", 1000)))
            flash("success", f"loaded example {name}")


def on_upload() -> None:
    """Load the uploaded table; a bad file keeps the current data."""
    up = st.session_state.get("upload")
    if up is not None:
        with reported():
            s.load_upload(up.getvalue(), up.name)
            flash("success", f"loaded {up.name}: {len(s.df):,} rows, {s.df.shape[1]} columns")


left, right = st.columns(2)
with left:
    st.selectbox(
        "Example dataset",
        EXAMPLES,
        index=EXAMPLES.index(s.source) if s.source in EXAMPLES else None,
        placeholder="choose a built-in example",
        key=f"example_{s.data_id}",
        on_change=on_example,
        args=(f"example_{s.data_id}",),
    )
    st.number_input("Rows to generate (formula examples)", 20, 100_000, 1000, step=100, key="example_rows")
with right:
    st.file_uploader(
        "Upload CSV",
        type=["csv", "tsv", "txt"],
        key="upload",
        on_change=on_upload,
        help="Comma, semicolon or tab separated, with a header row; the decimal mark and thousands separator"
        " are read from the whole file, and every decision is listed below.",
    )

if s.df is None:
    st.info("Upload a CSV or choose an example dataset to begin.")
    st.stop()

st.caption(f"**{md(s.source)}** — {len(s.df):,} rows × {s.df.shape[1]} columns")
if s.entry:
    law = s.entry.get("formula")
    st.caption(
        f"{s.entry['description']} Source: {s.entry['source']} ({s.entry['license']})"
        + (f" Known law: `{law}`." if law else "")
    )
cols = [str(c) for c in s.df.columns]
ds = s.dataset


def on_columns(tkey: str, fkey: str) -> None:
    """Apply the target and feature choice."""
    target = st.session_state[tkey]
    features = [f for f in st.session_state[fkey] if f != target]
    with reported():
        s.set_columns(target, features)


c1, c2 = st.columns([1, 2])
keys = (f"target_{s.data_id}", f"features_{s.data_id}")
c1.selectbox("Target", cols, index=cols.index(ds.target), key=keys[0], on_change=on_columns, args=keys)
c2.multiselect("Features", cols, default=ds.features, key=keys[1], on_change=on_columns, args=keys)
for note in s.notes:
    st.warning(md(note))
st.caption(f"Using {len(ds.y):,} rows: {md(ds.target)} from {md(', '.join(ds.features))}.")
if ds.report:
    with st.expander("Column health: what the loader did with each column"):
        st.dataframe(ds.report, width="stretch", hide_index=True)

tab_preview, tab_stats, tab_plot = st.tabs(["Preview", "Statistics", "Target vs features"])
tab_preview.dataframe(s.df.head(200), width="stretch", height=260)
tab_stats.dataframe(s.df.describe().T.style.format("{:.4g}"), width="stretch")
tab_plot.plotly_chart(scatter_figure(s.df, ds.target, ds.features), width="stretch")
