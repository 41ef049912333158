"""`voiceprofile backup` (SPEC §3): a consistent copy while the server keeps writing,
and the CLI's progress bar on a terminal versus a quiet summary when piped."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.cli import main
from app.progress import Progress
from tests.conftest import Server

ROOT = Path(__file__).parent.parent


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.server
@pytest.mark.sqlite_only  # SQLite's backup API (PostgreSQL: test_move_backends' pg_dump hint)
def test_backup_while_serving_is_consistent(server: Server, tmp_path: Path) -> None:
    """Transfers keep committing during the copy; the copy verifies and holds at least
    what was acknowledged before it started."""
    with server.client() as http:
        assert http.post("/profile/1/2").status_code == 201
        pay = {"from": "self", "to": {"guild_id": 1, "user_id": 2}, "amount": 1}
        before = [http.post("/transaction", json=pay).json()["id"] for _ in range(20)][-1]
        stop = threading.Event()

        def keep_paying() -> None:
            with server.client() as other:
                for _ in range(2000):  # bounded
                    if stop.is_set():
                        break
                    other.post("/transaction", json=pay)

        writer = threading.Thread(target=keep_paying)
        writer.start()
        try:
            copy = tmp_path / "backups" / "copy.db"
            done = _cli("backup", str(copy), "--db", str(server.db))
        finally:
            stop.set()
            writer.join(60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not a terminal: no progress bar
    summary = json.loads(done.stdout)
    assert summary["command"] == "backup" and summary["bytes"] == copy.stat().st_size
    assert not list(copy.parent.glob(".*partial"))
    conn = sqlite3.connect(copy)
    try:  # one self-contained file, no -wal beside it needed
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    verify = _cli("ledger", "verify", "--db", str(copy))
    assert verify.returncode == 0, verify.stdout
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("SELECT max(id) FROM ledger").fetchone()[0] >= before
    finally:
        conn.close()


def test_backup_of_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["backup", str(tmp_path / "c.db"), "--db", str(tmp_path / "none.db")]) == 1
    assert "no database" in capsys.readouterr().err


def test_backup_onto_itself_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "a.db"
    sqlite3.connect(db).close()
    assert main(["backup", str(db), "--db", str(db)]) == 2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("tty", "drawn"), [(True, True), (False, False)])
def test_progress_bar_only_on_a_terminal(tty: bool, drawn: bool) -> None:
    stream = _Terminal() if tty else io.StringIO()
    bar = Progress("export", 1000, "lines", stream=stream)
    for _ in range(10):
        bar.advance(100)
    bar.close()
    text = stream.getvalue()
    assert bool(text) is drawn
    if drawn:
        assert "1000/1000 lines" in text and "/s" in text and "left" in text
