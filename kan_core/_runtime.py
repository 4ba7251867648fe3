"""Process-level helpers: memory tuning at import (see the README's performance section) and time limits."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
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
    """fn() with a wall-clock limit, raising Overtime; the limit needs SIGALRM and the main thread
    (elsewhere, e.g. in the studio's worker threads, fn runs unlimited)."""
    try:
        old = signal.signal(signal.SIGALRM, _alarm)
    except (AttributeError, ValueError):  # no SIGALRM (Windows), or not the main thread
        return fn()
    # Re-armed every 0.2 s: SymPy has bare `except:` clauses that can swallow a single alarm.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
