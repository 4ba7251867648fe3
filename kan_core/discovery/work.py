"""Work budgets: discovery's search is sized in work, not in wall-clock time.

A search that stops training, snapping or route-hopping when the clock says so finds a different
formula on a busy machine than on an idle one (fewer optimizer steps fit in the same seconds).
Here the budget `seconds` is turned into *work seconds*: a fixed share (`WORK_SHARE`) of it,
spent by a cost model of the work itself — an Adam or LBFGS step of a KAN of given widths on
given rows, one library fit of an edge, a direct least-squares route — measured once on the
reference machine (a 2-vCPU VM, torch on CPU) and fixed here. Every decision of the search (how
many steps a network trains, how many snapping rounds it gets, which routes run, whether the
winner is polished) reads this account, so the same table, seed and budget give the same formula
whatever the load. The wall clock stays an outer limit only (`Work.late`; routes stop at 85% of
the budget): the cost model is conservative — an idle reference VM did 23.6 work seconds in
21.5 s and 15.5 in 6.7 s — so a search fits its budget on a machine up to about 1.5–2× slower
than the reference; on a slower or busier one the wall clock ends it, with a formula that may then
differ (measured at a load of 5–7 on 2 cores: benchmarks/RESULTS_generalisation.md).

The cost model (milliseconds per step at 600 rows, reference machine):
Adam ≈ 1.5·layers + 0.1·edges; an LBFGS step (20 iterations and their line searches, far from
convergence) ≈ 40 Adam steps; a library fit of one edge ≈ 0.2 s; a direct route ≈ 0.5 s;
refitting and snapping one formula ≈ 0.7 s; one leave-one-out refit (tiny tables) ≈ 0.02 s.
Rows scale the step costs linearly.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")

WORK_SHARE = 1.0  # work seconds per wall second of budget (the cost model is ~2× conservative idle)
ADAM_MS_PER_LAYER = 1.5
ADAM_MS_PER_EDGE = 0.1
LBFGS_PER_ADAM = 40.0  # a fresh LBFGS step runs up to 20 iterations and line-search evaluations
EDGE_FIT_SECONDS = 0.2
REFERENCE_ROWS = 600
ROUTE_SECONDS = 0.5  # a direct route (least squares over monomials, variable projection)
REFIT_SECONDS = 0.7  # refitting and snapping the constants of one formula a route returned
LOO_SECONDS = 0.02  # one leave-one-out refit of a formula's constants (tiny tables)


@dataclass
class Work:
    """A work account: `budget` work seconds, `spent` so far, and the wall-clock outer limit.

    Attributes
    ----------
    budget : float
        Work seconds this account may spend (see the module's cost model).
    wall_end : float
        `time.perf_counter()` value past which every step stops, whatever is left.
    spent : float
        Work seconds charged so far.
    """

    budget: float
    wall_end: float = math.inf
    spent: float = 0.0

    @classmethod
    def for_seconds(cls, seconds: float, wall_end: float) -> Work:
        """The account of a `seconds` budget: `WORK_SHARE`·seconds of work, `wall_end` the limit."""
        return cls(WORK_SHARE * seconds, wall_end)

    def left(self) -> float:
        """Work seconds still to spend (≥ 0)."""
        return max(self.budget - self.spent, 0.0)

    def charge(self, seconds: float) -> None:
        """Record `seconds` of work."""
        self.spent += max(seconds, 0.0)

    def late(self) -> bool:
        """Whether the wall-clock outer limit has passed."""
        return time.perf_counter() >= self.wall_end

    def share(self, seconds: float) -> Work:
        """A sub-account of at most `seconds` (and at most what is left) with the same wall limit."""
        return Work(min(seconds, self.left()), self.wall_end)

    def seconds_to_wall(self) -> float:
        """Wall seconds to the outer limit (for SciPy/SymPy calls that take a time limit)."""
        return self.wall_end - time.perf_counter()


def layer_edges(widths: list) -> tuple[int, int]:
    """(layers, edges) of a KAN of these widths (an entry [sums, products] counts its nodes)."""
    sizes = [sum(w) + w[1] if isinstance(w, list) else int(w) for w in widths]
    outs = [sum(w) if isinstance(w, list) else int(w) for w in widths]
    edges = sum(a * b for a, b in zip(outs[:-1], sizes[1:]))
    return len(widths) - 1, edges


def step_seconds(widths: list, rows: int, opt: str = "adam") -> float:
    """Work seconds of one optimizer step of a KAN of these widths on `rows` rows."""
    layers, edges = layer_edges(widths)
    ms = (ADAM_MS_PER_LAYER * layers + ADAM_MS_PER_EDGE * edges) * rows / REFERENCE_ROWS
    return ms / 1000 * (LBFGS_PER_ADAM if opt == "lbfgs" else 1.0)


def affordable(work: Work, nominal: int, cost: float, at_least: int = 0) -> int:
    """How many of `nominal` steps of `cost` work seconds each the account can pay; charges them."""
    n = min(nominal, int(work.left() / cost)) if cost > 0 else nominal
    n = max(n, at_least)
    work.charge(n * cost)
    return n


def one_blas_thread(fn: Callable[..., T]) -> Callable[..., T]:
    """Run `fn` with NumPy/SciPy's BLAS on one thread (threadpoolctl).

    The search solves many small least-squares problems (hundreds of rows, tens of columns):
    threads buy nothing there, and on a busy machine OpenBLAS's spinning threads make them about
    ten times slower (1,000 evaluations of the single-index fit: 1.8 s on one thread, 21 s on two
    next to another busy process, measured on the reference VM). One thread keeps the work's
    cost the same whatever the load, and the floating-point sums in the same order.
    """

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapped
