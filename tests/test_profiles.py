"""Profiles, SPEC §5: what each endpoint does when the request is right."""

from __future__ import annotations

import dataclasses
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

DEFAULTS = {
    "experience": 0,
    "voicepoints": 0,
    "level": 1,
    "pray": {"date": 0, "streak": 0},
    "text": None,
    "timespent": {"global": 0},
    "data": None,
}
MAX = 2**53 - 1


def fields(profile: dict) -> dict:
    return {k: v for k, v in profile.items() if k in DEFAULTS}


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


# -- lists ---------------------------------------------------------------------------------

# Numeric order differs from text order: guild 2 before 10, user 9 before 10.
MEMBERS = [(10, 1), (2, 10), (2, 9), (10, 100), (10, 20), (2, 100000000000000000000 // 10), (3, 5)]
ORDERED = sorted(MEMBERS)


def _populate(client: TestClient, auth: dict, members: list[tuple[int, int]]) -> None:
    items = [{"guild_id": g, "user_id": u} for g, u in members]
    r = client.patch("/profile/add", json=items, headers=auth)
    assert r.status_code == 200, r.text


def ids(profiles: list[dict]) -> list[tuple[int, int]]:
    return [(int(p["guild_id"]), int(p["user_id"])) for p in profiles]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ORDERED),
        ("?limit=3", ORDERED[:3]),
        ("?limit=3&page=1", ORDERED[3:6]),
        ("?limit=3&page=2", ORDERED[6:]),
        ("?limit=3&page=3", []),
        ("?limit=0", ORDERED),
        ("?limit=-1", ORDERED),
        ("?limit=-1&page=5", ORDERED),  # everything: page has no meaning
        ("?limit=1000000000000000000000&page=0", ORDERED),
        ("?limit=1000000&page=1000000000000000", []),
        ("?view=list&limit=2", ORDERED[:2]),
    ],
)
def test_list_is_ordered_numerically_and_paged(
    client: TestClient, auth: dict, query: str, expected: list
) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"/profile{query}", headers=auth)
    assert r.status_code == 200, r.text
    assert r.headers["x-total-count"] == str(len(MEMBERS))
    assert ids(r.json()) == expected


def test_default_limit_is_50(client: TestClient, auth: dict) -> None:
    _populate(client, auth, [(1, u) for u in range(1, 61)])
    r = client.get("/profile", headers=auth)
    assert len(r.json()) == 50
    assert r.headers["x-total-count"] == "60"
    assert ids(client.get("/profile?page=1", headers=auth).json()) == [
        (1, u) for u in range(51, 61)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [m for m in ORDERED if m[0] == 10]),
        ("?limit=2&page=1", [m for m in ORDERED if m[0] == 10][2:4]),
        ("?limit=0", [m for m in ORDERED if m[0] == 10]),
    ],
)
def test_guild_list(client: TestClient, auth: dict, query: str, expected: list) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"/profile/10{query}", headers=auth)
    assert r.status_code == 200
    assert r.headers["x-total-count"] == "3"
    assert ids(r.json()) == expected


def test_guild_list_of_an_unknown_guild_is_empty(client: TestClient, auth: dict) -> None:
    r = client.get("/profile/77", headers=auth)
    assert (r.status_code, r.json(), r.headers["x-total-count"]) == (200, [], "0")


def _tree(members: list[tuple[int, int]]) -> dict[str, list[str]]:
    tree: dict[str, list[str]] = {}
    for g, u in sorted(members):
        tree.setdefault(str(g), []).append(str(u))
    return tree


@pytest.mark.parametrize("path", ["/profile", "/profile/10", "/profile/4"])
@pytest.mark.parametrize("paging", ["", "&limit=1&page=1", "&limit=0"])
def test_tree_view_nests_guild_then_user_and_ignores_paging(
    client: TestClient, auth: dict, path: str, paging: str
) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"{path}?view=tree{paging}", headers=auth)
    assert r.status_code == 200
    tree = r.json()
    guild = path.rsplit("/", 1)[1]
    wanted = _tree([m for m in MEMBERS if path == "/profile" or str(m[0]) == guild])
    # JSON objects keep their order: guilds and users come numerically ordered too.
    assert {g: list(users) for g, users in tree.items()} == wanted
    assert list(tree) == list(wanted)
    for g, users in tree.items():
        for u, profile in users.items():
            assert (profile["guild_id"], profile["user_id"]) == (g, u)
            assert set(profile) == PROFILE_KEYS


def _chunks_of(client: TestClient, size: int) -> None:
    """Stream `size` profiles a chunk from now on (Settings.stream_chunk)."""
    svc = client.app.state.services
    svc.settings = dataclasses.replace(svc.settings, stream_chunk=size)


@pytest.mark.parametrize("chunk", [1, 2, 3, 500])
@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_streamed_views_are_valid_json_at_every_chunk_boundary(
    client: TestClient, auth: dict, monkeypatch: pytest.MonkeyPatch, chunk: int, count: int
) -> None:
    _chunks_of(client, chunk)
    members = [(1 + i % 2, 100 + i) for i in range(count)]
    if members:
        _populate(client, auth, members)
    listed = client.get("/profile?limit=0", headers=auth)
    assert ids(json.loads(listed.content)) == sorted(members)
    assert listed.headers["x-total-count"] == str(count)
    tree = json.loads(client.get("/profile?view=tree", headers=auth).content)
    assert {g: list(u) for g, u in tree.items()} == _tree(members)
    guild = json.loads(client.get("/profile/1?view=tree", headers=auth).content)
    assert {g: list(u) for g, u in guild.items()} == _tree([m for m in members if m[0] == 1])


@pytest.mark.parametrize("count", [0, 1, 1001])
def test_streamed_views_with_the_real_chunk_size(
    client: TestClient, auth: dict, count: int
) -> None:
    members = [(1 + i % 3, i) for i in range(count)]
    if members:
        _populate(client, auth, members)
    listed = client.get("/profile?limit=0", headers=auth)
    assert listed.headers["content-type"].startswith("application/json")
    assert ids(json.loads(listed.content)) == sorted(members)
    tree = json.loads(client.get("/profile?view=tree", headers=auth).content)
    assert sum(len(users) for users in tree.values()) == count
    assert {g: list(u) for g, u in tree.items()} == _tree(members)


def test_guild_lists(client: TestClient, auth: dict) -> None:
    assert client.get("/profile/guilds", headers=auth).json() == []
    _populate(client, auth, MEMBERS)
    ensure(client, auth, 99, 7, voicepoints=5)  # the bot's treasury now exists too
    assert client.get("/profile/guilds", headers=auth).json() == ["2", "3", "10", "99"]
    client.delete("/profile/3/5", headers=auth)
    assert client.get("/profile/guilds", headers=auth).json() == ["2", "10", "99"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [("10", ["2"]), ("100", ["10"]), ("1", ["10"]), ("424242", []), ("0010", ["2"])],
)
def test_guilds_of_a_user(client: TestClient, auth: dict, user: str, expected: list) -> None:
    _populate(client, auth, MEMBERS)
    r = client.get(f"/profile/guilds/{user}", headers=auth)
    assert (r.status_code, r.json()) == (200, expected)


def test_guilds_of_a_user_in_numeric_order(client: TestClient, auth: dict) -> None:
    _populate(client, auth, [(10, 5), (9, 5), (100, 5), (9, 6)])
    assert client.get("/profile/guilds/5", headers=auth).json() == ["9", "10", "100"]


def test_treasuries_never_appear_in_lists(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 1, 2, voicepoints=10)
    assert ids(client.get("/profile?limit=0", headers=auth).json()) == [(1, 2)]
    assert ids(client.get("/profile", headers=auth).json()) == [(1, 2)]
    assert list(client.get("/profile?view=tree", headers=auth).json()) == ["1"]


# -- PATCH (set) ---------------------------------------------------------------------------

START = {
    "experience": 10,
    "level": 2,
    "pray": {"date": 9, "streak": 1},
    "text": {"level": 1, "experience": 2, "message_count": 3},
    "timespent": {"global": 10, "afk": 2},
    "data": {"a": 1, "nested": {"x": 1}},
}


@pytest.mark.parametrize(
    ("start", "change", "expected"),
    [
        (START, {}, {}),
        (START, {"experience": 5}, {"experience": 5}),
        (START, {"level": 0, "experience": MAX}, {"level": 0, "experience": MAX}),
        (START, {"pray": {"streak": 3}}, {"pray": {"date": 9, "streak": 3}}),
        (START, {"pray": {}}, {}),
        (
            START,
            {"text": {"level": 4}},
            {"text": {"level": 4, "experience": 2, "message_count": 3}},
        ),
        ({}, {"text": {"level": 4}}, {"text": {"level": 4, "experience": 0, "message_count": 0}}),
        (START, {"text": None}, {"text": None}),
        ({}, {"text": None}, {}),
        (START, {"timespent": {"voice": 5}}, {"timespent": {"global": 10, "afk": 2, "voice": 5}}),
        (START, {"timespent": {"global": 0}}, {"timespent": {"global": 0, "afk": 2}}),
        (START, {"data": {"b": 1}}, {"data": {"b": 1}}),  # replaced, not merged
        (START, {"data": {"nested": {"y": 2}}}, {"data": {"nested": {"y": 2}}}),
        (START, {"data": None}, {"data": None}),
        ({}, {"data": {"b": 1}}, {"data": {"b": 1}}),
    ],
)
def test_patch_sets_given_fields_and_merges_nested_objects_per_key(
    client: TestClient, auth: dict, start: dict, change: dict, expected: dict
) -> None:
    before = ensure(client, auth, 1, 2, voicepoints=7, **start)
    r = client.patch("/profile/1/2", json=change, headers=auth)
    assert r.status_code == 200, r.text
    assert fields(r.json()) == {**fields(before), **expected}
    assert r.json()["voicepoints"] == 7
    assert r.json()["created_at"] == before["created_at"]
    assert client.get("/profile/1/2", headers=auth).json() == r.json()


def test_patch_accepts_integer_snowflake_path_forms(client: TestClient, auth: dict) -> None:
    ensure(client, auth, 5, 6)
    r = client.patch("/profile/0005/006", json={"level": 9}, headers=auth)
    assert (r.status_code, r.json()["level"], r.json()["guild_id"]) == (200, 9, "5")


# -- PATCH …/add ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "change", "expected"),
    [
        (START, {"experience": 5}, {"experience": 15}),
        (START, {"experience": -10}, {"experience": 0}),  # down to exactly 0 is fine
        (START, {"level": -2, "experience": -1}, {"level": 0, "experience": 9}),
        (START, {"pray": {"streak": 1}}, {"pray": {"date": 9, "streak": 2}}),
        (
            START,
            {"text": {"message_count": 3}},
            {"text": {"level": 1, "experience": 2, "message_count": 6}},
        ),
        (
            {},
            {"text": {"message_count": 3}},
            {"text": {"level": 0, "experience": 0, "message_count": 3}},
        ),
        (
            START,
            {"timespent": {"global": 60, "voice": 5}},
            {"timespent": {"global": 70, "afk": 2, "voice": 5}},
        ),
        (START, {"timespent": {"afk": -2}}, {"timespent": {"global": 10, "afk": 0}}),
        (START, {"data": {"b": 2}}, {"data": {"a": 1, "nested": {"x": 1}, "b": 2}}),
        (START, {"data": {"nested": {"y": 2}}}, {"data": {"a": 1, "nested": {"y": 2}}}),  # shallow
        (START, {"data": {"a": None}}, {"data": {"a": None, "nested": {"x": 1}}}),
        ({}, {"data": {"b": 2}}, {"data": {"b": 2}}),
        ({"experience": MAX - 1}, {"experience": 1}, {"experience": MAX}),
        (START, {}, {}),
    ],
)
def test_add_adds_numbers_and_merges_data(
    client: TestClient, auth: dict, start: dict, change: dict, expected: dict
) -> None:
    before = ensure(client, auth, 1, 2, **start)
    r = client.patch("/profile/1/2/add", json=change, headers=auth)
    assert r.status_code == 200, r.text
    assert fields(r.json()) == {**fields(before), **expected}
    assert client.get("/profile/1/2", headers=auth).json() == r.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"experience": -11}, "experience"),
        ({"level": 5, "experience": -11}, "experience"),  # the valid part is not applied either
        ({"pray": {"streak": -2}}, "pray.streak"),
        ({"text": {"level": -2}}, "text.level"),
        ({"timespent": {"voice": 5, "afk": -3}}, "timespent.afk"),
        ({"timespent": {"new": -1}}, "timespent.new"),
        ({"experience": MAX}, "experience"),  # 10 + MAX leaves the range
    ],
)
def test_add_below_zero_or_past_the_range_changes_nothing(
    client: TestClient, auth: dict, db: backend.Connection, change: dict, field: str
) -> None:
    ensure(client, auth, 1, 2, **START)
    before = snapshot(db)
    r = client.patch("/profile/1/2/add", json=change, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == field
    assert snapshot(db) == before


def test_add_creates_a_missing_profile_with_defaults_first(client: TestClient, auth: dict) -> None:
    r = client.patch("/profile/3/4/add", json={"experience": 5, "level": 1}, headers=auth)
    assert r.status_code == 200, r.text
    assert fields(r.json()) == {**DEFAULTS, "experience": 5, "level": 2}
    assert client.get("/profile/3/4", headers=auth).json() == r.json()


def test_add_that_fails_does_not_create_the_profile(client: TestClient, auth: dict) -> None:
    r = client.patch("/profile/3/4/add", json={"experience": -1}, headers=auth)
    assert r.status_code == 422
    assert client.get("/profile/3/4", headers=auth).status_code == 404


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
