"""`voiceprofile ledger verify` reads the file and changes nothing in it: no
migration, no journal-mode change, no -wal/-shm beside a backup; and an anchor kept
outside the file catches what the hash chain alone cannot (a forger who recomputes
every hash)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from litestar.testing import TestClient

from ledger.chain import GENESIS, entry_hash
from tests.test_hardening_cli import _cli, _one_line_error


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def backup_copy(client: TestClient, auth: dict, db_path: Path, tmp_path: Path) -> Path:
    client.post("/profile/1/2", json={"voicepoints": 10}, headers=auth)
    pay = {"from": "self", "to": {"guild_id": 1, "user_id": 2}, "amount": 3}
    assert client.post("/transaction", json=pay, headers=auth).status_code == 201
    folder = tmp_path / "backups"
    copy = folder / "copy.db"
    done = _cli("backup", str(copy), "--db", str(db_path))
    assert done.returncode == 0, done.stderr
    return copy


def test_verify_changes_nothing_in_a_backup(backup_copy: Path) -> None:
    before = _files(backup_copy.parent)
    assert list(before) == ["copy.db"]
    assert before["copy.db"][18:20] == b"\x01\x01"  # rollback journal, not WAL
    done = _cli("ledger", "verify", "--db", str(backup_copy))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK")
    assert _files(backup_copy.parent) == before  # same bytes, no -wal, -shm or -journal


def test_verify_does_not_migrate_an_older_file(backup_copy: Path) -> None:
    conn = sqlite3.connect(backup_copy)
    newest = conn.execute("SELECT max(id) FROM migrations").fetchone()[0]
    conn.execute("DELETE FROM migrations WHERE id = ?", (newest,))
    conn.commit()
    conn.close()
    before = _files(backup_copy.parent)
    done = _cli("ledger", "verify", "--db", str(backup_copy))
    assert done.returncode == 2
    assert "older" in _one_line_error(done)
    assert _files(backup_copy.parent) == before


@pytest.mark.parametrize("content", [None, b"", b"not a database at all" * 100])
def test_verify_of_no_database_says_so(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "x.db"
    if content is not None:
        path.write_bytes(content)
    done = _cli("ledger", "verify", "--db", str(path))
    assert done.returncode == 2
    _one_line_error(done)
    assert [p.name for p in tmp_path.iterdir()] == ([] if content is None else ["x.db"])


def _forge(path: Path) -> None:
    """What a forger with the file does: edit an entry and recompute every hash after
    it (and the balances it moved), so the chain is consistent again."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS ledger_no_update")
    rows = conn.execute(
        "SELECT l.id, kind, ts, s.vp_id, d.vp_id, amount, src_balance, dst_balance, b.vp_id,"
        " reverts, reason FROM ledger l JOIN accounts s ON s.id = src"
        " JOIN accounts d ON d.id = dst JOIN accounts b ON b.id = bot ORDER BY l.id"
    ).fetchall()
    prev = GENESIS
    for row in rows:
        *fields, reason = row
        reason = "forged" if row[0] == len(rows) else reason
        prev = entry_hash(prev, *fields, reason)
        conn.execute("UPDATE ledger SET reason = ?, hash = ? WHERE id = ?", (reason, prev, row[0]))
    conn.commit()
    conn.close()


def test_an_anchor_kept_outside_the_file_catches_a_forger(backup_copy: Path) -> None:
    done = _cli("ledger", "verify", "--db", str(backup_copy))
    assert done.returncode == 0, done.stdout
    head = done.stdout.splitlines()[-1]
    assert head.startswith("head: entry ")
    anchor = head.split()[2] + ":" + head.split()[4]
    assert _cli("ledger", "verify", "--db", str(backup_copy), "--anchor", anchor).returncode == 0
    _forge(backup_copy)
    forged = _cli("ledger", "verify", "--db", str(backup_copy))
    assert forged.returncode == 0  # a consistent forgery: the chain alone cannot tell
    caught = _cli("ledger", "verify", "--db", str(backup_copy), "--anchor", anchor)
    assert caught.returncode == 1, caught.stdout
    assert "anchor" in caught.stdout and "FAILED" in caught.stdout
