"""Old module paths (before the engine/symbolic/discovery/io layout) kept for one release.

`import kan_core.formula` still works: it warns once (DeprecationWarning, naming the new home) and
gives the new module itself, so every name — and any monkeypatching — reaches the real code.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings

MOVED = {
    "kan_core.discover": "kan_core.discovery.search",
    "kan_core.formula": "kan_core.symbolic.formula",
    "kan_core.export": "kan_core.symbolic.export",
    "kan_core.constants": "kan_core.symbolic.constants",
    "kan_core.session": "kan_core.io.session",
    "kan_core.data": "kan_core.io.data",
    "kan_core.examples": "kan_core.io.examples",
    "kan_core.index": "kan_core.discovery.routes.single_index",
    "kan_core.routes": "kan_core.discovery.routes",
    "kan_core.poly": "kan_core.discovery.routes.polynomial",
    "kan_core.model": "kan_core.engine.model",
    "kan_core.train": "kan_core.engine.train",
}


class _CallableModule(types.ModuleType):
    """The discovery module, callable as `discover` (the old `kan_core.discover(df, …)` spelling)."""

    def __call__(self, *args, **kwargs):
        return self.discover(*args, **kwargs)


def alias(old: str) -> None:
    """Make the module being imported as `old` the module at its new home, with a warning."""
    new = MOVED[old]
    warnings.warn(f"{old} moved to {new}; import it from there", DeprecationWarning, stacklevel=3)
    module = importlib.import_module(new)
    if old == "kan_core.discover":
        module.__class__ = _CallableModule
    sys.modules[old] = module
