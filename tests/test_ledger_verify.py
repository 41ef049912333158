"""`voiceprofile ledger verify` finds edits made behind the server's back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from storage.ids import vp_id
from tests import backend

G = "42"
A, B = vp_id(G, 1), vp_id(G, 2)


def verify_cli(db_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "verify", "--db", str(backend.target(db_path))],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )


@pytest.fixture
def ledger(client: TestClient, auth: dict, db: backend.Connection) -> backend.Connection:
    """A few entries of every kind; returns the independent connection, triggers dropped
    as an attacker with write access to the database would."""
    client.post(f"/profile/{G}/1", json={"voicepoints": 100}, headers=auth)
    client.post(f"/profile/{G}/2", headers=auth)
    for amount in (10, 20, 30):
        r = client.post("/transaction", json={"from": A, "to": B, "amount": amount}, headers=auth)
        assert r.status_code == 201
    assert client.post("/transaction/3/revert", headers=auth).status_code == 201
    assert client.delete(f"/profile/{G}/2", headers=auth).status_code == 204
    backend.drop_trigger(db, "ledger_no_update", "ledger")
    backend.drop_trigger(db, "ledger_no_delete", "ledger")
    return db


def test_clean_database_passes(ledger: backend.Connection, db_path: Path) -> None:
    done = verify_cli(db_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK") and "DIFF" not in done.stdout


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("UPDATE ledger SET amount = amount + 1 WHERE id = 3", ["entry 3", "hash"]),
        ("UPDATE ledger SET reason = 'innocent' WHERE id = 4", ["entry 4: hash"]),
        ("UPDATE ledger SET ts = ts - 100000 WHERE id = 5", ["entry 5: time goes backwards"]),
        ("DELETE FROM ledger WHERE id = 4", ["entry 5: ids jump from 3", "cached balance"]),
        ("DELETE FROM ledger WHERE id = (SELECT max(id) FROM ledger)", ["cached balance"]),
        (f"UPDATE accounts SET balance = balance + 5 WHERE vp_id = '{A}'", [f"account {A}"]),
        (
            "UPDATE ledger SET src_balance = src_balance + 1, dst_balance = dst_balance - 1"
            " WHERE id = 2",
            ["entry 2: recorded balances"],
        ),
    ],
)
def test_tampering_is_reported(
    ledger: backend.Connection, db_path: Path, tamper: str, expected: list[str]
) -> None:
    ledger.execute(tamper)
    done = verify_cli(db_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED" in done.stdout
    for needle in expected:
        assert needle in done.stdout, done.stdout


def test_a_consistent_forgery_still_breaks_the_chain(
    ledger: backend.Connection, db_path: Path
) -> None:
    # Rewrite an amount and its recorded balances together: the hash still disagrees.
    ledger.execute(
        "UPDATE ledger SET amount = 11, src_balance = src_balance - 1,"
        " dst_balance = dst_balance + 1 WHERE id = 3"
    )
    done = verify_cli(db_path)
    assert done.returncode == 1 and "hash does not chain" in done.stdout


def test_edited_reputation_is_reported(
    client: TestClient, auth: dict, db: backend.Connection, db_path: Path
) -> None:
    bot = client.get("/auth/me", headers=auth).json()["bot_id"]
    given = client.post(f"/reputation/{bot}/7", json={"source_user": "8"}, headers=auth)
    assert given.status_code == 200
    assert verify_cli(db_path).returncode == 0
    db.execute("UPDATE reputation_users SET reputation = 50")
    done = verify_cli(db_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "reputation of user 7" in done.stdout
