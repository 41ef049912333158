"""Calendar timeframes of tops and ranks (SPEC §12): timeframes that mean nothing are 422,
the calendar periods in UTC, and every moment lies in this week and this month."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from storage.queries.windows import calendar_window
from tests import tops_calendar_helpers
from tests.tops_calendar_helpers import DAY, GUILD, _at

settings = tops_calendar_helpers.settings  # a fixture shared by several modules
clock = tops_calendar_helpers.clock  # a fixture shared by several modules
guild = tops_calendar_helpers.guild  # a fixture shared by several modules


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "points", "timeframe": "this-year"}, "timeframe"),
        ({"by": "points", "timeframe": "This-Week"}, "timeframe"),
        ({"by": "points", "timeframe": "last_week"}, "timeframe"),
        ({"by": "points", "timeframe": "last-week", "since": 5}, "timeframe"),
        ({"by": "levels", "timeframe": "this-month", "until": 5}, "timeframe"),
        ({"by": "pray-streak", "timeframe": "this-week"}, "timeframe"),
        ({"by": "text-level", "timeframe": "last-month"}, "timeframe"),
    ],
)
def test_calendar_timeframes_that_mean_nothing_are_422(
    client: TestClient, guild: dict, params: dict, field: str
) -> None:
    for path in ("/profile/top", f"/profile/{GUILD}/top", f"/profile/{GUILD}/1/rank"):
        got = client.get(path, params=params, headers=guild)
        assert got.status_code == 422, path
        body = got.json()
        assert body["status"] == 422 and body["code"] == "validation_error"
        assert body["errors"][0]["field"] == field
    bad = client.get("/profile/top", params={"timeframe": "fortnight"}, headers=guild).json()
    assert "this-week, last-week, this-month, last-month" in bad["errors"][0]["message"]


@pytest.mark.parametrize(
    ("now", "timeframe", "since", "until"),
    [
        (_at(2027, 3, 1), "last-month", _at(2027, 2, 1), _at(2027, 3, 1)),  # 28 days
        (_at(2028, 3, 1) - 0.001, "this-month", _at(2028, 2, 1), None),
        (_at(2028, 3, 15), "last-month", _at(2028, 2, 1), _at(2028, 3, 1)),  # 29 days
        (_at(2028, 1, 31), "last-month", _at(2027, 12, 1), _at(2028, 1, 1)),
        (_at(2028, 8, 1), "last-month", _at(2028, 7, 1), _at(2028, 8, 1)),  # 31 days
        (_at(2028, 1, 2, 23, 59, 59), "this-week", _at(2027, 12, 27), None),  # a Sunday
        (_at(2028, 1, 3), "this-week", _at(2028, 1, 3), None),  # Monday 00:00
        (_at(2028, 1, 3), "last-week", _at(2027, 12, 27), _at(2028, 1, 3)),
        (_at(2028, 1, 2, 23, 59, 59), "last-week", _at(2027, 12, 20), _at(2027, 12, 27)),
    ],
)
def test_calendar_periods_in_utc(
    now: float, timeframe: str, since: float, until: float | None
) -> None:
    window = calendar_window(timeframe, now)
    assert (window.since, window.until) == (since, until)


@given(now=st.floats(0, _at(2200, 1, 1)))
def test_every_moment_is_in_this_week_and_this_month(now: float) -> None:
    week, last_week = calendar_window("this-week", now), calendar_window("last-week", now)
    assert week.since is not None and week.since <= now < week.since + 7 * DAY
    assert datetime.fromtimestamp(week.since, UTC).weekday() == 0  # Monday
    assert week.since % DAY == 0
    assert (last_week.since, last_week.until) == (week.since - 7 * DAY, week.since)
    month, last_month = calendar_window("this-month", now), calendar_window("last-month", now)
    assert month.since is not None and month.since <= now
    start = datetime.fromtimestamp(month.since, UTC)
    assert (start.day, start.hour, start.minute, start.second) == (1, 0, 0, 0)
    assert last_month.until == month.since and last_month.since is not None
    assert 28 * DAY <= last_month.until - last_month.since <= 31 * DAY
    assert datetime.fromtimestamp(last_month.since, UTC).day == 1
