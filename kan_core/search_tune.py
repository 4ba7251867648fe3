"""Model search with Ray Tune: routes, hidden widths, grid sizes, sparsity λ and seeds, each trial a
`discover` restricted to one route and one recipe, stopped early by ASHA, merged into one Pareto
front across trials (Ray is optional and imported here only, when a search runs)."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable

import pandas as pd

from kan_core.cluster import connected

GRIDS = (3, 5, 8)
SPARSITY = (0.0, 1e-4, 1e-3, 1e-2)
WIDTHS = (2, 3, 5, 8)  # hidden width of the "wide" network
RUNGS = 2  # a trial reports after 1/3 and after all of its budget; ASHA stops the worse half at the first


def route_names(data: pd.DataFrame, target: str, features: list[str] | None = None) -> list[str]:
    """The routes `discover` would try on this table, in order (the search's route choices).

    Parameters
    ----------
    data, target, features
        As for `kan_core.discover`.

    Returns
    -------
    list of str
        Route names (`kan_core.discovery.routes.plans`).

    Raises
    ------
    DataError
        The table cannot be used.
    """
    from kan_core.discovery.routes import plans
    from kan_core.io.data import prepare

    ds = prepare(data, target, features)
    return [name for name, _ in plans(ds.X, ds.y)]


def _trial(config: dict, data: pd.DataFrame, target: str, features: list | None, seconds: float) -> None:
    """One Tune trial: `discover` with the trial's route and recipe, on budgets growing per rung."""
    import warnings

    import numpy as np
    import torch
    from ray import tune

    from kan_core.discovery.routes import Settings
    from kan_core.discovery.search import discover

    torch.set_num_threads(1)  # one CPU per trial
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
    settings = Settings(grid=config["grid"], sparsity=config["sparsity"], width=config["width"])
    for rung in range(RUNGS):
        budget = seconds * 2**rung / (2**RUNGS - 1)  # the rungs' budgets add up to `seconds`
        result = discover(
            data, target, features, budget, config["seed"], routes=[config["route"]], settings=settings
        )
        best = result.best
        front = [[c.complexity, c.val_mse, c.train_mse, str(c.expr)] for c in result.pareto]
        tune.report(
            {"val_loss": best.val_mse, "complexity": best.complexity, "formula": str(best.expr)}
            | {
                "front": front,
                "variables": result.variables,
            }
        )


def merged_front(points: list[dict], floor: float) -> list[dict]:
    """The accuracy/complexity front over every trial's candidates, simplest first, with PySR's
    score (−Δlog loss / Δcomplexity) and `best` set by its rule (highest score among losses within
    1.5 × the minimum), as `kan_core.discovery.pareto` does within one search.

    Parameters
    ----------
    points : list of dict
        Candidates with ``complexity``, ``val_loss`` and any other fields (kept).
    floor : float
        Losses below it (round-off of an exact formula) count as equal.

    Returns
    -------
    list of dict
        The front, simplest first, each with ``score`` and ``best`` added.
    """
    front: list[dict] = []
    for p in sorted(points, key=lambda p: (p["complexity"], max(p["val_loss"], floor))):
        if front and max(p["val_loss"], floor) >= max(front[-1]["val_loss"], floor):
            continue
        front.append(dict(p, score=0.0, best=False))
    for prev, p in zip(front, front[1:]):
        drop = math.log(max(prev["val_loss"], floor)) - math.log(max(p["val_loss"], floor))
        p["score"] = drop / max(p["complexity"] - prev["complexity"], 1)
    if front:
        least = min(p["val_loss"] for p in front)
        eligible = [p for p in front if p["val_loss"] <= 1.5 * least]
        max(eligible, key=lambda p: (p["score"], -p["complexity"]))["best"] = True
    return front


def search(
    data: pd.DataFrame,
    target: str,
    features: list[str] | None = None,
    trials: int = 16,
    seconds: float = 60.0,
    seed: int = 0,
    address: str | None = None,
    progress: Callable[[dict], None] | None = None,
) -> dict:
    """A model search over routes and recipes with Ray Tune and the ASHA scheduler.

    Parameters
    ----------
    data : pandas.DataFrame
        The table.
    target : str
        The column to explain.
    features : list of str, optional
        The input columns (default: every other column).
    trials : int, default 16
        Configurations sampled (route, hidden width, grid, sparsity λ, seed), with `seed`.
    seconds : float, default 60
        Budget of one trial that runs to the end (ASHA stops the worse ones after a third).
    seed : int, default 0
        Seeds the sampling of configurations.
    address : str, optional
        Ray cluster (``auto``, ``host:port``); None starts a local Ray instance.
    progress : callable, optional
        Called with each trial's row as it ends.

    Returns
    -------
    dict
        The report: ``trials`` (config, status, iterations, val_loss, complexity, formula),
        ``front`` (the merged Pareto front, simplest first; ``best`` marks the selected formula),
        ``best`` (formula, val_loss, complexity, trial, config) and ``settings``.

    Raises
    ------
    ConfigError
        Ray is missing, the cluster cannot be reached, or an argument is out of range.
    DataError
        The table cannot be used (see `kan_core.io.data.prepare`).
    """
    from kan_core.discovery.search import check_budget

    check_budget(seconds)
    names = route_names(data, target, features)  # refuses bad data before Ray starts
    floor = 1e-14 * (float(data[target].var()) or 1.0)
    with connected(address), tempfile.TemporaryDirectory(prefix="kan-search-") as storage:
        rows = _tune(data, target, features, trials, seconds, seed, names, storage, progress)
    points = [
        dict(complexity=c, val_loss=v, loss=t, formula=f, trial=r["trial"])
        for r in rows
        for c, v, t, f in r.pop("front", [])
    ]
    front = merged_front(points, floor)
    best = next((p for p in front if p["best"]), None)
    config = next((r["config"] for r in rows if best and r["trial"] == best["trial"]), None)
    return {
        "kind": "search",
        "target": target,
        "trials": rows,
        "front": front,
        "best": None if best is None else {**best, "config": config},
        "settings": dict(trials=trials, seconds=seconds, seed=seed, scheduler="ASHA", rungs=RUNGS),
    }


def _tune(data, target, features, trials, seconds, seed, names, storage, progress) -> list[dict]:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator

    class Reporter(tune.Callback):
        def on_trial_complete(self, iteration, trials, trial, **info):
            if progress:
                progress(_row(trial.trial_id, trial.config, trial.last_result, None))

        def on_trial_error(self, iteration, trials, trial, **info):
            if progress:
                progress(_row(trial.trial_id, trial.config, trial.last_result, "trial failed"))

    space = {
        "route": tune.choice(names),
        "width": tune.choice(WIDTHS),
        "grid": tune.choice(GRIDS),
        "sparsity": tune.choice(SPARSITY),
        "seed": tune.randint(0, 2**16),
    }
    trainable = tune.with_parameters(_trial, data=data, target=target, features=features, seconds=seconds)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(
            metric="val_loss",
            mode="min",
            num_samples=trials,
            scheduler=ASHAScheduler(max_t=RUNGS, grace_period=1, reduction_factor=2),
            search_alg=BasicVariantGenerator(random_state=seed),
            reuse_actors=True,  # a trial's process imports torch once, not once per trial
        ),
        run_config=tune.RunConfig(storage_path=storage, name="search", verbose=0, callbacks=[Reporter()]),
    )
    old = os.environ.get("RAY_AIR_NEW_OUTPUT")
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"  # with verbose=0: no tables of Tune's own (we report)
    try:
        results = tuner.fit()
    finally:
        if old is None:
            del os.environ["RAY_AIR_NEW_OUTPUT"]
        else:
            os.environ["RAY_AIR_NEW_OUTPUT"] = old
    rows = []
    for i in range(len(results)):
        res = results[i]
        why = None if res.error is None else (str(res.error).strip().splitlines() or ["failed"])[-1][:200]
        metrics = res.metrics or {}
        trial = metrics.get("trial_id", f"#{i}")
        rows.append(_row(trial, res.config or {}, metrics, why) | {"front": metrics.get("front", [])})
    return sorted(rows, key=lambda r: r["trial"])


def _row(trial: str, config: dict, metrics: dict | None, error: str | None) -> dict:
    metrics = metrics or {}
    done = metrics.get("training_iteration", 0)
    status = f"error: {error}" if error else ("ok" if done >= RUNGS else "stopped early")
    keys = ("val_loss", "complexity", "formula")
    return {"trial": trial, "config": dict(config or {}), "status": status, "iterations": done} | {
        k: metrics.get(k) for k in keys
    }
