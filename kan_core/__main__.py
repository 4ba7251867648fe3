"""Command line: `python -m kan_core functions | datasets | inspect | discover | bench |
discover-many | search | compare | continual | pde …`."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

from kan_core.cli_cluster import add_commands, ray_option, ray_pool
from kan_core.errors import ConfigError, KanStudioError
from kan_core.errors import printable as shown

T = TypeVar("T")


def _functions(_args: argparse.Namespace) -> int:
    from kan_core.library import FUNCTIONS

    print(f"{'name':10s} {'complexity':>10s}  domain")
    for fn in FUNCTIONS.values():
        lo, hi = fn.domain
        dom = "all reals" if (lo, hi) == (float("-inf"), float("inf")) else f"[{lo:g}, {hi:g}]"
        print(f"{fn.name:10s} {fn.complexity:>10d}  {dom}{', x != 0' if fn.excludes_zero else ''}")
    return 0


def _datasets(_args: argparse.Namespace) -> int:
    from kan_core.io.examples import catalog

    for e in catalog():
        law = e.get("formula") or "no known formula"
        print(f"{e['name']}\n    target {e['target']}; {law}; {e['description']} [{e['license']}]")
    return 0


def _discover(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kan_core.discovery.search import discover
    from kan_core.io.data import read_table
    from kan_core.symbolic.export import fingerprint, to_json

    df = read_table(args.data)
    features, functions = args.features, args.functions
    if args.target is None:  # the studio's default too: the last column is what is measured
        args.target = str(df.columns[-1])
        note = f"note: target {shown(args.target)}, the last column (--target chooses another)"
        print(note, file=sys.stderr)
    bar = tqdm(total=None, disable=not sys.stderr.isatty(), desc="discover", unit="route")

    def progress(info: dict) -> None:
        bar.total = info["total"]
        bar.n = info["done"]
        bar.set_postfix_str(info["route"])

    result = discover(
        df,
        args.target,
        features,
        seconds=args.seconds,
        seed=args.seed,
        r2_threshold=args.r2_threshold,
        functions=functions,
        callback=progress,
        units=args.units,
    )
    bar.close()
    for warning in result.warnings:
        print(f"note: {shown(warning)}", file=sys.stderr)
    dims = result.units.get(result.target) is not None
    for group in result.groups:
        print(f"π group: {shown(group)}")
    head = f"{'complexity':>10s} {'val MSE':>12s} {'train MSE':>12s} {'score':>8s}"
    print(f"{head}{'  dimensions' if dims else ''}  formula")
    for row in result.equations.itertuples():  # the same table as Result.equations and the studio's
        mark = "*" if row.best else " "
        cells = f"{row.complexity:>10d} {row.val_loss:12.4g} {row.loss:12.4g} {row.score:8.3g}"
        cells += f"  {_DIMS.get(row.dimension, 'unknown'):<10s}" if dims else ""
        print(f"{cells} {mark} {row.equation}")
    m = result.metrics
    if result.verdict == "no law":
        print(f"\nverdict: no law — no formula explains {shown(args.target)} better than its mean")
        print(f"({shown(result.verdict_reason)})")
    print(f"\nbest: {shown(result.target)} = {result.best.expr}")
    for value, unit in result.constant_units():
        print(f"  constant {value:.6g} {shown(unit)}")
    print(f"validation R² {m['val_r2']:.6g}, RMSE {m['val_rmse']:.4g}; {result.seconds:.1f} s")
    if args.out:
        X = df[result.variables].to_numpy(float)
        report = to_json(result, fingerprint(X, df[result.target].to_numpy(float)))
        Path(args.out).write_text(json.dumps(report, indent=2, default=str))
        print(f"wrote {args.out}")
    return 0


# The Pareto table's dimensions column: consistent, only with a constant's unit, or not.
_DIMS = {"consistent": "yes", "constant carries units": "with const", "inconsistent": "no"}


def _inspect(args: argparse.Namespace) -> int:
    from kan_core._runtime import Overtime, time_limited
    from kan_core.discovery.routes.kan import from_log_space, log_symbols
    from kan_core.errors import ModelError
    from kan_core.io.session import load_session
    from kan_core.symbolic.edges import EdgeFit, edge_text, in_data_units
    from kan_core.symbolic.formula import SYMPY_SECONDS, canonical, network_expr, safe_symbols

    s = load_session(args.session)
    model, meta = s.model, s.meta
    features = [str(f) for f in meta.get("features", [])] or [f"x{i + 1}" for i in range(model.widths[0])]
    print(f"session: {shown(Path(args.session).name)}")
    if meta.get("target"):
        print(f"data: target {shown(meta['target'])}; features {shown(', '.join(features))}")
    if meta.get("fingerprint"):
        print(f"data fingerprint: {shown(meta['fingerprint'])}")
    grids = sorted({layer.grid for layer in model.layers})
    grid = "/".join(map(str, grids))
    print(f"model: widths {model.spec}, grid {grid}, k {model.k}, {model.n_params()} parameters")
    edges = model.edges()
    count = {state: sum(e["state"] == state for e in edges) for state in ("spline", "pruned")}
    snapped = [e for e in edges if "params" in e and e["state"] != "pruned"]
    locked = sum(e["locked"] for e in edges)
    print(
        f"edges: {len(edges)} total, {count['pruned']} pruned, {len(snapped)} snapped, "
        f"{count['spline']} splines, {locked} locked"
    )
    log_space = meta.get("log_space") is True
    if log_space:
        print("trained in log space: log|target| against the logs of the features")
    for e in snapped:
        a, b, c, d = e["params"]
        where = f"layer {e['layer']}, {e['i']} → {e['j']}"
        # As the studio writes it: a first-layer edge in its column's units (log of it in log
        # space), deeper edges in their input node's value x.
        fit = in_data_units(EdgeFit(e["state"], a, b, c, d, 1.0, 0, 0.0), model, e["layer"], e["i"])
        x = features[e["i"]] if e["layer"] == 0 else "x"
        x = f"log({x})" if log_space and e["layer"] == 0 else x
        print(f"  {where}: {edge_text(fit.fn, fit.a, fit.b, fit.c, fit.d, shown(x))}")
    steps = s.history.get("step", [])
    if steps:
        # The studio saves "train"; a fit() history "train_rmse" ("train_loss" before 0.2).
        saved = s.history.get("train", s.history.get("train_rmse", s.history.get("train_loss", [])))
        curve = [v for v in saved if v is not None]
        loss = curve[-1] if curve else float("nan")
        print(f"training: {steps[-1]} steps, last train RMSE {loss:.4g}")
    undo, redo = s.undo.labels
    print(f"undo: {len(undo)} step(s){': ' + shown(', '.join(undo)) if undo else ''}; redo: {len(redo)}")
    try:
        symbols = safe_symbols(features)
        if log_space:
            sign = -1.0 if meta.get("log_sign") == -1 else 1.0
            expr = from_log_space(network_expr(model, log_symbols(symbols)), symbols, sign)
        else:
            expr = network_expr(model, symbols)
        try:
            expr = time_limited(lambda: canonical(expr), SYMPY_SECONDS)
        except Overtime:
            pass  # expanding a deep composition can take minutes: print it as composed
        print(f"formula: {shown(meta.get('target', 'y'))} = {expr}")
    except ModelError as err:
        print(f"formula: not available yet ({err})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from kan_core.bench import (
        MD_HEADER,
        Settings,
        md_row,
        read_benchmark,
        run_bench,
        summarize,
        summary_line,
        write_report,
    )
    from kan_core.units import read_dimension_table

    if args.jobs < 1 or args.samples < 10 or args.seconds <= 0 or args.noise < 0 or args.seed < 0:
        raise ConfigError("need --jobs ≥ 1, --samples ≥ 10, --seconds > 0, --noise ≥ 0 and --seed ≥ 0")
    executor = ray_pool(args.ray)  # without Ray: one line saying how to install it, before any output
    eqs = read_benchmark(args.formulas, args.ids)
    units = tuple(read_dimension_table(args.units).items()) if args.units else ()
    settings = Settings(args.samples, args.noise, args.seconds, args.seed, units=units)
    bar = tqdm(total=len(eqs), desc="bench", unit="eq", file=sys.stderr, disable=not sys.stderr.isatty())
    tqdm.write(MD_HEADER, file=sys.stderr)

    def progress(row: dict) -> None:
        tqdm.write(md_row(row), file=sys.stderr)
        bar.update(1)

    rows = run_bench(eqs, settings, jobs=args.jobs, progress=progress, executor=executor)
    bar.close()
    where = {"jobs": args.jobs} if executor is None else {"ray": args.ray or "local"}
    summary = summarize(rows, settings) | where
    md = write_report(rows, summary, args.out)
    print(f"{summary_line(summary)}\nwrote {args.out} and {md}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line `error: …` (exit 2) instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {shown(message)}; see `{self.prog} --help`\n")


def _checked(kind: str, convert: Callable[[str], T], ok: Callable[[T], bool]) -> Callable[[str], T]:
    """An argparse type: `convert` the text, require `ok`, else one line naming what is expected."""

    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):
            raise argparse.ArgumentTypeError(f"must be {kind}, not {shown(repr(text))}")
        return value

    return parse


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(
            f"needs distinct, non-empty comma-separated names, not {shown(repr(text))}"
        )
    return names


def _out(text: str) -> Path:
    """An output file whose folder exists and is writable (checked before any search starts)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{shown(text)} is a folder; give a file name")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {shown(str(path.parent))} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise argparse.ArgumentTypeError(f"folder {shown(str(path.parent))} is not writable")
    return path


def _units(text: str) -> dict[str, str]:
    from kan_core.units import parse_option

    try:
        return parse_option(text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


_budget = _checked("a finite number of seconds > 0", float, lambda v: math.isfinite(v) and v > 0)
_seed = _checked("an integer from 0 to 2**32 - 1", int, lambda v: 0 <= v < 2**32)
_positive = _checked("an integer >= 1", int, lambda v: v >= 1)
_fraction = _checked("a number in (0, 1]", float, lambda v: math.isfinite(v) and 0 < v <= 1)
_nonnegative = _checked("a finite number >= 0", float, lambda v: math.isfinite(v) and v >= 0)


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors print one line `error: …` and exit with status 2."""
    from kan_core._runtime import tune_malloc

    tune_malloc()  # the CLI is a process of its own: keep freed tensor memory (see _runtime)
    ap = _Parser(prog="python -m kan_core", description="KAN Studio engine")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("functions", help="list the symbolic function library").set_defaults(run=_functions)
    sub.add_parser("datasets", help="list the built-in example datasets").set_defaults(run=_datasets)
    i = sub.add_parser("inspect", help="print a saved session: structure, snapped edges, formula")
    i.add_argument("session", help="session file saved by the studio or kan_core.io.session.save_session")
    i.set_defaults(run=_inspect)
    d = sub.add_parser("discover", help="find formulas for a CSV column")
    d.add_argument("data", help="CSV file (delimiter detected)")
    d.add_argument("--target", help="column to explain (default: the last column)")
    d.add_argument("--features", type=_names, help="comma-separated input columns (default: all others)")
    d.add_argument("--seconds", type=_budget, default=60.0, help="time budget (default 60)")
    d.add_argument("--seed", type=_seed, default=0)
    d.add_argument(
        "--r2-threshold", type=_fraction, default=0.99, help="edge fits below are not auto-snapped"
    )
    d.add_argument("--functions", type=_names, help="comma-separated subset of the library (see `functions`)")
    d.add_argument("--out", type=_out, help="write the JSON report here")
    d.add_argument("--units", type=_units, help='column units in pint syntax, e.g. "v=m/s,P=kPa"')
    d.set_defaults(run=_discover)
    b = sub.add_parser("bench", help="run discover on a benchmark CSV and judge it as SRBench does")
    b.add_argument("formulas", help="CSV with columns id, formula, output, variables, n_vars")
    b.add_argument("--ids", type=_names, help="comma-separated ids")
    b.add_argument(
        "--noise", type=_nonnegative, default=0.0, help="target noise std as a fraction of its RMS"
    )
    b.add_argument("--samples", type=_positive, default=10_000, help="training points per equation")
    b.add_argument("--seconds", type=_budget, default=60.0, help="time budget per equation (default 60)")
    b.add_argument("--seed", type=_seed, default=0)
    b.add_argument(
        "--jobs",
        type=_positive,
        default=2,
        help="equations run in parallel (default 2; with --ray the cluster's CPUs decide)",
    )
    b.add_argument(
        "--out", type=_out, required=True, help="JSON report; a Markdown table goes next to it (.md)"
    )
    b.add_argument("--units", help="units file (Variable,m,s,kg,T,V exponents): units go into the headers")
    ray_option(b, "each equation")
    b.set_defaults(run=_bench)
    from kan_core._experiments_cli import add_parsers

    types = {"seed": _seed, "budget": _budget, "positive": _positive, "out": _out, "names": _names}
    add_parsers(sub, types | {"nonnegative": _nonnegative})
    add_commands(sub, names=_names, budget=_budget, seed=_seed, positive=_positive, out=_out)
    args = ap.parse_args(argv)
    try:
        return args.run(args)
    except KanStudioError as err:
        print(f"error: {shown(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
