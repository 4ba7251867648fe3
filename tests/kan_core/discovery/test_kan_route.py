import time

import numpy as np
import pytest

from kan_core.discovery.routes import kan as kan_route
from kan_core.discovery.routes.base import Problem
from kan_core.discovery.work import Work
from kan_core.symbolic.formula import evaluate, safe_symbols

SYMS = safe_symbols(["x0", "x1"])
RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (200, 2))
FRESH = RNG.uniform(-1, 1, (100, 2))  # rows the network never saw


def relative_gap(expr, network, X):
    """RMS(formula − network) / std(network)."""
    net = network(X)
    return float(np.sqrt(np.mean((evaluate(expr, SYMS, X) - net) ** 2)) / np.std(net))


@pytest.fixture
def fits(monkeypatch):
    """Every `fit` call the route makes: (status, steps run, whether its stop event was set)."""
    seen: list = []
    real = kan_route.fit

    def spy(*args, **kwargs):
        hist = real(*args, **kwargs)
        stop = kwargs.get("stop_event")
        seen.append((hist.status, len(hist.train_rmse), stop is not None and stop.is_set()))
        return hist

    monkeypatch.setattr(kan_route, "fit", spy)
    return seen


def test_route_returns_by_its_deadline_a_formula_equal_to_its_network():
    """Which formula comes out depends on how far training got (a wall-clock share), so only what
    holds for any training is asserted: every edge snapped, the formula is exactly the network."""
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 1])
    t0 = time.perf_counter()
    p = Problem(X, y, SYMS, seed=0, deadline=t0 + 1.0)
    [(expr, network)] = kan_route.network_route([2, [1, 1], 1])(p)  # a sum node and a product node
    assert time.perf_counter() - t0 < 1.0 + 30  # trains for 70% of 1 s, then snaps (generous margin)
    assert expr.free_symbols <= set(SYMS)
    assert relative_gap(expr, network, FRESH) <= 1e-9  # on rows the network never saw
    assert relative_gap(expr, network, X) <= 1e-9


def test_log_route_reads_back_through_exp_and_the_sign():
    Xp = np.exp(X)  # positive inputs
    y = -(Xp[:, 0] ** 2) / Xp[:, 1]  # negative target: fitted as log(−y)
    p = Problem(Xp, y, SYMS, seed=0, deadline=time.perf_counter() + 1.0)
    [(expr, network)] = kan_route.log_route([2, 1])(p)
    assert expr.free_symbols <= set(SYMS)  # the log-space symbols are replaced by log(x)
    assert (network(np.exp(FRESH)) < 0).all()
    assert relative_gap(expr, network, np.exp(FRESH)) <= 1e-9


def test_a_spent_work_account_trains_one_step_and_still_snaps_every_edge(fits):
    """Training is sized in work (issue #15, item 10): an empty account gives each start the one
    step that initialises it, no longer run and no polish, and snapping takes one pass."""
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 1])
    t0 = time.perf_counter()
    p = Problem(X, y, SYMS, seed=0, deadline=t0 + 60, work=Work(0.0, t0 + 60))
    [(expr, network)] = kan_route.network_route([2, [0, 1], 1])(p)
    took = time.perf_counter() - t0
    assert len(fits) == 2  # two starts of a wide net, nothing after them
    assert all(status == "completed" and steps == 1 and not stopped for status, steps, stopped in fits)
    assert took < 60  # one snapping pass over 5 edges, not a training run (generous for busy CI)
    assert relative_gap(expr, network, FRESH) <= 1e-9  # every edge snapped: the formula is the network


def test_the_wall_clock_still_stops_training_past_the_search_end(fits):
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 1])
    t0 = time.perf_counter()
    p = Problem(X, y, SYMS, seed=0, deadline=t0 - 1.0, end=t0 - 1.0, work=Work(100.0, t0 - 1.0))
    [(expr, network)] = kan_route.network_route([2, [0, 1], 1])(p)
    assert fits and all(status == "stopped" and stopped for status, _, stopped in fits)
    assert relative_gap(expr, network, FRESH) <= 1e-9


def test_until_sets_itself_at_the_deadline():
    now = time.perf_counter()
    assert kan_route._until(now - 1).wait(5)
    event = kan_route._until(now + 0.5)
    assert event.wait(10) and time.perf_counter() >= now + 0.5
