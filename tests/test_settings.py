"""Settings store (SPEC §9): the reference's examples, overwrite semantics, the 10 KB
boundary, and each bot seeing only its own settings."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import BOT, OTHER_BOT

GUILD = "339114875769061409"
CHANNEL = "300407204987666432"
SETTING = f"/settings/guilds/{GUILD}"
SUB = f"{SETTING}/channels/{CHANNEL}"


def test_setting_round_trip_as_in_the_reference(client: TestClient, auth: dict) -> None:
    created = client.post(SETTING, headers=auth, json={"prefix": "poi", "smartrec": True})
    expected = {
        "status": 200,
        "setting": {
            "id": GUILD,
            "type": "guilds",
            "accountId": BOT,
            "data": {"prefix": "poi", "smartrec": True},
        },
    }
    assert (created.status_code, created.json()) == (200, expected)
    assert list(created.json()) == ["status", "setting"]
    fetched = client.get(SETTING, headers=auth)
    assert (fetched.status_code, fetched.json()) == (200, expected)

    client.post(SETTING, headers=auth, json={"prefix": "awuu"})
    deleted = client.delete(SETTING, headers=auth)
    assert deleted.status_code == 200
    assert deleted.json() == {
        "status": 200,
        "message": "Setting deleted",
        "setting": {"id": GUILD, "type": "guilds", "accountId": BOT, "data": {"prefix": "awuu"}},
    }
    gone = client.get(SETTING, headers=auth)
    assert gone.status_code == 404
    assert gone.json() == {"status": 404, "code": 404, "message": "Setting not found"}


def test_subsetting_round_trip_as_in_the_reference(client: TestClient, auth: dict) -> None:
    listing = client.get(f"{SETTING}/channels", headers=auth)
    # An empty list is the original's 404.
    assert (listing.status_code, listing.json()) == (
        404,
        {"status": 404, "code": 404, "message": "Not Found"},
    )

    created = client.post(SUB, headers=auth, json={"name": "general"})
    subsetting = {
        "id": GUILD,
        "type": "guilds",
        "accountId": BOT,
        "data": {"name": "general"},
        "subId": CHANNEL,
        "subType": "channels",
    }
    assert (created.status_code, created.json()) == (
        200,
        {"status": 200, "subsetting": subsetting},
    )
    assert client.get(SUB, headers=auth).json() == {"status": 200, "subsetting": subsetting}
    listing = client.get(f"{SETTING}/channels", headers=auth)
    assert listing.json() == {"status": 200, "subsettings": [subsetting]}

    deleted = client.delete(SUB, headers=auth)
    assert deleted.json() == {
        "status": 200,
        "message": "Subsetting deleted",
        "subsetting": subsetting,
    }
    gone = client.get(SUB, headers=auth)
    assert gone.status_code == 404
    assert gone.json() == {"status": 404, "code": 404, "message": "Subsetting not found"}
    assert client.delete(SUB, headers=auth).status_code == 404


def test_list_holds_one_subtype_ordered_by_subid(client: TestClient, auth: dict) -> None:
    for sub in ["b", "a", "c"]:
        client.post(f"{SETTING}/members/{sub}", headers=auth, json={"n": sub})
    client.post(f"{SETTING}/channels/x", headers=auth, json={})
    client.post("/settings/guilds/other/members/z", headers=auth, json={})
    members = client.get(f"{SETTING}/members", headers=auth).json()["subsettings"]
    assert [(m["subId"], m["data"]) for m in members] == [
        ("a", {"n": "a"}),
        ("b", {"n": "b"}),
        ("c", {"n": "c"}),
    ]


def test_settings_and_subsettings_are_independent(client: TestClient, auth: dict) -> None:
    client.post(SETTING, headers=auth, json={"prefix": "!"})
    client.post(SUB, headers=auth, json={"name": "general"})
    client.delete(SETTING, headers=auth)
    assert client.get(SUB, headers=auth).status_code == 200
    client.post(SETTING, headers=auth, json={"prefix": "?"})
    client.delete(SUB, headers=auth)
    assert client.get(SETTING, headers=auth).json()["setting"]["data"] == {"prefix": "?"}


def test_post_overwrites_the_whole_document(client: TestClient, auth: dict) -> None:
    client.post(SETTING, headers=auth, json={"prefix": "poi", "smartrec": True})
    client.post(SETTING, headers=auth, json={"prefix": "awuu"})
    assert client.get(SETTING, headers=auth).json()["setting"]["data"] == {"prefix": "awuu"}


@pytest.mark.parametrize(
    "value",
    [{}, {"nested": {"list": [1, 2.5, None, "x"]}}, [1, 2, 3], "text", 42, True, None, "ünïcode"],
)
def test_any_json_is_stored_as_sent(client: TestClient, auth: dict, value: Any) -> None:
    response = client.post(SUB, headers=auth, content=json.dumps(value))
    assert response.status_code == 200, response.text
    assert client.get(SUB, headers=auth).json()["subsetting"]["data"] == value


def _body_of(size: int) -> bytes:
    body = json.dumps({"pad": ""}).encode()
    return json.dumps({"pad": "x" * (size - len(body))}).encode()


@pytest.mark.parametrize(("size", "status"), [(10239, 200), (10240, 200), (10241, 413)])
@pytest.mark.parametrize("path", [SETTING, SUB])
def test_body_limit_is_10_kb(
    client: TestClient, auth: dict, path: str, size: int, status: int
) -> None:
    body = _body_of(size)
    assert len(body) == size
    response = client.post(path, headers=auth, content=body)
    assert response.status_code == status
    if status == 413:
        assert response.json()["code"] == 413 and "10240" in response.json()["message"]
        assert client.get(path, headers=auth).status_code == 404


@pytest.mark.parametrize("body", [b"", b"   ", b"{bad", b'{"a": 1', b"[1,]"])
def test_malformed_json_is_400(client: TestClient, auth: dict, body: bytes) -> None:
    response = client.post(SETTING, headers=auth, content=body)
    assert response.status_code == 400
    assert response.json()["status"] == 400 and response.json()["code"] == 400
    assert client.get(SETTING, headers=auth).status_code == 404


def test_long_path_segments_are_refused(client: TestClient, auth: dict) -> None:
    response = client.post(f"/settings/guilds/{'x' * 129}", headers=auth, json={})
    assert response.status_code == 400  # the reference knows no 422
    assert response.json()["code"] == 400 and response.json()["errors"][0]["field"] == "id"
    assert response.json()["in"] == "path"
    assert client.post(f"/settings/guilds/{'x' * 128}", headers=auth, json={}).status_code == 200


def test_writes_are_committed(client: TestClient, auth: dict, db: sqlite3.Connection) -> None:
    client.post(SUB, headers=auth, json={"name": "general"})
    rows = db.execute("SELECT bot_id, type, id, subtype, subid, data FROM settings_store")
    assert rows.fetchall() == [
        (f"{int(BOT):020d}", "guilds", GUILD, "channels", CHANNEL, '{"name":"general"}')
    ]


# -- isolation between bots ---------------------------------------------------------


def test_each_bot_sees_only_its_own(
    client: TestClient, auth: dict, make_key: Callable[..., dict[str, str]]
) -> None:
    other = make_key(OTHER_BOT)
    client.post(SETTING, headers=auth, json={"prefix": "a"})
    client.post(SUB, headers=auth, json={"name": "a"})

    assert client.get(SETTING, headers=other).status_code == 404
    assert client.get(SUB, headers=other).status_code == 404
    assert client.get(f"{SETTING}/channels", headers=other).status_code == 404
    assert client.delete(SETTING, headers=other).status_code == 404
    assert client.delete(SUB, headers=other).status_code == 404

    mine = client.post(SETTING, headers=other, json={"prefix": "b"}).json()
    assert mine["setting"]["accountId"] == OTHER_BOT
    assert client.get(SETTING, headers=auth).json()["setting"]["data"] == {"prefix": "a"}
    assert client.get(SETTING, headers=other).json()["setting"]["data"] == {"prefix": "b"}
    assert client.get(SUB, headers=auth).json()["subsetting"]["data"] == {"name": "a"}


def test_settings_scope_is_required(client: TestClient, make_key: Callable) -> None:
    headers = make_key(scopes=("reputation",))
    response = client.get(SETTING, headers=headers)
    assert response.status_code == 403
    assert response.json()["message"] == "missing scope settings"


def test_a_key_is_required(client: TestClient) -> None:
    assert client.get(SETTING).status_code == 401


def test_a_body_nested_too_deeply_is_400_not_500(client: TestClient, auth: dict) -> None:
    body = b"[" * 4000 + b"]" * 4000  # fits the 10 KB limit, too deep to decode
    r = client.post(
        "/settings/guilds/1", content=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["status"] == 400
    assert client.get("/settings/guilds/1", headers=auth).status_code == 404
