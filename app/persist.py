"""A Studio written to and read from a server-side workspace (see app.store); no Streamlit here."""

from __future__ import annotations

import io
import json

import pandas as pd

from kan_core.discovery.result_json import result_from_json
from kan_core.errors import KanStudioError
from kan_core.io.data import prepare
from kan_core.symbolic.export import to_json

from .services import TrainSettings
from .state import Studio


def signature(s: Studio) -> tuple:
    """What changes when the workspace needs saving again."""
    units = tuple(sorted((s.df.attrs.get("units") or {}).items())) if s.df is not None else ()
    res = s.results.get("discover")
    found = (res.seconds, res.seed, str(res.best.expr), len(res.pareto)) if res is not None else None
    return (s.data_id, s.version, s.steps_done, tuple(s.settings.to_query().items()), s.source, units, found)


def workspace_files(s: Studio, session: bytes | None = None) -> dict[str, bytes]:
    """The workspace as files: the table (CSV), the column choice and settings (JSON), when a
    model exists the session file (model, undo stack, curves; `session` when given, e.g. a
    training checkpoint's), and Discover's result (formula JSON, `kan_core.symbolic.export.to_json`)
    when there is one."""
    files: dict[str, bytes] = {}
    if s.df is None or s.dataset is None:
        return files
    files["data.csv"] = s.df.to_csv(index=False).encode()
    meta = {
        "source": s.source,
        "entry": s.entry,
        "target": s.dataset.target,
        "features": list(s.dataset.features),
        "settings": s.settings.to_query(),
        "notes": s.notes,
        "units": dict(s.df.attrs.get("units") or {}),
    }
    files["workspace.json"] = json.dumps(meta, default=str).encode()
    if session is not None:
        files["session.kan"] = session
    elif s.model is not None:
        files["session.kan"] = s.session_file()
    if "discover" in s.results:
        files["result.json"] = json.dumps(to_json(s.results["discover"]), default=str).encode()
    return files


def open_workspace(s: Studio, files: dict[str, bytes]) -> str | None:
    """Load a saved workspace into `s` (a fresh Studio); None on success, else why it could not be
    read (the caller then starts on the default data)."""
    try:
        meta = json.loads(files["workspace.json"])
        df = pd.read_csv(io.BytesIO(files["data.csv"]))
        df = df.set_axis([str(c) for c in df.columns], axis=1)
        units = meta.get("units") or {}
        df.attrs["units"] = {str(k): str(v) for k, v in units.items() if str(k) in df.columns}
        ds = prepare(df, str(meta["target"]), [str(f) for f in meta["features"]])
        s._replace_data(df, str(meta.get("source", "")), ds)
        s.entry = meta.get("entry") if isinstance(meta.get("entry"), dict) else None
        s.notes = [str(n) for n in meta.get("notes", [])]
        s.settings = TrainSettings.from_query({k: str(v) for k, v in meta.get("settings", {}).items()})
        if "session.kan" in files:
            s.restore(files["session.kan"], "the saved workspace")
    except (KanStudioError, KeyError, ValueError, TypeError, OSError) as err:
        return f"the saved workspace could not be read ({err}); starting afresh"
    if "result.json" in files:
        open_result(s, files["result.json"])
    return None


def open_result(s: Studio, raw: bytes) -> None:
    """Take a saved Discover result into `s.results`; one that cannot be read (or was found on
    other columns) is left out and `s.result_note` says so — the rest of the workspace stays."""
    try:
        res = result_from_json(json.loads(raw))
        ds = s.dataset
        if ds is None or res.target != ds.target or res.variables != list(ds.features):
            raise ValueError("it was found on other columns")
    except (KanStudioError, ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        s.result_note = f"The saved Discover result could not be read back ({err}); run Discover again."
        return
    s.results["discover"] = res
