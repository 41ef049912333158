"""Every way a profile request can be wrong, SPEC §4 and §5: the status, the machine
code, the field named, the JSON error shape, and nothing written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.queries import keys
from tests.profile_support import ensure, snapshot

NO_BODY = object()
BIG = 2**53


def _json(raw: bytes) -> dict[str, Any]:
    return {"content": raw, "headers": {"Content-Type": "application/json"}}


def send(client: TestClient, auth: dict, method: str, path: str, body: Any) -> Any:
    if body is NO_BODY:
        return client.request(method, path, headers=auth)
    if isinstance(body, bytes):
        kwargs = _json(body)
        return client.request(
            method, path, content=kwargs["content"], headers={**auth, **kwargs["headers"]}
        )
    return client.request(method, path, json=body, headers=auth)


def assert_error_shape(r: Any, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert {"status", "code", "message"} <= set(body)
    assert (body["status"], body["code"]) == (status, code), body
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in r.text
    return body  # type: ignore[no-any-return]


@pytest.fixture
def seeded(client: TestClient, auth: dict) -> None:
    """Profile 1/2 exists with some values; 1/3 does not."""
    ensure(client, auth, 1, 2, experience=10, pray={"streak": 1}, data={"a": 1})


@dataclass
class Shared:
    client: TestClient
    auth: dict[str, str]
    db: sqlite3.Connection


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    """One app for the tables of refused requests: each case checks that it changed
    nothing, so they can share a database (and the suite stays fast)."""
    path = tmp_path_factory.mktemp("errors") / "vp.db"
    with TestClient(create_app(Settings(db=path, key_cache_seconds=0.0))) as client:
        conn = connect(path)
        apply_migrations(conn)
        _, secret = keys.create_key(conn, "errors", "111111111111111111")
        conn.close()
        auth = {"Authorization": secret}
        ensure(client, auth, 1, 2, experience=10, pray={"streak": 1}, data={"a": 1})
        db = sqlite3.connect(path, isolation_level=None)
        yield Shared(client, auth, db)
        db.close()


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


# -- content types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/profile/1/3"),
        ("PATCH", "/profile/1/2"),
        ("PATCH", "/profile/1/2/add"),
        ("PATCH", "/profile"),
    ],
)
def test_a_body_that_is_not_json_is_415(
    shared: Shared, method: str, path: str, content_type: str
) -> None:
    client, auth, db = shared.client, shared.auth, shared.db
    before = snapshot(db)
    r = client.request(method, path, content=b"{}", headers={**auth, "Content-Type": content_type})
    err = assert_error_shape(r, 415, "unsupported_media_type")
    assert "application/json" in err["message"]
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
    ],
)
def test_json_content_types_are_accepted(
    client: TestClient, auth: dict, seeded: None, content_type: str
) -> None:
    r = client.patch(
        "/profile/1/2", content=b'{"level": 4}', headers={**auth, "Content-Type": content_type}
    )
    assert (r.status_code, r.json()["level"]) == (200, 4)


def test_an_empty_form_post_creates_with_defaults(client: TestClient, auth: dict) -> None:
    # `curl -X POST -d ''` sends an empty form: there is no body to misread.
    r = client.post(
        "/profile/1/3",
        content=b"",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201


# -- public pages ----------------------------------------------------------------------------


def test_index_is_an_html_page_listing_every_endpoint(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    for path in [
        "/profile",
        "/profile/{guild_id}",
        "/profile/guilds",
        "/profile/guilds/{user_id}",
        "/profile/{guild_id}/{user_id}",
        "/profile/{guild_id}/{user_id}/add",
        "/profile/add",
    ]:
        assert f"<code>{path}</code>" in r.text, path
    assert 'href="/schema/swagger"' in r.text


def test_openapi_is_public_and_documents_the_profile_api(client: TestClient) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"get", "post", "patch", "delete"} <= set(paths["/profile/{guild_id}/{user_id}"])
    assert "POST /transaction" in paths["/profile/{guild_id}/{user_id}"]["patch"]["description"]
    # the handlers decode their bodies themselves; the schemas are still published
    for path, method, title in [
        ("/profile/{guild_id}/{user_id}", "post", "ProfileCreate"),
        ("/profile/{guild_id}/{user_id}", "patch", "ProfileEdit"),
        ("/profile/{guild_id}/{user_id}/add", "patch", "ProfileAdd"),
        ("/profile", "patch", "ProfileEditItem"),
        ("/profile/add", "patch", "ProfileAddItem"),
        ("/keys", "post", "KeyCreate"),
    ]:
        body = paths[path][method]["requestBody"]
        assert title in str(body["content"]["application/json"]["schema"]), (path, method)
    assert paths["/profile/{guild_id}/{user_id}"]["post"]["requestBody"]["required"] is False
    assert client.get("/schema/swagger").status_code == 200


def test_health_is_public(client: TestClient) -> None:
    r = client.get("/health")
    assert (r.status_code, r.json()["status"]) == (200, "ok")
