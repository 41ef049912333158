"""Importing a guild (SPEC §12), what is refused: bad values named by page and item with
nothing applied, bad CSV, a treasury that cannot pay, scopes, wrong requests, body limits,
and arrays of countless numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app import import_sources
from app.cli import main
from tests import backend
from tests.import_helpers import (
    GUILD,
    MAX,
    amari_page,
    counts,
    mee6_page,
    post,
    profile,
    tatsu_page,
    uid,
    unb_page,
    unb_users,
)
from tests.profile_support import ensure, snapshot

BAD = [
    ("unbelievaboat", "cash", -5, "negative"),
    ("unbelievaboat", "bank", "Infinity", "not a finite number"),
    ("unbelievaboat", "total", 2**53, "above 2^53-1"),
    ("unbelievaboat", "user_id", "12ab", "not a snowflake"),
    ("mee6", "id", str(2**64), "not a snowflake"),
    ("mee6", "xp", 1.5, "not a whole number"),
    ("mee6", "level", -1, "negative"),
    ("amari", "exp", "lots", "not a number"),
    ("tatsu", "score", 2**60, "above 2^53-1"),
    ("tatsu", "score", "9" * 5000, "above 2^53-1"),
    ("amari", "exp", "-" + "9" * 5000, "negative"),
]


def _pages_with_bad_value(source: str, field: str, value: Any) -> Any:
    if source == "unbelievaboat":
        pages: Any = [unb_page(p, 300, 3) for p in range(3)]
        pages[2]["users"][123][field] = value
        return pages
    pages = {
        "mee6": [mee6_page(p, 300) for p in range(3)],
        "amari": [amari_page(p, 300, 900) for p in range(3)],
        "tatsu": [tatsu_page(p, 300) for p in range(3)],
    }[source]
    key = {"mee6": "players", "amari": "data", "tatsu": "rankings"}[source]
    pages[2][key][123][field] = value
    return pages


@pytest.mark.parametrize(("source", "field", "value", "why"), BAD)
def test_bad_data_is_refused_naming_page_and_item_and_nothing_is_applied(
    client: TestClient,
    auth: dict,
    db: backend.Connection,
    source: str,
    field: str,
    value: Any,
    why: str,
) -> None:
    ensure(client, auth, GUILD, uid(0), experience=1)
    before = snapshot(db)
    r = post(client, auth, source, _pages_with_bad_value(source, field, value))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["message"].startswith(f"page 2, item 123: {field}: ")
    assert why in body["message"]
    assert (body["page"], body["item"]) == (2, 123)
    assert body["errors"][0]["field"].endswith(f"[123].{field}")
    assert snapshot(db) == before


def test_a_bad_csv_line_is_named(client: TestClient, auth: dict, db: backend.Connection) -> None:
    before = snapshot(db)
    text = f"user_id,level\n{uid(1)},3\n{uid(2)},-4\n"
    r = post(client, auth, "csv", text)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "line 3: level: '-4' is negative"
    assert snapshot(db) == before


def test_csv_extra_columns_blank_cells_and_a_bom(client: TestClient, auth: dict) -> None:
    ensure(client, auth, GUILD, uid(2), level=8)
    text = (
        f"\ufeffUser_ID,nickname,level,experience\r\n{uid(1)},bob,3,30\r\n{uid(2)},ann,,70\r\n\r\n"
    )
    r = post(client, auth, "csv", text)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (1, 1, 0)
    assert (profile(client, auth, 2)["level"], profile(client, auth, 2)["experience"]) == (8, 70)


@pytest.mark.parametrize("text", [f"user_id,level\n{uid(1)},\x003\n", "user_id\n" + "9" * 200_000])
def test_malformed_csv_is_refused_naming_the_line(
    client: TestClient, auth: dict, text: str
) -> None:
    r = post(client, auth, "csv", text)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith("line 2: ")


def test_csv_without_user_id_is_refused(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "csv", "id,level\n1,2\n")
    assert r.status_code == 422 and "user_id" in r.json()["message"]


def test_a_treasury_that_cannot_pay_refuses_the_whole_import(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    users = [{"user_id": uid(i), "cash": MAX, "bank": 0} for i in range(2)]
    before = snapshot(db)
    r = post(client, auth, "unbelievaboat", users)
    assert r.status_code == 409 and r.json()["code"] == "balance_limit", r.text
    assert snapshot(db) == before


# -- who may, what is sent ----------------------------------------------------------------


def test_scopes(client: TestClient, make_key: Callable[..., dict], db: backend.Connection) -> None:
    reader = make_key(scopes=("profiles:read",))
    r = post(client, reader, "mee6", mee6_page(0, 3))
    assert r.status_code == 403 and r.json()["message"] == "missing scope profiles:write"
    no_money = make_key(scopes=("profiles:read", "profiles:write"))
    assert post(client, no_money, "mee6", mee6_page(0, 3)).status_code == 200
    before = snapshot(db)
    r = post(client, no_money, "unbelievaboat", unb_users(0, 3))
    assert r.status_code == 403 and r.json()["message"] == "missing scope ledger:write"
    assert snapshot(db) == before
    # balances that already match move nothing: no ledger scope needed
    assert post(client, make_key(), "unbelievaboat", unb_users(0, 3)).status_code == 200
    assert post(client, no_money, "unbelievaboat", unb_users(0, 3)).status_code == 200


def test_requests_that_are_wrong(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "arcane", mee6_page(0, 1))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source"
    r = post(client, auth, "mee6", mee6_page(0, 1), guild="not-a-guild")
    assert r.status_code == 422
    url = f"/profile/{GUILD}/import?source=mee6"
    r = client.post(url, content=b"id\n1\n", headers={**auth, "content-type": "text/csv"})
    assert r.status_code == 415
    r = client.post(url, content=b'{"players": [', headers=auth)
    assert r.status_code == 400
    r = client.post(url, json={"players": {"id": 1}}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "players"


def test_the_route_takes_a_large_body_and_others_keep_their_limit(
    client: TestClient, auth: dict
) -> None:
    pages = [mee6_page(p, 1000) for p in range(12)]  # ~3.6 MB, as MEE6 answers
    body = json.dumps(pages).encode()
    assert len(body) > 2 * 1024 * 1024
    r = client.post(f"/profile/{GUILD}/import?source=mee6", content=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 12_000
    r = client.patch("/profile/add", content=body, headers=auth)
    assert r.status_code == 413


def test_a_body_of_countless_tiny_objects_is_refused_before_decoding(
    client: TestClient, auth: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_sources, "MAX_STRUCTURES", 1000)
    body = b"[" + b",".join([b"{}"] * 1001) + b"]"
    r = client.post(f"/profile/{GUILD}/import?source=tatsu", content=body, headers=auth)
    assert r.status_code == 413 and "members in one import" in r.json()["message"]


def test_imported_balances_pass_ledger_verify(
    client: TestClient, auth: dict, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    post(client, auth, "unbelievaboat", unb_users(0, 300))
    post(client, auth, "unbelievaboat", unb_users(0, 300, scale=3))
    post(client, auth, "csv", f"user_id,voicepoints\n{uid(4)},0\n")
    assert main(["ledger", "verify", "--db", str(backend.target(db_path))]) == 0


@pytest.mark.parametrize("source", ["mee6", "unbelievaboat"])
def test_an_array_of_countless_numbers_is_refused_without_being_built(source: str) -> None:
    import tracemalloc

    body = b"[" + b"1," * 2_000_000 + b"1]"  # 4 MB: no object or array to count
    tracemalloc.start()
    try:
        with pytest.raises(import_sources.InvalidValue) as refused:
            import_sources.parse(source, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.extra["errors"][0]["field"] == "[0]"
    assert peak < 20 * 1024 * 1024  # two million decoded items would take far more
