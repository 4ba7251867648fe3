"""Write benchmarks/RESULTS.md from `python -m kan_core bench` JSON reports (one per noise level)."""

import json
import sys
from pathlib import Path

from kan_core.bench import MD_HEADER, md_row, summary_line

if __name__ == "__main__":
    reports = [json.loads(Path(p).read_text()) for p in sys.argv[1:]]
    out = ["# Feynman discovery benchmark", ""]
    out.append("Reproduce with `make bench-discovery` (the two commands below). Judging as SRBench 2021:")
    out.append("exact = constants compared to 4 significant digits, then truth − found or truth / found")
    out.append("simplifies to a constant; accurate = R² > 0.999 on 2,000 fresh noise-free points.")
    for path, rep in zip(sys.argv[1:], reports):
        s = rep["summary"]
        run = s["settings"]
        m = s["machine"]
        out += ["", f"## noise {run['noise']:g}", ""]
        out.append(
            f"`python -m kan_core bench ../shared/benchmarks/feynman_dev.csv --noise {run['noise']:g} "
            f"--seconds {run['seconds']:g} --samples {run['samples']} --seed {run['seed']} "
            f"--jobs {s.get('jobs', '?')} --out {path}`"
        )
        commit = f"commit {s['commit']}; " if s.get("commit") else ""
        out += ["", f"{commit}{s['date']}; {m['cpus']} CPUs, {m['platform']}, torch {m['torch']}.", ""]
        out += [f"**{summary_line(s)}**", "", MD_HEADER, *map(md_row, rep["equations"])]
    print("\n".join(out))
