"""The Studio's sessions and data swaps: save/restore a session file, and new data while a model
exists (Discard model, one Undo away; Keep model). A mixin of `app.state.Studio` (plain Python)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kan_core.errors import DataError, ModelError, SessionError
from kan_core.io.session import Session, load_session, session_bytes

from .services import TrainSettings, merge_curves

if TYPE_CHECKING:
    from kan_core import KAN

    from .state import Studio


def _is_log(model: object) -> bool:
    return bool(getattr(model, "log_space", False))


class Sessions:
    """Methods of `Studio` that move whole workspaces: session files and data swaps."""

    # ----- new data while a model exists ----------------------------------------------------
    _KEPT = ("df", "source", "entry", "dataset", "model", "undo", "curves", "steps_done", "settings")

    def _snapshot(self: Studio) -> dict:
        self.stop()
        return {k: getattr(self, k) for k in self._KEPT + ("notes", "results")}

    def _put_back(self: Studio, snap: dict) -> None:
        self.stop()
        self.stop_discover()
        for k, v in snap.items():
            setattr(self, k, v)
        self.selected = None
        self.version += 1
        self.data_id += 1

    def load_discarding(self: Studio, load: Callable[[], None]) -> None:
        """Run `load` (which replaces the data and forgets the model); the workspace before it is
        kept so that `undo_discard` brings it back. A DataError from `load` changes nothing."""
        snap = self._snapshot()
        load()
        self.discarded = snap

    def load_keeping(self: Studio, load: Callable[[], None]) -> str:
        """Run `load` but keep the model: when the new table has the model's columns, the model,
        its undo history and curves continue on the new rows; otherwise the new data is not used
        and the workspace stays as it was. Returns a line for the user."""
        snap = self._snapshot()
        target, features = snap["dataset"].target, list(snap["dataset"].features)
        load()
        new = self.source
        if all(c in self.df.columns for c in [target, *features]):
            try:
                self.set_columns(target, features)
            except DataError as err:
                self._put_back(snap)
                return f"{new} cannot be used with the model ({err}); kept the model and its data"
            self.model, self.undo, self.curves, self.steps_done, self.settings = (
                snap["model"],
                snap["undo"],
                snap["curves"],
                snap["steps_done"],
                snap["settings"],
            )
            self.version += 1
            return f"loaded {new}; the model is kept (same columns): Train continues it on the new rows"
        missing = ", ".join(c for c in [target, *features] if c not in self.df.columns)
        self._put_back(snap)
        return f"{new} lacks the model's column(s) {missing}; kept the model and its data ({self.source})"

    def undo_discard(self: Studio) -> None:
        """Bring back the model (and its data) that the last "Discard model" replaced."""
        if self.discarded is None:
            raise ModelError("no discarded model to bring back")
        snap, self.discarded = self.discarded, None
        self._put_back(snap)

    # ----- sessions ------------------------------------------------------------------------
    def session_file(self: Studio) -> bytes:
        """The whole workspace as a session file (model, undo stack, curves, data mapping)."""
        if self.model is None:
            raise ModelError("train a model first; there is nothing to save yet")
        self.stop()
        return self._session_bytes(self.model, self.steps_done, self.curves)

    def checkpoint_file(self: Studio) -> bytes | None:
        """The workspace as a session file with the running job's latest checkpoint as its model
        (`TrainingJob.checkpoint`; steps and curves up to it); None when there is none yet.
        Training goes on: only the checkpoint's copy of the model is read."""
        cp = self.job.checkpoint if self.job is not None and self.job.running else None
        if cp is None:
            return None
        curves = {k: list(v) for k, v in self.curves.items()}
        merge_curves(curves, cp, self.steps_done)
        return self._session_bytes(cp.model, self.steps_done + cp.step, curves)

    def _session_bytes(self: Studio, model: KAN, steps_done: int, curves: dict[str, list]) -> bytes:
        ds = self.dataset
        meta = {
            "source": self.source,
            "target": ds.target,
            "features": ds.features,
            "fingerprint": self.fingerprint(),
            "settings": self.settings.to_query(),
            "steps_done": steps_done,
            "log_space": _is_log(model),
            "log_sign": -1 if _is_log(model) and (ds.y < 0).all() else 1,
        }
        return session_bytes(Session(model, meta, curves, self.undo))

    def restore(self: Studio, raw: bytes, filename: str) -> str:
        """Load a session onto the current data; returns a note for the user.

        Everything is read and checked first; the workspace changes only when all of it is
        good (a failed restore leaves model, undo stack, curves and settings as they were)."""
        s = load_session(raw, name=filename)
        target, features = s.meta.get("target"), s.meta.get("features")
        cols = [] if self.df is None else [str(c) for c in self.df.columns]
        if not target or not features or any(c not in cols for c in [target, *features]):
            raise SessionError(
                f"{filename} was made on columns {', '.join(map(str, features or []))} → {target}; "
                "load that data first, then restore the session"
            )
        models = [s.model] + [m for stack in s.undo.entries for _, m in stack]
        if any(m.widths[0] != len(features) or m.widths[-1] != 1 for m in models):
            raise SessionError(
                f"{filename}: a model's inputs do not match its column list; the file is damaged"
            )
        curves = {key: list(s.history.get(key, [])) for key in ("step", "train", "val_step", "val")}
        if len(curves["step"]) != len(curves["train"]) or len(curves["val_step"]) != len(curves["val"]):
            raise SessionError(
                f"{filename}: its training curves have mismatched lengths; the file is damaged"
            )
        settings = TrainSettings.from_query({k: str(v) for k, v in s.meta.get("settings", {}).items()})
        self.stop()  # a running job must not keep writing into the restored curves
        self.set_columns(target, features)  # a DataError here leaves the workspace as it was
        for m in [s.model] + [m for stack in s.undo.entries for _, m in stack]:
            m.log_space = s.meta.get("log_space") is True  # type: ignore[assignment]
        self.model, self.undo, self.curves = s.model, s.undo, curves
        self.steps_done = int(s.meta.get("steps_done", 0))
        self.settings = settings
        self.version += 1
        if s.meta.get("fingerprint") != self.fingerprint():
            return f"restored {filename}; note: the loaded data differs from the data it was trained on"
        return f"restored {filename}"
