"""Time the studio's network figure: build (Python) and size, for growing KANs. Prints a table."""

import json
import statistics
import time

import torch

from app.plots import network_figure
from kan_core import KAN

if __name__ == "__main__":
    torch.manual_seed(0)
    print(f"{'widths':>14s} {'edges':>6s} {'traces':>6s} {'build ms':>9s} {'JSON KB':>8s}")
    for widths in ([2, 5, 1], [4, 8, 8, 1], [8, 16, 16, 1]):
        model = KAN(widths, seed=0, device="cpu")
        X = torch.rand(2000, widths[0]) * 2 - 1
        names = [f"x{i}" for i in range(widths[0])]
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            fig = network_figure(model, X, names, "y", selected=(0, 0, 0))
            times.append(1000 * (time.perf_counter() - t0))
        size = len(json.dumps(fig.to_plotly_json(), default=str)) / 1024
        edges = sum(layer.in_dim * layer.out_dim for layer in model.layers)
        print(f"{str(widths):>14s} {edges:6d} {len(fig.data):6d} {statistics.median(times):9.1f} {size:8.0f}")
