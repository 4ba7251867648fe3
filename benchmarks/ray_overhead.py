"""Ray's cost on one machine (issue #19): a 12-equation bench with the process pool vs a 3-node local
Ray cluster, and Ray's per-task overhead. Prints a Markdown table.

    PYTHONPATH=. .venv/bin/python benchmarks/ray_overhead.py [--formulas CSV] [--n 12] [--seconds 10]

The cluster is `ray.cluster_utils.Cluster` on this machine: a head node that takes no tasks (as a
real head usually does not) and two worker nodes with 1 CPU each, the same 2 parallel slots as
`--jobs 2`. The point is correctness and overhead, not speed-up.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from kan_core.bench import Settings, read_benchmark, run_bench
from kan_core.cluster import RayPool
from kan_core.workers import LocalPool, isolated

FEYNMAN = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "feynman_dev.csv"


def noop() -> dict:
    return {}


def noop_item(item: int, threads: int) -> dict:
    """One item as the bench runs it, without the work: a worker process started and waited for."""
    return isolated(noop, (), 60.0, threads)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formulas", default=str(FEYNMAN))
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()

    import ray
    import ray_overhead as me  # this file by its name, so that workers can import noop_item
    from ray.cluster_utils import Cluster

    print(f"(started; load average {os.getloadavg()[0]:.1f})", flush=True)

    eqs = read_benchmark(args.formulas)[: args.n]
    settings = Settings(seconds=args.seconds)
    rows = []
    pool_rows, pool_s = timed(lambda: run_bench(eqs, settings, jobs=2))

    t0 = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    here = Path(__file__).resolve().parent
    path = os.pathsep.join(map(str, (here.parent, here)))
    ray.init(address=cluster.address, runtime_env={"env_vars": {"PYTHONPATH": path}}, logging_level="WARNING")
    start_s = time.perf_counter() - t0
    ray_pool = RayPool()
    ray_rows, ray_s = timed(lambda: run_bench(eqs, settings, executor=ray_pool))
    nodes = len({n for n in ray_pool.nodes if n})

    def same(a: dict, b: dict) -> bool:
        return (a["status"], a["formula"], a["exact"]) == (b["status"], b["formula"], b["exact"])

    agree = sum(same(a, b) for a, b in zip(pool_rows, ray_rows))
    exact = (sum(r["exact"] for r in pool_rows), sum(r["exact"] for r in ray_rows))
    rows.append(
        ("bench wall time, process pool (--jobs 2)", f"{pool_s:.1f} s", f"exact {exact[0]}/{len(eqs)}")
    )
    rows.append(
        (
            "bench wall time, 3-node Ray cluster (2 task slots)",
            f"{ray_s:.1f} s",
            f"exact {exact[1]}/{len(eqs)}; ran on {nodes} node(s); {agree}/{len(eqs)} rows identical",
        )
    )
    rows.append(("cluster start (head + 2 workers)", f"{start_s:.1f} s", "not in the bench time"))
    per_eq = (ray_s - pool_s) / len(eqs)
    rows.append(
        ("end-to-end difference per equation", f"{per_eq * 1000:+.0f} ms", "Ray − pool, incl. cold workers")
    )

    @ray.remote(num_cpus=1)
    def trivial() -> None:
        return None

    ray.get([trivial.remote() for _ in range(4)])  # warm workers
    _, serial = timed(lambda: [ray.get(trivial.remote()) for _ in range(100)])
    _, batch = timed(lambda: ray.get([trivial.remote() for _ in range(100)]))
    rows.append(
        ("trivial Ray task, one at a time", f"{serial * 10:.2f} ms", "submit + wait, 100 tasks / 100")
    )
    rows.append(("trivial Ray task, 100 in flight", f"{batch * 10:.2f} ms", "throughput, 100 tasks / 100"))
    _, local_item = timed(lambda: LocalPool(2).map(me.noop_item, range(40)))
    _, ray_item = timed(lambda: ray_pool.map(me.noop_item, range(40)))
    rows.append(
        (
            "empty item, process pool",
            f"{local_item / 40 * 1000:.0f} ms",
            "worker process start + wait, 40 / 40",
        )
    )
    rows.append(
        ("empty item, Ray task", f"{ray_item / 40 * 1000:.0f} ms", "the same inside a Ray task, 40 / 40")
    )
    ray.shutdown()
    cluster.shutdown()

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{len(eqs)} equations of {Path(args.formulas).name}, budget {args.seconds:g} s each; "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at the end\n"
    )
    print("| what | time | note |\n|---|---|---|")
    for what, value, note in rows:
        print(f"| {what} | {value} | {note} |")


if __name__ == "__main__":
    main()
