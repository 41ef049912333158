"""`voiceprofile ledger verify` reads the database and changes nothing in it: no
migration, and on SQLite no journal-mode change, no -wal/-shm beside a backup; and an
anchor kept outside the database catches what the hash chain alone cannot (a forger
who recomputes every hash)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger.chain import GENESIS, entry_hash
from storage.engine import open_engine
from tests import backend
from tests.test_hardening_cli import _cli, _one_line_error


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def verified(client: TestClient, auth: dict, db_path: Path, tmp_path: Path) -> str:
    """A database with entries, as `--db` names it: on SQLite a backup copy (a
    rollback-journal file that verify must leave byte for byte as it is), on
    PostgreSQL (no file to copy) the test's database."""
    client.post("/profile/1/2", json={"voicepoints": 10}, headers=auth)
    pay = {"from": "self", "to": {"guild_id": 1, "user_id": 2}, "amount": 3}
    assert client.post("/transaction", json=pay, headers=auth).status_code == 201
    if backend.POSTGRES:
        return str(backend.target(db_path))
    copy = tmp_path / "backups" / "copy.db"
    done = _cli("backup", str(copy), "--db", str(db_path))
    assert done.returncode == 0, done.stderr
    return str(copy)


def _unchanged(db: str) -> object:
    """What verify must not change: the backup's files, byte for byte; on PostgreSQL
    the migrations it must not apply."""
    if not backend.POSTGRES:
        return _files(Path(db).parent)
    conn = open_engine(db).connect()
    rows = conn.execute("SELECT * FROM migrations ORDER BY id").fetchall()
    conn.close()
    return rows


def _edit(db: str) -> Any:
    """A connection for editing behind the server's back: on SQLite the sqlite3
    module's own, as any tool would open the file (the storage connection would
    switch the backup to WAL)."""
    if backend.POSTGRES:
        return open_engine(db).connect()
    return sqlite3.connect(db, isolation_level=None)


@pytest.mark.sqlite_only  # about the SQLite file: its journal mode and side files
def test_verify_changes_nothing_in_a_backup(verified: str) -> None:
    before = _files(Path(verified).parent)
    assert list(before) == ["copy.db"]
    assert before["copy.db"][18:20] == b"\x01\x01"  # rollback journal, not WAL
    done = _cli("ledger", "verify", "--db", verified)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK")
    assert _files(Path(verified).parent) == before  # same bytes, no -wal, -shm or -journal


def test_verify_does_not_migrate_an_older_database(verified: str) -> None:
    conn = _edit(verified)
    newest = conn.execute("SELECT max(id) FROM migrations").fetchone()[0]
    conn.execute("DELETE FROM migrations WHERE id = ?", (newest,))
    conn.close()
    before = _unchanged(verified)
    done = _cli("ledger", "verify", "--db", verified)
    assert done.returncode == 2
    assert "older" in _one_line_error(done)
    assert _unchanged(verified) == before


@pytest.mark.sqlite_only  # about paths that hold no SQLite database
@pytest.mark.parametrize("content", [None, b"", b"not a database at all" * 100])
def test_verify_of_no_database_says_so(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "x.db"
    if content is not None:
        path.write_bytes(content)
    done = _cli("ledger", "verify", "--db", str(path))
    assert done.returncode == 2
    _one_line_error(done)
    assert [p.name for p in tmp_path.iterdir()] == ([] if content is None else ["x.db"])


def _forge(db: str) -> None:
    """What a forger with write access does: edit an entry and recompute every hash
    after it, so the chain is consistent again."""
    conn = _edit(db)
    backend.drop_trigger(conn, "ledger_no_update", "ledger")
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
    conn.close()


def test_an_anchor_kept_outside_the_file_catches_a_forger(verified: str) -> None:
    done = _cli("ledger", "verify", "--db", verified)
    assert done.returncode == 0, done.stdout
    head = done.stdout.splitlines()[-1]
    assert head.startswith("head: entry ")
    anchor = head.split()[2] + ":" + head.split()[4]
    assert _cli("ledger", "verify", "--db", verified, "--anchor", anchor).returncode == 0
    _forge(verified)
    forged = _cli("ledger", "verify", "--db", verified)
    assert forged.returncode == 0  # a consistent forgery: the chain alone cannot tell
    caught = _cli("ledger", "verify", "--db", verified, "--anchor", anchor)
    assert caught.returncode == 1, caught.stdout
    assert "anchor" in caught.stdout and "FAILED" in caught.stdout
