"""The CLI's `compare`, `continual` and `pde` commands: run an experiment, print its numbers, write
the JSON (`--out RESULT.json`); `python -m app.figures RESULT.json` draws its figures."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from kan_core.errors import ConfigError
from kan_core.errors import printable as shown


def _progress(desc: str) -> tuple[Callable[[int, dict], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=None, disable=not sys.stderr.isatty(), desc=desc, unit="step")

    def tick(_step: int, m: dict) -> None:
        bar.update(1)
        bar.set_postfix_str(f"{m.get('family', '')} {m.get('phase', '')}".strip())

    return tick, bar.close


def _write(result: dict, out: Path | None) -> None:
    if out is None:
        return
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}; its figures: python -m app.figures {out} (or the studio's page)")


def sizes(text: str, kind: str) -> list[tuple[int, ...]]:
    """'1:5,2:5' -> [(1, 5), (2, 5)] for KANs (hidden:grid); '8,32x32' -> [(8,), (32, 32)] for MLPs."""
    sep = ":" if kind == "kan" else "x"
    out = []
    for part in text.split(","):
        try:
            size = tuple(int(v) for v in part.strip().split(sep))
        except ValueError:
            size = ()
        ok = len(size) == 2 if kind == "kan" else 1 <= len(size) <= 4
        if not ok or any(not 1 <= v <= 1024 for v in size):
            example = "1:5,4:10 (hidden:grid)" if kind == "kan" else "8,32x32 (hidden widths)"
            raise argparse.ArgumentTypeError(f"sizes like {example}, not {shown(repr(text))}")
        out.append(size)
    return out


def grids(text: str) -> list[int]:
    """'5,10' -> [5, 10]: increasing grid sizes of 1 to 100 intervals."""
    try:
        out = [int(g) for g in text.split(",")]
    except ValueError:
        out = []
    if not out or any(not 1 <= g <= 100 for g in out) or out != sorted(set(out)):
        raise argparse.ArgumentTypeError(f"increasing grid sizes 1-100 like 5,10, not {shown(repr(text))}")
    return out


def _threads(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)


def _table(args: argparse.Namespace):
    from kan_core.io.data import prepare, read_table

    df = read_table(args.data)
    features = args.features
    if features is None:
        features = [str(c) for c in df.columns if str(c) != args.target]
    return prepare(df, args.target, features)


def _compare(args: argparse.Namespace) -> int:
    _threads(args)
    from kan_core.engine.budget import Budget
    from kan_core.experiments.compare import KAN_SIZES, MLP_SIZES, compare

    ds = _table(args)
    tick, close = _progress("compare")
    kan, mlp, budget = args.kan or KAN_SIZES, args.mlp or MLP_SIZES, Budget(seconds=args.seconds)
    res = compare(
        ds.X,
        ds.y,
        kan_sizes=kan,
        mlp_sizes=mlp,
        budget=budget,
        rmse_target=args.rmse,
        seed=args.seed,
        callback=tick,
    )
    close()
    res["data"] = {"target": ds.target, "features": ds.features, "rows": len(ds.y)}
    print(f"{len(ds.y)} rows, {args.seconds:g} s per model, seed {args.seed}, {res['threads']} thread(s)")
    print(f"{'model':6s} {'widths':>16s} {'params':>7s} {'test RMSE':>10s} {'seconds':>8s} {'steps':>9s}")
    for kind in ("kan", "mlp"):
        for m in res[kind]["models"]:
            steps = f"{m['steps']['adam']}+{m['steps']['lbfgs']}"
            label = f"{m['widths']}" + (f" G{m['grid']}" if m.get("grid") else "")
            row = f"{kind.upper():6s} {label:>16s} {m['params']:7d} {m['test_rmse']:10.4g}"
            print(f"{row} {m['seconds']:8.1f} {steps:>9s}")
    for kind in ("kan", "mlp"):
        sc, sm = res[kind]["scaling"], res[kind]["smallest"]
        alpha = f"α = {sc['alpha']:.3g}" if sc else "α: too few sizes"
        small = f"{sm['params']} params {sm['widths']}" if sm else "none"
        print(f"{kind.upper()}: fitted {alpha}; smallest reaching RMSE {res['rmse_target']:.4g}: {small}")
    _write(res, args.out)
    return 0


def _continual(args: argparse.Namespace) -> int:
    _threads(args)
    from kan_core.engine.budget import Budget
    from kan_core.experiments.continual import continual, phases_by_column

    tick, close = _progress("continual")
    n = args.steps
    budget = Budget(seconds=None, adam_steps=n, lbfgs_steps=max(1, n // 10), search_steps=min(30, n))
    if args.data:
        if not args.target or not args.sort_by:
            raise ConfigError("--data needs --target and --sort-by; name the columns to use")
        ds = _table(args)
        if args.sort_by not in ds.features:
            raise ConfigError(f"--sort-by {shown(args.sort_by)} is not a feature column; pick one of them")
        order = [ds.features.index(args.sort_by)] + [
            i for i, f in enumerate(ds.features) if f != args.sort_by
        ]
        X = ds.X[:, order]
        phase = phases_by_column(X, ds.y, 0, args.phases)
        res = continual(X, ds.y, phase, budget=budget, seed=args.seed, callback=tick)
        res["data"] = {"target": ds.target, "features": [ds.features[i] for i in order], "rows": len(ds.y)}
    else:
        tasks = {"1d": ["peaks1d"], "2d": ["peaks2d"], "both": ["peaks1d", "peaks2d"]}[args.task]
        runs = [continual(task=t, budget=budget, seed=args.seed, callback=tick) for t in tasks]
        res = runs[0]
        if len(runs) > 1:
            res["peaks2d"] = runs[1]
    close()
    for r in [res] + ([res["peaks2d"]] if "peaks2d" in res else []):
        print(
            f"{r['task']}: {r['phases']} phases; RMSE on region 1 after phase 1 → after the last; forgetting"
        )
        for kind in ("kan", "mlp"):
            f, m = r[kind]["forgetting"], r[kind]
            if f is None:
                print(f"  {kind.upper()}: stopped early")
                continue
            print(
                f"  {kind.upper()} {str(m['widths']):>14s} {m['params']:6d} params: "
                f"{f['first_learned']:.3g} → "
                f"{f['first_at_end']:.3g}; mean {f['mean']:.3g}, max {f['max']:.3g} ({m['seconds']:.1f} s)"
            )
    _write(res, args.out)
    return 0


def _pde(args: argparse.Namespace) -> int:
    _threads(args)
    from kan_core.experiments.pde import poisson

    tick, close = _progress("pde")
    res = poisson(grids=args.grids, steps=args.steps, points=args.points, seconds=args.seconds,
                  seed=args.seed, callback=tick)  # fmt: skip
    close()
    print(f"{res['problem']}; {args.points}² collocation points, {args.steps} LBFGS steps per phase")
    for kind in ("kan", "mlp"):
        m = res[kind]
        print(
            f"{kind.upper()} {str(m['widths']):>14s} {m['params']:6d} params: relative L2 {m['rel_l2']:.4g} "
            f"in {m['seconds']:.1f} s ({m['steps']} steps, {m['status']})"
        )
    _write(res, args.out)
    return 0


def add_parsers(sub, checked: dict) -> None:
    """Register the three commands; `checked` holds __main__'s validated argparse types."""
    seed, budget, positive, out, names = (checked[k] for k in ("seed", "budget", "positive", "out", "names"))
    threads = {"type": positive, "default": 1, "help": "torch threads (default 1: small nets run faster)"}
    c = sub.add_parser("compare", help="KANs vs MLPs of several sizes: test RMSE against parameters")
    c.add_argument("data", help="CSV file (delimiter detected)")
    c.add_argument("--target", required=True, help="column to predict")
    c.add_argument("--features", type=names, help="comma-separated input columns (default: all others)")
    c.add_argument("--seconds", type=budget, default=10.0, help="wall-clock budget per model (default 10)")
    c.add_argument("--rmse", type=checked["nonnegative"], help="target RMSE (default 5%% of the test std)")
    c.add_argument("--kan", type=lambda t: sizes(t, "kan"), default=None, help="KAN sizes hidden:grid, …")
    c.add_argument(
        "--mlp", type=lambda t: sizes(t, "mlp"), default=None, help="MLP hidden widths, e.g. 8,32x32"
    )
    c.add_argument("--seed", type=seed, default=0)
    c.add_argument("--threads", **threads)
    c.add_argument("--out", type=out, help="write the JSON here ")
    c.set_defaults(run=_compare)
    k = sub.add_parser("continual", help="continual learning: forgetting of a KAN and an MLP, phase by phase")
    k.add_argument(
        "--task", choices=("1d", "2d", "both"), default="both", help="built-in peaks (default both)"
    )
    k.add_argument("--data", help="your CSV instead: rows sorted by --sort-by, cut into --phases")
    k.add_argument("--target", help="column to predict (with --data)")
    k.add_argument("--features", type=names, help="input columns (with --data; default: all others)")
    k.add_argument("--sort-by", help="feature column that orders the phases (with --data)")
    k.add_argument("--phases", type=positive, default=5, help="number of phases (with --data; default 5)")
    k.add_argument("--steps", type=positive, default=500, help="Adam steps per phase (LBFGS: a tenth)")
    k.add_argument("--seed", type=seed, default=0)
    k.add_argument("--threads", **threads)
    k.add_argument("--out", type=out, help="write the JSON here ")
    k.set_defaults(run=_continual)
    p = sub.add_parser("pde", help="solve ∇²u = f on [-1, 1]² with a KAN and an MLP (physics-informed)")
    p.add_argument("--steps", type=positive, default=50, help="LBFGS steps per phase (default 50)")
    p.add_argument("--grids", type=grids, default=[5, 10], help="KAN grids in turn, e.g. 5,10 (default)")
    p.add_argument(
        "--points", type=positive, default=21, help="collocation mesh points per side (default 21)"
    )
    p.add_argument("--seconds", type=budget, help="wall-clock cap per model (default: none)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--threads", **threads)
    p.add_argument("--out", type=out, help="write the JSON here ")
    p.set_defaults(run=_pde)
