"""Time windows of tops and ranks: rolling or calendar timeframes, or explicit
since/until.

A window is half-open, `[since, until)` in epoch seconds: an entry exactly at
`since` counts, one exactly at `until` belongs to the next window.

- Rolling timeframes (`day`, `week`, `month`) end now and start 1/7/30 days ago.
- Calendar timeframes are UTC periods: `this-week` / `this-month` start at the
  current period's first second (Monday 00:00, the 1st 00:00) and end now;
  `last-week` / `last-month` are the whole previous period, `[its start, the
  current period's start)`. Their bounds are whole hours, so the activity windows
  below are exact for them too.

- Ledger entries (`points`): `ledger.ts` (epoch ms) never decreases along
  `ledger.id`, so a time bound is an id bound, found by binary search on the
  primary key; the window is exact to the millisecond.
- Activity buckets (`levels`, `time`, `text-message`) are per hour: a bucket counts
  when its hour overlaps the window (the window is widened to whole hours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.engine.base import Conn
from storage.errors import InvalidValue
from storage.queries.activity import HOUR

__all__ = [
    "CALENDAR",
    "ROLLING",
    "TIMEFRAMES",
    "Window",
    "calendar_window",
    "first_id_from",
    "hours",
    "id_range",
    "ledger_head",
    "ms",
    "resolve",
]

DAY = 86400
ROLLING = {"day": DAY, "week": 7 * DAY, "month": 30 * DAY}  # name -> span in seconds
CALENDAR = ("this-week", "last-week", "this-month", "last-month")
TIMEFRAMES = ("all", *ROLLING, *CALENDAR)  # every `timeframe` a request may name
_FIRST_MONDAY = 4  # 1970-01-05, the epoch's first Monday, in days


@dataclass(frozen=True)
class Window:
    since: float | None  # inclusive, epoch seconds
    until: float | None  # exclusive; None = up to now and beyond


def resolve(
    timeframe: str | None,
    since: float | None,
    until: float | None,
    now: float,
    names: tuple[str, str] = ("since", "until"),
) -> Window | None:
    """The window a request asks for, or None for "all time". `names` are the query
    parameters' names, for the errors."""
    if timeframe is not None and timeframe not in TIMEFRAMES:
        raise InvalidValue("timeframe", f"must be one of {', '.join(TIMEFRAMES)}")
    named = timeframe not in (None, "all")
    if named and (since is not None or until is not None):
        raise InvalidValue("timeframe", "give either a timeframe or since/until, not both")
    for name, value in zip(names, (since, until), strict=True):
        if value is not None and not (math.isfinite(value) and 0 <= value < 2**42):
            raise InvalidValue(name, "must be epoch seconds")
    if since is not None and until is not None and until < since:
        raise InvalidValue(names[1], f"must not be before {names[0]}")
    if timeframe in ROLLING:
        return Window(now - ROLLING[timeframe], None)
    if timeframe in CALENDAR:
        return calendar_window(timeframe, now)
    if since is None and until is None:
        return None
    return Window(since, until)


def _week_start(day: int) -> int:
    """The Monday (a day number) of the week holding `day`."""
    return day - (day - _FIRST_MONDAY) % 7


def _month_start(year: int, month: int) -> int:
    """Epoch seconds of the 1st of `month` (1-12; 0 is December of `year` - 1)."""
    if month < 1:
        year, month = year - 1, month + 12
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def calendar_window(timeframe: str, now: float) -> Window:
    """The UTC calendar period a calendar `timeframe` names, measured at `now`."""
    if timeframe.endswith("week"):
        this = _week_start(math.floor(now / DAY)) * DAY
        previous = this - 7 * DAY
    else:
        today = datetime.fromtimestamp(math.floor(now), UTC)
        this = _month_start(today.year, today.month)
        previous = _month_start(today.year, today.month - 1)
    if timeframe.startswith("this"):
        return Window(this, None)
    return Window(previous, this)


def ledger_head(conn: Conn) -> int:
    """One past the last ledger id: the next id, the end of an id range up to now."""
    return int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM ledger").fetchone()[0])


def first_id_from(conn: Conn, ms: int, head: int | None = None, lo: int = 1) -> int:
    """The first ledger id whose time is >= `ms` (`head`, one past the last id, if
    none); `lo` is a known lower bound of the answer."""
    hi = ledger_head(conn) if head is None else head
    if lo < hi and _ts_from(conn, lo) >= ms:
        return lo  # the usual answer of a board catching up: one seek
    while lo < hi:
        mid = (lo + hi) // 2
        if _ts_from(conn, mid) >= ms:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _ts_from(conn: Conn, at: int) -> int:
    """The time of the first ledger entry with id >= `at` (-1 if none)."""
    row = conn.execute("SELECT ts FROM ledger WHERE id >= ? ORDER BY id LIMIT 1", (at,)).fetchone()
    return -1 if row is None else int(row[0])


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
