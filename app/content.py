"""Request bodies are JSON: a body sent as anything else gets 415, not a guess.

Litestar decodes a handler's `data` as JSON whatever the Content-Type says, so a
form post (`curl -d` without `-H 'Content-Type: application/json'`) would fail as
"malformed JSON" and a `text/plain` body would be taken silently. A body without
a Content-Type, or an empty one, is accepted as JSON (clients that never set the
header keep working).
"""

from __future__ import annotations

from litestar import Request

from storage.errors import DomainError

__all__ = ["UnsupportedMediaType", "require_json"]


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


def _is_json(media_type: str) -> bool:
    kind = media_type.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


async def require_json(request: Request) -> None:
    """`before_request` hook: runs after auth and scope checks, before the body is decoded."""
    header = request.headers.get("content-type")
    if not header or _is_json(header):
        return
    handler = request.route_handler
    if "data" not in handler.parsed_fn_signature.parameters:
        return  # the handler reads no body
    if await request.body():
        raise UnsupportedMediaType(
            f"the body must be JSON: send Content-Type: application/json (got {header})"
        )
