"""app/deadlines.py on its own (the real server is tests/test_server_deadlines.py):
what a request that waits on its client, or on the shutdown, ends with."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from app.deadlines import Deadlines, RequestTimeout

SCOPE = {"type": "http", "method": "GET", "path": "/profile", "headers": []}


async def forever() -> Any:
    await asyncio.Event().wait()


def make(app: Any, **limits: float) -> Deadlines:
    options = {"body_timeout": 60.0, "send_timeout": 60.0, "drain_timeout": 60.0, **limits}
    return Deadlines(app, **options)  # type: ignore[arg-type]


def run(deadlines: Deadlines, receive: Any, send: Any) -> None:
    asyncio.run(asyncio.wait_for(deadlines(dict(SCOPE), receive, send), 30))


def test_a_body_that_does_not_arrive_fails_the_read() -> None:
    seen: list[BaseException] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        try:
            await receive()
        except RequestTimeout as exc:
            seen.append(exc)

    run(make(app, body_timeout=0.3), forever, None)
    assert len(seen) == 1 and seen[0].body()["status"] == 408


def test_a_stream_the_client_stopped_reading_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    chunks = 0

    async def app(scope: dict, receive: Any, send: Any) -> None:
        nonlocal chunks
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await send({"type": "http.response.body", "body": b"[", "more_body": True})
            chunks += 1

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body" and chunks >= 3:
            await forever()  # the client's window is full

    run(make(app, send_timeout=0.3), forever, send)
    assert chunks == 3
    assert "read nothing for 0.3 s" in caplog.text


def test_the_drain_answers_503_and_closes_the_services() -> None:
    sent: list[dict] = []
    closed: list[bool] = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        await receive()  # half a body, forever

    async def send(message: dict) -> None:
        sent.append(message)

    async def on_cut() -> None:
        closed.append(True)

    async def main() -> None:
        deadlines = Deadlines(
            app, body_timeout=60, send_timeout=60, drain_timeout=0.3, on_cut=on_cut
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
    assert json.loads(sent[1]["body"])["code"] == "shutting_down"
    assert closed == [True]
