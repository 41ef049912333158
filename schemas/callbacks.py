"""Callback (webhook) bodies, SPEC §10."""

from typing import Annotated

import msgspec
from msgspec import Meta

from schemas.base import Request

__all__ = ["Callback", "CallbackSet"]


class CallbackSet(Request):
    url: Annotated[str, Meta(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2048)]
    """Where events are POSTed (http or https)."""
    secret: Annotated[str, Meta(min_length=1, max_length=256)]
    """Key of the HMAC-SHA256 in X-Signature. Never shown again."""


class Callback(msgspec.Struct):
    event: str
    url: str
    created_at: float
