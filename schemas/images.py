"""Image store and image generation bodies, SPEC §14: weeb.sh's "toph" and "korra"
shapes, camelCase."""

from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from schemas.base import Request

__all__ = [
    "FILE_TYPES",
    "FLAGS",
    "NSFW",
    "STATUSES",
    "ImageDeleted",
    "ImageList",
    "ImageOut",
    "ImageTag",
    "LicenseIn",
    "LoveShipIn",
    "Picture",
    "Preview",
    "TagList",
    "TagName",
    "TagsChanged",
    "TagsIn",
    "TypeList",
    "UploadIn",
    "WaifuInsultIn",
]

FLAGS = ("true", "false", "1", "0")
"""A boolean in a query string (`hidden`, `preview`)."""
NSFW = ("false", "true", "only")
"""`nsfw`: safe images only (the default), both, or nsfw ones only."""
FILE_TYPES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp"}
"""`filetype` of GET /images/random -> the stored `fileType` (jpg and jpeg alike)."""
STATUSES = ("online", "idle", "dnd", "streaming", "offline")
"""`status` of GET /auto-image/discord-status."""

Url = Annotated[str, Meta(min_length=1, max_length=2048)]
Name = Annotated[str, Meta(min_length=1, max_length=64)]
Flag = bool | Literal["true", "false"]
"""A boolean, or its text as a form field carries it."""


class ImageTag(msgspec.Struct):
    """A tag as the image object carries it: `user` is the bot that added it."""

    name: str
    hidden: bool
    user: str


class Picture(msgspec.Struct, rename="camel", omit_defaults=True):
    """The reference's image object; `source` only when the uploader gave one."""

    id: str
    type: str
    base_type: str
    nsfw: bool
    file_type: str
    mime_type: str
    tags: list[ImageTag]
    url: str
    hidden: bool
    account: str
    source: str | None = None


class Preview(msgspec.Struct, rename="camel"):
    """One image per type in `GET /images/types?preview=true`."""

    url: str
    id: str
    file_type: str
    base_type: str
    type: str


class TagName(msgspec.Struct, forbid_unknown_fields=False):
    """A tag sent as an object: `{"name": ...}` (other keys are ignored)."""

    name: Name


class UploadIn(msgspec.Struct, rename="camel"):
    """`POST /images/upload` as JSON or form fields (a file comes as multipart).
    Unknown keys are ignored: clients pass their upload options through."""

    base_type: Name
    url: Url | None = None
    hidden: Flag = False
    nsfw: Flag = False
    tags: str | list[Name | TagName] = ""
    """Comma-separated (the reference), or an array."""
    source: Annotated[str, Meta(max_length=2048)] | None = None


class TagsIn(msgspec.Struct):
    """`POST|DELETE /images/info/{id}/tags`: names as an array (of strings or
    `{"name"}` objects) or one comma-separated string. Unknown keys are ignored."""

    tags: list[Name | TagName] | str


class ImageOut(msgspec.Struct):
    status: int
    file: Picture


class TypeList(msgspec.Struct, omit_defaults=True):
    status: int
    types: list[str]
    preview: list[Preview] | UnsetType = UNSET


class TagList(msgspec.Struct):
    status: int
    tags: list[str]


class TagsChanged(msgspec.Struct, omit_defaults=True):
    """What adding or removing tags did: the names changed, the names left as they
    were (already there, or not there), and the image after."""

    status: int
    image: Picture
    added: list[str] | UnsetType = UNSET
    removed: list[str] | UnsetType = UNSET
    skipped: list[str] = msgspec.field(default_factory=list)


class ImageDeleted(msgspec.Struct):
    status: int
    message: str
    image: Picture


class ImageList(msgspec.Struct):
    status: int
    images: list[Picture]
    total: int
    page: int
    limit: int


# -- image generation ---------------------------------------------------------------

Text = Annotated[str, Meta(max_length=64)]


class LicenseIn(Request):
    """`POST /auto-image/license`: as the original, unknown keys are refused."""

    title: Annotated[str, Meta(min_length=1, max_length=64)]
    avatar: Url
    badges: Annotated[list[Url], Meta(max_length=3)] = []
    widgets: Annotated[list[Text], Meta(max_length=3)] = []


class WaifuInsultIn(Request):
    avatar: Url


class LoveShipIn(Request, rename="camel"):
    target_one: Url
    target_two: Url
