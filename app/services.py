"""Background training and the engine calls behind the studio's widgets (no Streamlit here)."""

from __future__ import annotations

import copy
import math
import re
import threading
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
import torch

from kan_core import KAN, fit
from kan_core.engine.model import resolve_device
from kan_core.engine.train import TrainConfig
from kan_core.errors import ConfigError, KanStudioError, TrainingDiverged
from kan_core.symbolic.edges import EdgeFit, edge_text, in_data_units, layer_samples

OPTIMIZERS = ("LBFGS", "Adam")
DEVICES = ("auto", "cpu", "cuda")
MAX_STEPS = 5000
_TRAIN = TrainConfig()  # the defaults fit() and KANRegressor share
CHECKPOINT_SECONDS = 10.0  # a running job copies its model about this often (saved with the workspace)


@dataclass
class TrainSettings:
    """Everything the Train page sets; mirrored in the URL query string."""

    hidden: str = "5"  # comma-separated hidden layer widths; empty for none
    grid: int = 5
    k: int = 3
    steps: int = _TRAIN.steps
    lr: float = 1.0  # what fit() uses for LBFGS when lr is None (the page needs a number)
    optimizer: str = _TRAIN.opt.upper()
    # Unlike fit() (0), the studio trains with some sparsity: the page's next steps are prune and
    # snap, and the KAN paper's flow (arXiv:2404.19756 Sec. 2.5) needs it to prune cleanly.
    lamb: float = 0.01
    seed: int = _TRAIN.seed
    device: str = "auto"
    # Train on log|y| against log x (positive inputs, a target of one sign): products of powers
    # become sums, which snap exactly (the KAN paper's log-space trick; discovery's log routes).
    log_space: bool = False

    def widths(self, n_in: int) -> list:
        """[n_in, *hidden, 1]; a hidden entry [s, m] is a layer of s sums and m multiplication
        nodes (KAN 2.0, arXiv:2408.10205). Text that spells the whole network — three or more
        entries, the first the number of inputs, the last 1 (`3, [2, 1], 1` for 3 inputs) — is
        read as such, not as hidden layers of 3 and 1 nodes. A ConfigError names what is wrong."""
        hidden = parse_hidden(self.hidden)
        if self.whole_network(n_in):
            hidden = hidden[1:-1]
        return [n_in, *hidden, 1]

    def whole_network(self, n_in: int) -> bool:
        """Whether the Hidden widths text spells the whole network (see `widths`)."""
        hidden = parse_hidden(self.hidden)
        return len(hidden) >= 3 and hidden[0] == n_in and hidden[-1] == 1

    def validate(self) -> None:
        """Raise ConfigError for out-of-range values (the widgets already bound them)."""
        ok = (
            1 <= self.grid <= 100
            and 1 <= self.k <= 5
            and 1 <= self.steps <= MAX_STEPS
            and 1e-5 <= self.lr <= 10  # the bounds of the Train page's widgets, so a link or a
            and self.optimizer in OPTIMIZERS  # session can never set a value the page refuses
            and 0 <= self.lamb <= 1
            and 0 <= self.seed <= 2**31 - 1
            and self.device in DEVICES
        )
        if not ok:
            raise ConfigError("a training setting is out of range; reset the settings")
        self.widths(1)

    def to_query(self) -> dict[str, str]:
        """The settings as URL query parameters."""
        return {f.name: str(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_query(cls, query: dict[str, str]) -> TrainSettings:
        """Settings from a shared link; values that do not parse or validate keep their defaults."""
        out = cls()
        for f in fields(cls):
            if f.name not in query:
                continue
            trial = cls(**asdict(out))
            try:
                kind = type(getattr(out, f.name))
                value = query[f.name]
                if kind is bool and value not in ("True", "False"):
                    continue
                setattr(trial, f.name, value == "True" if kind is bool else kind(value))
                trial.validate()
            except (ValueError, TypeError, KanStudioError):
                continue
            out = trial
        return out


_HIDDEN = re.compile(r"\s*(\[\s*\d+\s*,\s*\d+\s*\]|\d+)\s*(?:[,;]|$)")


def parse_hidden(text: str) -> list:
    """Hidden widths from text: "5", "4, 4", or "[2, 1]" for 2 sum nodes and 1 multiplication node
    in one layer; up to 4 layers of 1-64 nodes. Raises ConfigError with an example."""
    out: list = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _HIDDEN.match(text, pos)
        if m is None or m.end() == pos:
            out = []
            break
        tok = m.group(1)
        out.append([int(v) for v in tok.strip("[] ").split(",")] if tok.startswith("[") else int(tok))
        pos = m.end()
    sizes = [sum(w) if isinstance(w, list) else w for w in out]
    if (text and not out) or len(out) > 4 or not all(1 <= n <= 64 for n in sizes):
        raise ConfigError(
            f"hidden widths {text!r}: use up to 4 comma-separated widths (1-64), e.g. 5 or 4,4; "
            "[2, 1] is a layer of 2 sums and 1 multiplication node"
        )
    return out


def device_label(choice: str) -> str:
    """What 'auto'/'cpu'/'cuda' resolves to on this machine, for display."""
    try:
        dev = resolve_device(choice)
    except KanStudioError as err:
        return str(err)
    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(dev)})"
    return "cpu"


class ThreadJob:
    """Work on a background daemon thread (`_thread`) that stops when `_stop` is set."""

    _thread: threading.Thread
    _stop: threading.Event

    @property
    def running(self) -> bool:
        """True while the thread works."""
        return self._thread.is_alive()

    def stop(self, wait: bool = True) -> None:
        """Ask the thread to stop after its current step; by default wait until it has."""
        self._stop.set()
        if wait:
            self._thread.join()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the work ends (tests, and before structural edits)."""
        self._thread.join(timeout)


@dataclass
class Checkpoint:
    """A running job's model as it was after `step` steps (a copy taken between two steps, so
    consistent), with the job's curves up to then."""

    step: int
    model: KAN
    curves: dict[str, list]


class TrainingJob(ThreadJob):
    """`fit` on a background thread. The thread writes only to this object; pages poll it.

    Every `CHECKPOINT_SECONDS` of training the thread also leaves a `Checkpoint` in `checkpoint`
    (a deep copy of the model between steps), which the page saves with the workspace so that a
    reload during a long run keeps what was trained until then."""

    def __init__(self, model: KAN, X: np.ndarray, y: np.ndarray, settings: TrainSettings, small: bool):
        self.model = model
        self.total = settings.steps
        self.step = 0
        self.status = "running"  # then completed / stopped / diverged / failed
        self.message = ""
        self.curves: dict[str, list] = {"step": [], "train": [], "val_step": [], "val": []}
        self.started = time.perf_counter()
        self.seconds = 0.0
        self.checkpoint: Checkpoint | None = None
        self._next_checkpoint = self.started + CHECKPOINT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(X, y, settings, small), daemon=True, name="kan-studio-train"
        )
        self._thread.start()

    def _run(self, X: np.ndarray, y: np.ndarray, s: TrainSettings, small: bool) -> None:
        try:
            dev, dtype = self.model.device, self.model.dtype
            Xt = torch.tensor(X, dtype=dtype, device=dev)
            yt = torch.tensor(y, dtype=dtype, device=dev)[:, None]
            hist = fit(
                self.model,
                Xt,
                yt,
                steps=s.steps,
                opt=s.optimizer.lower(),
                lr=s.lr,
                lamb=s.lamb,
                val_fraction=0.0 if small else 0.2,
                seed=s.seed,
                callback=self._progress,
                stop_event=self._stop,
            )
            self.status, self.message = hist.status, hist.message
        except TrainingDiverged as err:
            self.status, self.message = "diverged", str(err)
        except KanStudioError as err:
            self.status, self.message = "failed", str(err)
        except Exception as err:  # noqa: BLE001 - a thread must report, never die silently
            self.status, self.message = "failed", f"training failed: {type(err).__name__}: {err}"
        self.seconds = time.perf_counter() - self.started

    def _progress(self, step: int, metrics: dict) -> None:
        self.step = step
        self.curves["step"].append(step)
        self.curves["train"].append(metrics["train_rmse"])
        if "val_rmse" in metrics:
            self.curves["val_step"].append(step)
            self.curves["val"].append(metrics["val_rmse"])
        now = time.perf_counter()
        if now >= self._next_checkpoint:  # between steps: the weights are not being written
            curves = {k: list(v) for k, v in self.curves.items()}
            self.checkpoint = Checkpoint(step, copy.deepcopy(self.model), curves)
            self._next_checkpoint = now + CHECKPOINT_SECONDS


def merge_curves(total: dict[str, list], job: TrainingJob | Checkpoint, offset: int) -> None:
    """Append a finished job's (or a checkpoint's) curves to the session's, steps counted across runs."""
    for key in ("step", "val_step"):
        total.setdefault(key, []).extend(s + offset for s in job.curves[key])
    for key in ("train", "val"):
        total.setdefault(key, []).extend(job.curves[key])


@torch.no_grad()
def edge_detail(model: KAN, X: torch.Tensor, edge: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """An edge's curve over its inputs' range and the inputs themselves, layer 0 in data units."""
    li, i, j = edge
    z, phi = layer_samples(model, X, li)
    inputs = model.layer_inputs(X)[li][:, i].double().cpu()
    if li == 0:  # the first layer sees standardised columns; show the user's units
        scale, shift = float(model.in_scale[i]), float(model.in_shift[i])
        z, inputs = z * scale + shift, inputs * scale + shift
    return {"x": z[:, i].numpy(), "phi": phi[:, i, j].numpy(), "inputs": inputs.numpy()}


def fit_curve(fit: EdgeFit, x: np.ndarray, model: KAN, layer: int, i: int) -> np.ndarray:
    """A suggestion drawn over x (x in data units for layer 0, where the edge sees standardised x)."""
    return in_data_units(fit, model, layer, i).values(x)


def fit_text(fit: EdgeFit, x: str = "x") -> str:
    """c·f(a·x + b) + d as readable text (`kan_core.symbolic.edges.edge_text`)."""
    return edge_text(fit.fn, fit.a, fit.b, fit.c, fit.d, x)


def edge_table(model: KAN, X: torch.Tensor, names: list[str], target: str) -> pd.DataFrame:
    """One row per active edge: layer, from, to, state, attribution (mean |φ| on the data), locked."""
    scores = model.attribution(X)["edges"]
    last = len(model.layers) - 1
    rows = []
    for e in model.edges():
        if e["state"] == "pruned":
            continue
        li, i, j = e["layer"], e["i"], e["j"]
        rows.append(
            {
                "edge": f"layer {li}, {i} → {j}",
                "from": names[i] if li == 0 else f"node {i}",
                "to": target if li == last else f"node {j}",
                "function": e["state"],
                "attribution": float(scores[li][i, j]),
                "locked": e["locked"],
                "id": (li, i, j),
            }
        )
    return pd.DataFrame(rows)


def fmt(v: float | None) -> str:
    """Numbers for people: 4 significant digits."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.4g}"


def _discover_worker(
    conn, df: pd.DataFrame, target: str, features: list[str], seconds: float, seed: int
) -> None:
    """Runs in the worker process: discover(), progress and the result sent back through `conn`."""
    from kan_core._runtime import tune_malloc
    from kan_core.discovery.search import discover

    tune_malloc()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    try:
        res = discover(
            df, target, features, seconds=seconds, seed=seed, callback=lambda i: conn.send(("progress", i))
        )
        conn.send(("done", res))
    except KanStudioError as err:
        conn.send(("error", str(err)))
    except Exception as err:  # noqa: BLE001  (a bug must reach the page as one line, not kill it)
        conn.send(("error", f"discovery failed ({type(err).__name__}: {err})"))
    finally:
        conn.close()


class DiscoveryJob:
    """`discover` in a worker process, so its SymPy time limits hold (signals work there, unlike in
    Streamlit's script thread) and Stop ends it at once (the process is killed; nothing of the
    workspace lives in it). Started from a fork server that imported kan_core once: a start costs
    about 0.1 s after the first."""

    def __init__(self, df: pd.DataFrame, target: str, features: list[str], seconds: float, seed: int):
        import multiprocessing as mp

        methods = mp.get_all_start_methods()
        ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
        if ctx.get_start_method() == "forkserver":
            ctx.set_forkserver_preload(["kan_core.discovery.search", "app.services"])
        self.seconds, self.started = seconds, time.perf_counter()
        self.status, self.message, self.progress, self.result = "running", "", {}, None
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_discover_worker, args=(send, df, target, features, seconds, seed), daemon=True
        )
        self._proc.start()
        send.close()  # a dead worker then reads as EOF here

    @property
    def running(self) -> bool:
        """True while the search goes on (takes in the worker's messages first)."""
        self.poll()
        return self.status == "running"

    @property
    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.started

    def poll(self) -> None:
        """Take in whatever the worker sent; notice a worker that died without a word."""
        if self.status != "running":
            return
        try:
            while self.status == "running" and self._recv.poll():
                kind, payload = self._recv.recv()
                if kind == "progress":
                    self.progress = payload
                elif kind == "done":
                    self.status, self.result = "completed", payload
                else:
                    self.status, self.message = "failed", payload
        except (EOFError, OSError):
            self._proc.join(1)
            self.status = "failed"
            self.message = f"the discovery worker stopped unexpectedly (exit code {self._proc.exitcode})"
        if self.status != "running":
            self._proc.join(1)

    def stop(self) -> None:
        """End the search now (the worker is killed; the workspace keeps its earlier results)."""
        if self.status == "running":
            self._proc.kill()
            self._proc.join(1)
            self.status, self.message = "stopped", f"stopped after {self.elapsed:.1f} s"
        self._recv.close()
