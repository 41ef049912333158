"""Callback (webhook) bodies, SPEC §10."""

from typing import Annotated

import msgspec
from msgspec import Meta

from schemas.base import Request

__all__ = ["Callback", "CallbackSet"]


# Python's `\s` spelled out, so the OpenAPI document (JavaScript regexes: no \x85 or
# \x1c-\x1f there, \ufeff extra) states what msgspec matches; `(?!\n)$` because
# Python's `$` also matches before a final newline.
_SPACE = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
URL_PATTERN = rf"^https?://[^{_SPACE}/?#]+[^{_SPACE}]*(?!\n)$"


class CallbackSet(Request):
    url: Annotated[str, Meta(pattern=URL_PATTERN, max_length=2048)]
    """Where events are POSTed (http or https)."""
    secret: Annotated[str, Meta(min_length=1, max_length=256)]
    """Key of the HMAC-SHA256 in X-Signature. Never shown again."""


class Callback(msgspec.Struct):
    event: str
    url: str
    created_at: float
