"""Data page: pick an example or upload a CSV, choose target and features, look at the data."""

import pandas as pd
import streamlit as st

from app.plots import scatter_figure
from app.text import md
from app.ui import action, flash, reported, show_flash, studio
from kan_core.io.examples import catalog

s = studio()
st.title("Data")
show_flash()
EXAMPLES = [e["name"] for e in catalog()]


def load_or_ask(kind: str, name: str, payload: object) -> None:
    """Load new data at once, or, while a model exists, ask first (the dialog below)."""
    if s.model is not None:
        st.session_state["pending_data"] = (kind, name, payload)
        return
    with reported():
        load(kind, name, payload)()
        flash("success", loaded_text(kind, name))


def load(kind: str, name: str, payload: object):
    """A function loading the example or uploaded table."""
    if kind == "example":
        return lambda: s.load_example(name, n=int(payload))
    return lambda: s.load_upload(payload, name)


def loaded_text(kind: str, name: str) -> str:
    """The line shown once the data is in."""
    if kind == "example":
        return f"loaded example {name}"
    return f"loaded {name}: {len(s.df):,} rows, {s.df.shape[1]} columns"


def on_example(key: str) -> None:
    """Load the chosen example."""
    name = st.session_state.get(key)
    if name:
        load_or_ask("example", name, int(st.session_state.get("example_rows", 1000)))


def on_upload() -> None:
    """Load the uploaded table; a bad file keeps the current data. The uploader is emptied after
    each file (a new key): its chip never names a table that is not the one in use."""
    key = f"upload_{st.session_state.get('upload_n', 0)}"
    up = st.session_state.get(key)
    st.session_state["upload_n"] = st.session_state.get("upload_n", 0) + 1
    if up is not None:
        load_or_ask("upload", up.name, up.getvalue())


def on_dismiss() -> None:
    """Closing the dialog keeps everything as it was (the new data is not loaded)."""
    st.session_state.pop("pending_data", None)
    s.data_id += 1  # the example picker goes back to the data in use


@st.dialog("New data: what about the model?", on_dismiss=on_dismiss)
def ask_new_data() -> None:
    """Discard model (one Undo brings it back) or Keep model (it continues on the new rows when
    they have its columns; otherwise the new data is not loaded)."""
    kind, name, payload = st.session_state["pending_data"]
    st.write(f"A trained model ({s.model.spec}) exists. Loading **{md(name)}** would replace it.")
    c1, c2 = st.columns(2)
    if c1.button("Discard model", type="primary"):
        del st.session_state["pending_data"]
        with reported():
            s.load_discarding(load(kind, name, payload))
            note = "; the previous model was discarded (Undo brings it back)"
            flash("success", loaded_text(kind, name) + note)
        st.rerun()
    if c2.button("Keep model"):
        del st.session_state["pending_data"]
        with reported():
            flash("info", s.load_keeping(load(kind, name, payload)))
        st.rerun()


if st.session_state.get("pending_data") is not None:
    ask_new_data()
if s.discarded is not None:
    st.button(
        "Undo",
        key="undo_discard",
        on_click=action(s.undo_discard, done="the discarded model and its data are back"),
        help="Bring back the model (and its data) that Discard model replaced",
    )

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
        key=f"upload_{st.session_state.get('upload_n', 0)}",
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


def on_units(key: str, columns: list[str], before: dict) -> None:
    """Apply the edited units table (a unit pint cannot read keeps the old units, one line says why)."""
    edits = st.session_state[key].get("edited_rows", {})
    units = dict(before)
    for row, change in edits.items():
        if "unit" in change:
            units[columns[int(row)]] = str(change["unit"] or "")
    with reported():
        s.set_units(units)


known = {str(c): str(u) for c, u in (s.df.attrs.get("units") or {}).items()}
numeric = [c for c in cols if c in ds.features or c == ds.target]
with st.expander("Units", expanded=bool(known)):
    st.caption(
        "One unit per column, in pint's syntax (m/s, kPa, kg/m**3, J/(mol*K), degC); read from headers"
        " such as `v [m/s]` or a units row. Empty means unknown, `-` dimensionless. With every used"
        " column's unit known, Discover also searches on Buckingham π groups and marks each formula"
        " dimensionally consistent or not."
    )
    ukey = f"units_{s.data_id}_{hash(tuple(sorted(known.items())))}"
    st.data_editor(
        pd.DataFrame({"column": numeric, "unit": [known.get(c, "") for c in numeric]}),
        key=ukey,
        hide_index=True,
        disabled=["column"],
        on_change=on_units,
        args=(ukey, numeric, known),
        column_config={"unit": st.column_config.TextColumn("unit", help="pint syntax, e.g. m/s")},
    )

if ds.report:
    with st.expander("Column health: what the loader did with each column"):
        st.dataframe(ds.report, width="stretch", hide_index=True)

tab_preview, tab_stats, tab_plot = st.tabs(["Preview", "Statistics", "Target vs features"])
tab_preview.dataframe(s.df.head(200), width="stretch", height=260)
tab_stats.dataframe(s.df.describe().T.style.format("{:.4g}"), width="stretch")
tab_plot.plotly_chart(scatter_figure(s.df, ds.target, ds.features), width="stretch")
