"""`POST /images/upload` (SPEC §14): a file as multipart/form-data, or a `url` the
server fetches (JSON or form fields), with `baseType`, `hidden`, `tags`, `nsfw`,
`source`. The bytes are decoded to prove they are an image of an accepted type and
size, stored once under their hash, then the row is written by the writer.

The route is made per application (`routes(settings)`): its body limit is the
image limit, larger than the API's 1 MiB.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ValidationException

from app.auth import caller
from app.bodies import documented, read_body
from app.config import Settings
from app.fetch import FetchFailed
from app.imagekit import kit
from app.imaging.common import NotAnImage
from app.routes.images import SCOPE, picture, tag_list
from app.services import services
from schemas.images import ImageOut, UploadIn
from storage.errors import DomainError, InvalidValue, PayloadTooLarge
from storage.media import digest
from storage.queries import image_writes as writes
from storage.queries.image_writes import MAX_TAGS, NewImage

__all__ = ["NoBoundary", "routes"]

_FORM_SLACK = 64 * 1024  # multipart framing and the other fields, beside the file


class NoBoundary(DomainError):
    status = 400
    code = "bad_request"

    def __init__(self) -> None:
        super().__init__(
            "multipart/form-data without a boundary cannot be read (taihou's"
            " uploadImage({file}) sends its file as JSON this way): send the file as"
            " real multipart/form-data, or send a `url` to fetch"
        )


def _true(value: bool | str) -> bool:
    return value is True or value == "true"


async def _read(request: Request, limit: int) -> tuple[UploadIn, bytes | None]:
    """The upload's fields, and the file's bytes when one was sent."""
    content = request.headers.get("content-type", "")
    kind = content.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data" and "boundary=" not in content.lower():
        raise NoBoundary()
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await read_body(request, UploadIn), None
    form = await request.form()
    file = form.get("file")
    fields = {k: v for k, v in form.items() if not isinstance(v, UploadFile)}
    try:
        meta = msgspec.convert(fields, UploadIn)
    except msgspec.ValidationError as exc:
        raise ValidationException(str(exc)) from exc
    if not isinstance(file, UploadFile):
        return meta, None
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"file: an image may be at most {limit} bytes")
    return meta, data


async def _upload(request: Request) -> ImageOut:
    image_kit = kit(request)
    limit = image_kit.settings.image_max_bytes
    meta, data = await _read(request, limit)
    base_type = meta.base_type.strip()
    if not base_type:
        raise InvalidValue("baseType", "must not be blank")
    tags = tag_list(meta.tags)
    if len(tags) > MAX_TAGS:
        raise InvalidValue("tags", f"at most {MAX_TAGS} tags")
    field = "file"
    if data is None:
        if not meta.url:
            raise InvalidValue("url", "send a file (multipart/form-data) or a url")
        field = "url"
        try:
            data = await image_kit.fetcher.fetch(meta.url)
        except FetchFailed as exc:
            raise InvalidValue("url", str(exc)) from None
    try:
        decoded = await asyncio.to_thread(image_kit.decode, data)
    except NotAnImage as exc:
        raise InvalidValue(field, str(exc)) from None
    sha256 = digest(data)
    await asyncio.to_thread(image_kit.media.write, sha256, decoded.file_type, data)
    new = NewImage(
        account=caller(request).bot_id,
        base_type=base_type,
        nsfw=_true(meta.nsfw),
        hidden=_true(meta.hidden),
        file_type=decoded.file_type,
        mime_type=decoded.mime_type,
        sha256=sha256,
        size=len(data),
        width=decoded.width,
        height=decoded.height,
        source=meta.source or None,
        tags=tags,
        data=data,
        media=image_kit.media,
    )
    record = await services(request).writer.run(writes.insert_image, new)
    return ImageOut(200, picture(record, image_kit.base_url(request)))


def routes(settings: Settings) -> list[Any]:
    @post(
        "/images/upload",
        opt=SCOPE,
        status_code=200,
        summary="Upload an image: a multipart file, or a url the server fetches",
        operation_class=documented(UploadIn),
        request_max_body_size=settings.image_max_bytes + _FORM_SLACK,
    )
    async def upload(request: Request) -> ImageOut:
        return await _upload(request)

    return [upload]
