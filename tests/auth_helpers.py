"""What the auth tests share: the check of a refusal's status and code."""

from __future__ import annotations

from typing import Any


def assert_error(r: Any, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    # The reputation and settings areas keep their reference APIs' numeric codes.
    assert body["status"] == status and body["code"] in (code, status), body
    return body  # type: ignore[no-any-return]
