"""Training-step speed of kan_core.KAN next to a same-width SiLU MLP (and pykan with --pykan).

One step = forward + MSE + backward + Adam. Prints a Markdown table and writes JSON.
    python benchmarks/speed.py [--threads 2] [--device cpu] [--pykan] [--out benchmarks/speed.json]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import platform
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from kan_core import KAN
from kan_core._runtime import tune_malloc

tune_malloc()  # as the CLI and the studio do at start-up (import kan_core changes nothing itself)

CASES = [([4, 16, 16, 1], 256), ([4, 16, 16, 1], 1024), ([4, 16, 16, 1], 4096), ([64, 64, 64], 1024)]


def mlp(widths: list[int]) -> nn.Module:
    """Linear/SiLU stack with the KAN's widths."""
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.SiLU()]
    return nn.Sequential(*layers[:-1])


def pykan(widths: list[int], device: torch.device) -> nn.Module:
    """pykan 0.2.x model in its fast mode (symbolic branch off), if installed."""
    from kan import KAN as PyKAN

    model = PyKAN(widths, grid=5, k=3, seed=0, auto_save=False, device=device)
    model.speed()
    return model


def make_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """One training step (forward + MSE + backward + Adam) as a closure."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        opt.step()

    return step


def time_interleaved(steps: dict, repeats: int, sync) -> dict[str, float]:
    """Median ms per step for each closure, alternating them so machine noise hits all alike."""
    for step in steps.values():
        for _ in range(5):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            sync()
            t = time.perf_counter()
            step()
            sync()
            times[name].append((time.perf_counter() - t) * 1e3)
    return {name: statistics.median(v) for name, v in times.items()}


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return -1


def peak_extra_mib(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Peak memory one step adds on top of the model, data and optimiser state (MiB).

    CUDA: max_memory_allocated. CPU (Linux): VmHWM after resetting it via /proc/self/clear_refs,
    with freed heap returned to the OS first (malloc_trim), so the figure is the step's own peak.
    """
    step = make_step(model, x, y)
    step()
    if x.is_cuda:
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return float("nan")
    base = _rss_kib("VmRSS")
    step()
    return (_rss_kib("VmHWM") - base) / 1024


def main() -> None:
    """Run the cases and print/write the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--pykan", action="store_true", help="add a pykan 0.2.8 column")
    ap.add_argument("--out", default="benchmarks/speed.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    rows = []
    for widths, batch in CASES:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(batch, widths[0], generator=gen).to(dev)
        y = torch.randn(batch, widths[-1], generator=gen).to(dev)
        row: dict = {"widths": widths, "batch": batch}
        steps = {
            "kan_ms": make_step(KAN(widths, device=dev), x, y),
            "mlp_ms": make_step(mlp(widths).to(dev), x, y),
        }
        row.update(time_interleaved(steps, args.repeats, sync))
        row["ratio"] = row["kan_ms"] / row["mlp_ms"]
        if widths == [64, 64, 64]:
            row["kan_peak_mib"] = peak_extra_mib(KAN(widths, device=dev), x, y)
        if args.pykan:
            try:
                step = {"pykan_ms": make_step(pykan(widths, dev), x, y)}
                row.update(time_interleaved(step, max(5, args.repeats // 10), sync))
            except ImportError:
                row["pykan_ms"] = None
        rows.append(row)
    meta = {
        "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(dev),
        "threads": args.threads,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu_count": torch.get_num_threads(),
    }
    print(f"device={meta['device']} threads={args.threads} torch={meta['torch']}")
    cols = "| widths | batch | KAN ms | MLP ms | KAN/MLP | peak extra MiB |" + (
        " pykan ms |" if args.pykan else ""
    )
    print(cols)
    print("|" + "---|" * (cols.count("|") - 1))
    for r in rows:
        peak = f"{r['kan_peak_mib']:.1f}" if "kan_peak_mib" in r else ""
        line = f"| {r['widths']} | {r['batch']} | {r['kan_ms']:.2f} | {r['mlp_ms']:.2f} | "
        line += f"{r['ratio']:.2f} | {peak} |"
        if args.pykan:
            line += f" {r['pykan_ms']:.1f} |" if r.get("pykan_ms") else " n/a |"
        print(line)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
