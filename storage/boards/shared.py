"""One process per host keeps the in-memory boards; the others on that host ask it.

With several server processes on one database (`serve --workers N`, or servers side
by side) each would build and keep its own boards, so their memory would grow N-fold
(about 80 MB per all-time board at 1M profiles, per process). Instead the process
that holds the host's `boards` lock keeps them (storage/boards/registry.py) and
answers the others' board reads (storage/boards/answers.py) over a Unix socket
named by the database in a private directory (mode 0700, this user's) of the
temporary directory, so only this user's servers of that database meet there. The
lock is a file beside a SQLite database, and in that directory for PostgreSQL.

- **Exact:** the keeper opens its read snapshot after the question arrives, so it
  sees every write acknowledged before the asker sent it, as a local board would.
- **A keeper that dies** (or stops) drops its lock with its process; the next read
  that finds its socket gone takes the lock and keeps the boards itself (built on
  first use, SQL answering meanwhile). A keeper that does not answer within
  `timeout` costs one read answered by SQL, not a stalled request.
- **None** (no board ready) comes back as it would here: the asker's SQL answers.

The wire: each message is a 4-byte big-endian length and a msgpack body; a question
is `[op, [args]]`, an answer the op's result or nil.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import msgspec

from storage.boards.answers import BoardReads, Chunk, Rows
from storage.engine.host import db_name, run_dir
from storage.engine.lease import Lease
from storage.queries.top_segments import Position

__all__ = ["SharedBoards"]

log = logging.getLogger("voiceprofile.boards")

MAX_QUESTION = 64 * 1024  # questions are a few scalars
MAX_ANSWER = 256 * 1024 * 1024  # a page of profiles; the keeper is this user's own process
IDLE_CONNECTIONS = 16  # kept open to the keeper between reads

# What each op takes and answers, so both sides decode typed data, not guesses.
ARGS: dict[str, Any] = {
    "page": tuple[str, str | None, int | None, int, int],
    "chunk": tuple[str, str | None, int | None, Position | int, int],
    "rank": tuple[str, str | None, int, str],
    "stats": tuple[int | None],
    "flow": tuple[float | None, float | None, str],
}
ANSWERS: dict[str, Any] = {
    "page": Rows | None,
    "chunk": Chunk | None,
    "rank": tuple[int, int, int] | None,
    "stats": dict[str, Any] | None,
    "flow": list[tuple[float, int]] | None,
}
_encode = msgspec.msgpack.Encoder().encode
_questions = msgspec.msgpack.Decoder(tuple[str, msgspec.Raw])
_args = {op: msgspec.msgpack.Decoder(t) for op, t in ARGS.items()}
_answers = {op: msgspec.msgpack.Decoder(t) for op, t in ANSWERS.items()}


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + body


class SharedBoards:
    """The five board reads of BoardReads, answered by this process's boards while it
    keeps the host's, else by the keeper's."""

    def __init__(self, local: BoardReads, db: str | Path, timeout: float = 5.0) -> None:
        self.local = local
        self.timeout = timeout
        base = run_dir() / f"boards-{db_name(db)}"
        # A lock file cannot be removed safely while others may lock it: SQLite's sits
        # beside the database (and goes with it), a PostgreSQL database's here.
        lock = Path(f"{base}.lock" if "://" in str(db) else f"{db}-boards.lock")
        self._lease = Lease(db, "boards", path=lock)  # a file lock: one keeper per host
        self.socket_path = Path(f"{base}.sock")  # short: a socket's path is at most 107 bytes
        self._server: asyncio.Server | None = None
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._askers: set[asyncio.StreamWriter] = set()  # connections served while keeping
        self._closed = False

    @property
    def keeping(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        await self._take()

    async def close(self) -> None:
        self._closed = True  # a read still running in the drain must not keep them again
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
        if self._server is not None:
            self._server.close()
            for writer in self._askers:
                writer.close()  # they ask the next keeper, or their SQL answers
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
            self._server = None
        self._lease.release()  # another process keeps the boards now

    # -- the five reads -------------------------------------------------------------------

    async def page(
        self, by: str, timeframe: str | None, guild_id: int | None, limit: int, offset: int
    ) -> Rows | None:
        return await self._ask("page", (by, timeframe, guild_id, limit, offset))  # type: ignore[no-any-return]

    async def chunk(
        self, by: str, timeframe: str | None, guild_id: int | None, at: Position | int, size: int
    ) -> Chunk | None:
        return await self._ask("chunk", (by, timeframe, guild_id, at, size))  # type: ignore[no-any-return]

    async def rank(
        self, by: str, timeframe: str | None, guild_id: int, vp: str
    ) -> tuple[int, int, int] | None:
        return await self._ask("rank", (by, timeframe, guild_id, vp))  # type: ignore[no-any-return]

    async def stats(self, guild_id: int | None) -> dict[str, Any] | None:
        return await self._ask("stats", (guild_id,))  # type: ignore[no-any-return]

    async def flow(
        self, since: float | None, until: float | None, bucket: str
    ) -> list[tuple[float, int]] | None:
        return await self._ask("flow", (since, until, bucket))  # type: ignore[no-any-return]

    # -- asking ---------------------------------------------------------------------------

    async def _ask(self, op: str, args: tuple[Any, ...]) -> Any:
        if self.keeping:
            return await getattr(self.local, op)(*args)
        question = _frame(_encode((op, args)))
        for fresh in (False, True):  # a kept connection may have outlived its keeper
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._exchange(op, question, fresh)
            except TimeoutError:
                log.warning("the boards' keeper did not answer a %s read in time", op)
                return None  # it is alive but busy: SQL answers this one
            except (OSError, EOFError, asyncio.IncompleteReadError, msgspec.DecodeError):
                if not fresh:
                    continue
        if not self._closed and await self._take():  # the keeper is gone: keep them here
            return await getattr(self.local, op)(*args)
        return None

    async def _exchange(self, op: str, question: bytes, fresh: bool) -> Any:
        if self._idle and not fresh:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_unix_connection(self.socket_path)
        try:
            writer.write(question)
            await writer.drain()
            size = int.from_bytes(await reader.readexactly(4), "big")
            if size > MAX_ANSWER:
                raise EOFError("the keeper's answer is too long")
            answer = _answers[op].decode(await reader.readexactly(size))
        except BaseException:
            writer.close()  # half a message may be in flight: never reuse it
            raise
        if len(self._idle) < IDLE_CONNECTIONS:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return answer

    # -- keeping --------------------------------------------------------------------------

    async def _take(self) -> bool:
        """Take the host's lock if no process holds it, and answer on the socket."""
        if not self._lease.try_take():
            return False
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()  # the last keeper's, dead with it
        self._server = await asyncio.start_unix_server(self._serve, self.socket_path)
        log.info("this process keeps the host's boards (pid %d)", os.getpid())
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._askers.add(writer)
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(4), "big")
                if size > MAX_QUESTION:
                    return
                op, raw = _questions.decode(await reader.readexactly(size))
                answer = await self._answer(op, raw)
                writer.write(_frame(_encode(answer)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, msgspec.DecodeError):
            return  # the asker went away, or is no server of ours
        finally:
            self._askers.discard(writer)
            writer.close()

    async def _answer(self, op: str, raw: msgspec.Raw) -> Any:
        decode = _args.get(op)
        if decode is None:
            raise msgspec.DecodeError(f"unknown op {op!r}")
        try:
            return await getattr(self.local, op)(*decode.decode(raw))
        except msgspec.DecodeError:
            raise
        except Exception:
            log.exception("a shared %s board read failed; the asker's SQL answers", op)
            return None
