import os
import signal
import sys
import threading
import time

import pytest

from kan_core._runtime import Overtime, time_limited, tune_malloc


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


def in_thread(fn):
    """fn() on a worker thread: its return value or the exception it raised."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001  (handed to the test)
            box["error"] = err

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(20)
    assert not worker.is_alive()
    return box


def test_a_quick_call_returns_its_value_and_disarms_the_alarm():
    handler = signal.getsignal(signal.SIGALRM)
    assert time_limited(lambda: _sleep(0.01), 2.0) == "done"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler


def test_a_slow_call_is_stopped_at_its_limit():
    t0 = time.perf_counter()
    with pytest.raises(Overtime):
        time_limited(lambda: _sleep(30), 0.3)
    assert time.perf_counter() - t0 < 10  # stopped, not slept for 30 s
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_overtime_passes_through_except_exception_and_a_swallowed_alarm():
    assert not issubclass(Overtime, Exception)
    swallowed = []

    def stubborn():
        while True:
            try:
                time.sleep(30)
            except Exception:  # noqa: BLE001  (SymPy-style catch-all: must not stop Overtime)
                return "caught"
            except BaseException:  # a bare except: swallows the first alarm; the re-armed one still comes
                if swallowed:
                    raise
                swallowed.append(1)

    with pytest.raises(Overtime):
        time_limited(stubborn, 0.2)
    assert swallowed == [1]


def test_errors_of_the_call_propagate():
    with pytest.raises(ZeroDivisionError):
        time_limited(lambda: 1 / 0, 2.0)
    assert isinstance(in_thread(lambda: time_limited(lambda: 1 / 0, 2.0))["error"], ZeroDivisionError)


def test_off_the_main_thread_results_and_limits_come_from_a_child():
    box = in_thread(lambda: time_limited(lambda: (os.getpid(), "done"), 2.0))
    pid, value = box["value"]
    assert value == "done" and pid != os.getpid()  # computed in a forked process
    t0 = time.perf_counter()
    assert isinstance(in_thread(lambda: time_limited(lambda: _sleep(30), 0.3))["error"], Overtime)
    assert time.perf_counter() - t0 < 10


def test_a_child_that_dies_or_raises_the_unpicklable_is_reported():
    assert isinstance(in_thread(lambda: time_limited(lambda: os._exit(3), 2.0))["error"], Overtime)

    def unpicklable():
        class Local(Exception):
            pass

        raise Local("cannot cross a pipe")

    err = in_thread(lambda: time_limited(unpicklable, 2.0))["error"]
    assert type(err) is RuntimeError and str(err) == "Local"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_tune_malloc_is_idempotent_and_can_be_opted_out(monkeypatch):
    for key in [k for k in os.environ if k.startswith("MALLOC_")] + ["GLIBC_TUNABLES", "KAN_CORE_MALLOPT"]:
        monkeypatch.delenv(key, raising=False)
    first = tune_malloc()
    assert tune_malloc() is first
    assert len(bytearray(64 * 2**20)) == 64 * 2**20  # allocation still works after tuning
    monkeypatch.setenv("KAN_CORE_MALLOPT", "0")
    assert tune_malloc() is False
    monkeypatch.delenv("KAN_CORE_MALLOPT")
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert tune_malloc() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1")
    assert tune_malloc() is False
