"""Sessions saved without pickle (a zip of JSON and `weights_only` tensors) and an undo history."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from pathlib import Path

import torch

from .errors import SessionError
from .model import KAN

FORMAT = "kan-studio/session"
VERSION = 1
MAX_BYTES = 200 * 2**20


def model_to_bytes(model: KAN) -> tuple[dict, bytes]:
    """(config, tensors) for a model: the architecture as JSON, the state dict as torch bytes."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
    return model.config(), buf.getvalue()


def model_from_bytes(config: dict, blob: bytes) -> KAN:
    """Rebuild a model from `model_to_bytes` output; tensors are read with weights_only=True."""
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
    except SessionError:
        raise
    except Exception as err:  # any malformed content: never a traceback for a user's file
        raise SessionError(
            f"the session's model could not be restored ({type(err).__name__}); "
            "the file is damaged or not a KAN Studio session"
        ) from None
    return model


def save_session(path: str | Path, model: KAN, meta: dict | None = None) -> None:
    """Write one file: manifest.json (format, version, model config, user metadata) + model.pt."""
    config, blob = model_to_bytes(model)
    manifest = {"format": FORMAT, "version": VERSION, "model": config, "meta": meta or {}}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=1))
        zf.writestr("model.pt", blob)


def load_session(path: str | Path) -> tuple[KAN, dict]:
    """Read a session; any problem is a one-line SessionError, and nothing in it is executed."""
    p = Path(path)
    if not p.is_file():
        raise SessionError(f"session file not found: {path}")
    if p.stat().st_size > MAX_BYTES:
        raise SessionError(f"{p.name} is larger than {MAX_BYTES // 2**20} MB; that is not a session file")
    try:
        with zipfile.ZipFile(p) as zf:
            manifest = json.loads(zf.read("manifest.json"))
            blob = zf.read("model.pt")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, UnicodeDecodeError):
        raise SessionError(
            f"{p.name} is not a KAN Studio session (damaged, truncated or another file type)"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SessionError(f"{p.name} is not a KAN Studio session (wrong format marker)")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise SessionError(
            f"{p.name} was written by a newer KAN Studio (format {version}); update to open it"
        )
    return model_from_bytes(manifest["model"], blob), manifest.get("meta", {})


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
