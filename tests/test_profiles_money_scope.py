"""Scopes hold for money (issue 10, finding 2): a profile write that moves a nonzero
balance (a create or reset to another balance, a delete of a funded profile) needs
`ledger:write` besides `profiles:write`; one that moves nothing does not. A refused
request changes nothing: no profile, balance or ledger entry."""

from __future__ import annotations

import sqlite3

import pytest
from litestar.testing import TestClient

from ledger import postings
from tests.conftest import BOT
from tests.profile_support import ensure, snapshot, treasury_balance

G, U = 131853185391, 1242154218
PATH = f"/profile/{G}/{U}"
REFUSED = {"status": 403, "code": "forbidden", "message": "missing scope ledger:write"}


@pytest.fixture
def profiles_only(make_key, client: TestClient) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A key of the same bot that may write profiles but not the ledger."""
    return make_key(scopes=("profiles:read", "profiles:write"), name="profiles-only")


def _refused(client: TestClient, db: sqlite3.Connection, method: str, headers: dict, **kw) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(db)
    r = client.request(method, PATH, headers=headers, **kw)
    assert (r.status_code, r.json()) == (403, REFUSED), r.text
    assert snapshot(db) == before


def test_the_refusal_reads_like_the_auth_guards(
    client: TestClient, profiles_only: dict, db: sqlite3.Connection
) -> None:
    guard = client.post(
        "/transaction",
        json={"from": "self", "to": {"guild_id": str(G), "user_id": str(U)}, "amount": 1},
        headers=profiles_only,
    )
    assert (guard.status_code, guard.json()) == (403, REFUSED)
    _refused(client, db, "POST", profiles_only, json={"voicepoints": 1})


@pytest.mark.parametrize("points", [1, 10**15])
def test_creating_with_voicepoints_mints_nothing(
    client: TestClient, profiles_only: dict, db: sqlite3.Connection, points: int
) -> None:
    _refused(client, db, "POST", profiles_only, json={"voicepoints": points})
    assert client.get(PATH, headers=profiles_only).status_code == 404
    assert treasury_balance(db, BOT) == 0


@pytest.mark.parametrize(
    "body", [None, {}, {"voicepoints": 0}, {"experience": 5}], ids=["none", "{}", "0", "other"]
)
def test_creating_at_zero_needs_only_profiles_write(
    client: TestClient, profiles_only: dict, db: sqlite3.Connection, body: dict | None
) -> None:
    r = client.post(PATH, json=body, headers=profiles_only)
    assert r.status_code == 201, r.text
    assert r.json()["voicepoints"] == 0
    assert snapshot(db)[1] == []  # no ledger entry


def test_resetting_a_funded_profile_moves_nothing(
    client: TestClient, auth: dict, profiles_only: dict, db: sqlite3.Connection
) -> None:
    ensure(client, auth, G, U, voicepoints=500, experience=7)
    # Omitting voicepoints would return the 500 to the treasury; lowering or raising
    # them moves the difference: all refused, the profile untouched.
    for body in (None, {}, {"voicepoints": 0}, {"voicepoints": 499}, {"voicepoints": 10**15}):
        _refused(client, db, "POST", profiles_only, json=body)
    profile = client.get(PATH, headers=profiles_only).json()
    assert (profile["voicepoints"], profile["experience"]) == (500, 7)
    assert treasury_balance(db, BOT) == -500


def test_a_reset_that_keeps_the_balance_needs_only_profiles_write(
    client: TestClient, auth: dict, profiles_only: dict, db: sqlite3.Connection
) -> None:
    ensure(client, auth, G, U, voicepoints=500, experience=7)
    ledger = snapshot(db)[1]
    r = client.post(PATH, json={"voicepoints": 500}, headers=profiles_only)
    assert r.status_code == 200, r.text
    assert (r.json()["voicepoints"], r.json()["experience"]) == (500, 0)
    assert snapshot(db)[1] == ledger


def test_a_reset_of_a_profile_at_zero(
    client: TestClient, profiles_only: dict, db: sqlite3.Connection
) -> None:
    ensure(client, profiles_only, G, U, experience=3)
    r = client.post(PATH, headers=profiles_only)
    assert r.status_code == 200, r.text
    assert r.json()["experience"] == 0
    _refused(client, db, "POST", profiles_only, json={"voicepoints": 10**15})
    assert snapshot(db)[1] == []


def test_deleting_a_funded_profile_is_refused(
    client: TestClient, auth: dict, profiles_only: dict, db: sqlite3.Connection
) -> None:
    ensure(client, auth, G, U, voicepoints=500)
    _refused(client, db, "DELETE", profiles_only)
    assert client.get(PATH, headers=profiles_only).json()["voicepoints"] == 500


def test_deleting_a_profile_at_zero_needs_only_profiles_write(
    client: TestClient, auth: dict, profiles_only: dict, db: sqlite3.Connection
) -> None:
    ensure(client, auth, G, U, voicepoints=500)
    ensure(client, auth, G, U)  # the full key returns the 500 to the treasury
    ledger = snapshot(db)[1]
    assert client.delete(PATH, headers=profiles_only).status_code == 204
    assert client.get(PATH, headers=profiles_only).status_code == 404
    assert snapshot(db)[1] == ledger
    assert client.delete(PATH, headers=profiles_only).status_code == 404


def test_with_ledger_write_the_balance_moves(
    client: TestClient,
    make_key,
    db: sqlite3.Connection,  # type: ignore[no-untyped-def]
) -> None:
    both = make_key(scopes=("profiles:read", "profiles:write", "ledger:write"))
    assert client.post(PATH, json={"voicepoints": 300}, headers=both).status_code == 201
    assert client.post(PATH, json={"voicepoints": 100}, headers=both).status_code == 200
    assert treasury_balance(db, BOT) == -100
    assert client.delete(PATH, headers=both).status_code == 204
    assert treasury_balance(db, BOT) == 0
    kinds = [row[0] for row in db.execute("SELECT kind FROM ledger ORDER BY id")]
    assert kinds == [postings.RESET, postings.RESET, postings.CLOSE]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", PATH, {"voicepoints": 5}),
        ("PATCH", f"{PATH}/add", {"voicepoints": 5}),
        ("PATCH", "/profile", [{"guild_id": G, "user_id": U, "voicepoints": 5}]),
        ("PATCH", "/profile/add", [{"guild_id": G, "user_id": U, "voicepoints": 5}]),
        ("PATCH", "/profile/add", [{"guild_id": G, "user_id": 7, "voicepoints": -5}]),
    ],
)
def test_edits_and_adds_never_move_voicepoints(
    client: TestClient,
    auth: dict,
    profiles_only: dict,
    db: sqlite3.Connection,
    method: str,
    path: str,
    body: object,
) -> None:
    """Even with every scope: voicepoints move only through the ledger's routes."""
    ensure(client, auth, G, U, voicepoints=500)
    before = snapshot(db)
    for headers in (profiles_only, auth):
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "voicepoints_read_only"
    assert snapshot(db) == before


def test_an_add_that_creates_a_profile_opens_it_at_zero(
    client: TestClient, profiles_only: dict, db: sqlite3.Connection
) -> None:
    r = client.patch(
        "/profile/add", json=[{"guild_id": G, "user_id": 9, "experience": 1}], headers=profiles_only
    )
    assert r.status_code == 200, r.text
    assert r.json()[0]["voicepoints"] == 0
    assert snapshot(db)[1] == []
