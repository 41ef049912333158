"""Reads cannot starve the server (issue 10, finding 4): the reader pool.

Heavy reads take at most half the reader pool, and no stream holds a reader while
its client is slow, so a cheap read of a profile always finds a connection; a
released reader goes to the oldest waiter, and one that gave up holds no one back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from litestar.testing import TestClient

from storage.engine.readers import ReaderPool
from storage.engine.sqlite import connect
from tests.boards_helpers import two_servers
from tests.heavy_reads_helpers import GUILD, T, _on_readers, _populate

# -- 3. cheap reads always find a reader ---------------------------------------------


class Asgi:
    """Requests sent straight to the app on its own event loop, with a client that
    can stop reading a streamed body (a slow reader) until it is released."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client = client
        self.key = headers["Authorization"].encode()
        self.release = client.blocking_portal.call(asyncio.Event)
        self.paused = 0

    async def _get(self, path: str, params: dict, pause_after: int | None) -> tuple[int, bytes]:
        requested, finished = False, asyncio.Event()

        async def receive() -> dict:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await finished.wait()  # as a server does: a disconnect once the answer is sent
            return {"type": "http.disconnect"}

        status, body = 0, []

        async def send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    finished.set()
                if len(body) == pause_after:
                    self.paused += 1
                    await self.release.wait()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": urlencode(params).encode(),
            "headers": [(b"host", b"test"), (b"authorization", self.key)],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
            "state": {},
        }
        await self.client.app(scope, receive, send)  # type: ignore[arg-type]
        return status, b"".join(body)

    def start(self, path: str, params: dict | None = None, pause_after: int | None = None) -> Any:
        """A concurrent future of (status, body)."""
        return self.client.blocking_portal.start_task_soon(
            self._get, path, params or {}, pause_after
        )

    def release_all(self) -> None:
        self.client.blocking_portal.call(self.release.set)


def _until(condition: Callable[[], bool], what: str, bound: float = 30) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {bound} s: {what}")
        time.sleep(0.01)


@contextmanager
def _off_server(n: int = 40) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with two_servers(stream_chunk=3) as (boards, sql, h, clock):
        _populate(boards, h, clock, n)
        clock.set(T + 3 * 3600)
        yield sql, h


@pytest.mark.parametrize(
    "params",
    [
        {"by": "points"},  # all time, boards off: was one cursor held to the end
        {"by": "points", "since": T + 50},
        {"by": "levels", "timeframe": "week"},
    ],
)
def test_streams_paused_by_slow_clients_hold_no_reader(params: dict) -> None:
    """As many streams as the pool has readers, each stopped mid-way by a client
    that does not read on: a profile is still read while they stay stopped, and
    each stream then finishes with the right answer."""
    with _off_server() as (sql, h):
        want = sql.get(f"/profile/{GUILD}/top", params={**params, "amount": 10**6}, headers=h)
        asgi = Asgi(sql, h)
        size = sql.app.state.services.readers.size
        query = {**params, "amount": 0}
        streams = [asgi.start(f"/profile/{GUILD}/top", query, pause_after=2) for _ in range(size)]
        try:
            _until(lambda: asgi.paused == size, "every stream reached its first chunk")
            cheap = asgi.start(f"/profile/{GUILD}/3")
            status, _ = cheap.result(timeout=30)
            assert status == 200
            assert not any(s.done() for s in streams)  # still stopped by their clients
        finally:
            asgi.release_all()
        for s in streams:
            status, body = s.result(timeout=30)
            assert status == 200
            assert body == want.content


class Gate:
    """Stops every reader connection inside a window aggregate (a `WITH w AS` query)
    until opened, as a huge window would keep it busy."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.blocked = 0
        self._lock = threading.Lock()
        self._last: dict[int, str] = {}

    def install(self, raw: Any) -> None:
        key = id(raw)
        raw.set_trace_callback(lambda sql: self._last.__setitem__(key, sql))
        raw.set_progress_handler(lambda: self._tick(key), 10)

    def _tick(self, key: int) -> int:
        if self.opened.is_set() or not self._last.get(key, "").startswith("WITH w AS"):
            return 0
        with self._lock:
            self.blocked += 1
        self.opened.wait(60)
        return 0


# sqlite_only: the reads are held inside their aggregate by SQLite's progress
# handler; the pool's rule (storage/engine/readers.py) is the same on both engines.
@pytest.mark.sqlite_only
def test_heavy_reads_leave_readers_for_cheap_ones() -> None:
    """Four window reads answered by SQL at once (a page, a stream, a rank, a rolling
    window), each stuck in its aggregate: a profile is still read while they are."""
    with _off_server() as (sql, h):
        gate = Gate()
        _on_readers(sql, gate.install)
        asgi = Asgi(sql, h)
        top = f"/profile/{GUILD}/top"
        heavy = [
            (top, {"by": "points", "since": T + 50}),
            (top, {"by": "points", "since": T + 50, "amount": 0}),
            (f"/profile/{GUILD}/2/rank", {"by": "points", "since": T + 50}),
            (top, {"by": "levels", "timeframe": "week", "amount": 0}),
        ]
        reads = [asgi.start(path, params) for path, params in heavy]
        try:
            _until(lambda: gate.blocked >= 2, "two window reads reached their aggregate")
            # More may get in (all four, if nothing holds them back): give them the
            # chance before the cheap read, so it meets the pool at its busiest.
            deadline = time.monotonic() + 1
            while gate.blocked < len(heavy) and time.monotonic() < deadline:
                time.sleep(0.01)
            cheap = asgi.start(f"/profile/{GUILD}/3")
            status, _ = cheap.result(timeout=30)
            assert status == 200
            assert not any(r.done() for r in reads)  # all still stuck or waiting
        finally:
            gate.opened.set()
        for read, (path, params) in zip(reads, heavy, strict=True):
            status, body = read.result(timeout=30)
            assert status == 200
            assert body == sql.get(path, params=params, headers=h).content


# -- 4. the pool is fair ---------------------------------------------------------------


@pytest.fixture
async def one_reader(tmp_path: Path) -> AsyncIterator[Any]:
    """A pool of one reader."""
    path = tmp_path / "r.db"
    sqlite3.connect(path).close()
    pool = ReaderPool(lambda: connect(path, readonly=True), size=1)
    await pool.open()
    yield pool
    await pool.close()


class Holder:
    """A read that keeps the pool's only connection until released."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, conn: Any) -> None:
        self.started.set()
        self.release.wait(30)

    async def holding(self) -> None:
        for _ in range(3000):
            if self.started.is_set():
                return
            await asyncio.sleep(0.01)
        pytest.fail("the holding read never started")


def _mark(conn: Any, order: list[str], name: str) -> int:
    order.append(name)
    return int(conn.execute("SELECT 2").fetchone()[0])


async def test_a_released_reader_goes_to_the_oldest_waiter(one_reader: Any) -> None:
    """A stream releases its reader between chunks and asks again at once: the read
    that was already waiting gets it first, not after every stream's next chunk."""
    order: list[str] = []
    hold = Holder()

    async def stream() -> None:
        await one_reader.call(hold)
        await one_reader.call(_mark, order, "stream")  # its next chunk, without a pause

    streaming = asyncio.create_task(stream())
    await hold.holding()
    cheap = asyncio.create_task(one_reader.call(_mark, order, "cheap"))
    await asyncio.sleep(0)  # the cheap read waits for the reader
    hold.release.set()
    await asyncio.wait_for(asyncio.gather(streaming, cheap), 30)
    assert order == ["cheap", "stream"]


async def test_a_waiter_that_gave_up_holds_no_one_back(one_reader: Any) -> None:
    hold = Holder()
    holder = asyncio.create_task(one_reader.call(hold))
    await hold.holding()
    gave_up = asyncio.create_task(one_reader.call(_mark, [], "gave up"))
    await asyncio.sleep(0)
    gave_up.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gave_up
    hold.release.set()
    await holder
    assert await asyncio.wait_for(one_reader.call(_mark, [], "next"), 30) == 2
