"""GET /stats/balance_graph (SPEC §7) against a replay of the ledger."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from collections import defaultdict
from unittest import mock

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from storage.clock import ManualClock
from storage.ids import vp_id
from storage.queries import graph
from tests.tops_world import (
    GUILDS,
    build,
    entries,
    fresh_client,
    worlds,
)

SVG = "{http://www.w3.org/2000/svg}"
BUCKET_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}


def replay(log: list[dict], guild: str | None, vp: str | None) -> list[tuple[float, int]]:
    """The series the endpoint should give, from the amounts alone (not the stored
    balances): a user's balance after each entry touching them, or the total of a
    guild / of every user after each entry that changed it."""
    balance: dict[str, int] = defaultdict(int)
    where: dict[str, str | None] = {}
    out: list[tuple[float, int]] = []
    for e in log:
        src, dst = e["from"], e["to"]
        before = _total(balance, where, guild)
        balance[src["id"]] -= e["amount"]
        balance[dst["id"]] += e["amount"]
        for side in (src, dst):
            where[side["id"]] = "bot" if "bot_id" in side else side["guild_id"]
        if vp is not None:
            if vp in (src["id"], dst["id"]):
                out.append((e["timestamp"], balance[vp]))
        else:
            after = _total(balance, where, guild)
            if after != before:
                out.append((e["timestamp"], after))
    return out


def _total(balance: dict[str, int], where: dict[str, str | None], guild: str | None) -> int:
    if guild is None:
        return sum(b for vp, b in balance.items() if where[vp] != "bot")
    return sum(b for vp, b in balance.items() if where[vp] == guild)


def bucketed(series: list[tuple[float, int]], bucket: str) -> list[tuple[float, int]]:
    last: dict[int, int] = {}
    for ts, value in series:
        size = BUCKET_MS[bucket]
        last[round(ts * 1000) // size * size] = value
    return [(b / 1000, v) for b, v in sorted(last.items())]


def _points(body: dict) -> list[tuple[float, int]]:
    return [(p["timestamp"], p["balance"]) for p in body["points"]]


@settings(max_examples=12, deadline=None)
@given(world=worlds, seed=st.integers(0, 2**32), per_bucket=st.sampled_from([0, 10**9]))
def test_series_match_a_replay_of_the_ledger(world: dict, seed: int, per_bucket: int) -> None:
    """Both ways of bucketing a user's series: reading the entries, and seeking."""
    note(f"seed={seed}")
    rnd = random.Random(seed)
    with fresh_client() as (client, h), mock.patch.object(graph, "ENTRIES_PER_BUCKET", per_bucket):
        build(client, h, world)
        log = entries(client, h)
        members = sorted(world["profiles"])
        targets: list[dict] = [{}, {"guild_id": GUILDS[0]}, {"guild_id": GUILDS[1]}]
        for guild, user in rnd.sample(members, min(3, len(members))):
            targets.append({"guild_id": guild, "user_id": user})
        for params in targets:
            vp = vp_id(params["guild_id"], params["user_id"]) if "user_id" in params else None
            guild = None if vp is not None or "guild_id" not in params else str(params["guild_id"])
            want = replay(log, guild, vp)
            got = client.get("/stats/balance_graph", params=params, headers=h)
            assert got.status_code == 200, got.text
            assert _points(got.json()) == want, params
            day = client.get("/stats/balance_graph", params={**params, "bucket": "day"}, headers=h)
            assert _points(day.json()) == bucketed(want, "day")
            if log:
                cut = log[rnd.randrange(len(log))]["timestamp"]
                ranged = client.get(
                    "/stats/balance_graph", params={**params, "from": cut}, headers=h
                )
                assert _points(ranged.json()) == [p for p in want if p[0] >= cut]
                before = client.get("/stats/balance_graph", params={**params, "to": cut}, headers=h)
                assert _points(before.json()) == [p for p in want if p[0] < cut]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.fixture
def spread(client: TestClient, auth: dict[str, str], clock: ManualClock) -> list[dict]:
    """Entries spread over minutes, hours and days, at known times."""
    base = 1_700_000_000.0
    clock.set(base)
    client.post("/profile/9/1", headers=auth)
    client.post("/profile/9/2", headers=auth)
    for offset, (src, dst, amount) in zip(
        (0, 10, 70, 80, 3700, 90_000, 90_030),
        (
            (None, 1, 50),
            (1, 2, 5),
            (None, 2, 9),
            (2, 1, 3),
            (1, None, 20),
            (None, 1, 4),
            (2, 1, 1),
        ),
        strict=True,
    ):
        clock.set(base + offset)
        body = {
            "from": "self" if src is None else {"guild_id": 9, "user_id": src},
            "to": "self" if dst is None else {"guild_id": 9, "user_id": dst},
            "amount": amount,
        }
        assert client.post("/transaction", json=body, headers=auth).status_code == 201
    return entries(client, auth)


@pytest.mark.parametrize("per_bucket", [0, 10**9])
@pytest.mark.parametrize("bucket", ["minute", "hour", "day"])
@pytest.mark.parametrize(
    "params", [{}, {"guild_id": 9}, {"guild_id": 9, "user_id": 1}, {"guild_id": 9, "user_id": 2}]
)
def test_buckets_keep_the_last_balance_of_each(
    client: TestClient,
    auth: dict[str, str],
    spread: list[dict],
    bucket: str,
    params: dict,
    per_bucket: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(graph, "ENTRIES_PER_BUCKET", per_bucket)
    vp = vp_id(9, params["user_id"]) if "user_id" in params else None
    want = replay(spread, "9" if "user_id" not in params and params else None, vp)
    got = client.get("/stats/balance_graph", params={**params, "bucket": bucket}, headers=auth)
    assert _points(got.json()) == bucketed(want, bucket)
    assert len(got.json()["points"]) < len(want) or bucket == "minute"


def test_svg_is_a_well_formed_chart_of_the_same_series(
    client: TestClient, auth: dict[str, str], spread: list[dict]
) -> None:
    got = client.get(
        "/stats/balance_graph", params={"guild_id": 9, "user_id": 1, "format": "svg"}, headers=auth
    )
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(got.text)
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any("user 1" in t and "guild 9" in t for t in texts)  # the title
    assert any("2023-11" in t for t in texts)  # time labels on the x axis
    assert "voicepoints" in texts
    assert len(list(root.iter(f"{SVG}path"))) == 1
    series = client.get(
        "/stats/balance_graph", params={"guild_id": 9, "user_id": 1}, headers=auth
    ).json()["points"]
    assert len(list(root.iter(f"{SVG}circle"))) == len(series) == 6  # a dot per point


def test_an_empty_series_is_still_a_valid_svg(client: TestClient, auth: dict[str, str]) -> None:
    got = client.get("/stats/balance_graph", params={"format": "svg"}, headers=auth)
    assert ET.fromstring(got.text).tag == f"{SVG}svg"
    assert client.get("/stats/balance_graph", headers=auth).json() == {"points": []}


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"user_id": 1}, 422, "guild_id"),
        ({"guild_id": 9, "user_id": "x"}, 422, "user_id"),
        ({"bucket": "week"}, 422, "bucket"),
        ({"format": "png"}, 422, "format"),
        ({"from": 10, "to": 5}, 422, "to"),
        ({"from": 1e300}, 422, "from"),
    ],
)
def test_bad_graph_parameters(
    client: TestClient, auth: dict[str, str], params: dict, status: int, field: str | None
) -> None:
    got = client.get("/stats/balance_graph", params=params, headers=auth)
    assert got.status_code == status, got.text
    if field:
        assert got.json()["errors"][0]["field"] == field


def test_a_user_who_never_had_a_profile_is_404(client: TestClient, auth: dict[str, str]) -> None:
    got = client.get("/stats/balance_graph", params={"guild_id": 9, "user_id": 4}, headers=auth)
    assert got.status_code == 404


def test_graph_needs_ledger_read(client: TestClient, make_key) -> None:
    got = client.get("/stats/balance_graph", headers=make_key(scopes=("profiles:read",)))
    assert got.status_code == 403
