"""Streamlit glue shared by the pages: the user's workspace, one-line errors, flash messages."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

import streamlit as st

from kan_core.errors import KanStudioError

from . import store
from .persist import open_workspace, signature, workspace_files
from .services import TrainSettings
from .state import DEFAULT_EXAMPLE, Studio
from .text import md


def studio() -> Studio:
    """This browser session's workspace: in st.session_state, and on the server's disk under the
    unguessable key in the URL (`?ws=…`, see app.store), so a reload or a reopened tab restores it.
    An unknown key is never adopted (someone else's link cannot pick a victim's key): a fresh
    workspace gets a fresh key."""
    if "studio" not in st.session_state:
        key = st.query_params.get("ws")
        files = store.load(key)
        s, problem = Studio(), None
        if files is not None:
            problem = open_workspace(s, files)
            if problem is None:
                kept = [
                    w
                    for w, on in (("its model", s.model), ("its Discover result", "discover" in s.results))
                    if on
                ]
                flash(
                    "info",
                    f"workspace restored: {s.source}" + (" with " + " and ".join(kept) if kept else ""),
                )
                st.session_state["saved"] = signature(s)
        if files is None or problem is not None:
            if problem is not None:
                flash("warning", problem)
            s = Studio()
            s.load_example(DEFAULT_EXAMPLE)
            key = store.new_key()
        # Settings in the URL (a shared link, or the page's own mirror) win over the saved ones.
        query = {k: v for k, v in st.query_params.to_dict().items() if k != "ws"}
        s.settings = TrainSettings.from_query({**s.settings.to_query(), **query})
        st.query_params["ws"] = str(key)
        st.session_state["ws"] = str(key)
        st.session_state["studio"] = s
    if st.query_params.get("ws") != st.session_state["ws"]:  # page navigation drops query params
        st.query_params["ws"] = st.session_state["ws"]
    return st.session_state["studio"]


def persist(s: Studio) -> None:
    """Save the workspace to the server's disk when it changed. While training the model is
    being written to: the job's latest checkpoint is saved instead (`save_checkpoint`), and the
    run that follows training saves the final model."""
    if s.training:
        save_checkpoint(s)
        return
    if st.session_state.get("saved") == signature(s):
        return
    _save(lambda: workspace_files(s))
    st.session_state["saved"] = signature(s)


def save_checkpoint(s: Studio) -> None:
    """While training: save the workspace with the job's newest checkpoint as its model (one
    every `app.services.CHECKPOINT_SECONDS`), once per checkpoint; cheap when there is none new.
    Called by every run of the page and by the Train page's live view."""
    cp = s.job.checkpoint if s.job is not None else None
    mark = (id(s.job), cp.step) if cp is not None else None
    if mark is None or st.session_state.get("checkpoint_saved") == mark:
        return
    st.session_state["checkpoint_saved"] = mark
    session = s.checkpoint_file()
    if session is not None:
        _save(lambda: workspace_files(s, session))


def _save(files: Callable[[], dict[str, bytes]]) -> None:
    try:
        if not store.save(st.session_state["ws"], files()):
            flash("warning", "this workspace is too large to keep on the server: use Save session")
    except (OSError, KanStudioError) as err:
        flash("warning", f"the workspace could not be saved on the server ({err}); use Save session")


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
