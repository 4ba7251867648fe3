"""Wall time of auto-snap on a trained [2, 5, 1] KAN (15 edges, full library), 2 CPU threads.

python benchmarks/symbolic_speed.py    (target: ≤ 1 s; pykan's auto_symbolic: 58–258 s here)
"""

from __future__ import annotations

import statistics
import time

import torch

from kan_core import KAN, fit
from kan_core.symbolic.edges import auto_snap


def main() -> None:
    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(1000, 2, generator=g) * 2 - 1
    y = torch.exp(torch.sin(torch.pi * X[:, :1]) + X[:, 1:] ** 2)
    model = KAN([2, 5, 1], seed=0, device="cpu")
    fit(model, X, y, steps=50, opt="lbfgs")
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        _, report = auto_snap(model, X, y)
        runs.append(time.perf_counter() - t)
    fits_only = []
    for _ in range(5):
        t = time.perf_counter()
        auto_snap(model, X, y, retrain_steps=0)
        fits_only.append(time.perf_counter() - t)
    snapped = sum(r["accepted"] for r in report)
    print(
        f"auto-snap [2,5,1], {len(report)} edges, {snapped} snapped: "
        f"median {statistics.median(runs):.3f} s with retraining, "
        f"{statistics.median(fits_only):.3f} s fits only"
    )


if __name__ == "__main__":
    main()
