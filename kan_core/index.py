"""Deprecated: moved to `kan_core.discovery.routes.single_index` (kept importable for one release)."""

from kan_core._compat import alias

alias(__name__)
