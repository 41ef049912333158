"""Calendar timeframes of tops and ranks (SPEC §12): `this-week`, `last-week`,
`this-month`, `last-month`, in UTC, weeks from Monday 00:00. Each scenario runs
with the in-memory boards (`sync`: built before the boundary and read across it,
as on a running server) and without them (`off`: SQL), against values computed
by hand. Timeframes refused and the periods themselves are in
test_tops_calendar_periods.py."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.clock import ManualClock
from storage.ids import vp_id
from storage.queries.windows import CALENDAR
from tests import backend, tops_calendar_helpers
from tests.tops_calendar_helpers import APRIL, DAY, FEB, GUILD, MARCH, MONDAY, USERS, _at
from tests.tops_world import new_database

settings = tops_calendar_helpers.settings  # a fixture shared by several modules
clock = tops_calendar_helpers.clock  # a fixture shared by several modules
guild = tops_calendar_helpers.guild  # a fixture shared by several modules


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
