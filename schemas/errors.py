"""The error body every route answers with (SPEC §4), for the OpenAPI document."""

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

__all__ = ["ErrorBody", "FieldError"]


class FieldError(msgspec.Struct):
    field: str
    message: str


class ErrorBody(msgspec.Struct):
    """`{"status", "code", "message"}`; `errors` names the fields of a validation
    error, `index` the first bad item of a bulk request. `code` is a number in the
    reputation and settings APIs (their reference bodies)."""

    status: int
    code: str | int
    message: str
    errors: list[FieldError] | UnsetType = UNSET
    index: int | UnsetType = UNSET
    extra: dict[str, Any] | UnsetType = UNSET
