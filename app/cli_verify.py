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
import sys

from app.config import Settings
from app.progress import Progress
from ledger import store
from ledger.verify import verify
from storage.engine import Connection, Engine, open_engine
from storage.engine.migrations import pending

__all__ = ["configure", "ledger_verify"]

_ANCHOR = re.compile(r"([0-9]{1,19}):([0-9a-fA-F]{64})")


class Unverifiable(Exception):
    """The file cannot be verified at all (exit 2, one line on stderr)."""


def _open(engine: Engine) -> Connection:
    """The file read-only, refused unless it is a voiceprofile database of this version."""
    if not engine.exists():
        raise Unverifiable(f"no database at {engine.location}")
    conn = engine.open_readonly()
    try:
        if not {"migrations", "ledger", "accounts"} <= set(engine.tables(conn)):
            raise Unverifiable(f"{engine.location} is not a voiceprofile database")
        missing = pending(conn)
        if missing:
            raise Unverifiable(
                f"{engine.location}: its schema is older than this version (not applied:"
                f" {', '.join(missing)}); verify does not migrate, so verify it with the"
                " version that wrote it, or a migrated copy"
            )
    except engine.errors as exc:  # not a database at all, say
        conn.close()
        raise Unverifiable(f"{engine.location}: {exc}") from None
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


def _run(engine: Engine, anchors: list[tuple[int, bytes]]) -> int:
    conn = _open(engine)
    try:
        total = (store.head(conn) or (0,))[0]
        bar = Progress("ledger verify", total, unit="entries")  # drawn only on a terminal
        report = verify(conn, lambda checked: bar.advance(checked - bar.done), anchors=anchors)
        bar.advance(report.entries - bar.done)
        bar.close()
    finally:
        conn.close()
    for text in report.problems:
        print(f"DIFF {text}")
    print(
        f"{'OK' if report.ok else 'FAILED'}: {report.entries} entries, {report.accounts}"
        f" accounts, {len(report.problems)} problem(s)"
    )
    if report.ok:
        entry_id, digest = report.head
        print(f"head: entry {entry_id} hash {digest.hex()}")
    return 0 if report.ok else 1


def ledger_verify(args: argparse.Namespace) -> int:
    engine = open_engine(Settings.from_env(db=args.db).db)
    try:
        return _run(engine, _anchors(args.anchor or []))
    except Unverifiable as exc:
        print(exc, file=sys.stderr)
        return 2
    except engine.errors as exc:  # a read failed midway (I/O error, corrupt page)
        print(f"{engine.location}: {exc}", file=sys.stderr)
        return 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--anchor",
        action="append",
        metavar="ENTRY_ID:HASH",
        help="repeatable; fail unless that entry still has that hash (a head printed earlier)",
    )
