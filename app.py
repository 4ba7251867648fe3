"""KAN Studio: `streamlit run app.py` (or `make run`). Opens on a built-in example."""

import os

# Before torch loads OpenMP: sessions share the cores, and spinning worker threads stall each other
# (50 training steps took 75 s instead of 4 s next to one other busy process).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import streamlit as st  # noqa: E402

from kan_core._runtime import tune_malloc  # noqa: E402

tune_malloc()  # the studio server is a process of its own: keep freed tensor memory (see _runtime)

from app.ui import flash, reported, studio  # noqa: E402

st.set_page_config(page_title="KAN Studio", page_icon="🧮", layout="wide")

pages = [
    st.Page("app/pages/data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("app/pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app/pages/network.py", title="Network", icon=":material/hub:"),
    st.Page("app/pages/formula.py", title="Formula", icon=":material/functions:"),
    st.Page("app/pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app/pages/continual.py", title="Continual learning", icon=":material/timeline:"),
    st.Page("app/pages/pde.py", title="Solve a PDE", icon=":material/grid_on:"),
]
page = st.navigation(pages)
s = studio()


def on_restore() -> None:
    """Load the uploaded session file onto the current data."""
    up = st.session_state.get("restore")
    if up is not None:
        with reported():
            flash("success", s.restore(up.getvalue(), up.name))


with st.sidebar:
    st.caption(
        f"Data: **{s.source or 'none'}**" + (f" · model {s.model.spec}" if s.model is not None else "")
    )
    st.download_button(
        "Save session",
        s.session_file,
        "kan-studio-session.kan",
        "application/zip",
        disabled=s.model is None,
        help="Model, snapped edges, undo history, training curves and the column mapping (no code inside)",
    )
    st.file_uploader(
        "Restore session",
        type=["kan"],
        key="restore",
        on_change=on_restore,
        help="A .kan file saved here; load the same data first",
    )
page.run()
