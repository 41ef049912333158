"""What the server processes on one host share besides the database: a private
directory for their locks and sockets, a name per database, and counts in shared
memory (a key revoked in one process is forgotten by the others at once; the
rate limits of several workers)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import socket
import stat
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["HostBudgets", "HostCounter", "db_name", "host_name", "run_dir"]


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


_flock, _LOCK_EX, _LOCK_UN = fcntl.flock, fcntl.LOCK_EX, fcntl.LOCK_UN
_SLOT = struct.Struct("<QqQ")  # a budget's tag, its window, requests counted
SLOTS = 1 << 16  # budgets a host counts at once in one window (1.5 MB)
_PROBES = 32  # slots looked at for a budget before it is counted per process
_KEY = struct.Struct("<Qq")  # a key's digest (its first 8 bytes), its id
KEY_SLOTS = 1 << 12  # keys the host's workers tell each other are valid
_KEYS_AT = SLOTS * _SLOT.size  # where the keys' slots begin


class HostBudgets:
    """Rate-limit counts shared exactly by the processes of one host (several
    workers): a table of SLOTS slots in a file of `run_dir()` that each maps, each
    change made under the file's lock. A slot of an ended window is free to take:
    a window's slots are all claimed within it, so a budget is found before the
    first free slot of its probe sequence.

    After the budgets, the keys seen valid (`remember`, `known`): a worker charges
    a key to its budget before running the request only once it knows the key is
    valid, and a key one worker checked is known to all of them."""

    def __init__(self, path: Path) -> None:
        size = _KEYS_AT + KEY_SLOTS * _KEY.size
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with _locked(fd):
                if os.fstat(fd).st_size < size:
                    os.ftruncate(fd, size)  # zeros: every slot free
            self._map = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd  # kept open for the lock
        self._tags: dict[str, int] = {}

    @classmethod
    def of(cls, db: str | Path, period: int) -> HostBudgets:
        """The table of `db`'s servers with windows of `period` seconds."""
        return cls(run_dir() / f"budgets-{db_name(db)}-{period}.map")

    def _tag(self, label: str) -> int:
        tag = self._tags.get(label)
        if tag is None:
            if len(self._tags) >= 4096:  # bounded: any client can make new labels
                self._tags.clear()
            digest = hashlib.blake2b(label.encode(), digest_size=8).digest()
            tag = self._tags[label] = int.from_bytes(digest, "little") or 1
        return tag

    def _find(self, tag: int, window: int) -> tuple[int, int] | None:
        """(offset, count) of the budget's slot in `window`, count 0 for a free
        slot it may take; None if every slot it may use is another budget's."""
        start, m = tag % SLOTS, self._map
        for i in range(_PROBES):
            at = ((start + i) % SLOTS) * _SLOT.size
            found, when, used = _SLOT.unpack_from(m, at)
            if when != window:
                return at, 0
            if found == tag:
                return at, used
        return None

    def charge(self, label: str, window: int) -> int | None:
        """One more request of `label` in `window`: its count on the host, or None
        if the table has no room for it (then the caller counts it alone)."""
        tag = self._tags.get(label) or self._tag(label)
        # flock itself, not `_locked`: this runs on every request (a context manager
        # cost more than the two system calls).
        _flock(self._fd, _LOCK_EX)
        try:
            slot = self._find(tag, window)
            if slot is None:
                return None
            at, used = slot
            _SLOT.pack_into(self._map, at, tag, window, used + 1)
            return used + 1
        finally:
            _flock(self._fd, _LOCK_UN)

    def count(self, label: str, window: int) -> int | None:
        """`label`'s count on the host in `window` (None: not in the table)."""
        with _locked(self._fd):
            slot = self._find(self._tag(label), window)
        return None if slot is None or slot[1] == 0 else slot[1]

    def remember(self, digest: bytes, key_id: int) -> None:
        """A key seen valid (by its digest): its budget is `key_id`'s."""
        tag = _key_tag(digest)
        with _locked(self._fd):
            at = self._key_slot(tag)
            if at is not None:
                _KEY.pack_into(self._map, at, tag, key_id)

    def known(self, digest: bytes) -> int | None:
        """The id of a key some worker of the host saw valid, by its digest."""
        tag = _key_tag(digest)
        with _locked(self._fd):
            at = self._key_slot(tag)
            if at is None:
                return None
            found, key_id = _KEY.unpack_from(self._map, at)
        return key_id if found == tag else None  # type: ignore[no-any-return]

    def _key_slot(self, tag: int) -> int | None:
        """The offset of `tag`'s slot, or of the free one it would take; None when
        full (then a key is only known to the worker that checked it)."""
        start = tag % KEY_SLOTS
        for i in range(_PROBES):
            at = _KEYS_AT + ((start + i) % KEY_SLOTS) * _KEY.size
            found, _ = _KEY.unpack_from(self._map, at)
            if found in (0, tag):
                return at
        return None

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def _key_tag(digest: bytes) -> int:
    """A key's tag in the table: its digest's first 8 bytes (0 marks a free slot)."""
    return int.from_bytes(digest[:8], "little") or 1


def host_name() -> str | None:
    """A name for this host and boot, the same in each of its processes (None if
    the system does not say)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return f"{socket.gethostname()}-{boot[:8]}"
