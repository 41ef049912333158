"""SPEC §6 against the in-process app: transfers, arrays, idempotency, revert, reads."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from litestar.testing import TestClient

from storage.ids import treasury_id, vp_id
from tests import backend
from tests.conftest import BOT, OTHER_BOT

G = "131853185391"
ALICE, BOB, CAROL = "1001", "1002", "1003"
A, B, C = (vp_id(G, u) for u in (ALICE, BOB, CAROL))
T = treasury_id(BOT)
T2 = treasury_id(OTHER_BOT)


def profile(client: TestClient, auth: dict, user: str, points: int = 0, guild: str = G) -> None:
    r = client.post(f"/profile/{guild}/{user}", json={"voicepoints": points}, headers=auth)
    assert r.status_code in (200, 201), r.text


def send(client: TestClient, auth: dict, body: Any, key: str | None = None) -> Any:
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return client.post("/transaction", json=body, headers=headers)


def balances(db: backend.Connection) -> dict[str, int]:
    return dict(db.execute("SELECT vp_id, balance FROM accounts"))


def entry_count(db: backend.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM ledger").fetchone()[0])


@pytest.fixture
def funded(client: TestClient, auth: dict) -> TestClient:
    """Alice 100, Bob 0, Carol 0 (all funded from BOT's treasury)."""
    profile(client, auth, ALICE, 100)
    profile(client, auth, BOB)
    profile(client, auth, CAROL)
    return client


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


# -- arrays ------------------------------------------------------------------------------


def test_array_applies_in_order(funded: TestClient, auth: dict, db: backend.Connection) -> None:
    # Bob can pay Carol only because Alice paid him first in the same array.
    r = send(
        funded,
        auth,
        [
            {"from": A, "to": B, "amount": 60},
            {"from": B, "to": C, "amount": 50},
            {"from": C, "to": "self", "amount": 50},
        ],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert [t["amount"] for t in body] == [60, 50, 50]
    assert body[0]["id"] < body[1]["id"] < body[2]["id"]
    got = balances(db)
    assert (got[A], got[B], got[C]) == (40, 10, 0)


@pytest.mark.parametrize(
    ("items", "index", "status", "code"),
    [
        (
            [{"from": A, "to": B, "amount": 60}, {"from": A, "to": C, "amount": 60}],
            1,
            409,
            "insufficient_funds",
        ),
        (
            [{"from": A, "to": B, "amount": 1}, {"from": A, "to": vp_id(G, 9), "amount": 1}],
            1,
            404,
            "unknown_account",
        ),
        (
            [{"from": A, "to": B, "amount": 1}] * 2 + [{"from": T2, "to": B, "amount": 1}],
            2,
            403,
            "impostor",
        ),
        (
            [{"from": A, "to": B, "amount": 1}, {"from": A, "to": A, "amount": 1}],
            1,
            422,
            "same_account",
        ),
        (
            [{"from": B, "to": A, "amount": 1}, {"from": A, "to": B, "amount": 1}],
            0,
            409,
            "insufficient_funds",
        ),
    ],
)
def test_array_is_atomic_and_names_first_failing_index(
    funded: TestClient, auth: dict, make_key, db: backend.Connection, items, index, status, code
) -> None:
    send(funded, make_key(OTHER_BOT), {"from": "self", "to": C, "amount": 1})  # T2 exists
    before, count = balances(db), entry_count(db)
    r = send(funded, auth, items)
    assert r.status_code == status, r.text
    err = r.json()
    assert err["code"] == code and err["index"] == index
    assert f"item {index}" in err["message"]
    assert balances(db) == before and entry_count(db) == count


def test_array_validation_error_names_index(funded: TestClient, auth: dict) -> None:
    r = send(funded, auth, [{"from": A, "to": B, "amount": 1}, {"from": A, "to": B, "amount": 0}])
    assert r.status_code == 422
    assert "[1]" in r.text or "1" in str(r.json().get("errors"))


def test_empty_array_is_refused(funded: TestClient, auth: dict) -> None:
    assert send(funded, auth, []).status_code == 422


def test_malformed_json_is_400(funded: TestClient, auth: dict) -> None:
    r = funded.post(
        "/transaction", content=b"{nope", headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 400


# -- idempotency ---------------------------------------------------------------------------


def test_replay_returns_the_same_outcome_and_moves_nothing(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    body = {"from": A, "to": B, "amount": 10}
    first = send(funded, auth, body, key="k1")
    after_first, count = balances(db), entry_count(db)
    second = send(funded, auth, body, key="k1")
    assert (
        (second.status_code, second.content)
        == (first.status_code, first.content)
        == (
            201,
            first.content,
        )
    )
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert balances(db) == after_first and entry_count(db) == count


def test_key_reused_with_another_body(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    send(funded, auth, {"from": A, "to": B, "amount": 10}, key="k")
    before = balances(db)
    r = send(funded, auth, {"from": A, "to": B, "amount": 11}, key="k")
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    assert balances(db) == before


def test_stored_refusal_is_replayed_even_once_funds_arrive(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    body = {"from": B, "to": C, "amount": 5}
    first = send(funded, auth, body, key="poor")
    assert first.status_code == 409 and first.json()["code"] == "insufficient_funds"
    send(funded, auth, {"from": A, "to": B, "amount": 50})
    before = balances(db)
    again = send(funded, auth, body, key="poor")
    assert (again.status_code, again.content) == (409, first.content)
    assert balances(db) == before


def test_array_replay(funded: TestClient, auth: dict, db: backend.Connection) -> None:
    body = [{"from": A, "to": B, "amount": 1}, {"from": A, "to": C, "amount": 2}]
    first = send(funded, auth, body, key="arr")
    count = entry_count(db)
    again = send(funded, auth, body, key="arr")
    assert again.status_code == 201 and again.content == first.content
    assert entry_count(db) == count


@pytest.mark.parametrize(("key", "status"), [("k" * 64, 201), ("k" * 65, 422), ("", 422)])
def test_key_length(funded: TestClient, auth: dict, key: str, status: int) -> None:
    headers = {**auth, "Idempotency-Key": key}
    r = funded.post("/transaction", json={"from": A, "to": B, "amount": 1}, headers=headers)
    assert r.status_code == status, r.text


def test_keys_are_per_bot(funded: TestClient, auth: dict, make_key, db: backend.Connection) -> None:
    other = make_key(OTHER_BOT)
    assert send(funded, auth, {"from": "self", "to": A, "amount": 1}, key="same").status_code == 201
    # the same key from another bot, with another body, is a new request
    r = send(funded, other, {"from": "self", "to": A, "amount": 2}, key="same")
    assert r.status_code == 201 and r.headers.get("Idempotent-Replayed") is None
    assert balances(db)[A] == 103


def test_validation_refusal_is_not_stored(funded: TestClient, auth: dict) -> None:
    assert send(funded, auth, {"from": A, "to": B, "amount": 0}, key="fix").status_code == 422
    assert send(funded, auth, {"from": A, "to": B, "amount": 1}, key="fix").status_code == 201


# -- reading -------------------------------------------------------------------------------


@pytest.fixture
def history(funded: TestClient, auth: dict, make_key) -> dict[str, int]:
    """A small ledger with two guilds and two bots; returns ids by name."""
    other = make_key(OTHER_BOT)
    profile(funded, auth, ALICE, 0, guild="999")
    ids = {}
    for name, key, body in [
        ("a_b", auth, {"from": A, "to": B, "amount": 10, "reason": "Lunch money"}),
        ("b_c", auth, {"from": B, "to": C, "amount": 5, "reason": "LUNCH split"}),
        ("t2_c", other, {"from": "self", "to": C, "amount": 7, "reason": "bonus"}),
        ("c_a", auth, {"from": C, "to": A, "amount": 3, "reason": "thanks"}),
        ("t_other_guild", auth, {"from": "self", "to": vp_id(999, ALICE), "amount": 4}),
    ]:
        r = send(funded, key, body)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return ids


def listed(client: TestClient, auth: dict, **params: Any) -> tuple[list[int], int]:
    r = client.get("/transaction", params=params, headers=auth)
    assert r.status_code == 200, r.text
    return [t["id"] for t in r.json()], int(r.headers["X-Total-Count"])


# Openings (3 resets + 1 for guild 999 without voicepoints moves nothing): ids 1 is
# Alice's reset; filters below are checked against the named transfers.
@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"reason": "lunch"}, ["b_c", "a_b"]),
        ({"reason": "LUNCH M"}, ["a_b"]),
        ({"vp_id": B}, ["b_c", "a_b"]),
        ({"vp_id": T2}, ["t2_c"]),
        ({"user_id": ALICE, "reason": ""}, ["t_other_guild", "c_a", "a_b", "open_a"]),
        ({"guild_id": "999"}, ["t_other_guild"]),
        ({"user_id": ALICE, "guild_id": "999"}, ["t_other_guild"]),
        ({"from": ALICE}, ["a_b"]),
        ({"from": B}, ["b_c"]),
        ({"to": A}, ["c_a", "open_a"]),
        ({"to": CAROL}, ["t2_c", "b_c"]),
        ({"to": "999"}, ["t_other_guild"]),
        ({"from": OTHER_BOT}, ["t2_c"]),
        ({"from": C, "to": ALICE}, ["c_a"]),
        ({"vp_id": C, "reason": "lunch"}, ["b_c"]),
        ({"user_id": "424242"}, []),
    ],
)
def test_filters(funded: TestClient, auth: dict, history: dict, params, names) -> None:
    history = {**history, "open_a": 1}
    ids, total = listed(funded, auth, **params)
    assert ids == [history[n] for n in names]
    assert total == len(names)


def test_newest_first_with_paging(funded: TestClient, auth: dict, history: dict) -> None:
    everything, total = listed(funded, auth)
    assert everything == sorted(everything, reverse=True) and total == len(everything) == 6
    assert listed(funded, auth, limit=2, page=1) == (everything[2:4], 6)
    assert listed(funded, auth, limit=4, page=1) == (everything[4:], 6)
    assert listed(funded, auth, limit=4, page=5) == ([], 6)
    assert listed(funded, auth, limit=2, vp_id=B) == (
        [history["b_c"], history["a_b"]],
        2,
    )


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_zero_or_less_returns_everything(
    funded: TestClient, auth: dict, history: dict, limit: int
) -> None:
    ids, total = listed(funded, auth, limit=limit)
    assert len(ids) == total == 6 and ids == sorted(ids, reverse=True)
    ids, total = listed(funded, auth, limit=limit, reason="lunch")
    assert ids == [history["b_c"], history["a_b"]] and total == 2


def test_streamed_list_crosses_chunks(funded: TestClient, auth: dict, history: dict) -> None:
    svc = funded.app.state.services
    svc.settings = dataclasses.replace(svc.settings, stream_chunk=2)  # 6 entries: 3 chunks
    everything, _ = listed(funded, auth, limit=50)
    assert listed(funded, auth, limit=0) == (everything, 6)
    assert listed(funded, auth, limit=0, user_id=ALICE) == (
        [history["t_other_guild"], history["c_a"], history["a_b"], 1],
        4,
    )


def test_after_before_are_exclusive(
    funded: TestClient, auth: dict, history: dict, db: backend.Connection
) -> None:
    # Give the entries distinct, known times (ms) through an independent connection,
    # keeping them non-decreasing along ids as the writer does.
    backend.drop_trigger(db, "ledger_no_update", "ledger")
    db.execute("UPDATE ledger SET ts = 1700000000000 + id * 1000")
    edge = history["b_c"]
    at = 1700000000 + edge  # the exact time of the edge entry, in seconds
    all_ids, _ = listed(funded, auth)
    assert listed(funded, auth, after=at)[0] == [i for i in all_ids if i > edge]
    assert listed(funded, auth, before=at)[0] == [i for i in all_ids if i < edge]
    assert listed(funded, auth, after=at - 0.001)[0] == [i for i in all_ids if i >= edge]
    assert listed(funded, auth, before=at + 0.001)[0] == [i for i in all_ids if i <= edge]
    assert listed(funded, auth, after=at - 1, before=at + 1) == ([edge], 1)
    assert listed(funded, auth, after=at, before=at) == ([], 0)
    assert listed(funded, auth, after=at + 10**6)[0] == []
    assert listed(funded, auth, before=0)[0] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"user_id": "abc"}, "user_id"),
        ({"guild_id": "1" * 21}, "guild_id"),
        ({"vp_id": "XYZ"}, "vp_id"),
        ({"from": "not-an-id"}, "from"),
        ({"limit": "many"}, "limit"),
        ({"page": -1}, "page"),
        ({"after": "yesterday"}, "after"),
        ({"before": "inf"}, "before"),
        ({"after": "nan"}, "after"),
    ],
)
def test_bad_filters_are_422(funded: TestClient, auth: dict, params, field) -> None:
    r = funded.get("/transaction", params=params, headers=auth)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_get_one(funded: TestClient, auth: dict) -> None:
    made = send(funded, auth, {"from": A, "to": B, "amount": 3, "reason": "r"}).json()
    got = funded.get(f"/transaction/{made['id']}", headers=auth)
    assert got.status_code == 200 and got.json() == made
    missing = funded.get("/transaction/999999", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "transaction_not_found"


# -- revert --------------------------------------------------------------------------------


def test_revert_once(funded: TestClient, auth: dict, db: backend.Connection) -> None:
    made = send(funded, auth, {"from": A, "to": B, "amount": 30}).json()
    r = funded.post(f"/transaction/{made['id']}/revert", headers=auth)
    assert r.status_code == 201, r.text
    back = r.json()
    assert back["kind"] == "revert" and back["reverts"] == made["id"]
    assert back["from"]["id"] == B and back["to"]["id"] == A and back["amount"] == 30
    assert balances(db)[A] == 100 and balances(db)[B] == 0
    again = funded.post(f"/transaction/{made['id']}/revert", headers=auth)
    assert again.status_code == 409 and again.json()["code"] == "already_reverted"
    assert again.json()["reverted_by"] == back["id"]
    # the original is still there, untouched
    assert funded.get(f"/transaction/{made['id']}", headers=auth).json() == made


def test_revert_obeys_no_negative_rule(
    funded: TestClient, auth: dict, db: backend.Connection
) -> None:
    made = send(funded, auth, {"from": A, "to": B, "amount": 30}).json()
    send(funded, auth, {"from": B, "to": C, "amount": 25})
    before = balances(db)
    r = funded.post(f"/transaction/{made['id']}/revert", headers=auth)
    assert r.status_code == 409 and r.json()["code"] == "insufficient_funds"
    assert balances(db) == before


def test_revert_of_revert_or_close_is_not_revertible(funded: TestClient, auth: dict) -> None:
    made = send(funded, auth, {"from": A, "to": B, "amount": 30}).json()
    back = funded.post(f"/transaction/{made['id']}/revert", headers=auth).json()
    r = funded.post(f"/transaction/{back['id']}/revert", headers=auth)
    assert r.status_code == 409 and r.json()["code"] == "not_revertible"
    funded.delete(f"/profile/{G}/{ALICE}", headers=auth)
    close = funded.get("/transaction", params={"limit": 1}, headers=auth).json()[0]
    assert close["kind"] == "close"
    r = funded.post(f"/transaction/{close['id']}/revert", headers=auth)
    assert r.status_code == 409 and r.json()["code"] == "not_revertible"


def test_revert_unknown_is_404(funded: TestClient, auth: dict) -> None:
    assert funded.post("/transaction/4242/revert", headers=auth).status_code == 404


def test_revert_needs_the_treasury_owner(funded: TestClient, auth: dict, make_key) -> None:
    made = send(funded, auth, {"from": A, "to": "self", "amount": 5}).json()
    r = funded.post(f"/transaction/{made['id']}/revert", headers=make_key(OTHER_BOT))
    assert r.status_code == 403


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
