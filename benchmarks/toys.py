"""Discovery on the KAN paper's toy functions: exact recovery rate and wall time per function.

    python benchmarks/toys.py [../shared/benchmarks/kan_toys.csv] [--seconds 60] [--samples 1000]

Exact = SymPy simplify(truth − found) is 0 after rounding the found constants to 4 significant
digits (kan_core.bench.round_floats).
Formulas are parsed with SymPy from a whitelist of names (no eval of raw text).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import sympy as sp

from kan_core.bench import round_floats
from kan_core.discovery.search import discover
from kan_core.io.examples import parse_formula


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", nargs="?", default="../shared/benchmarks/kan_toys.csv")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--samples", type=int, default=1000)
    args = ap.parse_args()
    rows, exact = [], 0
    for _, r in pd.read_csv(args.csv).iterrows():
        spec = [v.split(":") for v in r["variables"].split(";")]
        rng = np.random.default_rng(0)
        df = pd.DataFrame({n: rng.uniform(float(lo), float(hi), args.samples) for n, lo, hi in spec})
        names = [n for n, _, _ in spec]
        truth, syms = parse_formula(r["formula"], names), [sp.Symbol(n) for n in names]
        df[r["output"]] = sp.lambdify(syms, truth, "numpy")(*[df[s.name].to_numpy() for s in syms])
        t = time.perf_counter()
        res = discover(df, r["output"], seconds=args.seconds, seed=0)
        took = time.perf_counter() - t
        found = res.best.expr.xreplace({s: sp.Symbol(s.name) for s in res.best.expr.free_symbols})
        # An exact formula is also accurate: skip simplify() on ones that are not (it can take minutes).
        ok = res.metrics["val_r2"] > 0.999 and sp.simplify(truth - round_floats(found, truth=truth)) == 0
        exact += ok
        rows.append((r["id"], ok, took, res.metrics["val_r2"], str(found)))
        print(
            f"| {r['id']} | {'yes' if ok else 'no'} | {took:.1f} | {res.metrics['val_r2']:.6f} | `{found}` |",
            flush=True,
        )
    print(f"exact: {exact}/{len(rows)}; median seconds {np.median([t for _, _, t, _, _ in rows]):.1f}")


if __name__ == "__main__":
    main()
