"""Idempotency keys are kept at least 24 h (48 h here), then pruned in bounded chunks."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from storage.clock import ManualClock
from storage.ids import vp_id
from tests import backend

A = vp_id(5, 1)
HOUR = 3600


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000.0)


@pytest.mark.parametrize(("hours", "kept"), [(1, True), (25, True), (47.9, True), (48.1, False)])
def test_keys_are_kept_48h_then_forgotten(
    client: TestClient, auth: dict, clock: ManualClock, hours: float, kept: bool
) -> None:
    client.post("/profile/5/1", headers=auth)
    body = {"from": "self", "to": A, "amount": 1}
    first = client.post("/transaction", json=body, headers={**auth, "Idempotency-Key": "k"})
    clock.advance(hours * HOUR)
    client.post("/profile/5/2", headers=auth)  # a write: the writer prunes what expired
    again = client.post("/transaction", json=body, headers={**auth, "Idempotency-Key": "k"})
    if kept:
        assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    else:  # forgotten: the same key is a new request
        assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
        assert again.json()["id"] == first.json()["id"] + 1


def test_expired_keys_go_a_bounded_chunk_at_a_time(
    client: TestClient, auth: dict, db: backend.Connection, clock: ManualClock
) -> None:
    """However many keys expired, one write batch deletes at most 1000 of them; the
    rest go in the next batches, a second apart, not in one long DELETE."""
    client.post("/profile/5/1", headers=auth)
    bot = db.execute("SELECT id FROM accounts WHERE bot_id IS NOT NULL").fetchone()
    if bot is None:
        client.post("/transaction", json={"from": "self", "to": A, "amount": 1}, headers=auth)
        bot = db.execute("SELECT id FROM accounts WHERE bot_id IS NOT NULL").fetchone()
    old = clock.now() - 3 * 24 * HOUR
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO idempotency VALUES (?, ?, ?, 0, ?, ?)",
        [(bot[0], f"old{n}", b"\x00", b"{}", old + n / 1000) for n in range(2500)],
    )
    db.execute("COMMIT")

    def left() -> int:
        return db.execute("SELECT count(*) FROM idempotency").fetchone()[0]

    def write() -> None:
        assert client.patch("/profile/5/1/add", json={"level": 1}, headers=auth).status_code == 200

    clock.advance(601)  # the writer prunes every 600 s
    write()
    assert left() == 1500
    write()  # at once: not due yet
    assert left() == 1500
    clock.advance(2)  # work was left: due again a second later
    write()
    assert left() == 500
