"""Time windows of tops and ranks: rolling timeframes or explicit since/until.

A window is half-open, `[since, until)` in epoch seconds: an entry exactly at
`since` counts, one exactly at `until` belongs to the next window.

- Ledger entries (`points`): `ledger.ts` (epoch ms) never decreases along
  `ledger.id`, so a time bound is an id bound, found by binary search on the
  primary key; the window is exact to the millisecond.
- Activity buckets (`levels`, `time`, `text-message`) are per hour: a bucket counts
  when its hour overlaps the window (the window is widened to whole hours).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from storage.engine.base import Conn
from storage.errors import InvalidValue
from storage.queries.activity import HOUR

__all__ = [
    "TIMEFRAMES",
    "Window",
    "first_id_from",
    "hours",
    "id_range",
    "ledger_head",
    "ms",
    "now",
    "resolve",
]

TIMEFRAMES = {"all": None, "day": 86400, "week": 7 * 86400, "month": 30 * 86400}


def now() -> float:
    """The clock windows are measured by (one place, so tests can set it)."""
    return time.time()


@dataclass(frozen=True)
class Window:
    since: float | None  # inclusive, epoch seconds
    until: float | None  # exclusive; None = up to now and beyond


def resolve(
    timeframe: str | None,
    since: float | None,
    until: float | None,
    now: float | None = None,
    names: tuple[str, str] = ("since", "until"),
) -> Window | None:
    """The window a request asks for, or None for "all time". `names` are the query
    parameters' names, for the errors."""
    if timeframe is not None and timeframe not in TIMEFRAMES:
        raise InvalidValue("timeframe", f"must be one of {', '.join(TIMEFRAMES)}")
    span = TIMEFRAMES.get(timeframe or "all")
    if span is not None and (since is not None or until is not None):
        raise InvalidValue("timeframe", "give either a timeframe or since/until, not both")
    for name, value in zip(names, (since, until), strict=True):
        if value is not None and not (math.isfinite(value) and 0 <= value < 2**42):
            raise InvalidValue(name, "must be epoch seconds")
    if since is not None and until is not None and until < since:
        raise InvalidValue(names[1], f"must not be before {names[0]}")
    if span is not None:
        return Window((time.time() if now is None else now) - span, None)
    if since is None and until is None:
        return None
    return Window(since, until)


def ledger_head(conn: Conn) -> int:
    """One past the last ledger id: the next id, the end of an id range up to now."""
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM ledger").fetchone()[0])


def first_id_from(conn: Conn, ms: int, head: int | None = None, lo: int = 1) -> int:
    """The first ledger id whose time is >= `ms` (`head`, one past the last id, if
    none); `lo` is a known lower bound of the answer."""
    hi = ledger_head(conn) if head is None else head
    while lo < hi:
        mid = (lo + hi) // 2
        row = conn.execute("SELECT ts FROM ledger WHERE id >= ? ORDER BY id LIMIT 1", (mid,))
        ts = row.fetchone()
        if ts is not None and ts[0] >= ms:
            hi = mid
        else:
            lo = mid + 1
    return lo


def ms(seconds: float) -> int:
    """Epoch ms of a bound; rounding first so 1732252800.123 means ...800123 ms, not
    the next ms because of float noise."""
    return math.ceil(round(seconds * 1000, 3))


def id_range(conn: Conn, w: Window) -> tuple[int, int]:
    """Ledger ids `[lo, hi)` of the entries in the window."""
    lo = 1 if w.since is None else first_id_from(conn, ms(w.since))
    hi = ledger_head(conn) if w.until is None else first_id_from(conn, ms(w.until))
    return lo, max(lo, hi)


def hours(w: Window) -> tuple[int, int]:
    """Activity hours `[lo, hi)` overlapping the window."""
    lo = 0 if w.since is None else math.floor(w.since / HOUR)
    hi = 2**42 if w.until is None else math.ceil(w.until / HOUR)
    return lo, max(lo, hi)
