"""OPTIONS answers that list every method of their path.

Litestar 2 gives each path an OPTIONS handler built with the methods of the first
handler registered for it, and keeps that one when later handlers join the path,
so `OPTIONS /transaction` answered `Allow: OPTIONS, POST` without GET (litestar
issue #4169, fixed in Litestar 3). Registering our own OPTIONS handler first, with
the methods of every handler of the path, stops Litestar from making one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Response, route
from litestar.enums import HttpMethod, MediaType
from litestar.handlers import HTTPRouteHandler

__all__ = ["with_options"]


def _options(path: str, methods: set[str]) -> HTTPRouteHandler:
    head = {"HEAD"} if "GET" in methods else set()  # app/head.py answers it
    allow = ", ".join(sorted({*methods, *head, "OPTIONS"}))

    @route(path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False)
    def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow}, media_type=MediaType.TEXT)

    return options


def with_options(handlers: Sequence[Any]) -> list[Any]:
    """`handlers`, preceded by an OPTIONS handler for each of their paths."""
    methods: dict[str, set[str]] = {}
    for handler in handlers:
        for path in handler.paths:
            methods.setdefault(path, set()).update(handler.http_methods)
    options = [_options(path, found) for path, found in methods.items() if "OPTIONS" not in found]
    return [*options, *handlers]
