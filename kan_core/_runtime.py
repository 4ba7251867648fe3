"""Process-level tuning applied once at import (documented in the README's performance section)."""

from __future__ import annotations

import ctypes
import os
import sys

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
