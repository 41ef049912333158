"""Tops and ranks over time windows (SPEC §7): exact ledger windows for `points`,
hour buckets of what PATCH/add added for `levels`, `time` and `text-message`."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from unittest import mock

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from storage.clock import ManualClock
from storage.ids import vp_id
from storage.queries import window_tops
from tests.tops_world import (
    GUILDS,
    build,
    entries,
    fresh_client,
    sorted_scores,
    worlds,
)


def _pairs(body: list[dict]) -> list[tuple[int, str]]:
    return [(e["score"], e["profile"]["id"]) for e in body]


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _net(log: list[dict], since: float | None, until: float | None) -> dict[str, int]:
    """Net voicepoints received per profile in [since, until), by replaying the log."""
    net: dict[str, int] = defaultdict(int)
    for e in log:
        ts = _ms(e["timestamp"])
        if since is not None and ts < _ms(since):
            continue
        if until is not None and ts >= _ms(until):
            continue
        net[e["to"]["id"]] += e["amount"]
        net[e["from"]["id"]] -= e["amount"]
    return net


@settings(max_examples=16, deadline=None)
@given(world=worlds, seed=st.integers(0, 2**32), per_profile=st.sampled_from([0, 10**9]))
def test_points_windows_are_the_net_received_from_the_ledger(
    world: dict, seed: int, per_profile: int
) -> None:
    """Both ways of summing a guild's window: over its entries, and by balances."""
    note(f"seed={seed}")
    rnd = random.Random(seed)
    with (
        fresh_client(stream_chunk=3) as (client, h),
        mock.patch.object(window_tops, "SEEKS_PER_PROFILE", per_profile),
    ):
        profiles = build(client, h, world)
        log = entries(client, h)
        if not log:
            return
        for _ in range(3):
            k = rnd.randrange(len(log))
            since = log[k]["timestamp"]  # an entry exactly at `since` counts
            until = rnd.choice([None, log[rnd.randrange(k, len(log))]["timestamp"]])
            params: dict = {"by": "points", "since": since, "amount": 0}
            if until is not None:
                params["until"] = until
            scores = _net(log, since, until)
            for guild in (None, GUILDS[0]):
                path = "/profile/top" if guild is None else f"/profile/{guild}/top"
                want = sorted_scores(scores, profiles, guild)
                got = client.get(path, params=params, headers=h)
                assert got.status_code == 200
                assert _pairs(got.json()) == want, (since, until, guild)
                offset = rnd.randint(0, len(want))
                page = client.get(path, params={**params, "amount": 2, "offset": offset}, headers=h)
                assert _pairs(page.json()) == want[offset : offset + 2]
                assert [e["rank"] for e in page.json()] == list(
                    range(offset + 1, offset + 1 + len(page.json()))
                )
            guild_top = sorted_scores(scores, profiles, GUILDS[0])
            for rank, (score, vp) in enumerate(guild_top, 1):
                user = next(p["user_id"] for p in profiles if p["id"] == vp)
                got = client.get(
                    f"/profile/{GUILDS[0]}/{user}/rank",
                    params={k: v for k, v in params.items() if k != "amount"},
                    headers=h,
                ).json()
                assert got == {"rank": rank, "score": score, "total": len(guild_top)}


H = 480_000  # an hour number (epoch seconds / 3600), in 2024
T = H * 3600


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    fake = ManualClock(T)
    yield fake


@pytest.mark.parametrize("per_profile", [0, 10**9])
def test_an_entry_exactly_at_since_counts_and_one_at_until_does_not(
    client: TestClient,
    auth: dict[str, str],
    clock: ManualClock,
    per_profile: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(window_tops, "SEEKS_PER_PROFILE", per_profile)
    for user in (1, 2):
        client.post(f"/profile/9/{user}", headers=auth)
    for at, amount in ((T + 10.0, 5), (T + 20.0, 7), (T + 30.0, 11)):
        clock.set(at)
        body = {"from": "self", "to": {"guild_id": 9, "user_id": 1}, "amount": amount}
        assert client.post("/transaction", json=body, headers=auth).status_code == 201
    for since, until, score in [
        (T + 20.0, None, 18),
        (T + 20.0, T + 30.0, 7),
        (T + 19.999, T + 20.0, 0),
        (T + 10.0, T + 30.001, 23),
        (None, T + 10.0, 0),
        (None, T + 10.001, 5),
    ]:
        params = {"by": "points", **({"since": since} if since else {})}
        params |= {"until": until} if until else {}
        top = client.get("/profile/9/top", params=params, headers=auth).json()
        assert top[0]["score"] == score, (since, until)
        rank = client.get("/profile/9/1/rank", params=params, headers=auth).json()
        assert rank["score"] == score


def test_activity_windows_count_what_was_added_per_hour(
    client: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    """Gains land in the bucket of their hour; a bucket counts when its hour overlaps
    the window. Decreases and POST (create/reset) values add nothing."""
    steps = [
        (T + 100, "add", 1, {"experience": 10, "timespent": {"global": 60}}),
        (T + 5, "add", 2, {"experience": 3, "text": {"message_count": 2}}),
        (T + 3600, "add", 1, {"experience": 5}),  # first second of hour H+1
        (T + 3600 + 9, "set", 2, {"experience": 1}),  # a decrease: nothing
        (T + 2 * 3600 + 10, "set", 2, {"experience": 5}),  # +4
        (T + 3 * 3600 - 1, "add", 1, {"experience": 7, "text": {"message_count": 4}}),
        (T + 3 * 3600 - 1, "add", 2, {"experience": -2}),  # a decrease: nothing
    ]
    client.post("/profile/9/3", json={"experience": 100}, headers=auth)  # not activity
    for at, kind, user, body in steps:
        clock.set(at)
        path = f"/profile/9/{user}" + ("/add" if kind == "add" else "")
        assert client.patch(path, json=body, headers=auth).status_code == 200
    clock.set(T + 3 * 3600)
    u1, u2, u3 = vp_id(9, 1), vp_id(9, 2), vp_id(9, 3)
    table = [
        ({"since": T, "until": T + 3600}, "levels", {u1: 10, u2: 3}),
        ({"since": T + 3600}, "levels", {u1: 12, u2: 4}),
        ({"since": T + 3600 - 1}, "levels", {u1: 22, u2: 7}),  # overlaps hour H
        ({"until": T + 3600}, "levels", {u1: 10, u2: 3}),
        ({"until": T + 3600 + 1}, "levels", {u1: 15, u2: 3}),
        ({"timeframe": "day"}, "levels", {u1: 22, u2: 7}),
        ({"timeframe": "week"}, "time", {u1: 60}),
        ({"timeframe": "month"}, "text-message", {u1: 4, u2: 2}),
        ({"since": T + 2 * 3600}, "text-message", {u1: 4}),
        ({"timeframe": "all"}, "levels", {u1: 22, u2: 7, u3: 100}),  # all time: level order
    ]
    for params, by, scores in table:
        got = client.get("/profile/9/top", params={"by": by, "amount": 0, **params}, headers=auth)
        assert got.status_code == 200
        if params.get("timeframe") == "all":
            assert got.json()[0]["profile"]["id"] == u3
            continue
        want = sorted(((scores.get(v, 0), v) for v in (u1, u2, u3)), key=lambda t: (-t[0], t[1]))
        assert _pairs(got.json()) == want, params
        for rank, (score, vp) in enumerate(want, 1):
            user = {u1: 1, u2: 2, u3: 3}[vp]
            r = client.get(f"/profile/9/{user}/rank", params={"by": by, **params}, headers=auth)
            assert r.json() == {"rank": rank, "score": score, "total": 3}, (params, user)
        glob = client.get("/profile/top", params={"by": by, "amount": 0, **params}, headers=auth)
        assert _pairs(glob.json()) == want


def test_a_rolling_day_leaves_out_older_hours(
    client: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    clock.set(T)
    client.patch("/profile/9/1/add", json={"experience": 50}, headers=auth)
    clock.set(T + 86400 + 3600)  # more than a day and an hour later
    client.patch("/profile/9/2/add", json={"experience": 1}, headers=auth)
    top = client.get("/profile/9/top", params={"by": "levels", "timeframe": "day"}, headers=auth)
    assert _pairs(top.json())[0] == (1, vp_id(9, 2))
    week = client.get("/profile/9/top", params={"by": "levels", "timeframe": "week"}, headers=auth)
    assert _pairs(week.json())[0] == (50, vp_id(9, 1))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "pray-streak", "timeframe": "week"}, "timeframe"),
        ({"by": "text-level", "since": 1}, "timeframe"),
        ({"by": "points", "timeframe": "year"}, "timeframe"),
        ({"by": "points", "timeframe": "day", "since": 5}, "timeframe"),
        ({"by": "points", "since": 10, "until": 5}, "until"),
        ({"by": "points", "since": -1}, "since"),
    ],
)
def test_windows_that_mean_nothing_are_422(
    client: TestClient, auth: dict[str, str], params: dict, field: str
) -> None:
    client.post("/profile/9/1", headers=auth)
    for path in ("/profile/top", "/profile/9/top", "/profile/9/1/rank"):
        got = client.get(path, params=params, headers=auth)
        assert got.status_code == 422, path
        assert got.json()["errors"][0]["field"] == field


def test_timeframe_all_beside_since_is_the_since_window(
    client: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    """`timeframe=all` adds no window; the all-time board must not answer for since."""
    client.post("/profile/9/1", json={"voicepoints": 5}, headers=auth)
    client.get("/profile/9/top", headers=auth)  # builds the all-time points board
    params = {"by": "points", "timeframe": "all", "since": T + 60}
    for path in ("/profile/9/top", "/profile/top"):
        top = client.get(path, params=params, headers=auth).json()
        assert [e["score"] for e in top] == [0], path
    assert client.get("/profile/9/1/rank", params=params, headers=auth).json()["score"] == 0


def test_all_time_is_allowed_on_every_metric(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/profile/9/1", json={"pray": {"streak": 2}}, headers=auth)
    got = client.get("/profile/top", params={"by": "pray-streak", "timeframe": "all"}, headers=auth)
    assert got.status_code == 200 and got.json()[0]["score"] == 2


def test_bulk_adds_and_edits_count_as_activity(
    client: TestClient, auth: dict[str, str], clock: ManualClock
) -> None:
    clock.set(T + 50)
    items = [
        {"guild_id": 9, "user_id": 1, "timespent": {"global": 30}},
        {"guild_id": 9, "user_id": 2, "timespent": {"global": 70, "music": 5}},
    ]
    assert client.patch("/profile/add", json=items, headers=auth).status_code == 200
    edit = [{"guild_id": 9, "user_id": 1, "timespent": {"global": 130}}]  # +100
    assert client.patch("/profile", json=edit, headers=auth).status_code == 200
    top = client.get("/profile/9/top", params={"by": "time", "since": T}, headers=auth).json()
    assert _pairs(top) == [(130, vp_id(9, 1)), (70, vp_id(9, 2))]
    bad = [{"guild_id": 9, "user_id": 1, "timespent": {"global": -1000}}]
    assert client.patch("/profile/add", json=bad, headers=auth).status_code == 422
    again = client.get("/profile/9/top", params={"by": "time", "since": T}, headers=auth).json()
    assert again == top  # a refused bulk records nothing
