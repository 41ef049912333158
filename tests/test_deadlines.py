"""app/deadlines.py on its own (the real server is tests/test_server_deadlines.py):
what a request that waits on its client, or on the shutdown, ends with. The body
limit applies where a body is read (`Deadlines.read`, behind TimedRequest.stream),
the send limit where an answer is streamed (`Deadlines.send_each`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.deadlines import PIECE, Deadlines, RequestTimeout
from app.ratelimit import RateLimiter

SCOPE = {"type": "http", "method": "GET", "path": "/profile", "headers": []}


async def forever() -> Any:
    await asyncio.Event().wait()


def make(app: Any, **limits: float) -> Deadlines:
    options = {"body_timeout": 60.0, "send_timeout": 60.0, "drain_timeout": 60.0, **limits}
    return Deadlines(app, **options)  # type: ignore[arg-type]


def run(deadlines: Deadlines, receive: Any, send: Any) -> None:
    asyncio.run(asyncio.wait_for(deadlines(dict(SCOPE), receive, send), 30))


async def never() -> AsyncIterator[bytes]:
    await forever()
    yield b""  # pragma: no cover (never reached)


def test_a_body_that_does_not_arrive_fails_the_read() -> None:
    seen: list[BaseException] = []
    deadlines: Deadlines

    async def app(scope: dict, receive: Any, send: Any) -> None:
        try:
            async for _ in deadlines.read(scope, never()):
                pass
        except RequestTimeout as exc:
            seen.append(exc)

    deadlines = make(app, body_timeout=0.3)
    run(deadlines, forever, None)
    assert len(seen) == 1 and seen[0].body()["status"] == 408


def test_a_stream_the_client_stopped_reading_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    sent = 0
    deadlines: Deadlines

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            yield b"["

    async def app(scope: dict, receive: Any, send: Any) -> None:
        nonlocal sent
        task = asyncio.current_task()
        assert task is not None
        async for _chunk in deadlines.send_each(task, chunks()):
            if sent >= 3:
                await forever()  # the client's window is full
            sent += 1

    deadlines = make(app, send_timeout=0.3)
    run(deadlines, forever, None)
    assert sent == 3
    assert "read nothing for 0.3 s" in caplog.text


def test_a_streamed_chunk_goes_out_in_pieces_a_stalled_client_holds_little_of() -> None:
    """granian takes every message it is given whole, read or not: a chunk of
    megabytes goes to it in pieces of at most PIECE bytes, all of it, in order."""
    big = bytes(range(256)) * 800  # 200 KB
    given: list[bytes] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b"["
        yield big
        yield b"]"

    async def app(scope: dict, receive: Any, send: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        given.extend([piece async for piece in deadlines.send_each(task, chunks())])

    deadlines = make(app)
    run(deadlines, forever, None)
    assert b"".join(given) == b"[" + big + b"]"
    assert max(len(piece) for piece in given) == PIECE and len(given) == 6


def test_a_plain_request_takes_no_limit() -> None:
    """An answer that is not streamed, to a request whose body nobody reads, is
    waited for however long it takes: the limits are on reading and streaming."""

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.6)
        await send({"type": "http.response.start", "status": 200, "headers": []})

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    run(make(app, body_timeout=0.2, send_timeout=0.2), forever, send)
    assert sent[0]["status"] == 200


def test_the_drain_answers_503_and_closes_the_services() -> None:
    """...with the budget headers of the rate limiter within (as app/ops.py wires
    them), and counted by the observer (the request metrics)."""
    sent: list[dict] = []
    observed: list[int] = []
    closed: list[bool] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()  # half a body, forever

    async def send(message: dict) -> None:
        sent.append(message)

    async def on_cut() -> None:
        closed.append(True)

    async def main() -> None:
        deadlines = Deadlines(
            RateLimiter(app, 100, 60),
            body_timeout=60,
            send_timeout=60,
            drain_timeout=0.3,
            on_cut=on_cut,
            observe=lambda scope, status, seconds: observed.append(status),
        )
        request = asyncio.create_task(deadlines(dict(SCOPE), forever, send))
        await asyncio.sleep(0.05)
        deadlines.drain()
        await asyncio.wait_for(request, 30)
        assert deadlines._cut_task is not None
        await asyncio.wait_for(deadlines._cut_task, 30)
        late: list[dict] = []  # and whoever comes after the deadline is told at once

        async def late_send(message: dict) -> None:
            late.append(message)

        await deadlines(dict(SCOPE), forever, late_send)
        assert late[0]["status"] == 503

    asyncio.run(main())
    assert sent[0]["status"] == 503
    assert dict(sent[0]["headers"])[b"x-ratelimit-remaining"] == b"99"
    assert json.loads(sent[1]["body"])["code"] == "shutting_down"
    assert closed == [True]
    assert observed == [503, 503]
