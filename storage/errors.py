"""Domain errors: what went wrong, in the product's words, with no HTTP in sight.

`app/errors.py` turns each into the spec's JSON body once. `status` and `code` live
on the class so the mapping needs no table.
"""

from typing import Any, ClassVar

__all__ = [
    "Conflict",
    "DomainError",
    "InvalidValue",
    "NotFound",
    "PayloadTooLarge",
    "ProfileNotFound",
    "SeasonNotFound",
    "StorageUnavailable",
    "in_bulk",
]


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The spec's error body (SPEC §4): status, code, message, and any extras."""
        return {"status": self.status, "code": self.code, "message": self.message, **self.extra}


class InvalidValue(DomainError):
    """A value the request carried is not acceptable (422), naming the field.

    `where` is the part of the request that carried it (`body`, `query`, `path`):
    the weeb.sh areas report it as the original's `in` (app/errors.py)."""

    status = 422
    code = "validation_error"

    def __init__(
        self, field: str, message: str, *, code: str | None = None, where: str = "body"
    ) -> None:
        super().__init__(
            f"{field}: {message}" if field else message,
            errors=[{"field": field, "message": message}],
        )
        self.where = where
        if code:
            self.code = code  # type: ignore[misc]


class NotFound(DomainError):
    status = 404
    code = "not_found"


class ProfileNotFound(NotFound):
    code = "profile_not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class StorageUnavailable(DomainError):
    status = 503
    code = "storage_unavailable"


def in_bulk(exc: DomainError, index: int) -> DomainError:
    """Name item `index` of a bulk request in an error about it (SPEC §4): the
    message starts with "item N:", `index` is set, and each field gets "[N]."."""
    exc.message = f"item {index}: {exc.message}"
    exc.args = (exc.message,)
    exc.extra["index"] = index
    for error in exc.extra.get("errors", []):
        if not error["field"].startswith("["):
            error["field"] = f"[{index}].{error['field']}"
    return exc


class SeasonNotFound(NotFound):
    code = "season_not_found"
