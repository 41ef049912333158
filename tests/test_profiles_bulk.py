"""Bulk PATCH /profile and PATCH /profile/add, SPEC §5: all items or none."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.profile_support import ensure, snapshot


@pytest.fixture
def three(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 1, 1, experience=10, timespent={"global": 5})
    ensure(client, auth, 1, 2, experience=20, text={"level": 1})
    ensure(client, auth, 2, 1, experience=30, data={"a": 1})


@pytest.mark.parametrize("path", ["/profile", "/profile/"])
def test_bulk_edit_applies_every_item_and_returns_them_in_order(
    client: TestClient, auth: dict, three: None, path: str
) -> None:
    items = [
        {"guild_id": "2", "user_id": 1, "data": {"b": 2}},
        {"guild_id": 1, "user_id": "1", "experience": 0, "timespent": {"voice": 3}},
        {"guild_id": 1, "user_id": 2, "text": {"experience": 4}, "pray": {"streak": 2}},
    ]
    r = client.patch(path, json=items, headers=auth)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [(p["guild_id"], p["user_id"]) for p in got] == [("2", "1"), ("1", "1"), ("1", "2")]
    assert got[0]["data"] == {"b": 2}
    assert (got[1]["experience"], got[1]["timespent"]) == (0, {"global": 5, "voice": 3})
    assert got[2]["text"] == {"level": 1, "experience": 4, "message_count": 0}
    assert got[2]["pray"] == {"date": 0, "streak": 2}
    for p in got:
        assert client.get(f"/profile/{p['guild_id']}/{p['user_id']}", headers=auth).json() == p


def test_bulk_edit_of_the_same_profile_twice_applies_in_order(
    client: TestClient, auth: dict, three: None
) -> None:
    items = [
        {"guild_id": 1, "user_id": 1, "level": 5, "timespent": {"a": 1}},
        {"guild_id": 1, "user_id": 1, "level": 6, "timespent": {"b": 2}},
    ]
    got = client.patch("/profile", json=items, headers=auth).json()
    assert got[1]["level"] == 6
    assert got[1]["timespent"] == {"global": 5, "a": 1, "b": 2}


def test_bulk_add_creates_missing_profiles_and_adds(
    client: TestClient, auth: dict, three: None
) -> None:
    items = [
        {"guild_id": 1, "user_id": 1, "experience": 5, "timespent": {"global": 10}},
        {"guild_id": 9, "user_id": 9, "experience": 7, "data": {"x": 1}},
        {"guild_id": 9, "user_id": 9, "experience": 1, "data": {"y": 2}},
        {"guild_id": 2, "user_id": 1, "data": {"b": 2}},
    ]
    r = client.patch("/profile/add", json=items, headers=auth)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got[0]["experience"], got[0]["timespent"]["global"]) == (15, 15)
    assert (got[2]["experience"], got[2]["data"]) == (8, {"x": 1, "y": 2})
    assert got[3]["data"] == {"a": 1, "b": 2}
    assert client.get("/profile/9/9", headers=auth).json()["experience"] == 8
    assert client.get("/profile", headers=auth).headers["x-total-count"] == "4"


@pytest.mark.parametrize("path", ["/profile", "/profile/add"])
def test_an_empty_bulk_does_nothing(
    client: TestClient, auth: dict, db: sqlite3.Connection, three: None, path: str
) -> None:
    before = snapshot(db)
    r = client.patch(path, json=[], headers=auth)
    assert (r.status_code, r.json()) == (200, [])
    assert snapshot(db) == before


# (path, items, status, code, index): one bad item among good ones; nothing may change.
GOOD_EDIT = {"guild_id": 1, "user_id": 1, "level": 7}
GOOD_ADD = {"guild_id": 5, "user_id": 5, "experience": 1}  # would create 5/5
ATOMIC: list[tuple[str, list[dict[str, Any]], int, str, int]] = [
    ("/profile", [GOOD_EDIT, {"guild_id": 3, "user_id": 3}], 404, "profile_not_found", 1),
    ("/profile", [{"guild_id": 3, "user_id": 3}, GOOD_EDIT], 404, "profile_not_found", 0),
    (
        "/profile",
        [GOOD_EDIT, GOOD_EDIT, {"guild_id": 1, "user_id": 2, "level": -1}],
        422,
        "validation_error",
        2,
    ),
    (
        "/profile",
        [GOOD_EDIT, {"guild_id": 1, "user_id": 2, "voicepoints": 3}],
        422,
        "voicepoints_read_only",
        1,
    ),
    (
        "/profile",
        [GOOD_EDIT, {"guild_id": 1, "user_id": 2, "data": {"x": "y" * 11000}}],
        413,
        "payload_too_large",
        1,
    ),
    ("/profile", [GOOD_EDIT, {"guild_id": "x", "user_id": 2}], 422, "validation_error", 1),
    (
        "/profile/add",
        [GOOD_ADD, {"guild_id": 1, "user_id": 1, "experience": -11}],
        422,
        "validation_error",
        1,
    ),
    (
        "/profile/add",
        [GOOD_ADD, {"guild_id": 6, "user_id": 6, "level": -2}],
        422,
        "validation_error",
        1,
    ),
    (
        "/profile/add",
        [GOOD_ADD, GOOD_ADD, {"guild_id": 1, "user_id": 2, "text": {"level": -2}}],
        422,
        "validation_error",
        2,
    ),
    (
        "/profile/add",
        [GOOD_ADD, {"guild_id": 1, "user_id": 2, "voicepoints": 3}],
        422,
        "voicepoints_read_only",
        1,
    ),
    (
        "/profile/add",
        [GOOD_ADD, {"guild_id": 1, "user_id": 2, "data": {"x": "y" * 11000}}],
        413,
        "payload_too_large",
        1,
    ),
    (
        "/profile/add",
        [GOOD_ADD, {"guild_id": 1, "user_id": 2, "experience": 2**53}],
        422,
        "validation_error",
        1,
    ),
    (
        "/profile/add",
        [{"guild_id": 1, "user_id": 2, "bogus": 1}, GOOD_ADD],
        422,
        "validation_error",
        0,
    ),
]


@pytest.mark.parametrize(("path", "items", "status", "code", "index"), ATOMIC)
def test_one_bad_item_fails_the_whole_bulk(
    client: TestClient,
    auth: dict,
    db: sqlite3.Connection,
    three: None,
    path: str,
    items: list,
    status: int,
    code: str,
    index: int,
) -> None:
    before = snapshot(db)
    r = client.patch(path, json=items, headers=auth)
    assert r.status_code == status, r.text
    body = r.json()
    assert (body["status"], body["code"], body["index"]) == (status, code, index)
    assert body["message"].startswith(f"item {index}: ")
    if "errors" in body:
        assert body["errors"][0]["field"].startswith(f"[{index}]")
    assert snapshot(db) == before
    assert client.get("/profile/5/5", headers=auth).status_code == 404


def test_missing_profile_error_names_the_profile(
    client: TestClient, auth: dict, three: None
) -> None:
    items = [GOOD_EDIT, {"guild_id": "00042", "user_id": 43}]
    body = client.patch("/profile", json=items, headers=auth).json()
    assert (body["guild_id"], body["user_id"], body["index"]) == ("42", "43", 1)
    assert "42/43" in body["message"]


def test_requests_before_and_after_a_refused_bulk_apply(
    client: TestClient, auth: dict, three: None
) -> None:
    assert client.patch("/profile", json=[GOOD_EDIT], headers=auth).status_code == 200
    bad = [GOOD_EDIT, {"guild_id": 3, "user_id": 3}]
    assert client.patch("/profile", json=bad, headers=auth).status_code == 404
    r = client.patch("/profile/add", json=[{"guild_id": 1, "user_id": 1, "level": 1}], headers=auth)
    assert r.json()[0]["level"] == 8


# -- concurrency and the real server -------------------------------------------------------


async def test_bulks_sharing_one_group_commit_stay_atomic(db_path: Any) -> None:
    """Twenty bulks committed in the writer's one transaction (group commit): each
    refused bulk rolls back alone, each accepted one is fully there."""
    import asyncio
    import threading

    import msgspec

    from ledger import apply
    from ledger.commands import EditProfiles
    from schemas.profiles import ProfileAdd
    from storage.engine.migrations import apply_migrations
    from storage.engine.sqlite import connect
    from storage.engine.writer import Writer
    from storage.errors import InvalidValue

    conn = connect(db_path)
    apply_migrations(conn)
    conn.close()
    writer = Writer(db_path)
    writer.start()
    try:
        running, gate = threading.Event(), threading.Event()

        def hold(ctx: Any, _: None) -> None:
            running.set()
            gate.wait(30)

        # Hold the writer so every command queues behind this task, then release it.
        held = asyncio.ensure_future(writer.run(hold, None))
        for _ in range(3000):  # bounded waits (~30 s at most on a loaded machine)
            if running.is_set():
                break
            await asyncio.sleep(0.01)

        def bulk(*items: tuple[int, int, dict]) -> EditProfiles:
            changes = tuple((g, u, msgspec.convert(c, ProfileAdd)) for g, u, c in items)
            return EditProfiles(changes, add=True, single=False)

        good = [bulk((1, u, {"experience": 1}), (2, u, {})) for u in range(10)]
        bad = [bulk((3, u, {}), (4, u, {"level": -5})) for u in range(10)]
        commands = [c for pair in zip(good, bad, strict=True) for c in pair]
        sent = [asyncio.ensure_future(writer.run(apply, c)) for c in commands]
        for _ in range(3000):
            if writer.queue_depth >= len(commands):
                break
            await asyncio.sleep(0.01)
        gate.set()
        await held
        outcomes = await asyncio.gather(*sent, return_exceptions=True)
        assert writer.stats.last_batch_size == len(commands)  # one transaction for all
        assert [type(o) for o in outcomes[1::2]] == [InvalidValue] * 10
        assert all(len(o) == 2 for o in outcomes[::2])  # type: ignore[arg-type]
    finally:
        await writer.close()
    check = sqlite3.connect(db_path)
    rows = check.execute("SELECT guild_id, user_id FROM accounts WHERE open = 1").fetchall()
    check.close()
    assert sorted((int(g), int(u)) for g, u in rows) == sorted(
        [(1, u) for u in range(10)] + [(2, u) for u in range(10)]
    )


@pytest.mark.server
def test_the_real_server_streams_long_lists(server: Any) -> None:
    """granian, not the test client: chunked JSON of more than one read chunk."""
    with server.client() as c:
        items = [{"guild_id": 1 + u % 3, "user_id": u} for u in range(1234)]
        assert c.patch("/profile/add", json=items).status_code == 200
        listed = c.get("/profile", params={"limit": 0})
        assert listed.headers["x-total-count"] == "1234"
        profiles = listed.json()
        assert [(int(p["guild_id"]), int(p["user_id"])) for p in profiles] == sorted(
            (1 + u % 3, u) for u in range(1234)
        )
        tree = c.get("/profile", params={"view": "tree"}).json()
        assert {g: len(users) for g, users in tree.items()} == {"1": 412, "2": 411, "3": 411}
        assert (
            c.patch(
                "/profile",
                content=b"x=1",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ).status_code
            == 415
        )
