"""A progress bar for long CLI work (SPEC §10): drawn on stderr only when stderr is a
terminal, with the rate and the time left; silent otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    def __init__(self, label: str, total: int, unit: str = "rows", stream: TextIO | None = None):
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if self.enabled:
            now = time.monotonic()
            if now - self._drawn >= 0.1:  # redraw at most 10 times a second
                self._drawn = now
                self._draw(now)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total:
            share = min(self.done / self.total, 1.0)
            filled = int(share * 30)
            left = (self.total - self.done) / rate if rate > 0 else 0.0
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%}"
            tail = f"{self.done}/{self.total} {self.unit}, {rate:,.0f}/s, {_clock(left)} left"
        else:
            bar, tail = "", f"{self.done} {self.unit}, {rate:,.0f}/s"
        self.stream.write(f"\r{self.label} {bar} {tail}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
