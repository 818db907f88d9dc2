"""Wall-clock budgets for the symbolic stages: past one, a ``GaveUp`` result, never a hang.

``with limit(seconds):`` opens a budget (nested ones keep the earliest deadline); inside it,
``with stage("Schur boundary search"):`` names what is running. A timer (SIGALRM, main thread)
interrupts pure-Python work such as SymPy's once the deadline passes, and ``checkpoint()`` lets
loops stop cooperatively anywhere. ``GaveUp`` derives from ``BaseException`` so that no
``except Exception`` inside a library swallows it. Work that Python cannot interrupt (a single
huge integer power) is refused up front by the parser's size limits instead.

``watch(callback)`` registers a reporter called every ``TICK`` seconds with
(stage path, seconds in the budget): the CLI uses it to show, on stderr, which stage a long
derivation is in. Off the main thread the timer is unavailable and only ``checkpoint`` stops work.
"""
from __future__ import annotations

import gc
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DEFAULT_SECONDS = 60.0
TICK = 0.5

_deadline: float | None = None
_started: float | None = None
_seconds: float | None = None
_stages: list[str] = []
_watchers: list[Callable[[tuple[str, ...], float], None]] = []


class GaveUp(BaseException):
    """A budget ran out: ``stage`` names where, ``seconds`` the budget."""

    def __init__(self, stage: str, seconds: float):
        self.stage, self.seconds = stage, seconds
        super().__init__(f"gave up after {seconds:g} s in {stage}")


def current_stage() -> str:
    return " > ".join(_stages) if _stages else "the derivation"


def _raise_if_late() -> None:
    if _deadline is not None and time.monotonic() >= _deadline:
        raise GaveUp(current_stage(), _seconds or 0.0)


def checkpoint() -> None:
    """Raise ``GaveUp`` if the current budget is spent (cheap; call it inside long loops)."""
    _raise_if_late()


def _in_finalizer(frame) -> bool:
    """Is the interrupted code a garbage-collection callback (``gc.callbacks``, a weakref callback,
    ``__del__``)? An exception raised there is printed and dropped by Python, so the timer waits
    for the next tick instead."""
    gc_codes = {getattr(cb, "__code__", None) for cb in gc.callbacks}
    while frame is not None:
        code = frame.f_code
        if code in gc_codes or code.co_name == "__del__" or (
                code.co_filename.endswith("weakref.py") and code.co_name in ("remove", "_remove", "_cb")):
            return True
        frame = frame.f_back
    return False


def _on_alarm(signum, frame) -> None:  # pragma: no cover - timing dependent
    if _started is not None:
        for w in list(_watchers):
            try:
                w(tuple(_stages), time.monotonic() - _started)
            except Exception:
                pass
    if not _in_finalizer(frame):
        _raise_if_late()


def _can_signal() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """A wall-clock budget of ``seconds`` for the block (None: no new limit)."""
    global _deadline, _started, _seconds
    if seconds is None:
        yield
        return
    if not seconds > 0:
        raise ValueError("a budget must be positive")
    now = time.monotonic()
    saved = (_deadline, _started, _seconds)
    outer = _deadline is not None
    if not outer or now + seconds < _deadline:
        _deadline, _seconds = now + seconds, seconds
    if not outer:
        _started = now
    use_timer = not outer and _can_signal()
    if use_timer:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, TICK, TICK)
    try:
        yield
    finally:
        if use_timer:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, previous)
        _deadline, _started, _seconds = saved


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Name the work inside the block (shown in ``GaveUp`` and by watchers)."""
    _stages.append(name)
    try:
        _raise_if_late()
        yield
    finally:
        _stages.pop()


@contextmanager
def watch(callback: Callable[[tuple[str, ...], float], None]) -> Iterator[None]:
    _watchers.append(callback)
    try:
        yield
    finally:
        _watchers.remove(callback)


def remaining() -> float | None:
    return None if _deadline is None else max(0.0, _deadline - time.monotonic())
