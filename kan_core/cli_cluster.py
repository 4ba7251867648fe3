"""The CLI's scale-out commands: `discover-many` (one discovery per table), `search` (Ray Tune) and
the `--ray [ADDRESS]` option they share with `bench`. Ray itself is imported only when asked for."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from kan_core.errors import printable as shown


def ray_pool(address: str | None):
    """None (the local process pool) without --ray; else the Ray executor, Ray checked up front."""
    if address is None:
        return None
    from kan_core.cluster import RayPool, import_ray

    import_ray()  # one line saying how to install it, before any work starts
    return RayPool(address)


def ray_option(parser: argparse.ArgumentParser, what: str) -> None:
    """Add `--ray [ADDRESS]` to a command (None: not given; "": a local instance)."""
    parser.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help=f"run {what} as Ray tasks: `auto` joins this machine's cluster, host:port a head node, "
        "no value starts a local Ray instance (needs pip install 'kan-studio[ray]')",
    )


def discover_many(args: argparse.Namespace) -> int:
    """`discover-many`: a law per table, one JSON line each, then the laws grouped by shape."""
    from tqdm import tqdm

    from kan_core.batch import Job, find_tables, laws, run_batch, write_jsonl
    from kan_core.workers import LocalPool

    paths = find_tables(args.tables)
    job = Job(args.target, tuple(args.features) if args.features else None, args.seconds, args.seed)
    executor = ray_pool(args.ray) or LocalPool(args.jobs)
    bar = tqdm(total=len(paths), desc="discover-many", unit="table", disable=not sys.stderr.isatty())
    with open(args.out, "w", encoding="utf-8") as out:

        def progress(row: dict) -> None:
            write_jsonl(row, out)
            what = row["formula"] if row["status"] == "ok" else row["status"]
            tqdm.write(f"{shown(row['table'])}: {shown(what)}", file=sys.stderr)
            bar.update(1)

        rows = run_batch(paths, job, executor, progress)
    bar.close()
    found = laws(rows)
    print(f"{'tables':>6s} {'formulas':>8s}  law (constants c0, c1, … differ between tables)")
    for g in found:
        print(f"{g['tables']:>6d} {g['formulas']:>8d}  {shown(args.target)} = {g['law']}")
    failed = sum(r["status"] != "ok" for r in rows)
    print(f"\n{len(rows)} table(s), {len(found)} law(s), {failed} failed; wrote {args.out}")
    return 0


def search(args: argparse.Namespace) -> int:
    """`search`: Ray Tune trials, the Pareto front across them and the best configuration."""
    from kan_core.cluster import import_ray
    from kan_core.io.data import read_table
    from kan_core.search_tune import search as run_search

    import_ray()  # one line saying how to install it, before the data is read
    df = read_table(args.data)

    def progress(row: dict) -> None:
        what = row["formula"] if row["formula"] is not None else row["status"]
        print(f"trial {row['trial']} ({row['status']}): {shown(what)}", file=sys.stderr)

    report = run_search(
        df, args.target, args.features, args.trials, args.seconds, args.seed, args.ray, progress
    )
    print(f"{'complexity':>10s} {'val MSE':>12s}  formula (trial)")
    for p in report["front"]:
        mark = "*" if p["best"] else " "
        print(f"{p['complexity']:>10d} {p['val_loss']:12.4g} {mark} {p['formula']} ({p['trial']})")
    best = report["best"]
    if best is None:
        print("no trial finished; see the trials' errors in the report")
    else:
        print(f"\nbest: {shown(args.target)} = {best['formula']}\nconfiguration: {best['config']}")
    stopped = sum(r["status"] == "stopped early" for r in report["trials"])
    print(f"{len(report['trials'])} trial(s), {stopped} stopped early by ASHA")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.out}")
    return 0


def add_commands(
    sub, names: Callable, budget: Callable, seed: Callable, positive: Callable, out: Callable
) -> None:
    """Add `discover-many` and `search` to the CLI's subparsers (argument types from `__main__`)."""
    m = sub.add_parser(
        "discover-many", help="one discovery per table of a folder or glob, one JSON line each"
    )
    m.add_argument("tables", help="a folder of .csv/.tsv/.txt tables or a glob pattern ('runs/*.csv')")
    m.add_argument("--target", required=True, help="column to explain in every table")
    m.add_argument("--features", type=names, help="comma-separated input columns (default: all others)")
    m.add_argument("--seconds", type=budget, default=60.0, help="time budget per table (default 60)")
    m.add_argument("--seed", type=seed, default=0)
    m.add_argument("--jobs", type=positive, default=2, help="tables run in parallel here (default 2)")
    m.add_argument("--out", type=out, required=True, help="JSON lines, one per table (.jsonl)")
    ray_option(m, "each table")
    m.set_defaults(run=discover_many)
    s = sub.add_parser("search", help="search routes, widths, grids, sparsity and seeds with Ray Tune (ASHA)")
    s.add_argument("data", help="CSV file (delimiter detected)")
    s.add_argument("--target", required=True, help="column to explain")
    s.add_argument("--features", type=names, help="comma-separated input columns (default: all others)")
    s.add_argument("--trials", type=positive, default=16, help="configurations tried (default 16)")
    s.add_argument("--seconds", type=budget, default=60.0, help="budget of a full trial (default 60)")
    s.add_argument("--seed", type=seed, default=0, help="seeds the sampling of configurations")
    s.add_argument("--out", type=out, help="write the JSON report here")
    ray_option(s, "the trials")
    s.set_defaults(run=search)
