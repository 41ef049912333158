"""The single writer: one thread owns the one write connection (datasette's design).

Callers queue a task: a whole synchronous function `fn(ctx, arg)` and its argument.
The writer takes every task waiting (up to `batch_max`), runs them inside one
`BEGIN IMMEDIATE … COMMIT` with a SAVEPOINT around each, and settles each caller's
future only after the COMMIT returned (group commit: many durable writes per fsync).

- A task that raises rolls back to its savepoint; its neighbours still commit, and
  its exception reaches its caller after the commit.
- If the transaction cannot be made durable (disk full, read-only file, I/O error)
  the whole batch is rolled back and every caller gets `StorageUnavailable`:
  nothing of that batch is acknowledged.
- No `await` runs between BEGIN and COMMIT: the transaction lives in this thread.
- A task submitted with `savepoint=False` (the ledger's commands) runs without a
  savepoint and may stage its writes in memory (see WriteContext); the writer
  flushes what is staged before COMMIT, so staged writes are as durable as any
  other when the caller hears back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from storage.db import connect
from storage.errors import DomainError, StorageUnavailable

__all__ = ["CACHE_KIB", "BatchStats", "WriteContext", "Writer"]

log = logging.getLogger("voiceprofile.writer")
T = TypeVar("T")
A = TypeVar("A")

_STOP = object()
CACHE_KIB = 64 * 1024


@dataclass
class WriteContext:
    """What a write task sees: the connection and caches private to the writer.

    `cache` holds what tasks may remember between transactions (the ledger's chain
    head, account lookups). The writer empties it whenever it rolls anything back, or
    when another connection changed the file, so a cached value never outlives the
    data it was read from.

    Staging: while a `savepoint=False` task runs, `staging` is True and the task may
    keep its writes in memory (in `cache`) and register a flusher under the same
    cache key. The writer calls every flusher before COMMIT (so nothing is
    acknowledged unwritten) and before any task that runs in a savepoint (so that
    task sees every earlier write); then it also forgets those cache entries, since
    such a task may change what they remember.
    """

    conn: sqlite3.Connection
    cache: dict[str, Any] = field(default_factory=dict)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    staging: bool = False
    flushers: dict[str, Callable[[], None]] = field(default_factory=dict)

    def flush(self, *, forget: bool = False) -> None:
        for flush in self.flushers.values():
            flush()
        if forget:
            for key in self.flushers:
                self.cache.pop(key, None)
            self.flushers.clear()

    def reset(self) -> None:
        """Forget every cache and anything staged (after a rollback)."""
        self.cache.clear()
        self.flushers.clear()


@dataclass
class BatchStats:
    """Running figures for /metrics and /health."""

    batches: int = 0
    tasks: int = 0
    failed_batches: int = 0
    last_batch_size: int = 0
    last_commit_seconds: float = 0.0
    last_error: str | None = None
    """Why the last batch failed; None once one committed since (logs and admins only)."""
    last_failed_at: float | None = None
    """time.monotonic() of the last failed batch."""
    observers: list[Callable[[int, float], None]] = field(default_factory=list)

    def failing(self, within: float) -> bool:
        """The last batch failed, less than `within` seconds ago, and none committed
        since: writes are being refused (503), or were until writes stopped coming."""
        return (
            self.last_error is not None
            and self.last_failed_at is not None
            and time.monotonic() - self.last_failed_at < within
        )


@dataclass(slots=True)
class _Task:
    fn: Callable[[WriteContext, Any], Any]
    arg: Any
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    savepoint: bool = True


# sqlite3 errors that mean "the file cannot take this write", as opposed to a
# constraint a task tripped over (which only fails that task).
_STORAGE_CODES = {
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_READONLY",
    "SQLITE_CANTOPEN",
    "SQLITE_CORRUPT",
    "SQLITE_NOTADB",
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_PERM",
    "SQLITE_PROTOCOL",
}


def _is_storage_failure(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.Error):
        return False
    name = getattr(exc, "sqlite_errorname", "") or ""
    return any(name.startswith(code) for code in _STORAGE_CODES)


class Writer:
    def __init__(
        self,
        path: str | Path,
        *,
        batch_max: int = 1024,
        configure: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        self.path = str(path)
        self.batch_max = batch_max
        self.stats = BatchStats()
        self._configure = configure
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ctx: WriteContext | None = None
        self._closed = False
        self._data_version: int | None = None
        # Tasks submitted during the current turn of each event loop, handed to the
        # writer thread as one list at the end of that turn (see `run`).
        self._pending: dict[asyncio.AbstractEventLoop, list[_Task]] = {}
        self._submit_lock = threading.Lock()  # event loops may live in several threads
        self._submitted = 0  # tasks put in the queue (under _submit_lock)
        self._taken = 0  # tasks the writer thread took out (written by it alone)

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        conn = connect(self.path)
        # Appends land on each account's pages of the ledger's side indexes: with
        # 10M entries those pages outgrow SQLite's 2 MB default cache and every
        # commit would re-read them. 64 MB keeps the hot ones (see benchmarks/).
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if self._configure:
            self._configure(conn)
        self._ctx = WriteContext(conn)
        self._thread = threading.Thread(target=self._run, name="voiceprofile-writer", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        """Drain what is queued, commit it, close the connection. Idempotent."""
        if self._closed or self._thread is None:
            return
        self._closed = True
        for loop in list(self._pending):
            self._submit(loop)
        self._queue.put(_STOP)
        await asyncio.to_thread(self._thread.join)

    @property
    def queue_depth(self) -> int:
        return max(0, self._submitted - self._taken)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- submitting -------------------------------------------------------------------

    async def run(self, fn: Callable[[WriteContext, A], T], arg: A, *, savepoint: bool = True) -> T:
        """Run `fn(ctx, arg)` in the next transaction; return once it is committed.

        `savepoint=False` is for a task that promises to write nothing when it
        raises a DomainError (it checks before it writes, or undoes its own writes);
        it saves two statements and lets the task stage its writes (WriteContext).
        Any other exception from such a task fails its whole batch (503, nothing
        acknowledged), since its partial writes cannot be told apart.
        """
        if self._closed:
            raise StorageUnavailable("the server is shutting down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # Callers woken by one commit submit their next tasks in the same turn of the
        # loop: one queue put (one wake-up of the writer thread) for all of them, and
        # the writer starts its next batch with all of them, not the first few.
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._submit, loop)
        pending.append(_Task(fn, arg, future, loop, savepoint))
        return await future

    def _submit(self, loop: asyncio.AbstractEventLoop) -> None:
        tasks = self._pending.pop(loop, None)
        if tasks:
            with self._submit_lock:
                self._submitted += len(tasks)
            self._queue.put(tasks)

    # -- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        assert self._ctx is not None
        ctx = self._ctx
        stopping = False
        waiting: list[_Task] = []  # submitted, beyond the last batch's batch_max
        while True:
            if not waiting:
                if stopping:
                    break
                item = self._queue.get()
                if item is _STOP:
                    break
                waiting = list(item)
            while len(waiting) < self.batch_max and not stopping:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True  # finish what was submitted, then stop
                    break
                waiting.extend(item)
            batch, waiting = waiting[: self.batch_max], waiting[self.batch_max :]
            self._taken += len(batch)
            self._run_batch(ctx, batch)
        ctx.conn.close()

    def _run_batch(self, ctx: WriteContext, batch: list[_Task]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        started = time.perf_counter()
        conn = ctx.conn
        ctx.after_commit.clear()
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Another connection (a CLI import, say) committed: caches may be stale.
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                ctx.reset()
                self._data_version = version
            for task in batch:
                outcomes.append(self._run_task(ctx, task))
            ctx.flush()
            conn.execute("COMMIT")
        except BaseException as exc:  # the batch cannot be made durable
            self._fail_batch(ctx, batch, exc)
            return
        elapsed = time.perf_counter() - started
        for hook in ctx.after_commit:
            try:
                hook()
            except Exception:  # a hook must never lose an acknowledgement
                log.exception("after-commit hook failed")
        self._record(len(batch), elapsed)
        self._settle(batch, outcomes)

    def _run_task(self, ctx: WriteContext, task: _Task) -> tuple[bool, Any]:
        conn = ctx.conn
        if task.future.cancelled():
            return (False, asyncio.CancelledError())
        if not task.savepoint:
            ctx.staging = True
            try:
                return (True, task.fn(ctx, task.arg))
            except DomainError as exc:  # refused before writing anything: keep the cache
                return (False, exc)
            finally:
                ctx.staging = False
        ctx.flush(forget=True)
        conn.execute("SAVEPOINT task")
        try:
            result = task.fn(ctx, task.arg)
        except BaseException as exc:
            if _is_storage_failure(exc):
                raise
            conn.execute("ROLLBACK TO task")
            conn.execute("RELEASE task")
            ctx.reset()
            if not isinstance(exc, Exception):
                raise
            if isinstance(exc, sqlite3.Error):
                log.error("write task %s failed: %s", getattr(task.fn, "__name__", task.fn), exc)
            return (False, exc)
        conn.execute("RELEASE task")
        return (True, result)

    def _fail_batch(self, ctx: WriteContext, batch: list[_Task], exc: BaseException) -> None:
        log.error("write batch of %d failed, nothing acknowledged: %s", len(batch), exc)
        try:
            if ctx.conn.in_transaction:
                ctx.conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")
        ctx.reset()
        self.stats.failed_batches += 1
        self.stats.last_error = str(exc)
        self.stats.last_failed_at = time.monotonic()
        failure = StorageUnavailable(f"the database could not store the change ({exc})")
        self._settle(batch, [(False, failure)] * len(batch))

    def _record(self, size: int, elapsed: float) -> None:
        stats = self.stats
        stats.batches += 1
        stats.tasks += size
        stats.last_batch_size = size
        stats.last_commit_seconds = elapsed
        stats.last_error = None
        for observe in stats.observers:
            observe(size, elapsed)

    @staticmethod
    def _settle(batch: list[_Task], outcomes: list[tuple[bool, Any]]) -> None:
        # One wake-up per event loop for the whole batch, not one per task.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Task, tuple[bool, Any]]]] = {}
        for task, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(task.loop, []).append((task, outcome))
        for loop, items in by_loop.items():
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[_Task, tuple[bool, Any]]]) -> None:
    for task, (ok, value) in items:
        if task.future.done():
            continue
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)
