"""Experiments that measure the KAN paper's claims (arXiv:2404.19756) against an MLP baseline.

`compare` (accuracy per parameter and scaling, Sec. 3.1), `continual` (catastrophic forgetting,
Sec. 3.5) and `pde` (a physics-informed Poisson solve, Sec. 3.4). Each returns a plain,
JSON-serialisable dict of measured numbers, takes a seed and a budget, reports progress through
`callback(step, metrics)` and stops on a `threading.Event`. Torch and NumPy only (no pandas, no
Streamlit): the CLI and the studio turn tables into arrays first.
"""

from kan_core.experiments.compare import compare, scaling_exponent, smallest_reaching
from kan_core.experiments.continual import continual, forgetting
from kan_core.experiments.pde import poisson

__all__ = ["compare", "scaling_exponent", "smallest_reaching", "continual", "forgetting", "poisson"]
