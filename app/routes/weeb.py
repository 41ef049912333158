"""The roots of the weeb.sh services: each answered `GET /` with a public status
object, `{version, message, status}`, which clients use to check the service is up
(taihou's `getStatus()`). Same messages as the originals; the version is ours."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from litestar import get

__all__ = ["ROUTES", "VERSION"]

try:
    VERSION = metadata.version("voiceprofile")
except metadata.PackageNotFoundError:  # run from a checkout that was never installed
    VERSION = "0.0.0"


def _status(message: str) -> dict[str, Any]:
    return {"version": VERSION, "message": message, "status": 200}


@get("/images", summary="Status of the image API (toph), public")
async def images_root() -> dict[str, Any]:
    return _status("Welcome to toph")


@get("/auto-image", summary="Status of the image generation API (korra), public")
async def auto_image_root() -> dict[str, Any]:
    return _status("Welcome to the korra api")


@get("/reputation", summary="Status of the reputation API (shimakaze), public")
async def reputation_root() -> dict[str, Any]:
    return _status("Welcome to shimakaze, a simple reputation api")


@get("/settings", summary="Status of the settings API (tama), public")
async def settings_root() -> dict[str, Any]:
    return _status("Welcome to tama")


ROUTES: list[Any] = [images_root, auto_image_root, reputation_root, settings_root]
