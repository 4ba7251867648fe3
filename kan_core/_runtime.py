"""Process-level helpers: memory tuning at import (see the README's performance section) and time limits."""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc() -> bool:
    """Keep freed CPU memory for reuse instead of returning it to the OS after every tensor.

    Training allocates and frees the same few MB-sized tensors every step; glibc's defaults hand
    them back to the OS and fault them in again (~16x slower spline evaluation measured on a
    2-vCPU VM). Set KAN_CORE_MALLOPT=0, or glibc's own MALLOC_*_ env vars, to opt out.
    """
    if not sys.platform.startswith("linux") or os.environ.get("KAN_CORE_MALLOPT", "1") == "0":
        return False
    if any(k.startswith("MALLOC_") for k in os.environ) or "GLIBC_TUNABLES" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20) == 1
        return ok and libc.mallopt(_M_TRIM_THRESHOLD, 1024 * 2**20) == 1
    except (OSError, AttributeError):
        return False


class Overtime(BaseException):
    """Raised inside a `time_limited` call at its limit (a BaseException: SymPy's `except
    Exception` clauses must not swallow it)."""


def _alarm(_signum, _frame) -> None:
    raise Overtime


def time_limited(fn: Callable[[], T], seconds: float) -> T:
    """fn() with a wall-clock limit, raising Overtime at the limit.

    On the main thread the limit is SIGALRM. Elsewhere (the studio runs pages in a script thread,
    where signals cannot be used) fn runs in a forked child process that is killed at the limit;
    its result comes back pickled, so fn must return something picklable (SymPy expressions are).
    Where fork is unavailable fn runs unlimited.
    """
    if threading.current_thread() is not threading.main_thread():
        return _in_child(fn, seconds)
    try:
        old = signal.signal(signal.SIGALRM, _alarm)
    except (AttributeError, ValueError):  # no SIGALRM (Windows)
        return fn()
    # Re-armed every 0.2 s: SymPy has bare `except:` clauses that can swallow a single alarm.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _child_run(fn: Callable[[], object], conn) -> None:
    try:
        conn.send((True, fn()))
    except BaseException as err:  # noqa: BLE001  (sent back and re-raised in the parent)
        try:
            conn.send((False, err))
        except Exception:  # noqa: BLE001  (an unpicklable error)
            conn.send((False, RuntimeError(type(err).__name__)))
    finally:
        conn.close()
        os._exit(0)  # no atexit handlers, no flushing of the parent's buffers


def _in_child(fn: Callable[[], T], seconds: float) -> T:
    """fn() in a forked process, killed after `seconds` (raising Overtime)."""
    if "fork" not in mp.get_all_start_methods():
        return fn()
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():  # Python warns about fork in a threaded process; the child only computes
        warnings.simplefilter("ignore", DeprecationWarning)
        proc = ctx.Process(target=_child_run, args=(fn, send), daemon=True)
        proc.start()
    send.close()
    try:
        if not recv.poll(seconds):
            raise Overtime
        ok, value = recv.recv()
    except EOFError:  # the child died (memory, a signal)
        raise Overtime from None
    finally:
        proc.kill()
        proc.join()
        recv.close()
    if not ok:
        raise value
    return value
