"""Reads cannot starve the server (issue 10, finding 4).

A whole top that no index orders (a window answered by SQL, `points` without a
board) is ranked once per request, not once per chunk, so a stream costs about
linear work in what it sends; such heavy reads take at most half the reader pool,
and no stream holds a reader while its client is slow, so a cheap read of a
profile always finds a connection. The streamed answers stay exactly those of a
page read in one go and of the in-memory boards.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from storage.engine.readers import ReaderPool
from storage.engine.sqlite import connect
from storage.queries import top_segments
from tests.boards_helpers import two_servers

T = 480_000 * 3600  # a whole hour, in 2024 (the clock of two_servers)
GUILD = 5
WINDOWED = ["points", "levels", "time", "text-message"]


def _bulk(client: TestClient, h: dict[str, str], method: str, path: str, items: list) -> None:
    for i in range(0, len(items), 500):
        got = client.request(method, path, json=items[i : i + 500], headers=h)
        assert got.status_code in (200, 201), got.text


def _populate(client: TestClient, h: dict[str, str], clock: Any, n: int, seed: int = 0) -> None:
    """`n` profiles in GUILD (and a few in guild 6): positive, zero and negative
    window scores, with ties, for every windowed type. Since T + 50 the points
    window sees only the second round of transfers."""
    rnd = random.Random(seed)
    users = range(1, n + 1)
    clock.set(T)
    adds = [
        {
            "guild_id": GUILD if u % 9 else 6,
            "user_id": u,
            "experience": rnd.choice([0, 0, 1, 2, 3]),
            "timespent": {"global": rnd.choice([0, 0, 0, 60, 120])},
            "text": {"message_count": rnd.choice([0, 0, 1, 4])},
        }
        for u in users
    ]
    _bulk(client, h, "PATCH", "/profile/add", adds)
    member = {
        u: {"guild_id": a["guild_id"], "user_id": u} for u, a in zip(users, adds, strict=True)
    }
    mints = [{"from": "self", "to": member[u], "amount": 5 + u % 3} for u in users if u % 4 < 2]
    _bulk(client, h, "POST", "/transaction", mints)
    clock.set(T + 100)
    moves = [{"from": member[u], "to": "self", "amount": 1 + u % 2} for u in users if u % 4 == 0]
    moves += [{"from": "self", "to": member[u], "amount": 1 + u % 3} for u in users if u % 4 == 2]
    _bulk(client, h, "POST", "/transaction", moves)
    later = [a | {"experience": rnd.choice([0, 1, 5])} for a in adds[::3]]
    clock.set(T + 2 * 3600)
    _bulk(client, h, "PATCH", "/profile/add", later)
    for u in list(users)[::5]:  # deleted profiles never appear
        client.delete(f"/profile/{member[u]['guild_id']}/{u}", headers=h)


# -- 1. the same answers ---------------------------------------------------------------


def _windows(rnd: random.Random) -> list[dict]:
    since = rnd.choice([T + 50, T + 0.5, T + 3600])
    return [
        {"since": since},
        {"since": T - 10, "until": rnd.choice([T + 50, T + 2 * 3600 + 1])},
        {"until": T + 150},
        {"timeframe": "day"},
        {"timeframe": "week"},
        {"timeframe": "month"},
        {"timeframe": rnd.choice(["this-week", "this-month"])},  # calendar boards stream too
    ]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(8, 40))
def test_sql_streams_answer_like_a_page_and_like_the_boards(seed: int, n: int) -> None:
    """Every windowed top (and `points` of all time) streamed by SQL, chunk of 3 by
    chunk of 3 from any offset, equals the page read in one request and the board's
    stream (a timeframe), entry for entry: ranks, scores, ties by profile id, the
    zeros, the negatives."""
    note(f"seed={seed}")
    rnd = random.Random(seed)
    with (
        two_servers(stream_chunk=3) as (boards, sql, h, clock),
        mock.patch.object(top_segments, "CHUNK", 2),  # the zero walks' batches, too
    ):
        _populate(boards, h, clock, n, seed)
        clock.set(T + 3 * 3600)
        cases = [("points", {})] + [(by, w) for by in WINDOWED for w in _windows(rnd)]
        for by, window in cases:
            for path in ("/profile/top", f"/profile/{GUILD}/top"):
                params = {"by": by, **window}
                whole = sql.get(path, params={**params, "amount": 10**6}, headers=h).json()
                assert whole, (path, params)
                offsets = {0, 1, len(whole) - 1, len(whole), len(whole) + 2}
                offsets |= {rnd.randrange(len(whole)) for _ in range(3)}
                for offset in sorted(offsets):
                    query = {**params, "amount": 0, "offset": offset}
                    streamed = sql.get(path, params=query, headers=h).json()
                    assert streamed == whole[offset:], (path, query)
                    from_boards = boards.get(path, params=query, headers=h).json()
                    assert from_boards == streamed, (path, query)


# -- 2. linear work ----------------------------------------------------------------------


class Steps:
    """SQLite VM steps on the server's reader connections (a progress handler)."""

    def __init__(self) -> None:
        self.count = 0

    def tick(self) -> int:
        self.count += 1
        return 0


def _on_readers(client: TestClient, setup: Callable[[Any], None]) -> None:
    """Run `setup(sqlite3_connection)` on each reader connection's own thread."""
    pool = client.app.state.services.readers

    async def install() -> None:
        for reader in pool._all:  # a thread per reader (storage/engine/readers.py)
            await reader.run(setup, reader.conn)

    client.blocking_portal.call(install)


def _stream_steps(mode: str, n: int, by: str, window: dict) -> tuple[int, int]:
    """(VM steps of one whole streamed top of `n` profiles, entries sent)."""
    with two_servers(stream_chunk=25) as (boards, sql, h, clock):
        client = boards if mode == "sync" else sql
        _populate(boards, h, clock, n)
        clock.set(T + 3 * 3600)
        params = {"by": by, **window}
        client.get(f"/profile/{GUILD}/top", params=params, headers=h)  # builds a board
        steps = Steps()
        _on_readers(client, lambda raw: raw.set_progress_handler(steps.tick, 100))
        got = client.get(f"/profile/{GUILD}/top", params={**params, "amount": 0}, headers=h)
        _on_readers(client, lambda raw: raw.set_progress_handler(None, 0))
        assert got.status_code == 200
        return steps.count, len(got.json())


# sqlite_only: the work is counted in SQLite's VM steps (its progress handler).
@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("mode", "by", "window"),
    [
        ("off", "points", {"since": T + 50}),  # the ledger, since/until: SQL always
        ("off", "levels", {"timeframe": "week"}),  # activity, boards off (or building)
        ("off", "points", {}),  # all time without a board
        ("sync", "time", {"timeframe": "week"}),  # a board: the zeros walk
    ],
)
def test_a_whole_stream_costs_linear_work(mode: str, by: str, window: dict) -> None:
    """Four times the profiles cost about four times the work (a chunk per 25
    profiles), not sixteen times as when each chunk recomputed the window."""
    small_steps, small = _stream_steps(mode, 300, by, window)
    big_steps, big = _stream_steps(mode, 1200, by, window)
    assert big > 3.5 * small
    ratio = big_steps / small_steps
    print(f"{small_steps} -> {big_steps} VM steps/100: x{ratio:.1f}")
    assert ratio < 7, (small_steps, big_steps, ratio)


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
