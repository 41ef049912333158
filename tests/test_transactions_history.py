"""SPEC §6 against the in-process app: reading transactions (filters, paging, streaming,
one by id) and reverting them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar.testing import TestClient

from storage.ids import vp_id
from tests import backend, transactions_helpers
from tests.conftest import OTHER_BOT
from tests.transactions_helpers import ALICE, CAROL, T2, A, B, C, G, balances, profile, send

funded = transactions_helpers.funded  # a fixture shared by several modules


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
