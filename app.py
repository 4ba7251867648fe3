"""KAN Studio: `streamlit run app.py` (or `make run`). Opens on a built-in example."""

import os

# Before torch loads OpenMP: sessions share the cores, and spinning worker threads stall each other
# (50 training steps took 75 s instead of 4 s next to one other busy process).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import warnings  # noqa: E402

import streamlit as st  # noqa: E402

# Trial fits overflow, divide by zero and stop early by design (the fitters step back from them);
# NumPy's and SciPy's warnings about that would flood the server log.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"(numpy|scipy|sympy)\.")
warnings.filterwarnings("ignore", message=r".*(overflow|invalid value|divide by zero).*")
warnings.filterwarnings("ignore", category=UserWarning, module=r"scipy\.")

from kan_core._runtime import tune_malloc  # noqa: E402

tune_malloc()  # the studio server is a process of its own: keep freed tensor memory (see _runtime)

from app.ui import flash, persist, reported, studio  # noqa: E402

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


def try_restore(raw: bytes, name: str) -> None:
    """Restore a session onto the current data; a failure keeps the file for a retry."""
    with reported():
        st.session_state["pending_restore"] = (raw, name)
        flash("success", s.restore(raw, name))
        st.session_state.pop("pending_restore", None)


def on_restore() -> None:
    """Load the uploaded session file onto the current data. The uploader is emptied afterwards
    (a new key), so its chip never names a file that is not in use and the same file can be
    uploaded again for a retry."""
    key = f"restore_{st.session_state.get('restore_n', 0)}"
    up = st.session_state.get(key)
    st.session_state["restore_n"] = st.session_state.get("restore_n", 0) + 1
    if up is not None:
        try_restore(up.getvalue(), up.name)


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
        key=f"restore_{st.session_state.get('restore_n', 0)}",
        on_change=on_restore,
        help="A .kan file saved here; load the same data first",
    )
    pending = st.session_state.get("pending_restore")
    if pending is not None:
        st.caption(f"{pending[1]} was not restored: load its data, then retry (or upload another file).")
        st.button("Retry restore", on_click=lambda: try_restore(*pending))
persist(s)  # before the page: a page may end its run early (st.stop)
page.run()
