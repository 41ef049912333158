"""Scheduled seasons (SPEC §12): a guild's schedule ends a season at each UTC week or
month boundary, exactly once per boundary.

`done` (storage/queries/schedules.py) is the last boundary ended; the check that a
boundary is due and the season it ends are written in one writer transaction, so
two looks (a restart, another worker) can never end one boundary twice. After
downtime that spanned several boundaries, the standings of the missed periods can
no longer be told apart: they are ended as one season, named after the last period.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

from ledger import apply
from ledger.commands import EndSeason
from schemas.seasons import Schedule
from storage.engine.writer import WriteContext
from storage.errors import DomainError
from storage.queries import schedules
from storage.queries.windows import DAY, calendar_window

__all__ = ["boundaries", "end_due", "label", "set_schedule"]

log = logging.getLogger(__name__)


def boundaries(every: str, now: float) -> tuple[float, float]:
    """(the last boundary at or before `now`, the next one after it), UTC."""
    if every == "week":
        last = float(calendar_window("this-week", now).since or 0)
        return last, last + 7 * DAY
    last = float(calendar_window("this-month", now).since or 0)
    # the 1st of the next month: 32 days on is always in it
    ahead = datetime.fromtimestamp(math.floor(last) + 32 * DAY, UTC)
    return last, datetime(ahead.year, ahead.month, 1, tzinfo=UTC).timestamp()


def label(every: str, boundary: float) -> str:
    """The name of the season that ends at `boundary`: its last period's."""
    day = datetime.fromtimestamp(boundary - 1, UTC)
    if every == "week":
        year, week, _ = day.isocalendar()
        return f"week {year}-W{week:02d}"
    return f"month {day.year}-{day.month:02d}"


def set_schedule(ctx: WriteContext, args: tuple[int, str, list[str], str]) -> Schedule:
    """Store the guild's schedule: its first season ends at the next boundary."""
    guild_id, every, reset, bot_id = args
    last, upcoming = boundaries(every, ctx.clock.now())
    schedules.put(ctx.conn, guild_id, every, reset, bot_id, last)
    return Schedule(str(guild_id), every, reset, upcoming)


def end_due(ctx: WriteContext, _: object = None) -> int:
    """End a season for every schedule whose boundary has passed; the seasons made."""
    now = ctx.clock.now()
    week, month = boundaries("week", now)[0], boundaries("month", now)[0]
    made = 0
    for guild_id, every, reset, bot_id, _done in schedules.due(ctx.conn, week, month):
        boundary = week if every == "week" else month
        command = EndSeason(bot_id, guild_id, label(every, boundary), tuple(reset))
        try:
            created, _season = apply(ctx, command)
            made += created
        except DomainError as exc:
            # e.g. a season of that name with other resets was made by hand: keep it,
            # and do not try this boundary forever
            log.warning("guild %s: season %r not ended: %s", guild_id, command.name, exc)
        schedules.mark_done(ctx.conn, guild_id, boundary)
    return made
