"""The image files (SPEC §14): served by the server itself at the `url` of each image
object, public so they can be hotlinked. A file's name is the SHA-256 of its bytes,
so it never changes: the hash is its ETag and it may be cached for a year."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import ETag
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from litestar.response import File

from app.imagekit import kit
from storage.errors import NotFound
from storage.media import EXTENSIONS, MediaStore

__all__ = ["ROUTES"]

_CACHE = "public, max-age=31536000, immutable"


@get(
    "/media/{name:str}",
    summary="An image file (public; its name is its SHA-256)",
    responses={304: ResponseSpec(None, description="Not modified (If-None-Match)")},
)
async def media_file(request: Request, name: FromPath[str]) -> Response[bytes] | File:
    parsed = MediaStore.parse(name)
    if parsed is None or not kit(request).media.exists(*parsed):
        raise NotFound(f"no file {name}")
    sha256, ext = parsed
    etag = f'"{sha256}"'
    if etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers={"ETag": etag, "Cache-Control": _CACHE})
    return File(
        kit(request).media.path(sha256, ext),
        media_type=EXTENSIONS[ext],
        content_disposition_type="inline",
        etag=ETag(value=sha256),
        headers={"Cache-Control": _CACHE},
    )


ROUTES: list[Any] = [media_file]
