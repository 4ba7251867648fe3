"""Deprecated: moved to `kan_core.io.data` (kept importable for one release)."""

from kan_core._compat import alias

alias(__name__)
