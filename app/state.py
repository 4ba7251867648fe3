"""One user's workspace: data, model, training job, edits with undo, formulas (plain Python)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from kan_core import KAN
from kan_core.discovery.search import Result, discover, network_formulas
from kan_core.engine.prune import prune
from kan_core.errors import ConfigError, DataError, ModelError
from kan_core.io.data import MAX_FEATURES, MAX_ROWS, Dataset, prepare, read_table
from kan_core.io.examples import catalog, load_example
from kan_core.io.session import UndoHistory
from kan_core.symbolic.edges import EdgeFit, auto_snap, snap
from kan_core.symbolic.export import fingerprint

from .services import DiscoveryJob, TrainingJob, TrainSettings, merge_curves
from .sessions import Sessions

DEFAULT_EXAMPLE = catalog()[0]["name"]  # exp(sin(πx)+y²), the KAN paper's first example
SAMPLE_ROWS = 2000  # edge scores, curves and fits are computed on at most this many rows
Edge = tuple[int, int, int]


def is_log(model: KAN | None) -> bool:
    """True when `model` was trained in log space (log|y| against log x)."""
    return bool(getattr(model, "log_space", False))


class Studio(Sessions):
    """Everything one browser session works on. Structural edits go through `edit` (undoable)."""

    def __init__(self) -> None:
        self.df: pd.DataFrame | None = None
        self.source = ""
        self.entry: dict | None = None
        self.dataset: Dataset | None = None
        self.settings = TrainSettings()
        self.model: KAN | None = None
        self.undo = UndoHistory(limit=30)
        self.job: TrainingJob | None = None
        self.discovery: DiscoveryJob | None = None
        self._discovery_data = -1
        self._merged: TrainingJob | None = None
        self.curves: dict[str, list] = {}
        self.steps_done = 0
        self.selected: Edge | None = None
        self.results: dict[str, Result] = {}
        self.result_note: str | None = None  # why a saved Discover result was not restored
        self.version = 0  # bumps whenever the model changes; caches key on it
        self.data_id = 0  # bumps when the data or its columns change; widget keys use it
        self.notes: list[str] = []
        self.discarded: dict | None = None  # the workspace before "Discard model": one Undo away

    # ----- data ----------------------------------------------------------------------------
    def load_example(self, name: str, n: int = 1000, seed: int = 0) -> None:
        """Load a built-in example; its catalog entry names the target and features."""
        df, entry = load_example(name, n=n, seed=seed)
        self._set_frame(df, name, entry.get("target"), entry.get("features"))
        self.entry = entry

    def load_upload(self, raw: bytes, filename: str) -> None:
        """Load an uploaded CSV; on any DataError the previous data stays loaded."""
        df = read_table(raw)
        cols = [str(c) for c in df.columns]
        self._set_frame(df, filename, cols[-1], None)
        self.entry = None

    def _set_frame(self, df: pd.DataFrame, source: str, target: str | None, features: list | None) -> None:
        df = df.set_axis([str(c) for c in df.columns], axis=1)
        cols = list(df.columns)
        target = target if target in cols else cols[-1]
        numeric = [c for c in cols if c != target and pd.api.types.is_numeric_dtype(df[c])]
        notes = []
        if not features and len(numeric) > MAX_FEATURES:  # a wide table: start small, the user picks
            notes.append(
                f"{len(numeric)} numeric columns: the first 10 are selected; choose the features to use"
            )
            numeric = numeric[:10]
        if len(df) > MAX_ROWS:  # too many rows to train on interactively: a seeded random sample
            notes.append(f"{len(df):,} rows: a random {MAX_ROWS:,} (seed 0) are used")
            df = df.sample(MAX_ROWS, random_state=0).reset_index(drop=True)
        ds = prepare(df, target, features or numeric)  # raises before anything is replaced
        self._replace_data(df, source, ds)
        self.notes = notes + self.notes

    def set_columns(self, target: str, features: list[str]) -> None:
        """Choose target and features of the loaded table (a DataError keeps the old choice)."""
        if self.df is None:
            raise DataError("no data loaded; upload a CSV or pick an example dataset")
        if self.dataset and (target, list(features)) == (self.dataset.target, self.dataset.features):
            return
        self._replace_data(self.df, self.source, prepare(self.df, target, list(features)))

    def set_units(self, units: dict[str, str]) -> None:
        """Set the columns' units (pint syntax; "" for unknown), checked first: a unit pint cannot
        read is a one-line DataError naming the column, and nothing changes."""
        from kan_core import units as U

        if self.df is None or self.dataset is None:
            raise DataError("no data loaded; upload a CSV or pick an example dataset")
        clean = {str(c): str(u).strip() for c, u in units.items() if str(u).strip()}
        for column, text in clean.items():
            U.parse(text, column)
        self.df.attrs["units"] = clean
        ds = self.dataset
        ds.units = {c: u for c, u in clean.items() if c in ds.features or c == ds.target}

    def _replace_data(self, df: pd.DataFrame, source: str, ds: Dataset) -> None:
        self.stop()  # never let a thread train on data that is being replaced
        self.stop_discover()
        self.df, self.source, self.dataset = df, source, ds
        self.model, self.undo, self.curves, self.steps_done = None, UndoHistory(limit=30), {}, 0
        self.selected, self.results, self.notes = None, {}, list(ds.warnings)
        self.result_note = None
        self.version += 1
        self.data_id += 1

    def inputs(self, log_space: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) as the model sees them: the data, or log x and log|y| in log space (the model's
        own space by default). A ConfigError names a column that log space cannot take."""
        ds = self.dataset
        log = is_log(self.model) if log_space is None else log_space
        if not log:
            return ds.X, ds.y
        bad = [f for f, ok in zip(ds.features, (ds.X > 0).all(0)) if not ok]
        if bad:
            raise ConfigError(
                f"Log-space needs positive inputs; {', '.join(bad)} has values ≤ 0: switch it off"
            )
        if not ((ds.y > 0).all() or (ds.y < 0).all()):
            raise ConfigError(f"Log-space needs a target of one sign; {ds.target} crosses 0: switch it off")
        return np.log(ds.X), np.log(np.abs(ds.y))

    def sample(self) -> torch.Tensor:
        """Up to SAMPLE_ROWS evenly spaced rows of the model's inputs, on its device and dtype."""
        X = self.inputs()[0]
        X = X[:: max(1, len(X) // SAMPLE_ROWS)]
        return torch.tensor(X, dtype=self.model.dtype, device=self.model.device)

    # ----- training ------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        """True while a background job runs."""
        return self.job is not None and self.job.running

    def train(self, settings: TrainSettings) -> None:
        """Start training; continues the current model when the architecture is unchanged."""
        if self.dataset is None:
            raise DataError("no data loaded; upload a CSV or pick an example dataset")
        settings.validate()
        self.stop()
        widths = settings.widths(len(self.dataset.features))
        X, y = self.inputs(settings.log_space)
        same = self.model is not None and self.model.spec == widths and self.model.k == settings.k
        same = same and is_log(self.model) == settings.log_space
        if not same:
            if self.model is not None:
                self.undo.push("new architecture", self.model)
            self.model = KAN(
                widths, grid=settings.grid, k=settings.k, seed=settings.seed, device=settings.device
            )
            self.model.log_space = settings.log_space  # type: ignore[assignment]
            self.curves, self.steps_done = {}, 0
        elif any(layer.grid != settings.grid for layer in self.model.layers):
            self.edit(f"grid {settings.grid}", lambda m: m.refined(settings.grid, self.sample()))
        self.settings = settings
        self.results.pop("network", None)
        self.job = TrainingJob(self.model, X, y, settings, self.dataset.small)
        self.version += 1

    def poll(self) -> bool:
        """Fold a finished job into the history; True when one was just folded in."""
        job = self.job
        if job is None or job.running or job is self._merged:
            return False
        merge_curves(self.curves, job, self.steps_done)
        self.steps_done += job.step
        self._merged = job
        self.version += 1
        return True

    def stop(self) -> None:
        """Stop training after the current step and keep the model trained so far."""
        if self.job is not None:
            self.job.stop(wait=True)
            self.poll()

    def reset(self) -> None:
        """Forget the model (undoable) so the next Train builds a fresh one."""
        self.stop()
        if self.model is not None:
            self.undo.push("reset", self.model)
        self.model, self.curves, self.steps_done, self.selected = None, {}, 0, None
        self.results.pop("network", None)
        self.version += 1

    # ----- structural edits (undoable) -----------------------------------------------------
    def edit(self, label: str, change: Callable[[KAN], KAN]) -> None:
        """Apply an edit that returns a new model; the old one goes on the undo stack."""
        if self.model is None:
            raise ModelError("train a model first (Train page)")
        self.stop()
        new = change(self.model)
        new.log_space = is_log(self.model)  # type: ignore[assignment]
        self.undo.push(label, self.model)
        self.model = new
        self.results.pop("network", None)
        self.version += 1

    def _edge_copy(self, edge: Edge, change: Callable[[KAN, int, int, int], None]) -> Callable[[KAN], KAN]:
        def run(model: KAN) -> KAN:
            new = copy.deepcopy(model)
            change(new, *edge)
            return new

        return run

    def prune_edge(self, edge: Edge) -> None:
        """Switch an edge off."""
        self.edit("prune edge", self._edge_copy(edge, lambda m, li, i, j: m.layers[li].set_mask(i, j, False)))
        self.selected = None

    def lock_edge(self, edge: Edge, locked: bool) -> None:
        """Lock (or unlock) an edge so training keeps its function."""
        label = "lock edge" if locked else "unlock edge"
        self.edit(label, self._edge_copy(edge, lambda m, li, i, j: m.layers[li].set_lock(i, j, locked)))

    def snap_edge(self, edge: Edge, fit: EdgeFit) -> None:
        """Replace an edge by a symbolic function."""
        self.edit(f"snap edge to {fit.fn}", lambda m: snap(m, *edge, fit))

    def auto_prune(self, threshold: float) -> int:
        """Prune every edge weaker than threshold × its layer's strongest; returns how many."""
        count = [0]

        def run(model: KAN) -> KAN:
            new, count[0] = prune(model, self.sample(), threshold)
            return new

        self.edit(f"auto-prune {threshold:g}", run)
        self.selected = None
        return count[0]

    def auto_snap(self, r2_threshold: float) -> list[dict]:
        """Snap every edge whose best fit reaches the R² threshold, then retrain briefly."""
        report: list[dict] = []

        def run(model: KAN) -> KAN:
            X = self.sample()
            ys = self.inputs()[1]
            rows = np.linspace(0, len(ys) - 1, len(X)).astype(int)
            y = torch.as_tensor(ys[rows], dtype=X.dtype, device=X.device)[:, None]
            new, rep = auto_snap(model, X, y, r2_threshold)
            report.extend(rep)
            return new

        self.edit("auto-snap", run)
        return report

    def undo_step(self) -> None:
        """Go back one structural step."""
        self.stop()
        self.model = self.undo.undo(self.model)
        self.selected, self.version = None, self.version + 1
        self.results.pop("network", None)

    def redo_step(self) -> None:
        """Redo the last undone step."""
        self.stop()
        self.model = self.undo.redo(self.model)
        self.selected, self.version = None, self.version + 1
        self.results.pop("network", None)

    # ----- formulas ------------------------------------------------------------------------
    def network_formula(self) -> Result:
        """Formulas read from the snapped network (cached until the model changes)."""
        if self.model is None:
            raise ModelError("train a model first (Train page)")
        if "network" not in self.results:
            ds = self.dataset
            self.results["network"] = network_formulas(
                self.model,
                self.df,
                ds.target,
                ds.features,
                seed=self.settings.seed,
                log_space=is_log(self.model),
            )
        return self.results["network"]

    def run_discover(self, seconds: float, callback: Callable[[dict], None] | None = None) -> Result:
        """The full pipeline (routes, restarts, refits) on the loaded data, in this thread (scripts
        and tests; the studio's page uses start_discover)."""
        ds = self.dataset
        res = discover(
            self.df, ds.target, ds.features, seconds=seconds, seed=self.settings.seed, callback=callback
        )
        self.results["discover"], self.result_note = res, None
        return res

    def start_discover(self, seconds: float) -> DiscoveryJob:
        """Start discovery in a worker process (see DiscoveryJob); poll_discover collects it."""
        if self.dataset is None:
            raise DataError("no data loaded; upload a CSV or pick an example dataset")
        self.stop_discover()
        ds = self.dataset
        self.discovery = DiscoveryJob(self.df, ds.target, list(ds.features), seconds, self.settings.seed)
        self._discovery_data = self.data_id
        return self.discovery

    def poll_discover(self) -> bool:
        """True once when a finished search's result has been taken into the workspace."""
        job = self.discovery
        if job is None or job.running or job.result is None or job.result is self.results.get("discover"):
            return False
        if self._discovery_data == self.data_id:  # the data did not change meanwhile
            self.results["discover"], self.result_note = job.result, None
            return True
        return False

    def stop_discover(self) -> None:
        """End a running search at once; earlier results stay."""
        if self.discovery is not None:
            self.discovery.stop()

    def fingerprint(self) -> str:
        """SHA-256 of the prepared inputs and target."""
        return fingerprint(self.dataset.X, self.dataset.y)
