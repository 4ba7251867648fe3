"""Sessions saved without pickle (a zip of JSON and `weights_only` tensors) and an undo history."""

from __future__ import annotations

import copy
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .errors import SessionError
from .model import KAN

FORMAT = "kan-studio/session"
VERSION = 1
MAX_BYTES = 200 * 2**20
LIMITS = {"width": 1024, "layers": 16, "grid": 1000, "k": 8, "undo": 200}


@dataclass
class Session:
    """What a user's work consists of: the model, data mapping, training history and undo stack."""

    model: KAN
    meta: dict = field(default_factory=dict)  # target, features, data fingerprint, settings
    history: dict = field(default_factory=dict)  # training curves as plain lists
    undo: UndoHistory = field(default_factory=lambda: UndoHistory())


def _check_config(config: object) -> dict:
    """Refuse architectures that are malformed or absurdly large before allocating anything."""
    ok = isinstance(config, dict) and isinstance(config.get("widths"), list)
    if ok:
        widths, grids, k = config["widths"], config.get("grids"), config.get("k")
        flat = [w for spec in widths for w in (spec if isinstance(spec, list) else [spec])]
        ok = (
            2 <= len(widths) <= LIMITS["layers"] + 1
            and all(isinstance(w, int) and 0 <= w <= LIMITS["width"] for w in flat)
            and isinstance(grids, list)
            and len(grids) == len(widths) - 1
            and all(isinstance(g, int) and 1 <= g <= LIMITS["grid"] for g in grids)
            and isinstance(k, int)
            and 1 <= k <= LIMITS["k"]
        )
    if not ok:
        raise SessionError("the session's model description is invalid or out of range; the file is damaged")
    return config


def model_to_bytes(model: KAN) -> tuple[dict, bytes]:
    """(config, tensors) for a model: the architecture as JSON, the state dict as torch bytes."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
    return model.config(), buf.getvalue()


def model_from_bytes(config: dict, blob: bytes) -> KAN:
    """Rebuild a model from `model_to_bytes` output; tensors are read with weights_only=True."""
    config = _check_config(config)
    try:
        state = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
        grids = [int(g) for g in config["grids"]]
        model = KAN(
            config["widths"],
            grid=grids[0],
            k=int(config["k"]),
            seed=int(config.get("seed", 0)),
            device="cpu",
            base_fn=str(config.get("base_fn", "silu")),
        )
        for layer, g in zip(model.layers, grids, strict=True):
            if g != layer.grid:
                layer.refine(g)
        model = model.to(next(iter(state.values())).dtype) if state else model
        model.load_state_dict(state)
        model.validate()
    except Exception as err:  # any malformed content: never a traceback for a user's file
        raise SessionError(
            f"the session's model could not be restored ({type(err).__name__}); "
            "the file is damaged or not a KAN Studio session"
        ) from None
    return model


def session_bytes(session: Session) -> bytes:
    """The session file's content: manifest.json, model.pt and one undo/N.pt per undo step."""
    config, blob = model_to_bytes(session.model)
    steps = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for kind, entries in zip(("undo", "redo"), session.undo.entries, strict=True):
            for n, (label, model) in enumerate(entries):
                step_config, step_blob = model_to_bytes(model)
                name = f"{kind}/{n}.pt"
                zf.writestr(name, step_blob)
                steps.append({"stack": kind, "label": label, "file": name, "model": step_config})
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "model": config,
            "meta": session.meta,
            "history": session.history,
            "undo": {"limit": session.undo.limit, "steps": steps},
        }
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, default=float))
        zf.writestr("model.pt", blob)
    return buf.getvalue()


def save_session(path: str | Path, session: Session) -> None:
    """Write the session to `path` atomically (a failed save never damages an older file)."""
    data = session_bytes(session)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_member(zf: zipfile.ZipFile, name: str, total: list[int]) -> bytes:
    """Read one member, refusing zip bombs by the declared and the real uncompressed size."""
    total[0] += zf.getinfo(name).file_size
    if total[0] > MAX_BYTES:
        raise SessionError(f"the session unpacks to more than {MAX_BYTES // 2**20} MB; refusing to open it")
    data = zf.read(name)
    if len(data) != zf.getinfo(name).file_size:
        raise SessionError("the session file is damaged (a member's size does not match)")
    return data


def load_session(source: str | Path | bytes, name: str = "the file") -> Session:
    """Read a session (path or bytes); any problem is a one-line SessionError; nothing is executed."""
    if isinstance(source, bytes):
        raw = source
    else:
        p = Path(source)
        name = p.name
        if not p.is_file():
            raise SessionError(f"session file not found: {source}")
        if p.stat().st_size > MAX_BYTES:
            raise SessionError(f"{name} is larger than {MAX_BYTES // 2**20} MB; that is not a session file")
        raw = p.read_bytes()
    total = [0]
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            manifest = json.loads(_read_member(zf, "manifest.json", total))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise SessionError(f"{name} is not a KAN Studio session (wrong format marker)")
            version = manifest.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise SessionError(
                    f"{name} was written by a newer KAN Studio (format {version}); update to open it"
                )
            model = model_from_bytes(manifest.get("model"), _read_member(zf, "model.pt", total))
            undo = manifest.get("undo") or {"limit": 30, "steps": []}
            history = UndoHistory(max(1, min(int(undo.get("limit", 30)), LIMITS["undo"])))
            for step in list(undo.get("steps", []))[: 2 * LIMITS["undo"]]:
                stack = history.entries[0 if step["stack"] == "undo" else 1]
                blob = _read_member(zf, str(step["file"]), total)
                stack.append((str(step["label"]), model_from_bytes(step["model"], blob)))
    except SessionError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, TypeError, AttributeError):
        raise SessionError(
            f"{name} is not a KAN Studio session (damaged, truncated or another file type)"
        ) from None
    meta, curves = manifest.get("meta", {}), manifest.get("history", {})
    if not isinstance(meta, dict) or not isinstance(curves, dict):
        raise SessionError(f"{name} has a damaged manifest (meta/history are not objects)")
    return Session(model, meta, curves, history)


class UndoHistory:
    """Bounded undo/redo of structural steps (prune, snap, grid change, reset) on model copies."""

    def __init__(self, limit: int = 30):
        self.limit = limit
        self._undo: list[tuple[str, KAN]] = []
        self._redo: list[tuple[str, KAN]] = []

    def push(self, label: str, before: KAN) -> None:
        """Record the model as it was before the step called `label`."""
        self._undo.append((label, copy.deepcopy(before)))
        del self._undo[: -self.limit]
        self._redo.clear()

    def undo(self, current: KAN) -> KAN:
        """The model before the last step (the current one goes to redo)."""
        return self._move(self._undo, self._redo, current, "nothing to undo")

    def redo(self, current: KAN) -> KAN:
        """The model after the last undone step."""
        return self._move(self._redo, self._undo, current, "nothing to redo")

    @staticmethod
    def _move(src: list, dst: list, current: KAN, empty: str) -> KAN:
        if not src:
            raise SessionError(empty)
        label, model = src.pop()
        dst.append((label, copy.deepcopy(current)))
        return model

    @property
    def labels(self) -> tuple[list[str], list[str]]:
        """(undoable step labels, redoable step labels), oldest first."""
        return [lbl for lbl, _ in self._undo], [lbl for lbl, _ in self._redo]

    @property
    def entries(self) -> tuple[list[tuple[str, KAN]], list[tuple[str, KAN]]]:
        """The (label, model) stacks themselves, for saving; oldest first."""
        return self._undo, self._redo
