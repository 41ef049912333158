"""What handlers use: the writer, the reader pool and the key cache, opened and
closed with the application."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, Request

from app.config import Settings
from ledger.idempotency import PruneKeys
from storage import keys
from storage.board_registry import Boards
from storage.clock import Clock, SystemClock
from storage.db import connect
from storage.feeds import PruneFeeds
from storage.migrations import apply_migrations
from storage.readers import ReaderPool
from storage.writer import Writer

__all__ = ["Services", "close_services", "lifespan", "services"]


@dataclass
class KeyCache:
    """Verified keys by secret hash, so a request costs no database read.

    A lookup that was already reading the database when its key was revoked or
    rotated must not cache the old answer: callers take a `ticket()` before the
    read and `put` is refused if the key was forgotten since."""

    ttl: float
    _entries: dict[bytes, tuple[keys.KeyInfo, float]] = field(default_factory=dict)
    _forgets: int = 0
    _forgotten_at: dict[int, int] = field(default_factory=dict)

    def get(self, digest: bytes) -> keys.KeyInfo | None:
        hit = self._entries.get(digest)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def ticket(self) -> int:
        return self._forgets

    def put(self, digest: bytes, info: keys.KeyInfo, ticket: int | None = None) -> None:
        if ticket is not None and self._forgotten_at.get(info.id, -1) >= ticket:
            return  # revoked or rotated while this lookup was in flight
        self._entries[digest] = (info, time.monotonic() + self.ttl)

    def forget(self, key_id: int) -> None:
        self._forgotten_at[key_id] = self._forgets
        self._forgets += 1
        for digest, (info, _) in list(self._entries.items()):
            if info.id == key_id:
                del self._entries[digest]


@dataclass
class Services:
    settings: Settings
    writer: Writer
    readers: ReaderPool
    keys: KeyCache
    boards: Boards
    clock: Clock
    extras: dict[str, Any] = field(default_factory=dict)
    closing: asyncio.Future[None] | None = None


def prepare_database(settings: Settings) -> None:
    conn = connect(settings.db)
    try:
        apply_migrations(conn)
    finally:
        conn.close()


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    prepare_database(settings)
    clock: Clock = app.state.get("clock") or SystemClock()
    writer = Writer(settings.db, batch_max=settings.batch_max, clock=clock, config=settings)
    writer.add_chore(PruneKeys(settings.idempotency_keep_seconds, settings.prune_every))
    writer.add_chore(PruneFeeds(settings.feed_keep_seconds, settings.prune_every))
    writer.start()
    readers = ReaderPool(settings.db, size=settings.readers)
    await readers.open()
    boards = Boards(settings.db, settings.boards)
    app.state.services = Services(
        settings, writer, readers, KeyCache(settings.key_cache_seconds), boards, clock
    )
    try:
        for start in app.state.get("on_services", []):
            await start(app.state.services)
        yield
    finally:
        await close_services(app)


async def close_services(app: Litestar) -> None:
    """Stop what started with the services, commit what is queued, close the database.

    Called at the end of the lifespan, and earlier by the shutdown's drain deadline
    (app/deadlines.py), which cannot count on the lifespan ending: a connection stuck
    on a client that reads nothing keeps granian from ending it. Every caller waits
    for the one closing."""
    svc: Services | None = app.state.get("services")
    if svc is None:
        return
    if svc.closing is None:
        svc.closing = asyncio.ensure_future(_close(app, svc))
    await asyncio.shield(svc.closing)


async def _close(app: Litestar, svc: Services) -> None:
    for stop in reversed(app.state.get("on_services_stop", [])):
        await stop(svc)
    await svc.writer.close()  # drains the queue and commits before closing
    await svc.readers.close()


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]
