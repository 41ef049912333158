"""The activity log behind windowed tops on `levels`, `time` and `text-message`.

Each PATCH or PATCH …/add adds what a profile *gained* to its bucket for the
current hour: experience, timespent.global and text.message_count. Decreases
(a correction, or a PATCH setting a lower value) add nothing: a window's score is
what was earned in it, never negative, and a later correction does not erase a
week's activity. A POST (create or reset) is not activity: it sets a starting
state, as an import would, so resetting a profile neither adds to nor removes
from its windowed scores.
"""

from __future__ import annotations

from schemas.profiles import Profile
from storage.engine.base import Conn

__all__ = ["HOUR", "gains", "record"]

HOUR = 3600

_UPSERT = (
    "INSERT INTO activity (account, hour, experience, time, messages) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (account, hour) DO UPDATE SET"
    " experience = activity.experience + excluded.experience,"
    " time = activity.time + excluded.time, messages = activity.messages + excluded.messages"
)


def _messages(p: Profile) -> int:
    return p.text.message_count if p.text is not None else 0


def gains(before: Profile, after: Profile) -> tuple[int, int, int]:
    """(experience, time, messages) gained from `before` to `after`; 0 for a decrease."""
    return (
        max(0, after.experience - before.experience),
        max(0, after.timespent.get("global", 0) - before.timespent.get("global", 0)),
        max(0, _messages(after) - _messages(before)),
    )


def record(conn: Conn, account_id: int, before: Profile, after: Profile, now: float) -> None:
    gained = gains(before, after)
    if any(gained):
        conn.execute(_UPSERT, (account_id, int(now // HOUR), *gained))
