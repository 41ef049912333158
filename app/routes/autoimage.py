"""Image generation over HTTP, SPEC §14: weeb.sh's "korra" API. Every success is a
PNG drawn by the server (app/imaging); avatars and badges are fetched through the
URL guard (app/fetch.py) and decoded before use. Needs the `images` scope.

Refusals keep the original's words and extra fields (`allowedTypes`,
`allowedStatuses`), and add `reason` when a URL could not be used.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

from litestar import Request, Response, get, post
from litestar.params import FromQuery
from PIL import Image, ImageColor

from app.bodies import documented, read_body
from app.fetch import FetchFailed
from app.imagekit import kit
from app.imaging import SIMPLE_TYPES, awooo, insult, license, ship
from app.imaging import status as badge
from app.imaging.common import NotAnImage, Rgb, default_avatar, png
from schemas.images import STATUSES, LicenseIn, LoveShipIn, WaifuInsultIn
from storage.errors import DomainError

__all__ = ["ROUTES"]

SCOPE = {"scope": "images"}
PNG = "image/png"


class Refused(DomainError):
    """The original's 400: `{status, message}` plus what it carried beside."""


async def _drawn(draw: Any, *args: Any) -> Response[bytes]:
    """Draw and encode in a thread: both are CPU work."""
    image = await asyncio.to_thread(lambda: png(draw(*args)))
    return Response(image, media_type="image/png")


def _colour(raw: str | None, default: Rgb) -> Rgb:
    """A colour as the original read it (tinycolor: `#f0a`, `ff00aa`, names);
    one it cannot read is ignored, as there."""
    if not raw:
        return default
    for text in (raw, f"#{raw}"):
        try:
            found = ImageColor.getrgb(text)
        except ValueError:
            continue
        return found[0], found[1], found[2]
    return default


async def _avatars(request: Request, urls: list[str], message: str) -> list[Image.Image]:
    """Every image, fetched at once; the first failure cancels the others."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(kit(request).avatar(url)) for url in urls]
    except* (FetchFailed, NotAnImage) as failed:
        raise Refused(message, reason=str(failed.exceptions[0])) from None
    return [task.result() for task in tasks]


@get(
    "/auto-image/generate",
    opt=SCOPE,
    media_type=PNG,
    summary="awooo (face, hair), eyes or won, as PNG",
)
async def generate(
    request: Request,
    type: FromQuery[str | None] = None,
    face: FromQuery[str | None] = None,
    hair: FromQuery[str | None] = None,
    original: FromQuery[str | None] = None,
) -> Response[bytes]:
    allowed = list(SIMPLE_TYPES)
    if not type:
        raise Refused("Missing type parameter, use one of the allowed types", allowedTypes=allowed)
    if type not in SIMPLE_TYPES:
        raise Refused("Invalid type, use one of the allowed types", allowedTypes=allowed)
    if type == "awooo":
        colours = (_colour(face, awooo.DEFAULT_FACE), _colour(hair, awooo.DEFAULT_HAIR))
        return await _drawn(awooo.draw, *colours)
    return await _drawn(SIMPLE_TYPES[type].draw, bool(original))


def _avatar_url(raw: str) -> str:
    """The avatar as sent, or decoded once more when it is still percent-encoded:
    taihou encodes it twice, and the query string decoding undid only one."""
    if not raw.lower().startswith(("http://", "https://")):
        again = unquote(raw)
        if again.lower().startswith(("http://", "https://")):
            return again
    return raw


@get(
    "/auto-image/discord-status",
    opt=SCOPE,
    media_type=PNG,
    summary="An avatar with a status badge, as PNG",
)
async def discord_status(
    request: Request, status: FromQuery[str | None] = None, avatar: FromQuery[str | None] = None
) -> Response[bytes]:
    wanted = "online" if status is None else status
    if wanted not in STATUSES:
        allowed = list(STATUSES)
        raise Refused("Invalid status, use one of the allowed statuses", allowedStatuses=allowed)
    if avatar:
        (picture,) = await _avatars(request, [_avatar_url(avatar)], "This url is not allowed.")
    else:
        picture = default_avatar()
    return await _drawn(badge.draw, wanted, picture)


@post(
    "/auto-image/license",
    opt=SCOPE,
    status_code=200,
    media_type=PNG,
    summary="A license card (title, avatar, up to 3 badges and 3 widgets), as PNG",
    operation_class=documented(LicenseIn),
)
async def license_card(request: Request) -> Response[bytes]:
    body = await read_body(request, LicenseIn)
    found = await _avatars(request, [body.avatar, *body.badges], "invalid url")
    return await _drawn(license.draw, body.title, found[0], found[1:], list(body.widgets))


@post(
    "/auto-image/waifu-insult",
    opt=SCOPE,
    status_code=200,
    media_type=PNG,
    summary="An insult to the avatar's waifu, as PNG",
    operation_class=documented(WaifuInsultIn),
)
async def waifu_insult(request: Request) -> Response[bytes]:
    body = await read_body(request, WaifuInsultIn)
    (found,) = await _avatars(request, [body.avatar], "invalid avatar url")
    return await _drawn(insult.draw, found)


@post(
    "/auto-image/love-ship",
    opt=SCOPE,
    status_code=200,
    media_type=PNG,
    summary="Two avatars and a heart, as PNG",
    operation_class=documented(LoveShipIn),
)
async def love_ship(request: Request) -> Response[bytes]:
    body = await read_body(request, LoveShipIn)
    urls = [body.target_one, body.target_two]
    left, right = await _avatars(request, urls, "invalid avatar url")
    return await _drawn(ship.draw, left, right)


ROUTES: list[Any] = [generate, discord_status, license_card, waifu_insult, love_ship]
