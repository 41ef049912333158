"""The single writer: one thread owns the one write connection (datasette's design).

Callers queue a task: a whole synchronous function `fn(ctx, arg)` and its argument.
The writer takes every task waiting (up to `batch_max`), runs them one after the
other inside one write transaction (SQLite's `BEGIN IMMEDIATE … COMMIT`), and settles each caller's future only
after the COMMIT returned (group commit: many durable writes per fsync).

The contract of a task: a refusal (a DomainError) writes nothing. Tasks check
before they write, so the writer needs no savepoint per task (PostgreSQL slows
down past 64 of them in one transaction). The writer enforces the contract:

- A task that refuses after changing rows, or fails with any other exception (a
  bug), makes the writer roll the batch back and run it again without that task;
  the task's caller gets its exception, the others are unaffected (nothing was
  acknowledged yet, so running them again is invisible).
- If the transaction cannot be made durable (disk full, read-only file, I/O error)
  the whole batch is rolled back and every caller gets `StorageUnavailable`:
  nothing of that batch is acknowledged. If the connection itself was lost (a
  PostgreSQL restart or failover), the next batch's BEGIN finds it gone and opens
  a new one.
- No `await` runs between BEGIN and COMMIT: the transaction lives in this thread.

Tasks may keep typed state between transactions (`WriteContext.state`, e.g. the
ledger's balances and chain head). The writer calls each state's `flush()` before
COMMIT, and forgets every state after a rollback or when another connection
changed the file, so nothing cached outlives the data it was read from.

Housekeeping runs as chores at the end of a batch (storage/engine/chores.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from storage.clock import Clock, SystemClock
from storage.engine import Engine, open_engine
from storage.engine.base import Conn
from storage.engine.chores import Chores
from storage.engine.handoff import Task, settle
from storage.engine.write_context import BatchStats, Chore, WriteContext
from storage.errors import DomainError, StorageUnavailable

__all__ = ["CACHE_KIB", "BatchStats", "Chore", "WriteContext", "Writer"]

log = logging.getLogger("voiceprofile.writer")
T = TypeVar("T")
A = TypeVar("A")

_STOP = object()
CACHE_KIB = 64 * 1024


class _Rerun(Exception):
    """A task broke the contract (refused after writing, or raised a bug): the batch
    is rolled back and run again without it; `error` is what its caller gets."""

    def __init__(self, task: Task, error: BaseException) -> None:
        self.task, self.error = task, error


class Writer:
    def __init__(
        self,
        db: Engine | str | Path,
        *,
        batch_max: int = 1024,
        cache_kib: int = CACHE_KIB,
        clock: Clock | None = None,
        config: Any = None,
        configure: Callable[[Conn], None] | None = None,
    ) -> None:
        self.engine = open_engine(db) if isinstance(db, str | Path) else db
        self.batch_max = batch_max
        self.cache_kib = cache_kib
        self.stats = BatchStats()
        self._clock = clock or SystemClock()
        self._config = config
        self._configure = configure
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ctx: WriteContext | None = None
        self._closed = False
        # Tasks submitted during the current turn of each event loop, handed to the
        # writer thread as one list at the end of that turn (see `run`).
        self._pending: dict[asyncio.AbstractEventLoop, list[Task]] = {}
        self._submit_lock = threading.Lock()  # event loops may live in several threads
        self._submitted = 0  # tasks put in the queue (under _submit_lock)
        self._taken = 0  # tasks the writer thread took out (written by it alone)
        self._chores = Chores(self._clock)

    def add_chore(self, chore: Chore) -> None:
        """Run `chore` every `chore.every` seconds, with a batch (before `start`)."""
        self._chores.add(chore)

    # -- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        conn = self.engine.connect_writer(self.cache_kib)
        if self._configure:
            self._configure(conn)
        self._ctx = WriteContext(conn, self._clock, self._config)
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

    async def run(self, fn: Callable[[WriteContext, A], T], arg: A) -> T:
        """Run `fn(ctx, arg)` in the next transaction; return once it is committed.

        `fn` must write nothing when it raises a DomainError (check, then write);
        see the module docstring for what the writer does when one does not."""
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
        pending.append(Task(fn, arg, future, loop))
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
        waiting: list[Task] = []  # submitted, beyond the last batch's batch_max
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
        self.engine.close()

    def _run_batch(self, ctx: WriteContext, batch: list[Task]) -> None:
        started = time.perf_counter()
        settled: list[tuple[Task, tuple[bool, Any]]] = []
        todo = [t for t in batch if not t.future.cancelled()]
        while True:
            try:
                outcomes = self._transaction(ctx, todo)
            except _Rerun as rerun:
                self._rollback(ctx)
                settled.append((rerun.task, (False, rerun.error)))
                todo = [t for t in todo if t is not rerun.task]
                continue
            except BaseException as exc:  # the batch cannot be made durable
                self._fail_batch(ctx, todo, exc)
                settle(settled)
                return
            break
        elapsed = time.perf_counter() - started
        for hook in ctx.after_commit:
            try:
                hook()
            except Exception:  # a hook must never lose an acknowledgement
                log.exception("after-commit hook failed")
        self._record(len(batch), elapsed)
        settle(settled + list(zip(todo, outcomes, strict=True)))

    def _transaction(self, ctx: WriteContext, tasks: list[Task]) -> list[tuple[bool, Any]]:
        conn = ctx.conn
        ctx.after_commit.clear()
        outcomes = []
        # Another connection (a CLI import, say) committed: what states remember may
        # be stale.
        try:
            changed = self.engine.begin_write(conn)
        except self.engine.errors as exc:
            if not (self.engine.is_storage_failure(exc) and self.engine.lost(conn)):
                raise
            self._reopen(ctx)  # only BEGIN was tried: nothing of the batch is lost
            conn = ctx.conn
            changed = self.engine.begin_write(conn)
        if changed:
            ctx.reset()
        ctx.batch = [task.arg for task in tasks]
        for task in tasks:
            outcomes.append(self._run_task(ctx, task))
        self._chores.run_due(ctx, self.engine)
        self.engine.commit(conn, ctx.flush)
        self.engine.end_write()
        return outcomes

    def _run_task(self, ctx: WriteContext, task: Task) -> tuple[bool, Any]:
        before = ctx.conn.total_changes
        ctx._flushed = 0
        try:
            return (True, task.fn(ctx, task.arg))
        except DomainError as exc:
            if ctx.conn.total_changes - ctx._flushed != before:
                log.error("%s refused after writing; the batch runs again without it", task.fn)
                raise _Rerun(task, exc) from exc
            return (False, exc)
        except Exception as exc:
            if self.engine.is_storage_failure(exc):
                raise
            log.exception("write task %s failed; the batch runs again without it", task.fn)
            raise _Rerun(task, exc) from exc

    def _rollback(self, ctx: WriteContext) -> None:
        try:
            if ctx.conn.in_transaction:
                ctx.conn.execute("ROLLBACK")
        finally:
            self.engine.end_write()
            ctx.reset()

    def _reopen(self, ctx: WriteContext) -> None:
        with contextlib.suppress(Exception):  # gone already
            ctx.conn.close()
        conn = self.engine.connect_writer(self.cache_kib)
        if self._configure:
            self._configure(conn)
        ctx.conn = conn
        ctx.reset()  # states hold the old connection and what it read
        log.warning("the database connection was lost: a new one is open")

    def _fail_batch(self, ctx: WriteContext, batch: list[Task], exc: BaseException) -> None:
        log.error("write batch of %d failed, nothing acknowledged: %s", len(batch), exc)
        try:
            self._rollback(ctx)
        except self.engine.errors:
            log.exception("rollback failed")
            ctx.reset()
        self.stats.failed_batches += 1
        self.stats.last_error = str(exc)
        self.stats.last_failed_at = time.monotonic()
        failure = StorageUnavailable(f"the database could not store the change ({exc})")
        settle([(task, (False, failure)) for task in batch])

    def _record(self, size: int, elapsed: float) -> None:
        stats = self.stats
        stats.batches += 1
        stats.tasks += size
        stats.last_batch_size = size
        stats.last_commit_seconds = elapsed
        stats.last_error = None
        for observe in stats.observers:
            observe(size, elapsed)
