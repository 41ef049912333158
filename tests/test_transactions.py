"""SPEC §6 against the in-process app: transfers and their sides, refusals, profiles on the
ledger, a full disk, and the OpenAPI entry. Arrays and idempotency are in
test_transactions_arrays.py, reading and reverting in test_transactions_history.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import TestClient

from storage.ids import vp_id
from tests import backend, transactions_helpers
from tests.conftest import BOT, OTHER_BOT
from tests.transactions_helpers import (
    ALICE,
    BOB,
    T2,
    A,
    B,
    C,
    G,
    T,
    balances,
    entry_count,
    profile,
    send,
)

funded = transactions_helpers.funded  # a fixture shared by several modules


# -- sides -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst", "src_vp", "dst_vp"),
    [
        (A, B, A, B),
        ({"user_id": ALICE, "guild_id": G}, B, A, B),
        ({"user_id": int(ALICE), "guild_id": int(G)}, {"user_id": BOB, "guild_id": G}, A, B),
        ("self", C, T, C),
        (A, "self", A, T),
        (A, T, A, T),
        (T, B, T, B),
    ],
)
def test_sides_name_profiles_and_treasury(
    funded: TestClient, auth: dict, db: backend.Connection, src, dst, src_vp, dst_vp
) -> None:
    before = balances(db)
    r = send(funded, auth, {"from": src, "to": dst, "amount": 7, "reason": "gift"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["from"]["id"] == src_vp and body["to"]["id"] == dst_vp
    assert body["amount"] == 7 and body["reason"] == "gift" and body["kind"] == "transfer"
    assert body["bot_id"] == BOT
    after = balances(db)
    assert after[src_vp] == before[src_vp] - 7 == body["balances"]["from"]
    assert after[dst_vp] == before[dst_vp] + 7 == body["balances"]["to"]


def test_transaction_object_shape(funded: TestClient, auth: dict) -> None:
    body = send(funded, auth, {"from": "self", "to": A, "amount": 300}).json()
    assert body["from"] == {"id": T, "bot_id": BOT}
    assert body["to"] == {"id": A, "guild_id": G, "user_id": ALICE}
    assert body["balances"] == {"from": -400, "to": 400}
    assert isinstance(body["id"], int) and isinstance(body["timestamp"], float)


def test_treasury_may_go_negative_user_may_not(funded: TestClient, auth: dict) -> None:
    r = send(funded, auth, {"from": "self", "to": B, "amount": 10**9})
    assert r.status_code == 201 and r.json()["balances"]["from"] < 0


# -- refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "needle"),
    [
        ({"from": A, "to": A, "amount": 1}, 422, "same_account", "to"),
        ({"from": "self", "to": T, "amount": 1}, 422, "same_account", "to"),
        (
            {"from": {"user_id": ALICE, "guild_id": G}, "to": A, "amount": 1},
            422,
            "same_account",
            "to",
        ),
        ({"from": A, "to": B, "amount": 0}, 422, None, "amount"),
        ({"from": A, "to": B, "amount": -1}, 422, None, "amount"),
        ({"from": A, "to": B, "amount": 1.5}, 422, None, "amount"),
        ({"from": A, "to": B, "amount": "5"}, 422, None, "amount"),
        ({"from": A, "to": B, "amount": 2**53}, 422, None, "amount"),
        ({"from": A, "to": B, "amount": 1, "reason": "x" * 201}, 422, None, "reason"),
        ({"from": A, "to": B}, 422, None, "amount"),
        ({"from": "nobody", "to": B, "amount": 1}, 422, None, "from"),
        ({"from": A, "to": {"user_id": "x", "guild_id": G}, "amount": 1}, 422, None, "to"),
        ({"from": A, "to": B, "amount": 1, "extra": 1}, 422, None, "extra"),
        ({"from": vp_id(G, 9), "to": B, "amount": 1}, 404, "unknown_account", "from"),
        ({"from": A, "to": vp_id(G, 9), "amount": 1}, 404, "unknown_account", "to"),
        (
            {"from": A, "to": {"user_id": 9, "guild_id": G}, "amount": 1},
            404,
            "unknown_account",
            "to",
        ),
        ({"from": A, "to": B, "amount": 101}, 409, "insufficient_funds", "from"),
        ({"from": B, "to": A, "amount": 1}, 409, "insufficient_funds", "from"),
    ],
)
def test_refused_transfers_move_nothing(
    funded: TestClient, auth: dict, db: backend.Connection, body, status, code, needle
) -> None:
    before, count = balances(db), entry_count(db)
    r = send(funded, auth, body)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["status"] == status
    if code:
        assert err["code"] == code
    assert needle in r.text
    assert balances(db) == before and entry_count(db) == count


def test_reason_of_200_chars_is_fine(funded: TestClient, auth: dict) -> None:
    assert (
        send(funded, auth, {"from": A, "to": B, "amount": 1, "reason": "é" * 200}).status_code
        == 201
    )


def test_insufficient_funds_names_the_balance(funded: TestClient, auth: dict) -> None:
    err = send(funded, auth, {"from": A, "to": B, "amount": 150}).json()
    assert err["code"] == "insufficient_funds" and err["balance"] == 100
    assert err["side"] == "from"


def test_closed_profile_is_unknown(funded: TestClient, auth: dict) -> None:
    assert funded.delete(f"/profile/{G}/{BOB}", headers=auth).status_code == 204
    r = send(funded, auth, {"from": A, "to": B, "amount": 1})
    assert r.status_code == 404 and r.json()["side"] == "to"


def test_impostor_cannot_spend_another_treasury(
    funded: TestClient, auth: dict, make_key, db: backend.Connection
) -> None:
    other = make_key(OTHER_BOT)
    assert send(funded, other, {"from": "self", "to": A, "amount": 5}).status_code == 201
    before = balances(db)
    for src in (T2, T):
        # BOT spending OTHER_BOT's treasury, and OTHER_BOT spending BOT's, by raw vp_id
        key = auth if src == T2 else other
        r = send(funded, key, {"from": src, "to": B, "amount": 1})
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "impostor"
    assert balances(db) == before
    # paying into another bot's treasury is fine
    assert send(funded, auth, {"from": A, "to": T2, "amount": 1}).status_code == 201


def test_scopes(funded: TestClient, make_key) -> None:
    reader = make_key(scopes=("ledger:read",))
    r = send(funded, reader, {"from": "self", "to": A, "amount": 1})
    assert r.status_code == 403 and "ledger:write" in r.json()["message"]
    writer = make_key(scopes=("ledger:write",))
    assert funded.get("/transaction", headers=writer).status_code == 403
    assert funded.get("/transaction").status_code == 401


# -- profiles on the ledger ----------------------------------------------------------------


def test_profile_create_with_voicepoints_is_a_reset_entry(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    r = client.post(f"/profile/{G}/{ALICE}", json={"voicepoints": 250}, headers=auth)
    assert r.status_code == 201 and r.json()["voicepoints"] == 250
    entries = client.get("/transaction", headers=auth).json()
    assert len(entries) == 1
    e = entries[0]
    assert e["kind"] == "reset" and e["amount"] == 250
    assert e["from"]["id"] == T and e["to"]["id"] == A
    assert balances(db) == {T: -250, A: 250}


@pytest.mark.parametrize(
    ("start", "reset", "kind_amount"),
    [(100, 40, (A, T, 60)), (100, 250, (T, A, 150)), (100, 100, None), (100, None, (A, T, 100))],
)
def test_reset_moves_the_difference(
    client: TestClient, auth: dict, db: backend.Connection, start, reset, kind_amount
) -> None:
    profile(client, auth, ALICE, start)
    count = entry_count(db)
    body = {} if reset is None else {"voicepoints": reset}
    r = client.post(f"/profile/{G}/{ALICE}", json=body, headers=auth)
    assert r.status_code == 200 and r.json()["voicepoints"] == (reset or 0)
    if kind_amount is None:
        assert entry_count(db) == count
        return
    last = client.get("/transaction", params={"limit": 1}, headers=auth).json()[0]
    assert last["kind"] == "reset"
    assert (last["from"]["id"], last["to"]["id"], last["amount"]) == kind_amount
    assert balances(db)[A] == (reset or 0) and sum(balances(db).values()) == 0


def test_delete_returns_the_balance_with_a_close_entry(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    profile(client, auth, ALICE, 80)
    assert client.delete(f"/profile/{G}/{ALICE}", headers=auth).status_code == 204
    last = client.get("/transaction", params={"limit": 1}, headers=auth).json()[0]
    assert last["kind"] == "close" and last["amount"] == 80
    assert (last["from"]["id"], last["to"]["id"]) == (A, T)
    assert balances(db) == {T: 0, A: 0}
    # history stays
    assert (
        client.get("/transaction", params={"vp_id": A}, headers=auth).headers["X-Total-Count"]
        == "2"
    )


# -- storage failure -----------------------------------------------------------------------


@pytest.mark.sqlite_only  # the disk-full trick: SQLite's max_page_count
def test_disk_full_is_503_acknowledges_nothing_and_reads_keep_working(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    writer = funded.app.state.services.writer
    count, before = entry_count(db), balances(db)
    pages = writer._ctx.conn.execute("PRAGMA page_count").fetchone()[0]

    def fill(ctx: Any, _: None) -> None:
        ctx.conn.execute(f"PRAGMA max_page_count = {pages}")

    asyncio.run(writer.run(fill, None))
    # Big reasons need new pages: the write cannot be made durable.
    big = [{"from": "self", "to": B, "amount": 1, "reason": "x" * 200}] * 200
    r = send(funded, auth, big, key="full")
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "storage_unavailable"
    assert entry_count(db) == count and balances(db) == before
    assert funded.get("/transaction", headers=auth).status_code == 200
    assert funded.get(f"/profile/{G}/{ALICE}", headers=auth).json()["voicepoints"] == 100

    def unfill(ctx: Any, _: None) -> None:
        ctx.conn.execute("PRAGMA max_page_count = 4294967294")

    asyncio.run(writer.run(unfill, None))
    # nothing about the failed attempt was stored: the key works once space is back
    r = send(funded, auth, big, key="full")
    assert r.status_code == 201 and entry_count(db) == count + 200


def test_openapi_documents_the_body_and_hides_the_bench_route(client: TestClient) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    body = paths["/transaction"]["post"]["requestBody"]["content"]["application/json"]
    one = next(s for s in body["schema"]["anyOf"] if s.get("type") == "object")
    array = next(s for s in body["schema"]["anyOf"] if s.get("type") == "array")
    assert {"from", "to", "amount", "reason"} <= set(one["properties"])
    assert array["items"] == one  # a transfer, or an array of them
    assert "/bench/noop" not in paths
    assert client.post("/bench/noop").status_code in (401, 404)
