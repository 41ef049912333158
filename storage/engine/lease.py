"""A role that one server process at a time holds on a database (callback delivery).

With several server processes on one database (`serve --workers N`, or servers
started side by side), each would otherwise send every due callback event. The
holder of a role's lease does the work; the others try to take it at each poll.
On SQLite the lease is an exclusive `flock` on a file beside the database: the
kernel drops it when its process dies, however it dies, so a survivor takes the
role at its next try (PostgreSQL would use a session advisory lock).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["Lease"]


class Lease:
    """`try_take()` is non-blocking: True while this process holds the role."""

    def __init__(self, db: str | Path, role: str) -> None:
        self.path = Path(f"{db}-{role}.lock")
        self._fd: int | None = None  # the open lock file, kept between tries
        self.held = False

    def try_take(self) -> bool:
        if self.held:
            return True
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None
        self.held = False
