"""What the image store tests share: the image object's keys, the settings with a small
media limit, a local image server, upload calls, and the `keys_of` and `stocked`
fixtures."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image

from app.config import Settings
from storage.queries import keys
from tests import backend
from tests.conftest import OTHER_BOT, free_port
from tests.image_server import ImageServer, picture

IMAGE_KEYS = [
    "id",
    "type",
    "baseType",
    "nsfw",
    "fileType",
    "mimeType",
    "tags",
    "url",
    "hidden",
    "account",
]
MAX_BYTES = 64 * 1024


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        boards="sync",
        allow_hosts=("127.0.0.1",),
        media=tmp_path / "media",
        image_max_bytes=MAX_BYTES,
        image_max_pixels=1_000_000,
        fetch_timeout=5.0,
    )


@pytest.fixture
def web() -> Iterator[ImageServer]:
    server = ImageServer(free_port()).start()
    yield server
    server.stop()


def noisy() -> bytes:
    """A PNG whose pixels do not compress away (a cut one is still recognised)."""
    out = io.BytesIO()
    Image.effect_noise((64, 64), 60).save(out, format="PNG")
    return out.getvalue()


def upload(client: TestClient, auth: dict, data: bytes, name: str = "a.png", **fields: Any) -> Any:
    form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
    form.setdefault("baseType", "cat")
    return client.post(
        "/images/upload", headers=auth, files={"file": (name, data, "image/png")}, data=form
    )


def uploaded(client: TestClient, auth: dict, data: bytes | None = None, **fields: Any) -> dict:
    response = upload(client, auth, data or picture(), **fields)
    assert response.status_code == 200, response.text
    return response.json()["file"]  # type: ignore[no-any-return]


@pytest.fixture
def keys_of(make_key: Callable[..., dict[str, str]], client: TestClient) -> dict[str, dict]:
    return {
        "reader": make_key(scopes=("profiles:read",)),
        "other": make_key(OTHER_BOT),
        "admin": make_key("333333333333333333", scopes=keys.SCOPES),
    }


@pytest.fixture
def stocked(client: TestClient, auth: dict, keys_of: dict) -> dict[str, dict]:
    """cat (png, public), dog (jpeg, nsfw), secret (hidden); another bot's fox."""
    return {
        "cat": uploaded(client, auth, picture(), baseType="cat", tags="cute,small"),
        "cat2": uploaded(client, auth, picture("JPEG"), baseType="cat", tags="cute"),
        "dog": uploaded(
            client, auth, picture("JPEG", colour="blue"), baseType="dog", nsfw=True, tags="cute,big"
        ),
        "secret": uploaded(
            client, auth, picture("GIF"), baseType="secret", hidden=True, tags="mine"
        ),
        "fox": uploaded(client, keys_of["other"], picture("WEBP"), baseType="fox", tags="sly"),
    }
