"""Calendar timeframes of tops and ranks (SPEC §12): `this-week`, `last-week`,
`this-month`, `last-month`, in UTC, weeks from Monday 00:00. Each scenario runs
with the in-memory boards (`sync`: built before the boundary and read across it,
as on a running server) and without them (`off`: SQL), against values computed
by hand."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.clock import ManualClock
from storage.ids import vp_id
from storage.queries.windows import CALENDAR, calendar_window
from tests import backend
from tests.tops_world import new_database

DAY = 86400
GUILD = 9
USERS = (1, 2, 3)


def _at(*date: int) -> float:
    return datetime(*date, tzinfo=UTC).timestamp()  # type: ignore[misc]


MONDAY = _at(2028, 2, 28)  # a Monday; the week before it holds no month boundary
FEB, MARCH, APRIL = _at(2028, 2, 1), _at(2028, 3, 1), _at(2028, 4, 1)  # 2028: a leap year


@pytest.fixture(params=["sync", "off"])
def settings(request: pytest.FixtureRequest, db_path: Path) -> Settings:
    # Boards are never idle here: the clock jumps weeks, and an idle board would be
    # dropped and built afresh, when what is tested is one kept across boundaries.
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        boards=request.param,
        board_idle_seconds=1e9,
    )


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    yield ManualClock(FEB - 40 * DAY)


def _expect(scores: dict[int, int]) -> list[tuple[int, str]]:
    """Every profile of the guild, by score then profile id (zeros included)."""
    pairs = [(scores.get(u, 0), vp_id(GUILD, u)) for u in USERS]
    return sorted(pairs, key=lambda p: (-p[0], p[1]))


def check(client: TestClient, h: dict, by: str, timeframe: str, scores: dict[int, int]) -> None:
    """The guild's and the global top are `scores`, and every rank agrees with them."""
    want = _expect(scores)
    params = {"by": by, "timeframe": timeframe}
    for path in (f"/profile/{GUILD}/top", "/profile/top"):
        got = client.get(path, params={**params, "amount": 0}, headers=h)
        assert got.status_code == 200, got.text
        pairs = [(e["score"], e["profile"]["id"]) for e in got.json()]
        assert pairs == want, (path, by, timeframe)
    user_of = {vp_id(GUILD, u): u for u in USERS}
    for rank, (score, vp) in enumerate(want, 1):
        got = client.get(f"/profile/{GUILD}/{user_of[vp]}/rank", params=params, headers=h)
        assert got.json() == {"rank": rank, "score": score, "total": len(USERS)}, (by, timeframe)


def _give(client: TestClient, h: dict, user: int, amount: int) -> None:
    body = {"from": "self", "to": {"guild_id": GUILD, "user_id": user}, "amount": amount}
    assert client.post("/transaction", json=body, headers=h).status_code == 201


def _add(client: TestClient, h: dict, user: int, body: dict) -> None:
    assert client.patch(f"/profile/{GUILD}/{user}/add", json=body, headers=h).status_code == 200


@pytest.fixture
def guild(client: TestClient, auth: dict) -> dict:
    for user in USERS:
        assert client.post(f"/profile/{GUILD}/{user}", headers=auth).status_code == 201
    return auth


def test_points_weeks_turn_at_monday_midnight_utc(
    client: TestClient, guild: dict, clock: ManualClock
) -> None:
    h = guild
    check(client, h, "points", "this-week", {})  # builds the boards long before
    check(client, h, "points", "last-week", {})
    for at, user, amount in (
        (MONDAY - 7 * DAY - 0.001, 1, 1),  # the week before last
        (MONDAY - 7 * DAY, 1, 2),  # last week's first millisecond
        (MONDAY - 0.001, 2, 4),  # last week's last millisecond
    ):
        clock.set(at)
        _give(client, h, user, amount)
    check(client, h, "points", "this-week", {1: 2, 2: 4})  # still Sunday
    check(client, h, "points", "last-week", {1: 1})
    clock.set(MONDAY)  # the boundary passes with the boards built
    check(client, h, "points", "this-week", {})
    check(client, h, "points", "last-week", {1: 2, 2: 4})
    _give(client, h, 2, 8)  # this week's first millisecond
    clock.set(MONDAY + 0.001)
    _give(client, h, 3, 16)
    check(client, h, "points", "this-week", {2: 8, 3: 16})
    check(client, h, "points", "last-week", {1: 2, 2: 4})
    clock.set(MONDAY + 7 * DAY - 0.001)  # Sunday 23:59:59.999
    check(client, h, "points", "this-week", {2: 8, 3: 16})
    check(client, h, "points", "last-week", {1: 2, 2: 4})
    clock.set(MONDAY + 7 * DAY)
    check(client, h, "points", "this-week", {})
    check(client, h, "points", "last-week", {2: 8, 3: 16})
    clock.set(MONDAY + 21 * DAY)  # weeks with nothing in them
    check(client, h, "points", "last-week", {})


def test_activity_months_turn_on_the_first_and_february_2028_has_29_days(
    client: TestClient, guild: dict, clock: ManualClock
) -> None:
    h = guild
    for by in ("levels", "time", "text-message"):
        check(client, h, by, "this-month", {})
        check(client, h, by, "last-month", {})
    clock.set(FEB - 1)  # January 31 23:59:59
    _add(client, h, 1, {"experience": 1})
    clock.set(FEB)
    _add(client, h, 1, {"experience": 2, "timespent": {"global": 60}})
    clock.set(MARCH - 1)  # February 29 23:59:59, the leap day
    _add(client, h, 2, {"experience": 4, "text": {"message_count": 3}})
    check(client, h, "levels", "this-month", {1: 2, 2: 4})
    check(client, h, "levels", "last-month", {1: 1})
    check(client, h, "time", "this-month", {1: 60})
    check(client, h, "text-message", "this-month", {2: 3})
    clock.set(MARCH)
    _add(client, h, 2, {"experience": 8})
    check(client, h, "levels", "this-month", {2: 8})
    check(client, h, "levels", "last-month", {1: 2, 2: 4})
    check(client, h, "time", "last-month", {1: 60})
    check(client, h, "text-message", "last-month", {2: 3})
    check(client, h, "text-message", "this-month", {})
    clock.set(APRIL - 1)  # March 31 23:59:59
    check(client, h, "levels", "this-month", {2: 8})
    check(client, h, "levels", "last-month", {1: 2, 2: 4})
    clock.set(APRIL)
    check(client, h, "levels", "this-month", {})
    check(client, h, "levels", "last-month", {2: 8})


def test_points_months_and_weeks_across_new_year(
    client: TestClient, guild: dict, clock: ManualClock
) -> None:
    h = guild
    new_year = _at(2028, 1, 1)  # a Saturday: its week began on Monday, December 27
    check(client, h, "points", "last-month", {})
    clock.set(_at(2027, 12, 1) - 0.001)
    _give(client, h, 1, 1)  # November
    clock.set(_at(2027, 12, 1))
    _give(client, h, 1, 2)
    clock.set(_at(2027, 12, 27) - 0.001)
    _give(client, h, 2, 4)  # December, the week before
    clock.set(new_year - 0.001)
    _give(client, h, 3, 8)  # December, the same week as new year
    clock.set(new_year)
    _give(client, h, 3, 16)
    check(client, h, "points", "last-month", {1: 2, 2: 4, 3: 8})
    check(client, h, "points", "this-month", {3: 16})
    check(client, h, "points", "this-week", {3: 24})
    check(client, h, "points", "last-week", {2: 4})


def test_a_late_commit_stamped_before_the_boundary_still_counts(
    client: TestClient, guild: dict, clock: ManualClock
) -> None:
    """An entry or activity stamped by a writer whose clock read Sunday 23:59:59.999
    may commit after a reader passed midnight: last week's board must take it."""
    h = guild
    clock.set(MONDAY + 10)
    check(client, h, "points", "last-week", {})
    check(client, h, "levels", "last-week", {})
    clock.set(MONDAY - 0.001)  # the writer's moment
    _give(client, h, 1, 5)
    _add(client, h, 2, {"experience": 7})
    clock.set(MONDAY + 20)
    check(client, h, "points", "last-week", {1: 5})
    check(client, h, "levels", "last-week", {2: 7})


def test_calendar_boards_answer_like_sql_across_boundaries(tmp_path: Path) -> None:
    """One database, a server with boards and one without: after every step of a
    few weeks of writes and clock moves, every calendar top and rank agrees."""
    clock = ManualClock(MONDAY - 9 * DAY)
    path, h = new_database(tmp_path)
    with ExitStack() as stack:
        boards, sql = (
            stack.enter_context(
                TestClient(
                    create_app(
                        Settings(
                            db=backend.target(path),
                            key_cache_seconds=0.0,
                            boards=mode,
                            board_idle_seconds=1e9,
                        ),
                        clock=clock,
                    )
                )
            )
            for mode in ("sync", "off")
        )
        for user in USERS:
            boards.post(f"/profile/{GUILD}/{user}", json={"voicepoints": 3}, headers=h)
        for step in range(40):
            user = USERS[step % 3]
            if step % 2:
                _give(boards, h, user, step)
            else:
                _add(boards, h, user, {"experience": step, "timespent": {"global": step}})
            if step == 20:
                boards.delete(f"/profile/{GUILD}/2", headers=h)  # its points go back
                boards.post(f"/profile/{GUILD}/2", headers=h)
            clock.advance((step % 5) * 0.6 * DAY + 0.25)
            for by in ("points", "levels", "time"):
                for tf in ("this-week", "last-week", "this-month", "last-month"):
                    params = {"by": by, "timeframe": tf, "amount": 0}
                    want = sql.get(f"/profile/{GUILD}/top", params=params, headers=h).json()
                    got = boards.get(f"/profile/{GUILD}/top", params=params, headers=h).json()
                    assert got == want, (step, by, tf)
                    rank = f"/profile/{GUILD}/1/rank"
                    params.pop("amount")
                    assert (
                        boards.get(rank, params=params, headers=h).json()
                        == sql.get(rank, params=params, headers=h).json()
                    ), (step, by, tf)
        ready = boards.app.state.services.boards._ready
        assert len([k for k in ready if k[1] in CALENDAR]) == 12  # the boards did answer


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
