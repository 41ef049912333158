"""A role that one server process at a time holds on a database (callback delivery).

With several server processes on one database (`serve --workers N`, or servers
started side by side, on one host or several), each would otherwise send every due
callback event. The holder of a role's lease does the work; the others try to take
it at each poll. The lock is one the operating system or the database drops when
its holder dies, however it dies, so a survivor takes the role at its next try:
- SQLite: an exclusive `flock` on a file beside the database;
- PostgreSQL: a session advisory lock on a connection kept open for it.
A role held per host instead (storage/boards/shared.py) names its lock file `path`:
then it is a file lock whatever the engine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import Any

from storage.engine.base import is_url

__all__ = ["Lease"]


class Lease:
    """`try_take()` is non-blocking: True while this process holds the role."""

    def __init__(self, db: str | Path, role: str, path: Path | None = None) -> None:
        self.url = str(db) if is_url(db) and path is None else None
        self.path = path or Path(f"{db}-{role}.lock")
        # The advisory lock's second key: an `integer` in PostgreSQL's two-key form, so
        # 31 bits of the role's CRC (the whole CRC passes as a bigint, and no
        # pg_try_advisory_lock takes that: the lease was never taken).
        self.key = zlib.crc32(role.encode()) & 0x7FFFFFFF
        self._fd: int | None = None  # the open lock file, kept between tries
        self._conn: Any = None  # PostgreSQL: the session that holds the lock
        self.held = False

    def try_take(self) -> bool:
        if self.held:
            if self._conn is None or self._alive():
                return True
            self.release()  # the session died: so did the lock
        self.held = self._take_pg() if self.url else self._take_file()
        return self.held

    def _take_file(self) -> bool:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _take_pg(self) -> bool:
        import psycopg

        try:
            if self._conn is None:
                self._conn = psycopg.connect(self.url, autocommit=True)  # type: ignore[arg-type]
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s::integer, %s::integer)", (0x7671, self.key)
            ).fetchone()
        except psycopg.OperationalError:  # the server is away: not held, try again later
            self.release()
            return False
        return bool(row[0])

    def _alive(self) -> bool:
        import psycopg

        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None
        if self._conn is not None:
            with contextlib.suppress(Exception):  # it is gone either way
                self._conn.close()  # ending the session drops its advisory locks
            self._conn = None
        self.held = False
