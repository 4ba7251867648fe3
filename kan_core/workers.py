"""One job per item, each in a worker process of its own with a time limit; the local executor.

`isolated` runs one job in a fresh process (a crash or an overrun becomes a status, never an
exception). An executor runs `call(item, threads)` for every item: `LocalPool` in threads of this
process, `kan_core.cluster.RayPool` as Ray tasks on a cluster. The benchmark (`kan_core.bench`)
and batch discovery (`kan_core.batch`) are written once against that interface.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, Protocol

import numpy as np

Call = Callable[[Any, int], dict]  # (item, torch threads) -> the item's row
Progress = Callable[[dict], None] | None
Lost = Callable[[Any, str], dict] | None  # (item, why) -> a failed row, for work a cluster lost
PRELOAD = ["kan_core.bench", "kan_core.batch", "kan_core.discovery.search"]


class Executor(Protocol):
    """Runs `call(item, threads)` for every item and returns the rows in the items' order."""

    def map(self, call: Call, items: Sequence, progress: Progress = None, lost: Lost = None) -> list[dict]:
        """The rows of `call` on every item; `progress(row)` as each finishes."""


_started = threading.Lock()


def _context() -> mp.context.BaseContext:
    # forkserver: workers fork from a process that imported torch once; spawn re-imports it every time.
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)
        _start_forkserver()
    return ctx


def _start_forkserver() -> None:
    """Start the forkserver with this process's sys.path: it is a fresh interpreter that gets the
    path but never applies it (CPython 3.10–3.12), so outside the project folder (a Ray worker's)
    the preload failed silently and every worker re-imported torch (~1 s each)."""
    from multiprocessing import forkserver

    with _started:
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in sys.path)
        try:
            forkserver.ensure_running()  # a no-op while it runs
        finally:
            if old is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = old


def _child(conn, worker: Callable[..., dict], args: tuple, threads: int) -> None:
    try:
        import torch

        os.environ["KAN_CORE_STRICT"] = "1"  # a route's bug shows as a crash row, not as "route failed"
        from kan_core._runtime import tune_malloc

        tune_malloc()  # each worker is a process of its own

        # Candidate formulas overflow and go complex by the thousand: expected, not news.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        torch.set_num_threads(threads)  # jobs share the cores instead of oversubscribing them
        row = {"status": "ok", **worker(*args)}
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group; the parent reports it
        return
    except Exception as err:  # one item's failure must not end the run
        reason = (str(err).strip().splitlines() or [""])[0]
        row = {"status": f"crash: {type(err).__name__}{': ' + reason if reason else ''}"}
    conn.send(row)
    conn.close()


def isolated(worker: Callable[..., dict], args: tuple, limit: float, threads: int = 1) -> dict:
    """`worker(*args)` in a fresh worker process, waited for at most `limit` seconds.

    Parameters
    ----------
    worker : callable
        Returns the row's fields (a dict); importable by name (it is pickled to the process).
    args : tuple
        Its arguments (picklable).
    limit : float
        Seconds before the process is killed and the row reads "timeout".
    threads : int, default 1
        torch threads in the process.

    Returns
    -------
    dict
        ``{"status": "ok", **row}``; ``{"status": "crash: <error>"}`` when the worker raised or
        the process died (segfault, ``os._exit``, the OOM killer); ``{"status": "timeout",
        "seconds": limit}`` when it outlived `limit`.
    """
    ctx: Any = _context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, worker, args, threads), daemon=True)
    proc.start()
    send.close()  # so that a dead worker reads as EOF here
    try:
        return recv.recv() if recv.poll(limit) else {"status": "timeout", "seconds": limit}
    except EOFError:  # died without a word
        proc.join()
        return {"status": f"crash: worker exited with code {proc.exitcode}"}
    finally:
        proc.kill()  # a no-op for a worker that has already exited
        proc.join()
        recv.close()


class LocalPool:
    """The process pool: `jobs` items at a time, each minded by a thread of this process (the
    call itself starts the item's worker process), the cores shared out as torch threads.

    Parameters
    ----------
    jobs : int, default 1
        Items run in parallel.
    """

    def __init__(self, jobs: int = 1):
        self.jobs = jobs

    def map(self, call: Call, items: Sequence, progress: Progress = None, lost: Lost = None) -> list[dict]:
        """The rows of `call(item, threads)` for every item, in order; `progress(row)` as each ends.

        Parameters
        ----------
        call : callable
            ``call(item, threads) -> dict``; it must not raise (failures are rows).
        items : sequence
            The work, one row each.
        progress : callable, optional
            Called with each row as it finishes (in finishing order).
        lost : callable, optional
            Unused: nothing is lost locally (kept for the executors' common interface).

        Returns
        -------
        list of dict
            One row per item, in the items' order.
        """
        threads = max(1, (os.cpu_count() or 1) // self.jobs)
        pool = ThreadPoolExecutor(max_workers=self.jobs)
        try:
            futures = [pool.submit(call, item, threads) for item in items]
            for future in as_completed(futures):
                if progress:
                    progress(future.result())
            return [f.result() for f in futures]
        finally:
            pool.shutdown(cancel_futures=True)
