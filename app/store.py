"""Workspaces kept on the server's disk, so a reload or a closed tab loses nothing (no Streamlit here).

Each workspace is a folder named by an unguessable key (`secrets.token_urlsafe`, 192 bits) that
only its browser tab knows (it sits in the page's URL as `?ws=…`): `data.csv` (the table in use),
`workspace.json` (source, column choice, settings), once a model exists `session.kan` (the
studio's session format: JSON and `weights_only` tensors, never pickle) and, once Discover has run,
`result.json` (its result as the CLI's formula JSON). Disk use is bounded:
at most `MAX_WORKSPACES` folders and `MAX_TOTAL_BYTES` in all; beyond that, and for folders not
touched in `MAX_AGE_DAYS`, the least recently used workspaces are deleted first.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path

MAX_WORKSPACES = 200
MAX_TOTAL_BYTES = 1 * 2**30  # 1 GiB for all workspaces together
MAX_WORKSPACE_BYTES = 100 * 2**20  # a workspace above this is not kept (its model is saved by hand)
MAX_AGE_DAYS = 30
FILES = ("data.csv", "workspace.json", "session.kan", "result.json")
_KEY = re.compile(r"^[A-Za-z0-9_-]{32}$")


def root() -> Path:
    """The folder holding every workspace: $KAN_STUDIO_WORKSPACES, else ~/.cache/kan-studio/workspaces."""
    env = os.environ.get("KAN_STUDIO_WORKSPACES")
    return Path(env) if env else Path.home() / ".cache" / "kan-studio" / "workspaces"


def new_key() -> str:
    """A fresh workspace key: 32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def valid_key(key: object) -> bool:
    """True for a string shaped like a key from `new_key` (anything else never touches the disk)."""
    return isinstance(key, str) and bool(_KEY.match(key))


def save(key: str, files: dict[str, bytes]) -> bool:
    """Write the workspace's files (each atomically); files not given are removed. False when the
    key is malformed or the workspace is over `MAX_WORKSPACE_BYTES` (nothing is written then)."""
    if not valid_key(key) or sum(len(v) for v in files.values()) > MAX_WORKSPACE_BYTES:
        return False
    folder = root() / key
    fresh = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        path = folder / name
        if name not in files:
            path.unlink(missing_ok=True)
            continue
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(files[name])
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    os.utime(folder)
    if fresh:
        evict(keep=key)
    return True


def load(key: object) -> dict[str, bytes] | None:
    """The workspace's files, or None when the key is malformed or unknown (evicted, another server)."""
    if not valid_key(key):
        return None
    folder = root() / str(key)
    if not (folder / "workspace.json").is_file():
        return None
    os.utime(folder)  # in use: the last to be evicted
    return {name: (folder / name).read_bytes() for name in FILES if (folder / name).is_file()}


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def evict(keep: str | None = None, now: float | None = None) -> list[str]:
    """Delete workspaces older than `MAX_AGE_DAYS`, then the least recently used ones until at most
    `MAX_WORKSPACES` remain within `MAX_TOTAL_BYTES`; `keep` is never deleted. Returns the keys removed."""
    base = root()
    if not base.is_dir():
        return []
    now = time.time() if now is None else now
    folders = sorted(
        (p for p in base.iterdir() if p.is_dir() and valid_key(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,  # newest first
    )
    removed, total, kept = [], 0, 0
    for p in folders:
        size = _size(p)
        old = now - p.stat().st_mtime > MAX_AGE_DAYS * 86400
        over = kept >= MAX_WORKSPACES or total + size > MAX_TOTAL_BYTES
        if p.name != keep and (old or over):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
            continue
        total, kept = total + size, kept + 1
    return removed
