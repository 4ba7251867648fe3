"""KAN Studio engine: Kolmogorov–Arnold networks that train fast and read back as formulas."""

from ._runtime import tune_malloc
from .errors import ConfigError, DataError, KanStudioError, TrainingDiverged
from .layer import KANLayer
from .model import KAN
from .train import History, fit

__all__ = [
    "KAN",
    "KANLayer",
    "KANRegressor",
    "fit",
    "History",
    "KanStudioError",
    "ConfigError",
    "DataError",
    "TrainingDiverged",
]
__version__ = "0.1.0"

tune_malloc()


def __getattr__(name: str):
    # scikit-learn takes ~1 s to import; load the estimator only when it is asked for.
    if name == "KANRegressor":
        from .estimator import KANRegressor

        return KANRegressor
    raise AttributeError(f"module 'kan_core' has no attribute {name!r}")
