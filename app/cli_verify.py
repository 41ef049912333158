"""`voiceprofile ledger verify`: replay the ledger of a file without changing it.

The file is opened read-only (`mode=ro`): no migration runs and the journal mode
stays as it is, so a backup (a rollback-journal file) is verified byte for byte as
it was written. A file whose schema is older than this version is refused rather
than migrated: verify it with the version that wrote it, or verify a copy after any
other command has migrated that copy.

When the ledger is sound the last line is its head, `head: entry N hash H`. The hash
chain shows an edit, but someone with the file can rewrite an entry and recompute
every hash after it; a head kept somewhere else (a log, another host) cannot be
rewritten with the file, and `--anchor N:H` checks that entry N still has hash H.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from pathlib import Path
from urllib.parse import quote

from app.config import Settings
from app.progress import Progress
from ledger.chain import GENESIS
from ledger.verify import verify
from storage.migrations import pending

__all__ = ["configure", "ledger_verify"]

_ANCHOR = re.compile(r"([0-9]{1,19}):([0-9a-fA-F]{64})")


class Unverifiable(Exception):
    """The file cannot be verified at all (exit 2, one line on stderr)."""


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not {"migrations", "ledger", "accounts"} <= tables:
        raise Unverifiable(f"{path} is not a voiceprofile database")
    missing = pending(conn)
    if missing:
        raise Unverifiable(
            f"{path}: its schema is older than this version (not applied:"
            f" {', '.join(missing)}); verify does not migrate, so verify it with the"
            " version that wrote it, or a migrated copy"
        )


def _open_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise Unverifiable(f"no database at {path}")
    conn = sqlite3.connect(
        f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, isolation_level=None
    )
    try:
        conn.execute("PRAGMA busy_timeout = 10000")  # the server may be committing
        _check_schema(conn, path)
    except sqlite3.Error as exc:  # not a database at all, say
        conn.close()
        raise Unverifiable(f"{path}: {exc}") from None
    except Unverifiable:
        conn.close()
        raise
    return conn


def _anchors(values: list[str]) -> list[tuple[int, bytes]]:
    found = []
    for value in values:
        match = _ANCHOR.fullmatch(value)
        if match is None:
            raise Unverifiable(f"--anchor {value!r} is not ENTRY_ID:HASH (64 hex digits)")
        found.append((int(match[1]), bytes.fromhex(match[2])))
    return found


def _check_anchor(conn: sqlite3.Connection, entry_id: int, expected: bytes) -> str | None:
    row = conn.execute("SELECT hash FROM ledger WHERE id = ?", (entry_id,)).fetchone()
    if entry_id == 0:  # the head of an empty ledger
        row = (GENESIS,)
    if row is None:
        return f"anchor: entry {entry_id} is gone (the ledger is shorter than when anchored)"
    if bytes(row[0]) != expected:
        return (
            f"anchor: entry {entry_id} has hash {bytes(row[0]).hex()}, the anchor says"
            f" {expected.hex()}: the ledger was rewritten up to there"
        )
    return None


def _run(path: Path, anchors: list[tuple[int, bytes]]) -> int:
    conn = _open_readonly(path)
    try:
        total = conn.execute("SELECT coalesce(max(id), 0) FROM ledger").fetchone()[0]
        bar = Progress("ledger verify", total, unit="entries")  # drawn only on a terminal
        report = verify(conn, progress=lambda checked: bar.advance(checked - bar.done))
        bar.advance(report.entries - bar.done)
        bar.close()
        for entry_id, expected in anchors:
            if (problem := _check_anchor(conn, entry_id, expected)) is not None:
                report.problems.append(problem)
        # When the report is clean, ids run 1..entries: this is the last entry replayed.
        head = conn.execute(
            "SELECT id, hash FROM ledger WHERE id <= ? ORDER BY id DESC LIMIT 1",
            (report.entries,),
        ).fetchone()
    finally:
        conn.close()
    for text in report.problems:
        print(f"DIFF {text}")
    print(
        f"{'OK' if report.ok else 'FAILED'}: {report.entries} entries, {report.accounts}"
        f" accounts, {len(report.problems)} problem(s)"
    )
    if report.ok:
        entry_id, digest = head if head else (0, GENESIS)
        print(f"head: entry {entry_id} hash {bytes(digest).hex()}")
    return 0 if report.ok else 1


def ledger_verify(args: argparse.Namespace) -> int:
    path = Path(Settings.from_env(db=args.db).db)
    try:
        return _run(path, _anchors(args.anchor or []))
    except Unverifiable as exc:
        print(exc, file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # a read failed midway (I/O error, corrupt page)
        print(f"{path}: {exc}", file=sys.stderr)
        return 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--anchor",
        action="append",
        metavar="ENTRY_ID:HASH",
        help="repeatable; fail unless that entry still has that hash (a head printed earlier)",
    )
