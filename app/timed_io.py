"""Where the body and send limits of app/deadlines.py meet Litestar: the app's
request class, whose body reads run within the body limit, and the chunks of
every streamed answer, each taken by the client within the send limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from litestar import Request
from litestar.types import Empty

from app.deadlines import Deadlines

__all__ = ["TimedRequest", "timed_chunks"]

_current_task = asyncio.current_task


class TimedRequest(Request):  # type: ignore[type-arg]
    """The app's request class: whatever reads the body (Litestar's parsing of a
    `data` parameter, `request.body()`, an upload's `request.stream()`) reads it
    within the body limit."""

    __slots__ = ()

    async def body(self) -> bytes:
        # The whole body under one wait, in this coroutine: most bodies are read
        # this way, and a generator around each chunk cost a no-op POST a tenth.
        deadlines: Deadlines | None = self.app.state.get("deadlines")
        task = _current_task()
        if self._body is not Empty or deadlines is None or task is None:
            return await super().body()
        if not deadlines.begin_read(task, self.scope):
            return await super().body()
        try:
            return await super().body()
        except asyncio.CancelledError:
            deadlines.timed_out(task)
            raise
        finally:
            deadlines.end_read(task)

    def stream(self) -> AsyncIterator[bytes]:  # type: ignore[override]
        chunks = super().stream()
        deadlines: Deadlines | None = self.app.state.get("deadlines")
        if deadlines is None or deadlines.reading(_current_task()):
            return chunks  # not served through Deadlines, or read by `body` above
        return deadlines.read(self.scope, chunks)


def timed_chunks(request: Request, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:  # type: ignore[type-arg]
    """A streamed answer's `chunks`, each to be taken by the client within the send
    limit: every `Stream` of the routes is made of these. Called by the handler,
    in the request's task (the one a stalled stream cancels)."""
    deadlines: Deadlines | None = request.app.state.get("deadlines")
    task = _current_task()
    if deadlines is None or task is None:
        return chunks
    return deadlines.send_each(task, chunks)
