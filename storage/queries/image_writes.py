"""The image store's writer tasks (SPEC §14): add an image, change its tags,
delete it. Each checks first, then writes (storage/writer.py's contract); the
reads they share are storage/queries/images.py's."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from storage.clock import millis
from storage.engine.base import Conn
from storage.engine.writer import WriteContext
from storage.errors import DomainError
from storage.ids import pad, unpad
from storage.media import MediaStore
from storage.queries.images import (
    COLUMNS,
    ImageNotFound,
    ImageRecord,
    NotYourImage,
    get_image,
    read_record,
)

__all__ = [
    "MAX_TAGS",
    "ChangeTags",
    "DeleteImage",
    "NewImage",
    "change_tags",
    "delete_image",
    "insert_image",
]

MAX_TAGS = 50
"""Tags one image may carry."""

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class NewImage(msgspec.Struct, frozen=True):
    account: str
    base_type: str
    nsfw: bool
    hidden: bool
    file_type: str
    mime_type: str
    sha256: str
    size: int
    width: int
    height: int
    source: str | None
    tags: tuple[str, ...]
    data: bytes
    """The file, written again if a delete removed it since it was stored."""
    media: Any  # MediaStore


def _new_id(conn: Conn) -> str:
    while True:  # 62^9 ids: a collision is a curiosity, but must not be an error
        image_id = "".join(secrets.choice(_ALPHABET) for _ in range(9))
        if conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone() is None:
            return image_id


def insert_image(ctx: WriteContext, new: NewImage) -> ImageRecord:
    conn, media = ctx.conn, new.media
    assert isinstance(media, MediaStore)
    if not media.exists(new.sha256, new.file_type):
        media.write(new.sha256, new.file_type, new.data)
    image_id = _new_id(conn)
    account = pad(new.account)
    conn.execute(
        "INSERT INTO images (id, account, type, base_type, nsfw, hidden, file_type, mime_type,"
        " sha256, bytes, width, height, source, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            image_id,
            account,
            new.base_type,
            new.base_type,
            int(new.nsfw),
            int(new.hidden),
            new.file_type,
            new.mime_type,
            new.sha256,
            new.size,
            new.width,
            new.height,
            new.source,
            millis(ctx.clock),
        ),
    )
    conn.executemany(
        "INSERT INTO image_tags (image_id, name, hidden, account) VALUES (?, ?, ?, ?)",
        [(image_id, name, int(new.hidden), account) for name in new.tags],
    )
    return get_image(conn, image_id, new.account)


class DeleteImage(msgspec.Struct, frozen=True):
    image_id: str
    caller: str
    admin: bool
    media: Any  # MediaStore


def _owned(conn: Conn, image_id: str, caller: str, admin: bool) -> ImageRecord:
    """The image, if the caller may change it: its uploader, or an admin key."""
    if admin:
        row = conn.execute(f"SELECT {COLUMNS} FROM images i WHERE i.id = ?", (image_id,)).fetchone()
        if row is None:
            raise ImageNotFound(image_id)
        return read_record(conn, row, caller)
    image = get_image(conn, image_id, caller)
    if image.account != unpad(pad(caller)):
        raise NotYourImage(image_id)
    return image


def delete_image(ctx: WriteContext, command: DeleteImage) -> ImageRecord:
    conn = ctx.conn
    image = _owned(conn, command.image_id, command.caller, command.admin)
    conn.execute("DELETE FROM image_tags WHERE image_id = ?", (image.id,))
    conn.execute("DELETE FROM images WHERE id = ?", (image.id,))

    def drop_file() -> None:  # after the commit, in the writer: no upload runs meanwhile
        used = conn.execute("SELECT 1 FROM images WHERE sha256 = ? LIMIT 1", (image.sha256,))
        if used.fetchone() is None:
            command.media.remove(image.sha256, image.file_type)

    ctx.after_commit.append(drop_file)
    return image


class ChangeTags(msgspec.Struct, frozen=True):
    image_id: str
    caller: str
    admin: bool
    names: tuple[str, ...]
    add: bool


def change_tags(ctx: WriteContext, command: ChangeTags) -> tuple[ImageRecord, list, list]:
    """Add or remove tags: (the image after, names changed, names skipped)."""
    conn = ctx.conn
    image = _owned(conn, command.image_id, command.caller, command.admin)
    present = {
        r[0] for r in conn.execute("SELECT name FROM image_tags WHERE image_id = ?", (image.id,))
    }
    wanted = list(dict.fromkeys(command.names))
    if command.add:
        changed = [n for n in wanted if n not in present]
        if len(present) + len(changed) > MAX_TAGS:
            raise DomainError(f"an image carries at most {MAX_TAGS} tags")
        conn.executemany(
            "INSERT INTO image_tags (image_id, name, hidden, account) VALUES (?, ?, ?, ?)",
            [(image.id, n, int(image.hidden), pad(command.caller)) for n in changed],
        )
    else:
        changed = [n for n in wanted if n in present]
        conn.executemany(
            "DELETE FROM image_tags WHERE image_id = ? AND name = ?",
            [(image.id, n) for n in changed],
        )
    skipped = [n for n in wanted if n not in changed]
    return _owned(conn, image.id, command.caller, command.admin), changed, skipped
