"""Every way a profile request can be wrong, SPEC §4 and §5: the big table of refused
requests, each with its status, machine code, field named, JSON error shape, and nothing
written. Snowflakes and size limits are in test_errors_limits.py, content types and the
public pages in test_errors_content.py."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests import errors_helpers
from tests.errors_helpers import BIG, NO_BODY, Shared, assert_error_shape, send
from tests.profile_support import snapshot

seeded = errors_helpers.seeded  # a fixture shared by several modules
shared = errors_helpers.shared  # a fixture shared by several modules


# -- the big table: (method, path, body, status, code, field) -------------------------------

LONG_KEY = "k" * 65
CASES: list[tuple[str, str, Any, int, str, str | None]] = [
    # missing profiles
    ("GET", "/profile/1/3", NO_BODY, 404, "profile_not_found", None),
    ("PATCH", "/profile/1/3", {}, 404, "profile_not_found", None),
    ("PATCH", "/profile/1/3", {"level": 2}, 404, "profile_not_found", None),
    ("DELETE", "/profile/1/3", NO_BODY, 404, "profile_not_found", None),
    ("DELETE", "/profile/3/2", NO_BODY, 404, "profile_not_found", None),
    ("PATCH", "/profile", [{"guild_id": 1, "user_id": 3}], 404, "profile_not_found", None),
    # counters outside [0, 2^53-1], wrong types
    ("POST", "/profile/1/3", {"experience": -1}, 422, "validation_error", "experience"),
    ("POST", "/profile/1/3", {"experience": BIG}, 422, "validation_error", "experience"),
    ("POST", "/profile/1/3", {"level": BIG}, 422, "validation_error", "level"),
    ("POST", "/profile/1/3", {"level": 1.5}, 422, "validation_error", "level"),
    ("POST", "/profile/1/3", {"level": "5"}, 422, "validation_error", "level"),
    ("POST", "/profile/1/3", {"level": None}, 422, "validation_error", "level"),
    ("POST", "/profile/1/3", {"pray": {"streak": -1}}, 422, "validation_error", "pray.streak"),
    ("POST", "/profile/1/3", {"pray": {"date": BIG}}, 422, "validation_error", "pray.date"),
    ("POST", "/profile/1/3", {"text": {"level": -1}}, 422, "validation_error", "text.level"),
    ("POST", "/profile/1/3", {"timespent": {"x": -1}}, 422, "validation_error", "timespent[...]"),
    (
        "POST",
        "/profile/1/3",
        {"timespent": {"global": BIG}},
        422,
        "validation_error",
        "timespent[...]",
    ),
    ("POST", "/profile/1/3", {"voicepoints": -1}, 422, "validation_error", "voicepoints"),
    ("POST", "/profile/1/3", {"voicepoints": BIG}, 422, "validation_error", "voicepoints"),
    ("PATCH", "/profile/1/2", {"experience": -1}, 422, "validation_error", "experience"),
    ("PATCH", "/profile/1/2", {"experience": None}, 422, "validation_error", "experience"),
    ("PATCH", "/profile/1/2", {"pray": {"streak": BIG}}, 422, "validation_error", "pray.streak"),
    (
        "PATCH",
        "/profile/1/2",
        {"text": {"message_count": -5}},
        422,
        "validation_error",
        "text.message_count",
    ),
    ("PATCH", "/profile/1/2", {"timespent": {"v": 1.0}}, 422, "validation_error", "timespent[...]"),
    ("PATCH", "/profile/1/2/add", {"experience": BIG}, 422, "validation_error", "experience"),
    ("PATCH", "/profile/1/2/add", {"experience": -BIG}, 422, "validation_error", "experience"),
    ("PATCH", "/profile/1/2/add", {"experience": -11}, 422, "validation_error", "experience"),
    ("PATCH", "/profile/1/2/add", {"level": -2}, 422, "validation_error", "level"),
    ("PATCH", "/profile/1/2/add", {"experience": BIG - 10}, 422, "validation_error", "experience"),
    ("PATCH", "/profile/1/3/add", {"pray": {"streak": -1}}, 422, "validation_error", "pray.streak"),
    # unknown fields
    ("POST", "/profile/1/3", {"bogus": 1}, 422, "validation_error", "bogus"),
    ("POST", "/profile/1/3", {"guild_id": "1"}, 422, "validation_error", "guild_id"),
    ("POST", "/profile/1/3", {"id": "x"}, 422, "validation_error", "id"),
    ("POST", "/profile/1/3", {"created_at": 1.0}, 422, "validation_error", "created_at"),
    ("PATCH", "/profile/1/2", {"pray": {"x": 1}}, 422, "validation_error", "pray.x"),
    ("PATCH", "/profile/1/2", {"text": {"lvl": 1}}, 422, "validation_error", "text.lvl"),
    ("PATCH", "/profile/1/2", {"user_id": "2"}, 422, "validation_error", "user_id"),
    ("PATCH", "/profile/1/2/add", {"Experience": 1}, 422, "validation_error", "Experience"),
    (
        "PATCH",
        "/profile",
        [{"guild_id": 1, "user_id": 2, "bogus": 1}],
        422,
        "validation_error",
        "[0].bogus",
    ),
    (
        "PATCH",
        "/profile/add",
        [{"guild_id": 1, "user_id": 2, "id": 1}],
        422,
        "validation_error",
        "[0].id",
    ),
    ("PATCH", "/profile", [{"guild_id": 1}], 422, "validation_error", "[0].user_id"),
    ("PATCH", "/profile/add", [{"user_id": 1}], 422, "validation_error", "[0].guild_id"),
    # timespent keys
    ("POST", "/profile/1/3", {"timespent": {LONG_KEY: 1}}, 422, "validation_error", "timespent"),
    ("PATCH", "/profile/1/2", {"timespent": {LONG_KEY: 1}}, 422, "validation_error", "timespent"),
    ("PATCH", "/profile/1/2", {"timespent": {"": 1}}, 422, "validation_error", "timespent"),
    (
        "PATCH",
        "/profile/1/2/add",
        {"timespent": {LONG_KEY: 1}},
        422,
        "validation_error",
        "timespent",
    ),
    (
        "PATCH",
        "/profile/add",
        [{"guild_id": 1, "user_id": 2, "timespent": {LONG_KEY: 1}}],
        422,
        "validation_error",
        "[0].timespent",
    ),
    # wrong shapes
    ("POST", "/profile/1/3", [], 422, "validation_error", "body"),
    ("POST", "/profile/1/3", "x", 422, "validation_error", "body"),
    ("PATCH", "/profile/1/2", [], 422, "validation_error", "body"),
    ("PATCH", "/profile/1/2", b"null", 422, "validation_error", "body"),
    ("PATCH", "/profile", {"guild_id": 1, "user_id": 2}, 422, "validation_error", "body"),
    ("PATCH", "/profile/add", b"null", 422, "validation_error", "body"),
    ("PATCH", "/profile", [1], 422, "validation_error", "[0]"),
    ("POST", "/profile/1/3", {"data": []}, 422, "validation_error", "data"),
    ("POST", "/profile/1/3", {"data": "text"}, 422, "validation_error", "data"),
    ("PATCH", "/profile/1/2", {"data": 5}, 422, "validation_error", "data"),
    ("PATCH", "/profile/1/2", {"pray": None}, 422, "validation_error", "pray"),
    ("PATCH", "/profile/1/2", {"timespent": None}, 422, "validation_error", "timespent"),
    ("PATCH", "/profile/1/2/add", {"data": None}, 422, "validation_error", "data"),
    ("PATCH", "/profile/1/2/add", {"text": None}, 422, "validation_error", "text"),
    ("PATCH", "/profile/1/2/add", {"data": [1]}, 422, "validation_error", "data"),
    # voicepoints only move through POST /transaction
    ("PATCH", "/profile/1/2", {"voicepoints": 5}, 422, "voicepoints_read_only", "voicepoints"),
    ("PATCH", "/profile/1/2", {"voicepoints": None}, 422, "voicepoints_read_only", "voicepoints"),
    (
        "PATCH",
        "/profile/1/2",
        {"level": 3, "voicepoints": 0},
        422,
        "voicepoints_read_only",
        "voicepoints",
    ),
    ("PATCH", "/profile/1/2/add", {"voicepoints": 5}, 422, "voicepoints_read_only", "voicepoints"),
    ("PATCH", "/profile/1/3/add", {"voicepoints": -5}, 422, "voicepoints_read_only", "voicepoints"),
    (
        "PATCH",
        "/profile",
        [{"guild_id": 1, "user_id": 2}, {"guild_id": 1, "user_id": 2, "voicepoints": 1}],
        422,
        "voicepoints_read_only",
        "[1].voicepoints",
    ),
    (
        "PATCH",
        "/profile/add",
        [{"guild_id": 1, "user_id": 3, "voicepoints": 1}],
        422,
        "voicepoints_read_only",
        "[0].voicepoints",
    ),
    # query parameters
    ("GET", "/profile?limit=abc", NO_BODY, 422, "validation_error", "limit"),
    ("GET", "/profile?limit=1.5", NO_BODY, 422, "validation_error", "limit"),
    ("GET", "/profile?page=-1", NO_BODY, 422, "validation_error", "page"),
    ("GET", "/profile?page=x", NO_BODY, 422, "validation_error", "page"),
    ("GET", "/profile?view=grid", NO_BODY, 422, "validation_error", "view"),
    ("GET", "/profile/1?view=grid", NO_BODY, 422, "validation_error", "view"),
    ("GET", "/profile/1?page=-3&limit=0", NO_BODY, 422, "validation_error", "page"),
    # malformed JSON and missing bodies
    ("POST", "/profile/1/3", b"{bad", 400, "malformed_json", None),
    ("POST", "/profile/1/3", b'{"level": 1} x', 400, "malformed_json", None),
    ("PATCH", "/profile/1/2", b'{"experience": 1', 400, "malformed_json", None),
    ("PATCH", "/profile/1/2/add", b"\xff\xfe", 400, "malformed_json", None),
    ("PATCH", "/profile", b'[{"guild_id": 1,', 400, "malformed_json", None),
    ("PATCH", "/profile/add", b"[{]", 400, "malformed_json", None),
    ("PATCH", "/profile/1/2", NO_BODY, 400, "malformed_json", None),
    ("PATCH", "/profile/1/2/add", NO_BODY, 400, "malformed_json", None),
    ("PATCH", "/profile", NO_BODY, 400, "malformed_json", None),
    ("PATCH", "/profile/add", b"", 400, "malformed_json", None),
    (
        "PATCH",
        "/profile/1/2",
        b'{"data": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        400,
        "malformed_json",
        None,
    ),
    (
        "POST",
        "/profile/1/3",
        b'{"data": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
        400,
        "malformed_json",
        None,
    ),
    (
        "PATCH",
        "/profile/add",
        b'[{"guild_id": 1, "user_id": 2, "data": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}]",
        400,
        "malformed_json",
        None,
    ),
    # routing: the same JSON shape
    ("PUT", "/profile/1/2", {}, 405, "method_not_allowed", None),
    ("POST", "/profile", {}, 405, "method_not_allowed", None),
    ("DELETE", "/profile", NO_BODY, 405, "method_not_allowed", None),
    ("POST", "/profile/1", {}, 405, "method_not_allowed", None),
    ("GET", "/profile/add", NO_BODY, 405, "method_not_allowed", None),
    ("DELETE", "/profile/guilds", NO_BODY, 405, "method_not_allowed", None),
    ("POST", "/profile/1/2/add", {}, 405, "method_not_allowed", None),
    ("GET", "/nope", NO_BODY, 404, "not_found", None),
    ("GET", "/profiles", NO_BODY, 404, "not_found", None),
    ("GET", "/profile/1/2/3/4", NO_BODY, 404, "not_found", None),
    ("PATCH", "/profile/1/2/sub", {}, 404, "not_found", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "field"),
    CASES,
    ids=[f"{m} {p} {s} {c} {f}" for m, p, _, s, c, f in CASES],
)
def test_error_cases(
    shared: Shared,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    field: str | None,
) -> None:
    client, auth, db = shared.client, shared.auth, shared.db
    before = snapshot(db)
    r = send(client, auth, method, path, body)
    err = assert_error_shape(r, status, code)
    if field is not None:
        assert err["errors"][0]["field"] == field, err
        assert field in err["message"]
    if field and field.startswith("["):
        index = int(field[1 : field.index("]")])
        assert err["index"] == index
        assert err["message"].startswith(f"item {index}: ")
    if code == "voicepoints_read_only":
        assert "POST /transaction" in err["message"]
    assert snapshot(db) == before


def test_missing_profile_in_bulk_names_it(client: TestClient, auth: dict, seeded: None) -> None:
    items = [{"guild_id": 1, "user_id": 2, "level": 5}, {"guild_id": "7", "user_id": 3}]
    err = assert_error_shape(
        client.patch("/profile", json=items, headers=auth), 404, "profile_not_found"
    )
    assert (err["index"], err["guild_id"], err["user_id"]) == (1, "7", "3")
    assert "7/3" in err["message"] and err["message"].startswith("item 1: ")
    assert client.get("/profile/1/2", headers=auth).json()["level"] == 1
