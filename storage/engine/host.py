"""What the server processes on one host share besides the database: a private
directory for their locks and sockets, a name per database, and counters in shared
memory (a key revoked in one process is forgotten by the others at once)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["HostCounter", "db_name", "run_dir"]


def run_dir() -> Path:
    """This user's private directory for the processes' locks, sockets and counters."""
    path = Path(tempfile.gettempdir()) / f"voiceprofile-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    st = path.lstat()
    # Another user's directory (made first, to answer our reads) must not be used.
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{path} is not a private directory of this user")
    return path


def db_name(db: str | Path) -> str:
    """The same database, however a server was told its path, gets the same name."""
    where = str(db) if "://" in str(db) else os.path.realpath(db)
    return hashlib.sha256(where.encode()).hexdigest()[:20]


class HostCounter:
    """A number every process of the host that opens the same file sees at once: a
    page of a file in `run_dir()` mapped into memory. Reading it is one memory
    read (it is read on every request); `bump` adds one under the file's lock."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < mmap.PAGESIZE:
                with _locked(fd):
                    if os.fstat(fd).st_size < mmap.PAGESIZE:
                        os.ftruncate(fd, mmap.PAGESIZE)  # zeros: the count starts at 0
            self._map = mmap.mmap(fd, mmap.PAGESIZE)
        finally:
            os.close(fd)  # the mapping keeps the file
        self._path = path
        self._view = memoryview(self._map).cast("Q")

    @classmethod
    def of(cls, db: str | Path, name: str) -> HostCounter:
        return cls(run_dir() / f"{name}-{db_name(db)}.count")

    @property
    def value(self) -> int:
        return self._view[0]

    def bump(self) -> int:
        fd = os.open(self._path, os.O_RDWR)
        try:
            with _locked(fd):
                self._view[0] += 1
                return self._view[0]
        finally:
            os.close(fd)

    def close(self) -> None:
        self._view.release()
        self._map.close()


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
