"""The image store's reads (SPEC §14), on reader connections; its writer tasks are
in storage/queries/image_writes.py.

Visibility is one rule everywhere: an image is seen by every bot when it is public,
and only by the bot that uploaded it when hidden; a hidden tag likewise. Anything a
caller cannot see is "not found". Plain SQL both engines take.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import msgspec

from storage.engine.base import Conn
from storage.errors import DomainError, NotFound
from storage.ids import pad, unpad

__all__ = [
    "COLUMNS",
    "Filters",
    "ImageNotFound",
    "ImageRecord",
    "NotYourImage",
    "get_image",
    "list_images",
    "random_image",
    "read_record",
    "tag_names",
    "type_names",
]

Nsfw = Literal["false", "true", "only"]
COLUMNS = (
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


def read_record(conn: Conn, row: tuple, caller: str) -> ImageRecord:
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


def get_image(conn: Conn, image_id: str, caller: str) -> ImageRecord:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM images i WHERE i.id = ? AND (i.hidden = 0 OR i.account = ?)",
        (image_id, pad(caller)),
    ).fetchone()
    if row is None:
        raise ImageNotFound(image_id)
    return read_record(conn, row, caller)


def random_image(conn: Conn, f: Filters, pick: float) -> ImageRecord | None:
    """One image matching `f`, the `pick` (0 <= pick < 1) fraction into them."""
    where, params = _where(f)
    count = conn.execute(f"SELECT count(*) FROM images i WHERE {where}", params).fetchone()[0]
    if not count:
        return None
    row = conn.execute(
        f"SELECT {COLUMNS} FROM images i WHERE {where} ORDER BY i.created_at, i.id LIMIT 1 OFFSET ?",
        (*params, min(int(pick * count), count - 1)),
    ).fetchone()
    return read_record(conn, row, f.caller)


def type_names(conn: Conn, f: Filters, preview: bool) -> tuple[list[str], list[ImageRecord]]:
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
            f"SELECT {COLUMNS} FROM images i WHERE {where} AND i.type = ?"
            " ORDER BY i.created_at, i.id LIMIT 1",
            (*params, name),
        ).fetchone()
        previews.append(read_record(conn, row, f.caller))
    return types, previews


def tag_names(conn: Conn, f: Filters) -> list[str]:
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
    conn: Conn, account: str | None, caller: str, limit: int, offset: int
) -> tuple[list[ImageRecord], int]:
    """Images of `account` (every account: None), newest first, with their total.
    Callers check who may list what; tags are shown as `caller` sees them."""
    where, params = ("i.account = ?", [pad(account)]) if account is not None else ("1 = 1", [])
    total = conn.execute(f"SELECT count(*) FROM images i WHERE {where}", params).fetchone()[0]
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM images i WHERE {where}"
        " ORDER BY i.created_at DESC, i.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    ).fetchall()
    return [read_record(conn, row, caller) for row in rows], int(total)
