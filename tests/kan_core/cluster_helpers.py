"""A stand-in for the bench's per-equation call, imported by Ray workers: kept light (only `time`),
so that a new node's worker starts in a fraction of a second."""

import time


def slow_item(eq, threads: int, log: str) -> dict:
    """Notes the equation's start in `log`, works 1.5 s, returns an ok row."""
    with open(log, "a") as f:
        f.write(eq.id + "\n")
    time.sleep(1.5)
    return {"id": eq.id, "status": "ok"}
