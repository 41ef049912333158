"""What the image routes share for the application's life: the file store, the URL
fetcher (through the server's one network guard) and the avatar cache; and the two
steps every route takes with a client's image, fetch and decode."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from litestar import Request
from PIL import Image

from app import delivery
from app.config import Settings
from app.fetch import Fetcher, LruCache
from app.imaging.common import Decoded, decode
from storage.media import MediaStore

__all__ = ["AVATAR_SIDE", "ImageKit", "kit", "start"]

AVATAR_SIDE = 256
"""Avatars are kept (and drawn from) at most this large: no output needs more."""


@dataclass
class ImageKit:
    settings: Settings
    media: MediaStore
    fetcher: Fetcher
    avatars: LruCache

    def base_url(self, request: Request) -> str:
        """Where the files are served from, as clients must call it."""
        return self.settings.public_url or str(request.base_url).rstrip("/")

    def decode(self, data: bytes) -> Decoded:
        return decode(data, self.settings.image_max_pixels)

    async def fetch_image(self, url: str) -> tuple[bytes, Decoded]:
        """The bytes at `url` and their decoding (FetchFailed, NotAnImage)."""
        data = await self.fetcher.fetch(url)
        return data, await asyncio.to_thread(self.decode, data)

    async def close(self) -> None:
        await self.fetcher.close()

    async def avatar(self, url: str) -> Image.Image:
        """The image at `url`, at most AVATAR_SIDE on a side, cached for a while:
        bots draw the same users again and again."""
        found = self.avatars.get(url)
        if found is None:
            _, decoded = await self.fetch_image(url)
            found = await asyncio.to_thread(_small, decoded.image)
            self.avatars.put(url, found)
        return found  # type: ignore[no-any-return]


def _small(image: Image.Image) -> Image.Image:
    small = image.convert("RGBA")
    small.thumbnail((AVATAR_SIDE, AVATAR_SIDE), Image.Resampling.LANCZOS)
    return small


def start(services: Any) -> ImageKit:
    settings: Settings = services.settings
    fetcher = Fetcher(delivery.guard(services), settings.image_max_bytes, settings.fetch_timeout)
    # 64 avatars of at most 256x256 RGBA: 16 MB at most.
    avatars = LruCache(64, 600.0, services.clock)
    return ImageKit(settings, MediaStore(settings.media_dir), fetcher, avatars)


def kit(request: Request) -> ImageKit:
    found = request.app.state.services.images
    assert found is not None
    return found  # type: ignore[no-any-return]
