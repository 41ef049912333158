"""The one clock: every part of the server asks it the time, so tests can set it.

`now()` is wall time in epoch seconds (what timestamps, windows and cooldowns are
measured in); `monotonic()` is for intervals (cache lifetimes, idle boards).
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "OffsetClock", "SystemClock", "millis"]


class Clock(Protocol):
    def now(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class OffsetClock(SystemClock):
    """The system clock moved by `offset` seconds (Settings.clock_offset)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset


class ManualClock:
    """A clock that moves only when told (tests, and tools replaying a moment)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self._now = now
        self._monotonic = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def set(self, now: float) -> None:
        self._monotonic += max(0.0, now - self._now)
        self._now = now

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)


def millis(clock: Clock) -> int:
    """Now in Unix epoch milliseconds (ledger and reputation timestamps)."""
    return round(clock.now() * 1000)
