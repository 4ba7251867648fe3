"""The package's shape (issue #14): imports only go downward, the public API is in one place, old
module paths still import (with a DeprecationWarning naming the new home)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import kan_core
from kan_core._compat import MOVED

PACKAGE = Path(kan_core.__file__).resolve().parent
# A layer may not import the layers named here (directly or as a relative import).
FORBIDDEN = {
    "engine": ("kan_core.symbolic", "kan_core.discovery", "kan_core.io"),
    "symbolic": ("kan_core.discovery", "kan_core.io"),
    "io": ("kan_core.discovery",),
    "experiments": ("kan_core.symbolic", "kan_core.discovery", "kan_core.io", "streamlit"),
}


def _imports(path: Path) -> set[str]:
    mods = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            mods |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module if node.level == 0 else "relative:" + node.module)
            mods |= {f"{node.module}.{a.name}" for a in node.names if node.level == 0}
    return mods


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_only_go_downward(layer):
    bad = []
    for path in (PACKAGE / layer).rglob("*.py"):
        for mod in _imports(path):
            if mod.startswith("relative:") or any(mod.startswith(f) for f in FORBIDDEN[layer]):
                bad.append(f"{path.relative_to(PACKAGE)} imports {mod}")
            # old top-level paths (deprecated aliases) hide the real direction
            if mod.split(".")[:2] and ".".join(mod.split(".")[:2]) in MOVED:
                bad.append(f"{path.relative_to(PACKAGE)} imports the deprecated {mod}")
    assert not bad


# Ray is optional (issue #19): only these modules may import it, and only inside functions.
RAY_MODULES = {"cluster.py", "search_tune.py"}


def test_only_the_cluster_modules_import_ray_and_only_lazily():
    root = PACKAGE.parent
    bad = []
    for path in [*PACKAGE.rglob("*.py"), *(root / "app").rglob("*.py"), root / "app.py"]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            if any(n == "ray" or n.startswith("ray.") for n in names):
                top_level = node in tree.body
                if path.name not in RAY_MODULES or path.parent != PACKAGE or top_level:
                    bad.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not bad


def test_import_kan_core_and_its_cli_do_not_load_ray():
    code = (
        "import sys, kan_core, kan_core.__main__, kan_core.cluster, kan_core.search_tune, kan_core.batch;"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_engine_does_not_need_sympy_pandas_or_io():
    banned = "('pandas', 'kan_core.io', 'kan_core.discovery', 'kan_core.symbolic')"
    code = f"import sys, kan_core.engine; print(sorted(m for m in sys.modules if m.startswith({banned})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_experiments_import_neither_plotly_nor_pandas():
    names = "('plotly', 'pandas', 'streamlit')"
    code = f"import sys, kan_core.experiments; print(sorted(m for m in sys.modules if m.startswith({names})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_is_in_one_place():
    for name in kan_core.__all__:
        assert getattr(kan_core, name) is not None, name
    assert callable(kan_core.discover) and kan_core.Result.__name__ == "Result"
    for name in (
        "KAN",
        "fit",
        "discover",
        "Result",
        "KANRegressor",
        "FormulaRegressor",
        "KanStudioError",
        "DataError",
        "ModelError",
        "SessionError",
        "TrainingDiverged",
    ):
        assert name in kan_core.__all__


def test_import_changes_nothing_process_wide():
    code = (
        "import random, torch; torch.manual_seed(123); a = torch.rand(1);"
        "torch.manual_seed(123); import kan_core, pandas as pd, numpy as np;"
        "from kan_core import discover;"
        "x = np.linspace(1, 2, 40); discover(pd.DataFrame({'x': x, 'y': 3 * x}), 'y', seconds=2);"
        "print(float(a), float(torch.rand(1)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == out[1]  # discover did not reseed torch's global generator


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_import_with_a_deprecation_warning(old):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught)


def test_old_discover_module_is_still_callable():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import kan_core.discover as old
        from kan_core.discover import discover  # the reproducers' spelling
    assert callable(old) and discover is old.discover


@pytest.mark.slow
def test_pip_install_ships_the_datasets(tmp_path):
    """`pip install .` (no deps: the venv has them) into a folder, used from outside the repo."""
    root = PACKAGE.parent
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(root),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    listed = subprocess.run(
        [sys.executable, "-m", "kan_core", "datasets"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    code = (
        "import kan_core; from kan_core import load_example; from kan_core.io.examples import catalog;"
        "e = next(e for e in catalog() if e['kind'] == 'file'); df, _ = load_example(e['name']);"
        "print(kan_core.__file__, len(df))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, check=True
    )
    assert str(target) in out.stdout and int(out.stdout.split()[-1]) > 0
    assert "kepler" in listed.stdout.lower()
