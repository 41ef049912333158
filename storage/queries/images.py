"""The image store's SQL (SPEC §14): reads on reader connections, and the writer
tasks that add, tag and delete images (each checks, then writes).

Visibility is one rule everywhere: an image is seen by every bot when it is public,
and only by the bot that uploaded it when hidden; a hidden tag likewise. Anything a
caller cannot see is "not found". Plain SQL both engines take.
"""

from __future__ import annotations

import secrets
import sqlite3
from typing import Any, Literal, NamedTuple

import msgspec

from storage.clock import millis
from storage.errors import DomainError, NotFound
from storage.ids import pad, unpad
from storage.media import MediaStore
from storage.writer import WriteContext

__all__ = [
    "MAX_TAGS",
    "ChangeTags",
    "DeleteImage",
    "Filters",
    "ImageNotFound",
    "ImageRecord",
    "NewImage",
    "NotYourImage",
    "change_tags",
    "delete_image",
    "get_image",
    "insert_image",
    "list_images",
    "random_image",
    "tag_names",
    "type_names",
]

MAX_TAGS = 50
"""Tags one image may carry."""

Nsfw = Literal["false", "true", "only"]
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COLS = (
    "i.id, i.account, i.type, i.base_type, i.nsfw, i.hidden, i.file_type, i.mime_type,"
    " i.sha256, i.source"
)


class ImageNotFound(NotFound):
    def __init__(self, image_id: str) -> None:
        super().__init__(f"Image {image_id} not found")


class NotYourImage(DomainError):
    status = 403
    code = "forbidden"

    def __init__(self, image_id: str) -> None:
        super().__init__(f"image {image_id} was uploaded by another account")


class ImageRecord(NamedTuple):
    id: str
    account: str
    type: str
    base_type: str
    nsfw: bool
    hidden: bool
    file_type: str
    mime_type: str
    sha256: str
    source: str | None
    tags: list[tuple[str, bool, str]]  # (name, hidden, account that added it)


class Filters(msgspec.Struct, frozen=True):
    caller: str
    hidden: bool | None = None
    """None: public images and the caller's hidden ones; True: only the caller's
    hidden ones; False: only public ones."""
    nsfw: Nsfw = "false"
    type: str | None = None
    tags: tuple[str, ...] = ()
    file_type: str | None = None


def _where(f: Filters) -> tuple[str, list[Any]]:
    caller = pad(f.caller)
    clauses: list[str] = []
    params: list[Any] = []
    if f.hidden is None:
        clauses.append("(i.hidden = 0 OR i.account = ?)")
        params.append(caller)
    elif f.hidden:
        clauses.append("i.hidden = 1 AND i.account = ?")
        params.append(caller)
    else:
        clauses.append("i.hidden = 0")
    if f.nsfw != "true":
        clauses.append("i.nsfw = ?")
        params.append(1 if f.nsfw == "only" else 0)
    if f.type is not None:
        clauses.append("i.type = ?")
        params.append(f.type)
    if f.file_type is not None:
        clauses.append("i.file_type = ?")
        params.append(f.file_type)
    for name in f.tags:  # every tag named, and one the caller can see
        clauses.append(
            "EXISTS (SELECT 1 FROM image_tags t WHERE t.image_id = i.id AND t.name = ?"
            " AND (t.hidden = 0 OR t.account = ?))"
        )
        params += [name, caller]
    return " AND ".join(clauses), params


def _record(conn: sqlite3.Connection, row: tuple, caller: str) -> ImageRecord:
    tags = conn.execute(
        "SELECT name, hidden, account FROM image_tags WHERE image_id = ?"
        " AND (hidden = 0 OR account = ?) ORDER BY name",
        (row[0], pad(caller)),
    )
    found = [(name, bool(hidden), unpad(account)) for name, hidden, account in tags]
    iid, account, type_, base, nsfw, hidden, ftype, mime, sha, source = row
    return ImageRecord(
        iid, unpad(account), type_, base, bool(nsfw), bool(hidden), ftype, mime, sha, source, found
    )


def get_image(conn: sqlite3.Connection, image_id: str, caller: str) -> ImageRecord:
    row = conn.execute(
        f"SELECT {_COLS} FROM images i WHERE i.id = ? AND (i.hidden = 0 OR i.account = ?)",
        (image_id, pad(caller)),
    ).fetchone()
    if row is None:
        raise ImageNotFound(image_id)
    return _record(conn, row, caller)


def random_image(conn: sqlite3.Connection, f: Filters, pick: float) -> ImageRecord | None:
    """One image matching `f`, the `pick` (0 <= pick < 1) fraction into them."""
    where, params = _where(f)
    count = conn.execute(f"SELECT count(*) FROM images i WHERE {where}", params).fetchone()[0]
    if not count:
        return None
    row = conn.execute(
        f"SELECT {_COLS} FROM images i WHERE {where} ORDER BY i.created_at, i.id LIMIT 1 OFFSET ?",
        (*params, min(int(pick * count), count - 1)),
    ).fetchone()
    return _record(conn, row, f.caller)


def type_names(
    conn: sqlite3.Connection, f: Filters, preview: bool
) -> tuple[list[str], list[ImageRecord]]:
    """The types of the images `f` matches, and with `preview` each type's first
    image (the oldest, so it stays the same until it is deleted)."""
    where, params = _where(f)
    types = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT i.type FROM images i WHERE {where} ORDER BY i.type", params
        )
    ]
    previews = []
    for name in types if preview else []:
        row = conn.execute(
            f"SELECT {_COLS} FROM images i WHERE {where} AND i.type = ?"
            " ORDER BY i.created_at, i.id LIMIT 1",
            (*params, name),
        ).fetchone()
        previews.append(_record(conn, row, f.caller))
    return types, previews


def tag_names(conn: sqlite3.Connection, f: Filters) -> list[str]:
    """Tags of the images `f`'s nsfw rule matches. `f.hidden` applies to the tags:
    None gives public tags and the caller's hidden ones, True only the latter."""
    caller = pad(f.caller)
    if f.hidden is None:
        seen, params = "(t.hidden = 0 OR t.account = ?)", [caller]
    elif f.hidden:
        seen, params = "t.hidden = 1 AND t.account = ?", [caller]
    else:
        seen, params = "t.hidden = 0", []
    images, more = _where(Filters(f.caller, None, f.nsfw))
    rows = conn.execute(
        f"SELECT DISTINCT t.name FROM image_tags t JOIN images i ON i.id = t.image_id"
        f" WHERE {seen} AND {images} ORDER BY t.name",
        (*params, *more),
    )
    return [r[0] for r in rows]


def list_images(
    conn: sqlite3.Connection, account: str | None, caller: str, limit: int, offset: int
) -> tuple[list[ImageRecord], int]:
    """Images of `account` (every account: None), newest first, with their total.
    Callers check who may list what; tags are shown as `caller` sees them."""
    where, params = ("i.account = ?", [pad(account)]) if account is not None else ("1 = 1", [])
    total = conn.execute(f"SELECT count(*) FROM images i WHERE {where}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT {_COLS} FROM images i WHERE {where}"
        " ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [_record(conn, row, caller) for row in rows], int(total)


# -- writes (writer tasks) ------------------------------------------------------------


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


def _new_id(conn: sqlite3.Connection) -> str:
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


def _owned(conn: sqlite3.Connection, image_id: str, caller: str, admin: bool) -> ImageRecord:
    """The image, if the caller may change it: its uploader, or an admin key."""
    if admin:
        row = conn.execute(f"SELECT {_COLS} FROM images i WHERE i.id = ?", (image_id,)).fetchone()
        if row is None:
            raise ImageNotFound(image_id)
        return _record(conn, row, caller)
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
