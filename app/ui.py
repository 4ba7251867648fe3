"""Streamlit glue shared by the pages: the user's workspace, one-line errors, flash messages."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import streamlit as st

from kan_core.errors import KanStudioError

from .services import TrainSettings
from .state import DEFAULT_EXAMPLE, Studio
from .text import md


def studio() -> Studio:
    """This browser session's workspace (never shared: it lives in st.session_state)."""
    if "studio" not in st.session_state:
        s = Studio()
        s.load_example(DEFAULT_EXAMPLE)
        s.settings = TrainSettings.from_query(dict(st.query_params))
        st.session_state["studio"] = s
    return st.session_state["studio"]


def flash(kind: str, text: str) -> None:
    """Queue a message for the next render (callbacks cannot place elements in the page body)."""
    st.session_state.setdefault("flash", []).append((kind, text))


def show_flash() -> None:
    """Render queued messages once, inside a container that is always there: the page keeps its
    shape between runs, so the browser never shows a stale copy of the widgets below."""
    with st.container():
        for kind, text in st.session_state.pop("flash", []):
            getattr(st, kind)(md(text))  # messages carry file and column names: shown as typed


@contextmanager
def reported():
    """Turn a KanStudioError into a one-line st.error; the workspace stays as it was."""
    try:
        yield
    except KanStudioError as err:
        flash("error", str(err))


def action(fn: Callable[..., object], *args, done: str | None = None) -> Callable[[], None]:
    """A button callback running fn(*args) with errors shown as one line."""

    def run() -> None:
        with reported():
            out = fn(*args)
            if done:
                flash("success", done.format(out=out))

    return run


def experiment_panel(kind: str, start: Callable[[], object], note: str) -> None:
    """Run / Stop, live progress and the results (figures, table, JSON download) of one claim
    experiment (`kind` in app.experiments.KINDS); `start()` returns a new ExperimentJob."""
    from .experiments import progress, summary, table, to_json
    from .figures import figures

    jobs = st.session_state.setdefault("experiments", {})

    def run() -> None:
        if jobs.get(kind) is not None:
            jobs[kind].stop()
        with reported():
            jobs[kind] = start()

    running = jobs.get(kind) is not None and jobs[kind].running
    st.caption(note)
    c1, c2, _ = st.columns([1, 1, 4])
    c1.button("Run", type="primary", key=f"run_{kind}", on_click=run, disabled=running)
    c2.button("Stop", key=f"stop_{kind}", on_click=lambda: jobs[kind].stop(wait=False), disabled=not running)

    @st.fragment(run_every=0.5 if running else None)
    def live() -> None:
        job = jobs.get(kind)
        if job is None:
            st.info("Press Run to start.")
            return
        if job.running:
            frac, text = progress(job)
            st.progress(frac, text=text)
            return
        if running:
            st.rerun()  # the buttons must see that the run ended
        if job.status == "failed":
            st.error(md(job.message))
            return
        done = "stopped early: what was measured so far" if job.status == "stopped" else "completed"
        getattr(st, "info" if job.status == "stopped" else "success")(f"{done} — {job.seconds:.1f} s")
        res = job.result
        for line in summary(res):
            st.markdown(md(line))
        for i, fig in enumerate(figures(res)):
            st.plotly_chart(fig, width="stretch", key=f"{kind}_fig_{i}")
        st.dataframe(table(res), hide_index=True, width="stretch")
        st.download_button(
            "Download JSON", to_json(res), f"{kind}.json", "application/json", key=f"dl_{kind}"
        )

    live()
