"""Season bodies (SPEC §12): ending a season, the archive's list, the schedule."""

from typing import Annotated, Literal, get_args

import msgspec
from msgspec import Meta

from schemas.base import Request

__all__ = ["COUNTERS", "Resettable", "Schedule", "ScheduleIn", "Season", "SeasonIn"]

Resettable = Literal["experience", "level", "text", "timespent", "pray", "voicepoints"]
COUNTERS: tuple[str, ...] = get_args(Resettable)
"""What a season may reset, in the order a season lists them."""

# Names are unique per guild: the name is what makes a retried or doubled season end
# one season (README, "Seasons").
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Resets = Annotated[list[Resettable], Meta(max_length=len(COUNTERS))]


class SeasonIn(Request):
    name: Name
    reset: Resets = []


class Season(msgspec.Struct):
    number: int
    name: str
    guild_id: str
    ended_at: float
    reset: list[str]
    members: int
    """Profiles archived."""
    voicepoints: int
    """Voicepoints moved back to the treasury (0 unless `voicepoints` was reset)."""
    bot_id: str


class ScheduleIn(Request):
    every: Literal["week", "month"]
    reset: Resets = []


class Schedule(msgspec.Struct):
    guild_id: str
    every: str
    reset: list[str]
    next_at: float
    """The next UTC boundary at which the server ends a season by itself."""
