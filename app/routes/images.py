"""The image store over HTTP, SPEC §14: weeb.sh's "toph" API, and the files it serves.

Reading (types, tags, random, info) needs any valid key, as weeb.sh's default
`image_data` permission; changing and listing need the `images` scope, and another
account's images `admin`. Uploads are in app/routes/image_upload.py, the files in app/routes/media.py.
"""

from __future__ import annotations

import random
from typing import Any

from litestar import Request, delete, get, post
from litestar.params import FromPath, FromQuery

from app.auth import caller
from app.bodies import documented, read_body
from app.imagekit import kit
from app.routes.common import page_bounds, snowflake
from app.services import services
from schemas.images import (
    FILE_TYPES,
    FLAGS,
    NSFW,
    ImageDeleted,
    ImageList,
    ImageTag,
    Picture,
    Preview,
    TagList,
    TagName,
    TagsChanged,
    TagsIn,
    TypeList,
)
from storage.errors import DomainError, InvalidValue, NotFound
from storage.queries import image_writes as writes
from storage.queries import images as store
from storage.queries.image_writes import ChangeTags, DeleteImage
from storage.queries.images import Filters, ImageRecord

__all__ = ["ROUTES", "picture", "tag_list"]

SCOPE = {"scope": "images"}


def picture(record: ImageRecord, base: str) -> Picture:
    return Picture(
        id=record.id,
        type=record.type,
        base_type=record.base_type,
        nsfw=record.nsfw,
        file_type=record.file_type,
        mime_type=record.mime_type,
        tags=[ImageTag(name, hidden, user) for name, hidden, user in record.tags],
        url=f"{base}/media/{record.sha256}.{record.file_type}",
        hidden=record.hidden,
        account=record.account,
        source=record.source,
    )


def flag(name: str, raw: str | None) -> bool | None:
    """A query boolean as clients send it: `true`/`false` (or 1/0); None if absent."""
    if raw is None:
        return None
    if raw in FLAGS:
        return raw in ("true", "1")
    raise InvalidValue(name, f"{raw!r} is not true or false", where="query")


def _filters(request: Request, hidden: str | None, nsfw: str | None, **more: Any) -> Filters:
    mode = "false" if nsfw is None else nsfw
    if mode not in NSFW:
        raise InvalidValue("nsfw", f"{nsfw!r} is not false, true or only", where="query")
    return Filters(caller(request).bot_id, flag("hidden", hidden), mode, **more)  # type: ignore[arg-type]


def tag_list(
    raw: str | list[str | TagName], field: str = "tags", where: str = "body"
) -> tuple[str, ...]:
    """Tag names from a comma-separated string or an array, trimmed, each once."""
    items = raw.split(",") if isinstance(raw, str) else raw
    names = [(i.name if isinstance(i, TagName) else i).strip() for i in items]
    for name in names:
        if len(name) > 64:
            message = f"a tag is at most 64 characters: {name[:20]!r}…"
            raise InvalidValue(field, message, where=where)
    return tuple(dict.fromkeys(n for n in names if n))


async def _render(request: Request, record: ImageRecord) -> Picture:
    return picture(record, kit(request).base_url(request))


# -- reading ------------------------------------------------------------------------


@get("/images/types", summary="Image types (hidden, nsfw=false|true|only, preview)")
async def types(
    request: Request,
    hidden: FromQuery[str | None] = None,
    nsfw: FromQuery[str | None] = None,
    preview: FromQuery[str | None] = None,
) -> TypeList:
    want = bool(flag("preview", preview))
    found, first = await services(request).readers.call(
        store.type_names, _filters(request, hidden, nsfw), want
    )
    if not want:
        return TypeList(200, found)
    base = kit(request).base_url(request)
    shown = [picture(r, base) for r in first]
    return TypeList(
        200, found, [Preview(p.url, p.id, p.file_type, p.base_type, p.type) for p in shown]
    )


@get("/images/tags", summary="Image tags (hidden, nsfw=false|true|only)")
async def tags(
    request: Request, hidden: FromQuery[str | None] = None, nsfw: FromQuery[str | None] = None
) -> TagList:
    found = await services(request).readers.call(store.tag_names, _filters(request, hidden, nsfw))
    return TagList(200, found)


@get("/images/random", summary="A random image by type and/or tags (nsfw, hidden, filetype)")
async def random_image(
    request: Request,
    type: FromQuery[str | None] = None,
    tags: FromQuery[str | None] = None,
    nsfw: FromQuery[str | None] = None,
    hidden: FromQuery[str | None] = None,
    filetype: FromQuery[str | None] = None,
) -> Picture:
    names = tag_list(tags or "", where="query")
    if not type and not names:
        raise InvalidValue("type", "give a type, tags, or both", where="query")
    file_type = None
    if filetype is not None:
        file_type = FILE_TYPES.get(filetype)
        if file_type is None:
            message = f"{filetype!r} is not jpg, jpeg, png, gif or webp"
            raise InvalidValue("filetype", message, where="query")
    f = _filters(request, hidden, nsfw, type=type or None, tags=names, file_type=file_type)
    found = await services(request).readers.call(store.random_image, f, random.random())
    if found is None:
        raise NotFound("No image found for your query")
    return await _render(request, found)


@get("/images/info/{image_id:str}", summary="One image")
async def info(request: Request, image_id: FromPath[str]) -> Picture:
    found = await services(request).readers.call(store.get_image, image_id, caller(request).bot_id)
    return await _render(request, found)


# -- changing -----------------------------------------------------------------------


def _is_admin(request: Request) -> bool:
    return "admin" in caller(request).scopes


@delete("/images/info/{image_id:str}", opt=SCOPE, status_code=200, summary="Delete an image")
async def delete_image(request: Request, image_id: FromPath[str]) -> ImageDeleted:
    media = kit(request).media
    command = DeleteImage(image_id, caller(request).bot_id, _is_admin(request), media)
    gone = await services(request).writer.run(writes.delete_image, command)
    return ImageDeleted(200, "Image deleted", await _render(request, gone))


async def _tag_names(request: Request, query: str | None) -> tuple[str, ...]:
    """From a JSON body `{"tags": [...] | "a,b"}`, a form field or the query."""
    content = request.headers.get("content-type", "").lower()
    where = "body"
    if content.startswith("application/x-www-form-urlencoded"):
        raw: Any = (await request.form()).get("tags") or ""
    elif (await request.body()).strip():
        raw = (await read_body(request, TagsIn)).tags
    else:
        raw, where = query or "", "query"
    names = tag_list(raw, where=where)
    if not names:
        raise InvalidValue("tags", "name at least one tag", where=where)
    return names


async def _change(request: Request, image_id: str, add: bool, query: str | None) -> TagsChanged:
    who = caller(request).bot_id
    names = await _tag_names(request, query)
    command = ChangeTags(image_id, who, _is_admin(request), names, add)
    image, changed, skipped = await services(request).writer.run(writes.change_tags, command)
    shown = await _render(request, image)
    if add:
        return TagsChanged(200, shown, added=changed, skipped=skipped)
    return TagsChanged(200, shown, removed=changed, skipped=skipped)


@post(
    "/images/info/{image_id:str}/tags",
    opt=SCOPE,
    status_code=200,
    summary="Add tags (a JSON body, a form field `tags`, or ?tags=a,b)",
    operation_class=documented(TagsIn, required=False),
)
async def add_tags(
    request: Request, image_id: FromPath[str], tags: FromQuery[str | None] = None
) -> TagsChanged:
    return await _change(request, image_id, True, tags)


@delete(
    "/images/info/{image_id:str}/tags",
    opt=SCOPE,
    status_code=200,
    summary="Remove tags (a JSON body, a form field `tags`, or ?tags=a,b)",
    operation_class=documented(TagsIn, required=False),
)
async def remove_tags(
    request: Request, image_id: FromPath[str], tags: FromQuery[str | None] = None
) -> TagsChanged:
    return await _change(request, image_id, False, tags)


# -- listing ------------------------------------------------------------------------


async def _list(request: Request, account: str | None, limit: int, page: int) -> ImageList:
    if not 1 <= limit <= 1000:
        raise InvalidValue("limit", "must be between 1 and 1000", where="query")
    bounds = page_bounds(limit, page)
    assert bounds is not None
    who = caller(request).bot_id
    found, total = await services(request).readers.call(
        store.list_images, account, who, bounds[0], bounds[1]
    )
    base = kit(request).base_url(request)
    return ImageList(200, [picture(r, base) for r in found], total, page, limit)


@get("/images/list", opt={"scope": "admin"}, summary="Every account's images, newest first")
async def list_all(
    request: Request, limit: FromQuery[int] = 100, page: FromQuery[int] = 0
) -> ImageList:
    return await _list(request, None, limit, page)


@get("/images/list/{account_id:str}", opt=SCOPE, summary="One account's images, newest first")
async def list_account(
    request: Request,
    account_id: FromPath[str],
    limit: FromQuery[int] = 100,
    page: FromQuery[int] = 0,
) -> ImageList:
    account = str(snowflake("account_id", account_id))
    if account != caller(request).bot_id and not _is_admin(request):
        raise NotAllowed("listing another account's images needs the admin scope")
    return await _list(request, account, limit, page)


class NotAllowed(DomainError):
    status = 403
    code = "forbidden"


ROUTES: list[Any] = [
    types,
    tags,
    random_image,
    info,
    delete_image,
    add_tags,
    remove_tags,
    list_all,
    list_account,
]
