"""Which in-memory boards exist, building them on first use and dropping idle ones.

A board is built from one snapshot on its own read connection. In `background`
mode (the server's default) the request that first needs a board is answered by
SQL while a thread builds it, so no request waits for a build (seconds at a
million profiles); later requests read the board. `sync` mode builds before
answering (tests use it, so they check the boards' answers); `off` never builds.
A board unused for `idle_seconds` is dropped, so memory goes to the tops in use.
A board that failed (a build error, or a sync that could not catch up) is not
built again for `retry_seconds`: SQL answers meanwhile, and a persistent fault
costs one build a minute, not one per request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from storage.boards.base import Board, Cached, Stale
from storage.boards.flow import FlowBoard
from storage.boards.stats import StatsBoard
from storage.boards.values import PointsBoard, ValueBoard
from storage.boards.windows import ActivityWindow, LedgerWindow
from storage.clock import Clock, SystemClock
from storage.engine import Engine
from storage.queries.tops import METRICS
from storage.queries.windows import CALENDAR, ROLLING

__all__ = ["MODES", "Boards"]

log = logging.getLogger("voiceprofile.boards")
MODES = ("background", "sync", "off")

BoardKey = tuple[str, str | None]  # (metric, named timeframe or None for all time)


def wanted(by: str, timeframe: str | None, rank: bool = False) -> BoardKey | None:
    """The board that serves this read, if one does: the metrics no index orders
    (`points`, `experience`) over all time, every metric with a window over a
    named timeframe (rolling or calendar), and ranks over all time (an index range
    count reads every profile ahead). Other tops are index walks."""
    metric = METRICS[by]
    if timeframe in (None, "all"):
        return (by, None) if not metric.indexed or rank else None
    if metric.activity is None or (timeframe not in ROLLING and timeframe not in CALENDAR):
        return None
    # Metrics that sum the same activity (`levels` and `experience`: experience
    # gained) have the same window scores: one board serves both.
    return (_first_with(metric.activity), timeframe)


def _first_with(activity: str) -> str:
    return next(name for name, m in METRICS.items() if m.activity == activity)


STATS: BoardKey = ("stats", None)
FLOW: BoardKey = ("flow", None)


def _new(key: BoardKey) -> Cached:
    by, timeframe = key
    if key == STATS:
        return StatsBoard()
    if key == FLOW:
        return FlowBoard()
    if timeframe is None:
        return PointsBoard() if by == "points" else ValueBoard(METRICS[by].keys)
    activity = METRICS[by].activity
    if activity == "ledger":
        return LedgerWindow(timeframe)
    assert activity is not None
    return ActivityWindow(activity, timeframe)


class Boards:
    def __init__(
        self,
        engine: Engine,
        mode: str = "background",
        *,
        idle_seconds: float = 1800.0,
        retry_seconds: float = 60.0,
        clock: Clock | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"boards mode must be one of {', '.join(MODES)}")
        self.engine = engine
        self.mode = mode
        self.idle_seconds = idle_seconds
        self.retry_seconds = retry_seconds
        self.clock = clock or SystemClock()
        self._ready: dict[BoardKey, Any] = {}
        self._building: set[BoardKey] = set()
        self._failed: dict[BoardKey, float] = {}  # key -> when it last failed
        self._lock = threading.Lock()
        # One build at a time: builds are CPU-bound Python, so two at once finish no
        # sooner, hold twice the transient memory and slow requests more.
        self._one_build = threading.Lock()

    def _build(self, key: BoardKey) -> None:
        try:
            with self._one_build:
                self._build_one(key)
        finally:
            with self._lock:
                self._building.discard(key)

    def _build_one(self, key: BoardKey) -> None:
        try:
            conn = self.engine.connect(readonly=True)
            try:
                board = _new(key)
                conn.execute("BEGIN")
                board.build(conn, self.clock.now())
                conn.execute("COMMIT")
            finally:
                conn.close()
            with self._lock:
                board.last_used = self.clock.monotonic()  # the clock _evict reads
                self._ready[key] = board
        except Exception:
            log.exception("building the %s board failed; SQL answers meanwhile", key)
            with self._lock:
                self._failed[key] = self.clock.monotonic()

    def _evict(self) -> None:
        old = self.clock.monotonic() - self.idle_seconds
        with self._lock:
            for key in [k for k, b in self._ready.items() if b.last_used < old]:
                del self._ready[key]

    async def board(self, by: str, timeframe: str | None, rank: bool = False) -> Board | None:
        """The board for this top (or rank), or None (SQL answers) when there is none
        yet or this read needs none."""
        key = wanted(by, timeframe, rank)
        return None if key is None else await self._get(key)  # type: ignore[no-any-return]

    async def stats(self) -> StatsBoard | None:
        """The board of GET /stats, or None (SQL answers) while there is none."""
        return await self._get(STATS)  # type: ignore[no-any-return]

    async def flow(self) -> FlowBoard | None:
        """The economy's per-minute flows for bucketed graphs, or None (SQL)."""
        return await self._get(FLOW)  # type: ignore[no-any-return]

    async def _get(self, key: BoardKey) -> Any:
        if self.mode == "off":
            return None
        self._evict()
        with self._lock:
            found = self._ready.get(key)
            if found is not None and not found.broken:
                found.last_used = self.clock.monotonic()
                return found
            self._ready.pop(key, None)
            if (
                self.clock.monotonic() - self._failed.get(key, -self.retry_seconds)
                < self.retry_seconds
            ):
                return None
            starting = key not in self._building
            self._building.add(key)
        if self.mode == "sync":
            if starting:
                await asyncio.to_thread(self._build, key)
            return self._ready.get(key)
        if starting:
            threading.Thread(target=self._build, args=(key,), daemon=True).start()
        return None

    def sizes(self) -> dict[str, int]:
        """What each ready board holds, by a readable name (`points`, `time:week`)."""
        with self._lock:
            ready = list(self._ready.items())
        return {f"{by}:{tf}" if tf else by: board.size() for (by, tf), board in ready}

    def drop(self, board: Cached, stale: Stale) -> None:
        """Forget a board that went stale: the next read builds it again (after
        RETRY_SECONDS if it was a fault)."""
        with self._lock:
            for key in [k for k, b in self._ready.items() if b is board]:
                del self._ready[key]
                if stale.fault:
                    self._failed[key] = self.clock.monotonic()
                    log.error("the %s board failed and is rebuilt later: %s", key, stale)
