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
