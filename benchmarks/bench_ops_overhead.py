"""What operations cost on the hot path (plain script; prints figures and ratios).

1. The ASGI wrappers (metrics + rate limit + deadlines) around a do-nothing app,
   per request; and the rate limit counted in the host's table (several workers).
2. outbox.emit inside a write task: no callbacks at all, callbacks for other bots
   only, and a listening bot (one INSERT), against the same transfer without emit.

Run: .venv/bin/python benchmarks/bench_ops_overhead.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Settings
from app.deadlines import Deadlines
from app.metrics import record
from app.ratelimit import RateLimiter
from schemas.transactions import Balances, Party, Transaction
from storage.engine.host import HostBudgets
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.engine.writer import WriteContext
from storage.queries import outbox

N = 50_000


async def _bare(scope: dict, receive: object, send: object) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"{}"})  # type: ignore[operator]


async def _sink(message: dict) -> None:
    pass


async def _requests(app: object) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/profile/1/2",
        "path_template": "/profile/{guild_id}/{user_id}",
        "headers": [(b"authorization", b"vps_example_key"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 1),
    }
    started = time.perf_counter()
    for _ in range(N):
        await app(dict(scope), None, _sink)  # type: ignore[operator]
    return (time.perf_counter() - started) / N


def asgi_wrappers() -> None:
    settings = Settings(db=Path("unused.db"), rate_limit="1000000000/min")
    limited = RateLimiter.wrap(_bare, settings)
    timed = Deadlines(limited, body_timeout=30, send_timeout=30, drain_timeout=30, observe=record)
    bare = asyncio.run(_requests(_bare))
    wrapped = asyncio.run(_requests(timed))
    print(f"ASGI request, bare app:               {bare * 1e6:7.2f} µs")
    print(f"ASGI request, metrics + limit + time:  {wrapped * 1e6:7.2f} µs")
    print(f"  overhead per request:                {(wrapped - bare) * 1e6:7.2f} µs")
    with tempfile.TemporaryDirectory() as tmp:  # several workers: one table per host
        limited.host = HostBudgets(Path(tmp) / "budgets.map")
        shared = asyncio.run(_requests(timed))
        limited.host.close()
    print(f"  ... counted with the host's workers: {shared * 1e6:7.2f} µs")
    print(f"  the host's table, per request:       {(shared - wrapped) * 1e6:7.2f} µs")


def _tx() -> Transaction:
    side = Party(id="0" * 64, guild_id="1", user_id="2")
    return Transaction(1, "transfer", 1.0, side, side, 5, "gift", "111", Balances(1, 2))


def _emits(conn: object) -> float:
    ctx = WriteContext(conn)  # type: ignore[arg-type]
    tx = _tx()
    started = time.perf_counter()
    ctx.conn.execute("BEGIN")
    for _ in range(N // 10):
        outbox.emit_transaction(ctx, tx)
    ctx.conn.execute("ROLLBACK")
    return (time.perf_counter() - started) / (N // 10)


def emit_cost() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "b.db")
        apply_migrations(conn)
        none = _emits(conn)
        conn.execute("INSERT INTO callbacks VALUES ('999', 'transaction', 'http://x.test', 's', 0)")
        others = _emits(conn)
        conn.execute("INSERT INTO callbacks VALUES ('111', 'transaction', 'http://x.test', 's', 0)")
        listening = _emits(conn)
        conn.close()
    print(f"emit, no callbacks registered:         {none * 1e6:7.2f} µs")
    print(f"emit, callbacks of other bots only:    {others * 1e6:7.2f} µs")
    print(f"emit, the bot listens (one INSERT):    {listening * 1e6:7.2f} µs")
    print(f"  listening / not listening:           {listening / others:7.1f}x")


if __name__ == "__main__":
    asgi_wrappers()
    emit_cost()
