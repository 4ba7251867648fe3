"""The KAN engine: B-spline bases, `KANLayer`, `KAN`, training (`fit`) and pruning — torch only.

Nothing here imports `kan_core.symbolic.edges`, `kan_core.discovery` or `kan_core.io` (a test checks).
"""

from kan_core.engine.layer import KANLayer
from kan_core.engine.model import KAN
from kan_core.engine.prune import prune
from kan_core.engine.train import History, TrainConfig, fit

__all__ = ["KAN", "KANLayer", "History", "TrainConfig", "fit", "prune"]
