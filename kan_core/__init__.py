"""KAN Studio engine: Kolmogorov–Arnold networks that train fast and read back as formulas.

Networks (torch)
    KAN, KANLayer     the model: a learnable B-spline on every edge (arXiv:2404.19756)
    fit, TrainConfig  training (LBFGS / Adam, sparsity, grid updates, live callback, stop event);
    History           its RMSE curves
    prune             drop weak edges and dead nodes
    KANRegressor      scikit-learn estimator around KAN + fit

Formulas
    discover, Result  search for closed-form laws (several routes, Pareto front, PySR-style
                      `Result.equations` table)
    FormulaRegressor  scikit-learn estimator around discover
    auto_snap         snap a trained network's edges to symbolic functions

Data and sessions
    read_table, prepare, load_example, load_session, save_session

Errors (one family; messages are one line: what happened; what to do)
    KanStudioError > ConfigError, DataError, ModelError, SessionError, TrainingDiverged

Layout: kan_core.engine (torch only) → kan_core.symbolic → kan_core.discovery; kan_core.io for
tables, examples and sessions. The command line is `python -m kan_core --help`.
"""

from kan_core.engine import KAN, History, KANLayer, TrainConfig, fit, prune
from kan_core.errors import ConfigError, DataError, KanStudioError, ModelError, SessionError, TrainingDiverged

__version__ = "0.2.0"

# Loaded on first use: sympy, pandas and scikit-learn take seconds to import.
_LAZY = {
    "discover": "kan_core.discovery.search",
    "Result": "kan_core.discovery.search",
    "KANRegressor": "kan_core.estimator",
    "FormulaRegressor": "kan_core.estimator",
    "auto_snap": "kan_core.symbolic.edges",
    "read_table": "kan_core.io.data",
    "prepare": "kan_core.io.data",
    "load_example": "kan_core.io.examples",
    "load_session": "kan_core.io.session",
    "save_session": "kan_core.io.session",
}

__all__ = [
    "KAN",
    "KANLayer",
    "fit",
    "TrainConfig",
    "History",
    "prune",
    "KANRegressor",
    "discover",
    "Result",
    "FormulaRegressor",
    "auto_snap",
    "read_table",
    "prepare",
    "load_example",
    "load_session",
    "save_session",
    "KanStudioError",
    "ConfigError",
    "DataError",
    "ModelError",
    "SessionError",
    "TrainingDiverged",
]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'kan_core' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
