"""What handlers use: the writer, the reader pool, the key cache, the boards and
the clock, opened by app/lifespan.py and closed here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from litestar import Litestar, Request

from app.config import Settings
from storage.boards.registry import Boards
from storage.clock import Clock, SystemClock
from storage.engine.host import HostCounter
from storage.engine.readers import ReaderPool
from storage.engine.writer import Writer
from storage.queries import keys
from storage.reads import Reads

if TYPE_CHECKING:
    from app.delivery import Deliverer
    from app.imagekit import ImageKit
    from app.rate_share import RateShare
    from app.season_clock import SeasonClock
    from storage.boards.shared import SharedBoards

__all__ = ["KeyCache", "Services", "close_services", "services"]


@dataclass
class KeyCache:
    """Verified keys by secret hash, so a request costs no database read.

    A lookup that was already reading the database when its key was revoked or
    rotated must not cache the old answer: callers take a `ticket()` before the
    read and `put` is refused if the key was forgotten since.

    With `news` (server processes), a key forgotten by any process on the host
    (several workers, or the CLI's `keys revoke`) makes every process forget all
    its keys at once: the count in `news` moved."""

    ttl: float
    clock: Clock = field(default_factory=SystemClock)
    news: HostCounter | None = None
    _entries: dict[bytes, tuple[keys.KeyInfo, float]] = field(default_factory=dict)
    _forgets: int = 0
    _forgotten_at: dict[int, int] = field(default_factory=dict)
    _all_forgotten_at: int = -1
    _seen: int = 0

    def get(self, digest: bytes) -> keys.KeyInfo | None:
        if self.news is not None and self.news.value != self._seen:
            self._forget_all()
        hit = self._entries.get(digest)
        if hit is None or hit[1] < self.clock.monotonic():
            return None
        return hit[0]

    def ticket(self) -> int:
        if self.news is not None and self.news.value != self._seen:
            self._forget_all()
        return self._forgets

    def put(self, digest: bytes, info: keys.KeyInfo, ticket: int | None = None) -> None:
        if self.news is not None and self.news.value != self._seen:
            self._forget_all()
        if ticket is not None and (
            self._forgotten_at.get(info.id, -1) >= ticket or self._all_forgotten_at >= ticket
        ):
            return  # revoked or rotated while this lookup was in flight
        self._entries[digest] = (info, self.clock.monotonic() + self.ttl)

    def forget(self, key_id: int) -> None:
        self._forgotten_at[key_id] = self._forgets
        self._forgets += 1
        for digest, (info, _) in list(self._entries.items()):
            if info.id == key_id:
                del self._entries[digest]
        if self.news is not None:  # the others forget theirs at their next look
            seen = self._seen
            if self.news.bump() != seen + 1:  # another forgot one too since this looked
                self._forget_all()
            else:
                self._seen = seen + 1

    def _forget_all(self) -> None:
        assert self.news is not None
        self._seen = self.news.value
        self._all_forgotten_at = self._forgets
        self._forgets += 1
        self._entries.clear()


@dataclass
class Services:
    settings: Settings
    writer: Writer
    readers: ReaderPool
    keys: KeyCache
    boards: Boards
    clock: Clock
    reads: Reads
    deliverer: Deliverer | None = None
    images: ImageKit | None = None
    seasons: SeasonClock | None = None
    shared_boards: SharedBoards | None = None  # the host's boards, one process keeping them
    rate_share: RateShare | None = None  # rate-limit counts shared with other processes
    closing: asyncio.Future[None] | None = None


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
    if svc.shared_boards is not None:
        await svc.shared_boards.close()  # first: another process keeps the boards now
    if svc.deliverer is not None:
        await svc.deliverer.stop()
    if svc.images is not None:
        await svc.images.close()
    if svc.seasons is not None:
        await svc.seasons.stop()
    if svc.rate_share is not None:
        await svc.rate_share.stop()
    await svc.writer.close()  # drains the queue and commits before closing
    await svc.readers.close()


def services(request: Request) -> Services:
    # By key: State's attribute access goes through a failed lookup and __getattr__
    # (0.7 µs, ten times the item access), on every request.
    return request.app.state["services"]  # type: ignore[no-any-return]
