"""Sessions saved without pickle (a zip of JSON and `weights_only` tensors) and an undo history."""

from __future__ import annotations

import copy
import io
import json
import math
import numbers
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import torch

from kan_core.engine.model import KAN
from kan_core.errors import SessionError

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


MAX_PARAMS = 20_000_000  # ≈ 80 MB of float32 parameters: far above any model the studio trains
MAX_TOTAL_PARAMS = 50_000_000  # the model and all its undo/redo copies together


def _layer_dims(widths: list) -> list[tuple[int, int]]:
    """(inputs, outputs) of each layer; a width [a, m] has a sums and m products (2 inputs each)."""
    nodes = [(w, 0) if isinstance(w, int) else (w[0], w[1]) for w in widths]
    return [(a + m, b + 2 * p) for (a, m), (b, p) in zip(nodes[:-1], nodes[1:])]


def _n_params(widths: list, grids: list[int], k: int) -> int:
    """Parameters and buffers of a KAN with this architecture (coefficients, per-edge scales and
    symbolic slots, knots), computed without building it."""
    return sum(i * o * (g + k + 10) + i * (g + 2 * k + 1) for (i, o), g in zip(_layer_dims(widths), grids))


def _is_width(spec: Any) -> bool:
    if isinstance(spec, list):
        return len(spec) == 2 and all(_is_int(w) and 0 <= w <= LIMITS["width"] for w in spec)
    return _is_int(spec) and 0 <= spec <= LIMITS["width"]


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_config(config: Any) -> dict:
    """Refuse architectures that are malformed or too large before allocating anything: each
    dimension within LIMITS and the whole model within MAX_PARAMS."""
    ok = isinstance(config, dict) and isinstance(config.get("widths"), list)
    if ok:
        widths, grids, k = config["widths"], config.get("grids"), config.get("k")
        ok = (
            2 <= len(widths) <= LIMITS["layers"] + 1
            and all(_is_width(w) for w in widths)
            and _is_int(widths[0])
            and _is_int(widths[-1])
            and isinstance(grids, list)
            and len(grids) == len(widths) - 1
            and all(_is_int(g) and 1 <= g <= LIMITS["grid"] for g in grids)
            and _is_int(k)
            and 1 <= k <= LIMITS["k"]
            and _is_int(config.get("seed", 0))
            and isinstance(config.get("base_fn", "silu"), str)
        )
    if not ok:
        raise SessionError("the session's model description is invalid or out of range; the file is damaged")
    # The model is built at the first layer's grid and then refined: both sizes must fit.
    if max(_n_params(widths, grids, k), _n_params(widths, [grids[0]] * len(grids), k)) > MAX_PARAMS:
        raise SessionError(
            f"the session's model has over {MAX_PARAMS:,} parameters, more than KAN Studio builds; "
            "the file is damaged or not from KAN Studio"
        )
    return config


def _check_tensors(config: dict, state: object) -> None:
    """The stored spline coefficients must have the shapes the architecture implies, so the model
    built next is no larger than what the file really holds."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SessionError("the session's model.pt does not hold named tensors; the file is damaged")
    # Every tensor must own its numbers: an expanded view (stride 0) of one stored value would make
    # a tiny file fill a full-size model.
    for tensor in state.values():
        if tensor.numel() and tensor.untyped_storage().nbytes() < tensor.numel() * tensor.element_size():
            raise SessionError("the session's model.pt holds views instead of data; the file is damaged")
    dims = _layer_dims(config["widths"])
    for n, ((i, o), g) in enumerate(zip(dims, config["grids"])):
        coef = state.get(f"layers.{n}.coef")
        if coef is None or tuple(coef.shape) != (g + config["k"], i, o):
            raise SessionError(
                f"the session's model could not be restored (layer {n} does not match its description)"
            )


def model_to_bytes(model: KAN) -> tuple[dict, bytes]:
    """(config, tensors) for a model: the architecture as JSON, the state dict as torch bytes."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buf)
    return model.config(), buf.getvalue()


def model_from_bytes(config: Any, blob: bytes) -> KAN:
    """Rebuild a model from `model_to_bytes` output; tensors are read with weights_only=True."""
    config = _check_config(config)
    try:
        state = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as err:  # any malformed content: never a traceback for a user's file
        raise SessionError(
            f"the session's model could not be restored ({type(err).__name__}: unreadable tensors); "
            "the file is damaged or not a KAN Studio session"
        ) from None
    _check_tensors(config, state)
    try:
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


def _plain(value: Any) -> Any:
    """JSON-ready copy: NumPy/torch numbers as Python floats, non-finite numbers as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)  # NumPy and torch scalars
    return number if math.isfinite(number) else None


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
        zf.writestr("manifest.json", json.dumps(_plain(manifest), indent=1, allow_nan=False))
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


MAX_CURVE = 1_000_000  # points per training curve
MAX_MANIFEST = 8 * 2**20


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid in a session")  # json accepts NaN/Infinity; we do not


def _parse_manifest(raw: bytes, name: str) -> dict:
    """manifest.json as a dict of plain JSON (no NaN/Infinity, no absurd nesting or size)."""
    if len(raw) > MAX_MANIFEST:
        raise SessionError(f"{name} has a manifest over {MAX_MANIFEST // 2**20} MB; that is not a session")
    try:
        manifest = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise SessionError(f"{name} is not a KAN Studio session (its manifest is not valid JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SessionError(f"{name} is not a KAN Studio session (wrong format marker)")
    version = manifest.get("version")
    if not _is_int(version) or version > VERSION:
        raise SessionError(f"{name} was written by a newer KAN Studio (format {version}); update to open it")
    _check_schema(manifest, name)
    return manifest


def _scalar(v: object) -> bool:
    return v is None or isinstance(v, (str, bool, int, float))


def _check_schema(m: dict, name: str) -> None:
    """Every part of the manifest has the type its readers expect, before anything is built."""
    meta, hist, undo = m.get("meta", {}), m.get("history", {}), m.get("undo", {"limit": 30, "steps": []})
    problems = []
    if not isinstance(meta, dict):
        problems.append("meta is not an object")
    else:
        feats = meta.get("features", [])
        if not isinstance(feats, list) or not all(isinstance(f, str) for f in feats):
            problems.append("meta.features is not a list of names")
        for key in ("target", "fingerprint", "source"):
            if meta.get(key) is not None and not isinstance(meta[key], str):
                problems.append(f"meta.{key} is not text")
        if "steps_done" in meta and not (_is_int(meta["steps_done"]) and meta["steps_done"] >= 0):
            problems.append("meta.steps_done is not a count")
        settings = meta.get("settings", {})
        if not isinstance(settings, dict) or not all(_scalar(v) for v in settings.values()):
            problems.append("meta.settings is not an object of values")
    if not isinstance(hist, dict):
        problems.append("history is not an object")
    else:
        for key, curve in hist.items():
            nums = isinstance(curve, list) and len(curve) <= MAX_CURVE
            nums = nums and all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in curve
            )
            if not nums or ("step" in key and not all(_is_int(v) for v in curve)):
                problems.append(f"history.{key} is not a list of numbers")
    if not isinstance(undo, dict) or not isinstance(undo.get("steps", []), list):
        problems.append("undo is not an object with a list of steps")
    else:
        if not (_is_int(undo.get("limit", 30)) and 1 <= undo.get("limit", 30) <= LIMITS["undo"]):
            problems.append(f"undo.limit is not a count from 1 to {LIMITS['undo']}")
        steps = undo.get("steps", [])
        if len(steps) > 2 * LIMITS["undo"] or not all(
            isinstance(s, dict)
            and s.get("stack") in ("undo", "redo")
            and isinstance(s.get("label"), str)
            and isinstance(s.get("file"), str)
            and isinstance(s.get("model"), dict)
            for s in steps
        ):
            problems.append("undo.steps are malformed")
    if problems:
        raise SessionError(f"{name} has a damaged manifest ({problems[0]}); the file is damaged")


def load_session(source: str | Path | bytes, name: str = "the file") -> Session:
    """Read a session file (a path or its bytes).

    The manifest is validated against its schema, every model's size is bounded (MAX_PARAMS) and
    checked against its stored tensors before anything is allocated, and tensors are read with
    `weights_only=True`: nothing in the file is executed.

    Raises
    ------
    SessionError
        One line naming the problem, for any damaged, foreign, newer or oversized file.
    """
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
            manifest = _parse_manifest(_read_member(zf, "manifest.json", total), name)
            model = model_from_bytes(manifest.get("model"), _read_member(zf, "model.pt", total))
            undo = manifest.get("undo") or {"limit": 30, "steps": []}
            history = UndoHistory(undo.get("limit", 30))
            params = _n_params(model.config()["widths"], [la.grid for la in model.layers], model.k)
            for step in undo.get("steps", []):
                stack = history.entries[0 if step["stack"] == "undo" else 1]
                blob = _read_member(zf, step["file"], total)
                cfg = _check_config(step["model"])
                params += _n_params(cfg["widths"], cfg["grids"], cfg["k"])
                if params > MAX_TOTAL_PARAMS:
                    raise SessionError(
                        f"{name} holds over {MAX_TOTAL_PARAMS:,} parameters with its undo steps; "
                        "the file is damaged or not from KAN Studio"
                    )
                stack.append((step["label"], model_from_bytes(step["model"], blob)))
    except SessionError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, TypeError, AttributeError):
        raise SessionError(
            f"{name} is not a KAN Studio session (damaged, truncated or another file type)"
        ) from None
    return Session(model, manifest.get("meta", {}), manifest.get("history", {}), history)


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
