"""Profiles, SPEC §5: what each endpoint does when the request is right: create and reset,
DELETE, string snowflakes, and the ledger's say. Lists are in test_profiles_lists.py,
PATCH and PATCH …/add in test_profiles_patch.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import TestClient

from storage.queries import profile_lists
from tests import backend
from tests.conftest import BOT
from tests.plans import plans
from tests.profile_support import (
    PROFILE_KEYS,
    ensure,
    snapshot,
    treasury_balance,
    vp,
)
from tests.profiles_helpers import (
    DEFAULTS,
    MAX,
    MEMBERS,
    ORDERED,
    _chunks_of,
    _populate,
    fields,
    ids,
)

# -- create and reset -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"json": {}},
        {"content": b"", "headers": {"Content-Type": "application/json"}},
        {"content": b"null", "headers": {"Content-Type": "application/json"}},
        {"content": b"{}"},  # no Content-Type at all: taken as JSON
    ],
    ids=["no body", "empty object", "empty body", "null", "no content type"],
)
def test_create_without_values_gives_the_defaults(
    client: TestClient, auth: dict, kwargs: dict
) -> None:
    kwargs = dict(kwargs)  # the parametrized dict is shared between runs
    headers = {**auth, **kwargs.pop("headers", {})}
    r = client.post("/profile/131853185391/1242154218", headers=headers, **kwargs)
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == PROFILE_KEYS
    assert fields(body) == DEFAULTS
    assert body["id"] == vp(131853185391, 1242154218)
    assert (body["guild_id"], body["user_id"]) == ("131853185391", "1242154218")
    assert isinstance(body["created_at"], float)
    assert body["created_at"] == body["updated_at"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"experience": 5, "level": 3}, {"experience": 5, "level": 3}),
        ({"level": 0}, {"level": 0}),
        ({"experience": MAX}, {"experience": MAX}),
        ({"pray": {"streak": 2}}, {"pray": {"date": 0, "streak": 2}}),
        ({"pray": {"date": 1732252800, "streak": 9}}, {"pray": {"date": 1732252800, "streak": 9}}),
        ({"text": {"level": 2}}, {"text": {"level": 2, "experience": 0, "message_count": 0}}),
        ({"text": None}, {"text": None}),
        ({"timespent": {"voice": 10}}, {"timespent": {"global": 0, "voice": 10}}),
        ({"timespent": {"global": 7, "k" * 64: 1}}, {"timespent": {"global": 7, "k" * 64: 1}}),
        ({"data": {"a": [1, {"b": None}], "é": "ü"}}, {"data": {"a": [1, {"b": None}], "é": "ü"}}),
        ({"data": {}}, {"data": {}}),
        ({"voicepoints": 40}, {"voicepoints": 40}),
    ],
)
def test_create_takes_the_body_values(
    client: TestClient, auth: dict, body: dict, expected: dict
) -> None:
    r = client.post("/profile/1/2", json=body, headers=auth)
    assert r.status_code == 201, r.text
    assert fields(r.json()) == {**DEFAULTS, **expected}
    assert client.get("/profile/1/2", headers=auth).json() == r.json()


def test_reset_replaces_every_field_and_keeps_created_at(client: TestClient, auth: dict) -> None:
    first = ensure(
        client,
        auth,
        1,
        2,
        experience=9,
        level=4,
        pray={"date": 5, "streak": 5},
        text={"level": 1, "experience": 2, "message_count": 3},
        timespent={"global": 50, "afk": 3},
        data={"a": 1},
    )
    r = client.post("/profile/1/2", json={"experience": 1, "pray": {"streak": 1}}, headers=auth)
    assert r.status_code == 200
    reset = r.json()
    assert fields(reset) == {**DEFAULTS, "experience": 1, "pray": {"date": 0, "streak": 1}}
    assert reset["created_at"] == first["created_at"]
    assert reset["updated_at"] >= first["updated_at"]


def test_voicepoints_on_create_and_reset_move_through_the_ledger(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    assert ensure(client, auth, 1, 2, voicepoints=100)["voicepoints"] == 100
    assert treasury_balance(db, BOT) == -100
    assert ensure(client, auth, 1, 2, voicepoints=30)["voicepoints"] == 30
    assert treasury_balance(db, BOT) == -30
    assert ensure(client, auth, 1, 2, voicepoints=30)["voicepoints"] == 30  # no difference
    assert ensure(client, auth, 1, 2)["voicepoints"] == 0  # omitted: back to the default
    assert treasury_balance(db, BOT) == 0
    entries = db.execute("SELECT kind, amount FROM ledger ORDER BY id").fetchall()
    assert entries == [(2, 100), (2, 70), (2, 30)]  # kind 2 = reset; no entry for no change
    assert db.execute("SELECT sum(balance) FROM accounts").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("path", "guild", "user"),
    [
        ("/profile/131853185391/1242154218", "131853185391", "1242154218"),
        ("/profile/007/0010", "7", "10"),  # leading zeros: the same snowflake
        ("/profile/0/0", "0", "0"),
        (f"/profile/{2**64 - 1}/{2**64 - 1}", str(2**64 - 1), str(2**64 - 1)),
    ],
)
def test_snowflakes_in_paths_come_back_as_strings(
    client: TestClient, auth: dict, path: str, guild: str, user: str
) -> None:
    body = client.post(path, headers=auth).json()
    assert (body["guild_id"], body["user_id"]) == (guild, user)
    assert body["id"] == vp(guild, user)
    assert client.get(f"/profile/{guild}/{user}", headers=auth).json()["id"] == body["id"]


def test_bearer_scheme_works_like_the_bare_key(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 1, 2)
    bearer = {"Authorization": f"Bearer {auth['Authorization']}"}
    assert client.get("/profile/1/2", headers=bearer).status_code == 200


# -- DELETE ----------------------------------------------------------------------------------


def test_delete_then_404_and_gone_from_lists(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 1, 2)
    ensure(client, auth, 1, 3)
    r = client.delete("/profile/1/2", headers=auth)
    assert (r.status_code, r.content) == (204, b"")
    assert client.get("/profile/1/2", headers=auth).status_code == 404
    assert client.delete("/profile/1/2", headers=auth).json()["code"] == "profile_not_found"
    assert client.patch("/profile/1/2", json={}, headers=auth).status_code == 404
    assert ids(client.get("/profile", headers=auth).json()) == [(1, 3)]
    assert client.get("/profile/guilds/2", headers=auth).json() == []


def test_delete_returns_the_balance_and_recreating_starts_fresh(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    ensure(client, auth, 1, 2, voicepoints=50, experience=9, data={"a": 1})
    assert client.delete("/profile/1/2", headers=auth).status_code == 204
    assert treasury_balance(db, BOT) == 0
    assert db.execute("SELECT kind, amount FROM ledger ORDER BY id").fetchall() == [
        (2, 50),
        (3, 50),  # kind 3 = close: the history stays
    ]
    again = client.post("/profile/1/2", headers=auth)
    assert again.status_code == 201
    assert fields(again.json()) == DEFAULTS


def test_add_after_delete_reopens_with_defaults(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 1, 2, experience=9, data={"a": 1})
    client.delete("/profile/1/2", headers=auth)
    r = client.patch("/profile/1/2/add", json={"level": 1}, headers=auth)
    assert fields(r.json()) == {**DEFAULTS, "level": 2}


def test_every_profile_response_uses_string_snowflakes(client: TestClient, auth: dict) -> None:
    items: list[dict[str, Any]] = [
        {"guild_id": 18446744073709551615, "user_id": "1"},
        {"guild_id": "2", "user_id": 3},
    ]
    for p in client.patch("/profile/add", json=items, headers=auth).json():
        assert isinstance(p["guild_id"], str) and isinstance(p["user_id"], str)
    for p in client.get("/profile", headers=auth).json():
        assert isinstance(p["guild_id"], str) and isinstance(p["user_id"], str)
    assert client.get("/profile/guilds", headers=auth).json() == ["2", "18446744073709551615"]


@pytest.mark.parametrize("guild", [None, 10])
def test_list_queries_walk_the_index_instead_of_sorting(
    client: TestClient, auth: dict, db: backend.Connection, guild: int | None
) -> None:
    """A whole-list stream is many chunk queries: each must be an index range, or
    streaming N profiles costs N²/CHUNK (see benchmarks/bench_profile_lists.py)."""
    _populate(client, auth, MEMBERS)

    def run(conn: backend.Connection) -> None:
        profile_lists.page(conn, guild, 2, 1)
        _, after = profile_lists.chunk_after(conn, guild, None)
        profile_lists.chunk_after(conn, guild, after)

    found = plans(db, run)
    assert len(found) >= 4
    for query, plan in found:
        sorted_by = "Sort" if backend.POSTGRES else "TEMP B-TREE"
        assert sorted_by not in plan, (query, plan)


def test_a_create_the_ledger_refuses_leaves_no_profile(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    ensure(client, auth, 1, 2, voicepoints=MAX)  # the bot's treasury is now at -MAX
    before = snapshot(db)
    r = client.post("/profile/1/3", json={"voicepoints": 5, "level": 4}, headers=auth)
    assert (r.status_code, r.json()["code"]) == (409, "balance_limit")
    assert client.get("/profile/1/3", headers=auth).status_code == 404
    assert snapshot(db) == before


@pytest.mark.parametrize("chunk", [1, 2, 3, 500])
def test_pages_larger_than_a_chunk_are_streamed_with_the_same_content(
    client: TestClient, auth: dict, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    _chunks_of(client, chunk)
    _populate(client, auth, MEMBERS)
    for path, members in (
        ("/profile", ORDERED),
        ("/profile/10", [m for m in ORDERED if m[0] == 10]),
    ):
        for limit in range(1, len(members) + 2):
            for page in range(len(members) + 2):
                r = client.get(f"{path}?limit={limit}&page={page}", headers=auth)
                assert r.status_code == 200
                assert r.headers["x-total-count"] == str(len(members))
                got = ids(json.loads(r.content))
                assert got == members[limit * page : limit * (page + 1)], (path, limit, page)
