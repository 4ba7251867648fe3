"""The studio's side of the claim experiments (Compare, Continual learning, Solve a PDE): a
background job per experiment, its progress line and its result table (no Streamlit here).

Each experiment is `kan_core.experiments` code that already takes `callback(step, metrics)` and a
`threading.Event`; the job runs it on a thread that writes only to this object, as TrainingJob does
for training, and pages poll it from a fragment. A thread (not a worker process as for Discover)
suffices: the experiments check the stop event every step and need no signals.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from app.services import ThreadJob
from kan_core.errors import KanStudioError

KINDS = ("compare", "continual", "pde")


class ExperimentJob(ThreadJob):
    """`fn(**kwargs, callback=…, stop=…)` on a background thread; the result dict when it ends."""

    def __init__(self, fn: Callable[..., dict], **kwargs):
        self.status, self.message = "running", ""  # then completed / stopped / failed
        self.result: dict | None = None
        self.steps, self.metrics = 0, {}
        self.started, self.seconds = time.perf_counter(), 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(fn, kwargs), daemon=True, name="kan-studio-experiment"
        )
        self._thread.start()

    def _run(self, fn: Callable[..., dict], kwargs: dict) -> None:
        try:
            self.result = fn(**kwargs, callback=self._progress, stop=self._stop)
            self.status = "stopped" if self.result.get("stopped") else "completed"
        except KanStudioError as err:
            self.status, self.message = "failed", str(err)
        except Exception as err:  # noqa: BLE001 - a thread must report, never die silently
            self.status, self.message = "failed", f"the experiment failed: {type(err).__name__}: {err}"
        self.seconds = time.perf_counter() - self.started

    def _progress(self, step: int, metrics: dict) -> None:
        self.steps, self.metrics = step, metrics

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.started


def progress(job: ExperimentJob) -> tuple[float, str]:
    """(fraction done, one line) from the job's last metrics."""
    m = job.metrics
    family = str(m.get("family", "")).upper()
    if "models" in m:  # compare: KANs first, then MLPs
        frac = (m["model"] + (0.5 if m.get("phase") != "done" else 1)) / m["models"] / 2
        frac += 0.5 if m.get("family") == "mlp" else 0
        text = f"{family} {m['model'] + 1}/{m['models']} ({m.get('phase', '')})"
    elif "phases" in m:  # continual: KAN's phases, then the MLP's
        frac = (m["phase_index"] + 0.5) / m["phases"] / 2 + (0.5 if m.get("family") == "mlp" else 0)
        text = f"{family} phase {m['phase_index'] + 1}/{m['phases']}"
    elif "rel_l2" in m:  # pde
        frac = 0.25 if m.get("family") == "kan" else 0.75
        text = f"{family} step {m['step']}: relative L2 {m['rel_l2']:.3g}"
    else:
        frac, text = 0.0, "starting…"
    return min(max(frac, 0.0), 1.0), f"{text} — {job.elapsed:.0f} s"


def _cells(m: dict, keys: tuple[str, ...]) -> dict:
    return {k: m.get(k) for k in keys}


def table(result: dict) -> pd.DataFrame:
    """One row per model of a result dict, the numbers its figures show."""
    rows = []
    kind = result["experiment"]
    parts = [result] + ([result["peaks2d"]] if isinstance(result.get("peaks2d"), dict) else [])
    for part in parts:
        for fam in ("kan", "mlp"):
            got = part.get(fam)
            if not got:
                continue
            if kind == "compare":
                sc = got["scaling"]
                for m in got["models"]:
                    grid = f" G{m['grid']}" if m.get("grid") else ""
                    row = {"model": fam.upper(), "widths": f"{m['widths']}{grid}", "params": m["params"]}
                    row |= _cells(m, ("train_rmse", "val_rmse", "test_rmse", "seconds", "lr", "status"))
                    row["α (family)"] = sc["alpha"] if sc else np.nan
                    rows.append(row)
            elif kind == "continual":
                f = got["forgetting"] or {}
                row = {"task": part["task"], "model": fam.upper(), "widths": str(got["widths"])}
                row |= {"params": got["params"], "seconds": got["seconds"]}
                row |= {
                    "region 1 after phase 1": f.get("first_learned"),
                    "region 1 at the end": f.get("first_at_end"),
                    "mean forgetting": f.get("mean"),
                    "max forgetting": f.get("max"),
                }
                rows.append(row)
            else:
                row = {"model": fam.upper(), "widths": str(got["widths"])}
                rows.append(row | _cells(got, ("params", "rel_l2", "seconds", "steps", "status")))
    return pd.DataFrame(rows)


def summary(result: dict) -> list[str]:
    """Headline sentences of a result (what a user should read first)."""
    kind, out = result["experiment"], []
    if kind == "compare":
        for fam in ("kan", "mlp"):
            sm = result[fam]["smallest"] if fam in result else None
            reach = f"{sm['params']} parameters ({sm['widths']})" if sm else "none of the sizes tried"
            out.append(f"Smallest {fam.upper()} reaching test RMSE {result['rmse_target']:.4g}: {reach}")
    elif kind == "pde":
        for fam in ("kan", "mlp"):
            if fam in result:
                m = result[fam]
                out.append(
                    f"{fam.upper()}: relative L2 error {m['rel_l2']:.4g} with {m['params']} parameters "
                    f"in {m['seconds']:.1f} s"
                )
    return out


def to_json(result: dict) -> str:
    """The result as the CLI writes it."""
    return json.dumps(result, indent=1)
