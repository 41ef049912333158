"""HEAD on every GET route: the GET's status and headers, no body (RFC 9110 §9.3.2).

Litestar answers HEAD only on routes that declare it, so `HEAD /health` (what
uptime monitors send by default) was a 405. This plain ASGI wrapper runs a HEAD as
its GET and drops the body bytes on their way out; the headers, Content-Length
included, are the GET's. The method is GET only while the app runs, so the
request metrics still count a HEAD.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

__all__ = ["HeadAsGet"]


class HeadAsGet:
    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, scope: dict, receive: Any, send: Any) -> Awaitable[None]:
        # A plain def handing back the app's own coroutine: every other request pays
        # one call, not one more coroutine to run (the request path is measured).
        if scope.get("method") != "HEAD":
            return self.app(scope, receive, send)  # type: ignore[no-any-return]
        return self._head(scope, receive, send)

    async def _head(self, scope: dict, receive: Any, send: Any) -> None:
        async def headers_only(message: dict) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": b""}
            await send(message)

        scope["method"] = "GET"
        try:
            await self.app(scope, receive, headers_only)
        finally:
            scope["method"] = "HEAD"
