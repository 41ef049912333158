"""Opening the services with the application, and what starts with them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from app import delivery, heap, imagekit, metrics
from app.config import Settings
from app.rate_share import RateShare
from app.season_clock import SeasonClock
from app.services import KeyCache, Services, close_services
from app.signals import listen_for_signals
from ledger.idempotency import PruneKeys
from storage.boards.registry import Boards
from storage.boards.shared import SharedBoards
from storage.clock import Clock, SystemClock
from storage.engine import Engine, open_engine
from storage.engine.base import is_url
from storage.engine.host import HostBudgets, HostCounter
from storage.engine.migrations import apply_migrations
from storage.engine.readers import ReaderPool
from storage.engine.writer import Writer
from storage.queries.feeds import PruneFeeds
from storage.reads import Reads

__all__ = ["lifespan"]

log = logging.getLogger("voiceprofile")


def _prepare_database(engine: Engine) -> None:
    conn = engine.connect()
    try:
        apply_migrations(conn)
    finally:
        conn.close()


async def _share_boards(svc: Services) -> None:
    """One process per host keeps the boards, the others ask it (storage/boards/shared.py)."""
    try:
        shared = SharedBoards(svc.reads.local, svc.settings.db)
    except OSError:
        log.exception("boards are kept by each process: no private directory to share them")
        return
    await shared.start()
    svc.shared_boards = svc.reads.on_boards = shared


def _key_news(settings: Settings) -> HostCounter | None:
    """Where the processes of this host tell each other a key was forgotten."""
    try:
        return HostCounter.of(settings.db, "keys")
    except OSError:
        log.exception("a key revoked elsewhere is seen within key_cache_seconds only")
        return None


def _host_budgets(settings: Settings, period: int) -> HostBudgets | None:
    """Where the workers of this host count their rate limits together."""
    try:
        return HostBudgets.of(settings.db, period)
    except OSError:
        log.exception("each worker counts its rate limits alone (shared every second)")
        return None


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    clock: Clock = app.state.get("clock") or SystemClock()
    engine = open_engine(settings.db)
    _prepare_database(engine)
    writer = Writer(
        engine,
        batch_max=settings.batch_max,
        cache_kib=settings.cache_mib * 1024,
        clock=clock,
        config=settings,
    )
    writer.add_chore(PruneKeys(settings.idempotency_keep_seconds, settings.prune_every))
    writer.add_chore(PruneFeeds(settings.feed_keep_seconds, settings.prune_every))
    writer.start()
    readers = ReaderPool.of(engine, size=settings.readers)
    await readers.open()
    boards = Boards(
        engine,
        settings.boards,
        idle_seconds=settings.board_idle_seconds,
        retry_seconds=settings.board_retry_seconds,
        clock=clock,
    )
    keys = KeyCache(settings.key_cache_seconds, clock)
    # Quick board reads run on the event loop on SQLite, where no read waits on a network.
    inline = not is_url(settings.db)
    reads = Reads(readers, boards, clock, chunk=settings.stream_chunk, inline=inline)
    svc = app.state.services = Services(settings, writer, readers, keys, boards, clock, reads)
    try:
        metrics.observe_batches(writer)
        svc.deliverer = delivery.start(svc)
        svc.images = imagekit.start(svc)  # shares the deliverer's network guard
        svc.seasons = SeasonClock(writer, readers, clock, settings.season_check_seconds)
        await svc.seasons.start()
        if app.state.get("signals"):  # a server process (app/asgi.py)
            listen_for_signals(app)
            keys.news = _key_news(settings)
            if settings.boards != "off":
                await _share_boards(svc)
            limiter = app.state.get("limiter")
            if limiter is not None:
                if settings.workers > 1:
                    limiter.host = _host_budgets(settings, limiter.period)
                svc.rate_share = RateShare(limiter, writer, readers, settings.rate_share_seconds)
                svc.rate_share.start()
            heap.settle()  # the start-up heap, left out of every collection from now on
        yield
    finally:
        await close_services(app)
