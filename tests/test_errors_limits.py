"""Profile requests out of bounds, SPEC §4 and §5: invalid snowflakes in the path and the
body (the field and index named), the 10 kB and 64-level limits of `data`, and the 1 MiB
body limit."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from litestar.testing import TestClient

from tests import errors_helpers
from tests.errors_helpers import NO_BODY, Shared, assert_error_shape, send
from tests.profile_support import ensure, snapshot

seeded = errors_helpers.seeded  # a fixture shared by several modules
shared = errors_helpers.shared  # a fixture shared by several modules


# -- snowflakes ------------------------------------------------------------------------------

BAD_PATH_IDS = [
    "abc",
    "1" * 21,
    str(2**64),
    "99999999999999999999",
    "-1",
    "1.5",
    "0x1",
    "１２",
    "1%0A",
    "%201",
]
PATH_ROUTES = [
    ("GET", "/profile/{}", "guild_id"),
    ("GET", "/profile/{}/2", "guild_id"),
    ("GET", "/profile/1/{}", "user_id"),
    ("POST", "/profile/{}/2", "guild_id"),
    ("POST", "/profile/1/{}", "user_id"),
    ("PATCH", "/profile/{}/2", "guild_id"),
    ("PATCH", "/profile/1/{}/add", "user_id"),
    ("DELETE", "/profile/{}/2", "guild_id"),
    ("DELETE", "/profile/1/{}", "user_id"),
    ("GET", "/profile/guilds/{}", "user_id"),
]


@pytest.mark.parametrize("bad", BAD_PATH_IDS)
@pytest.mark.parametrize(("method", "path", "field"), PATH_ROUTES)
def test_invalid_snowflake_in_path_names_the_field(
    shared: Shared,
    method: str,
    path: str,
    field: str,
    bad: str,
) -> None:
    client, auth, db = shared.client, shared.auth, shared.db
    before = snapshot(db)
    body = {} if method == "PATCH" else NO_BODY
    r = send(client, auth, method, path.format(bad), body)
    err = assert_error_shape(r, 422, "validation_error")
    assert err["errors"][0]["field"] == field
    assert field in err["message"]
    assert snapshot(db) == before


BAD_BODY_IDS: list[Any] = [
    "abc",
    "1" * 21,
    2**64,
    "18446744073709551616",
    "99999999999999999999",
    -1,
    "-1",
    1.5,
    True,
    None,
    "",
    " 1",
    "1\n",
    [1],
]


@pytest.mark.parametrize("bad", BAD_BODY_IDS, ids=repr)
@pytest.mark.parametrize(
    ("path", "field"),
    [("/profile", "guild_id"), ("/profile/add", "user_id"), ("/profile/", "user_id")],
)
def test_invalid_snowflake_in_body_names_the_field_and_index(
    shared: Shared, path: str, field: str, bad: Any
) -> None:
    client, auth, db = shared.client, shared.auth, shared.db
    before = snapshot(db)
    good = {"guild_id": 1, "user_id": "2", "experience": 1}
    item = {**good, field: bad}
    r = client.patch(path, json=[good, item], headers=auth)
    err = assert_error_shape(r, 422, "validation_error")
    assert err["errors"][0]["field"] == f"[1].{field}"
    assert err["index"] == 1
    assert err["message"].startswith("item 1: ")
    assert snapshot(db) == before


# -- size limits -----------------------------------------------------------------------------

# '{"x":""}' is 8 bytes, so "y" * (10240 - 8) encodes to exactly the 10 KB limit.
AT_LIMIT = {"x": "y" * (10 * 1024 - 8)}
OVER_LIMIT = {"x": "y" * (10 * 1024 - 7)}


@pytest.mark.parametrize(
    ("method", "path", "make"),
    [
        ("POST", "/profile/1/3", lambda d: {"data": d}),
        ("PATCH", "/profile/1/2", lambda d: {"data": d}),
        ("PATCH", "/profile/1/3/add", lambda d: {"data": d}),
        ("PATCH", "/profile", lambda d: [{"guild_id": 1, "user_id": 2, "data": d}]),
        ("PATCH", "/profile/add", lambda d: [{"guild_id": 1, "user_id": 3, "data": d}]),
    ],
)
def test_data_limit_is_10_kb_encoded(
    client: TestClient,
    auth: dict,
    db: sqlite3.Connection,
    seeded: None,
    method: str,
    path: str,
    make: Any,
) -> None:
    before = snapshot(db)
    r = client.request(method, path, json=make(OVER_LIMIT), headers=auth)
    err = assert_error_shape(r, 413, "payload_too_large")
    assert "data" in err["message"]
    if path.endswith(("/profile", "/add")) and isinstance(make(OVER_LIMIT), list):
        assert err["index"] == 0
    assert snapshot(db) == before
    ok = client.request(method, path, json=make(AT_LIMIT), headers=auth)
    assert ok.status_code in (200, 201), ok.text


def _nested(depth: int) -> dict:
    data: dict = {}
    for _ in range(depth - 1):
        data = {"a": data}
    return data


@pytest.mark.parametrize(
    ("method", "path", "make"),
    [
        ("POST", "/profile/1/3", lambda d: {"data": d}),
        ("PATCH", "/profile/1/2", lambda d: {"data": d}),
        ("PATCH", "/profile/1/3/add", lambda d: {"data": d}),
        ("PATCH", "/profile/add", lambda d: [{"guild_id": 1, "user_id": 3, "data": d}]),
    ],
)
def test_data_nesting_is_limited_to_64_levels(
    client: TestClient,
    auth: dict,
    db: sqlite3.Connection,
    seeded: None,
    method: str,
    path: str,
    make: Any,
) -> None:
    before = snapshot(db)
    r = client.request(method, path, json=make(_nested(65)), headers=auth)
    err = assert_error_shape(r, 422, "validation_error")
    assert err["errors"][0]["field"].endswith("data")
    assert snapshot(db) == before
    ok = client.request(method, path, json=make(_nested(64)), headers=auth)
    assert ok.status_code in (200, 201), ok.text


def test_data_merged_by_add_past_the_limit_is_refused(
    client: TestClient, auth: dict, db: sqlite3.Connection
) -> None:
    ensure(client, auth, 1, 2, data={"a": "y" * 6000})
    before = snapshot(db)
    r = client.patch("/profile/1/2/add", json={"data": {"b": "y" * 6000}}, headers=auth)
    assert_error_shape(r, 413, "payload_too_large")
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/profile/1/3"),
        ("PATCH", "/profile/1/2"),
        ("PATCH", "/profile"),
        ("PATCH", "/profile/add"),
    ],
)
def test_body_over_1_mib_is_413(shared: Shared, method: str, path: str) -> None:
    client, auth, db = shared.client, shared.auth, shared.db
    before = snapshot(db)
    raw = b'{"data": {"x": "' + b"y" * (1024 * 1024) + b'"}}'
    r = client.request(
        method, path, content=raw, headers={**auth, "Content-Type": "application/json"}
    )
    assert_error_shape(r, 413, "payload_too_large")
    assert snapshot(db) == before


@pytest.mark.parametrize(("size", "status"), [(1024 * 1024, 200), (1024 * 1024 + 1, 413)])
def test_the_body_limit_is_exactly_1_mib(
    client: TestClient, auth: dict, seeded: None, size: int, status: int
) -> None:
    body = b'{"level": 3}'
    padded = body + b" " * (size - len(body))  # JSON whitespace: only the size changes
    r = client.patch(
        "/profile/1/2", content=padded, headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == status, r.text
