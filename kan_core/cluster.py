"""The Ray executor: the items of a benchmark or a batch as Ray tasks on a cluster (Ray is optional).

Ray is imported here only, when a command asks for it: the engine, `import kan_core` and the
studio never load it. Each task runs the same call as the local pool (`kan_core.workers`), so its
item still gets a worker process of its own, with the same time limit and crash handling, on
whichever node Ray picks; Ray retries a task whose node or worker died, and one it cannot finish
becomes a failed row.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kan_core.errors import ConfigError
from kan_core.workers import Call, Lost, Progress

INSTALL = "pip install 'kan-studio[ray]'"


def import_ray() -> Any:
    """The `ray` module.

    Returns
    -------
    module
        `ray`, imported.

    Raises
    ------
    ConfigError
        Ray is not installed (one line saying how to install it).
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(f"this needs Ray, which is not installed; run {INSTALL}") from None
    return ray


@contextmanager
def connected(address: str | None = None) -> Iterator[Any]:
    """Ray, connected for the block: to a running instance as it is, else to `address` (``auto``
    finds the cluster this machine belongs to; ``host:port`` names a head node) or, for None or
    an empty string, to a new local instance that ends with the block.

    Raises
    ------
    ConfigError
        Ray is missing, or no cluster answers at `address`.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    # A local instance's workers import kan_core from where this process does (a checkout, say); a
    # cluster's nodes need kan-studio installed, the same version.
    here = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    runtime_env = None if address else {"env_vars": {"PYTHONPATH": path}}
    try:
        ray.init(
            address=address or None,
            logging_level=logging.WARNING,
            include_dashboard=False,
            runtime_env=runtime_env,
        )
    except (ConnectionError, RuntimeError, ValueError) as err:
        why = (str(err).strip().splitlines() or ["no answer"])[0]
        raise ConfigError(
            f"cannot reach a Ray cluster at {address!r} ({why}); start one with `ray start --head` "
            "or leave out the address to run on this machine"
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _task(call: Call, item: Any, threads: int) -> tuple[dict, str]:
    import ray

    # multiprocessing re-runs the parent's main script in every child it starts; in a Ray worker
    # that is Ray's own worker script (0.7 s of imports per item, of no use to the child). A Ray
    # worker runs one task at a time, and reads its script's path only at start.
    main = sys.modules["__main__"]
    script = main.__dict__.pop("__file__", None)
    try:
        return call(item, threads), ray.get_runtime_context().get_node_id()
    finally:
        if script is not None:
            main.__file__ = script


class RayPool:
    """Runs every item as a Ray task (the local pool's call, on the cluster's nodes).

    Parameters
    ----------
    address : str, optional
        ``auto``, ``host:port`` or None for a local instance (see `connected`).
    cpus_per_task : int, default 1
        CPUs Ray reserves for each item (its torch threads).
    max_retries : int, default 3
        Times Ray reruns a task whose worker or node died before it becomes a failed row.
    resources : dict, optional
        Custom resources each task needs (``{"big_memory": 1}``): the tasks go only to nodes
        started with them (``ray start --resources='{"big_memory": 4}'``).

    Attributes
    ----------
    nodes : list of str or None
        After `map`: the Ray node id each item ran on (None for one that was lost).
    """

    def __init__(
        self,
        address: str | None = None,
        cpus_per_task: int = 1,
        max_retries: int = 3,
        resources: dict[str, float] | None = None,
    ):
        self.address, self.cpus, self.retries = address, cpus_per_task, max_retries
        self.resources = dict(resources or {})
        self.nodes: list[str | None] = []

    def map(self, call: Call, items: Sequence, progress: Progress = None, lost: Lost = None) -> list[dict]:
        """The rows of `call(item, cpus_per_task)` for every item, in order, computed as Ray tasks.

        Parameters
        ----------
        call : callable
            ``call(item, threads) -> dict``, importable by the cluster's workers.
        items : sequence
            The work, one task and one row each.
        progress : callable, optional
            Called with each row as its task finishes.
        lost : callable, optional
            ``lost(item, why) -> row`` for a task Ray could not finish (its node died more often
            than `max_retries`); without it that error is raised.

        Returns
        -------
        list of dict
            One row per item, in the items' order.

        Raises
        ------
        ConfigError
            Ray is missing or the cluster cannot be reached.
        """
        with connected(self.address) as ray:
            options = dict(num_cpus=self.cpus, max_retries=self.retries, resources=self.resources)
            remote = ray.remote(**options)(_task)
            refs = {remote.remote(call, item, self.cpus): i for i, item in enumerate(items)}
            rows: list[dict] = [{} for _ in items]  # each filled when its task returns
            self.nodes = [None] * len(items)
            pending = list(refs)
            try:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1)
                    i = refs[done[0]]
                    try:
                        rows[i], self.nodes[i] = ray.get(done[0])
                    except ray.exceptions.RayError as err:
                        if lost is None:
                            raise
                        why = (str(err).strip().splitlines() or [""])[0][:200]
                        rows[i] = lost(items[i], f"lost on the cluster ({type(err).__name__}: {why})")
                    if progress:
                        progress(rows[i])
            finally:
                for ref in pending:  # Ctrl-C or an error: no orphan tasks left on the cluster
                    ray.cancel(ref, force=True)
            return rows
