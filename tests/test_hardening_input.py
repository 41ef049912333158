"""Bad input is answered, never a 500 (SPEC §4): bodies that are not UTF-8 on every
endpoint that reads a body, and query integers past SQLite's 64 bits."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from storage.queries.keys import SCOPES
from tests.conftest import BOT

# Every endpoint that reads a body, with a body that carries a byte that is not
# UTF-8 inside a JSON string, where each endpoint's decoder reaches it.
BAD = b"caf\xe9"
BODY_ENDPOINTS = [
    ("POST", "/keys", b'{"name": "' + BAD + b'", "bot_id": "1"}'),
    ("POST", "/profile/{guild_id}/lookup", b'{"user_ids": ["' + BAD + b'"]}'),
    ("PATCH", "/profile", b'[{"guild_id": "1", "user_id": "2", "data": {"n": "' + BAD + b'"}}]'),
    ("POST", "/profile/{guild_id}/{user_id}", b'{"data": {"nick": "' + BAD + b'"}}'),
    ("PATCH", "/profile/{guild_id}/{user_id}", b'{"data": {"nick": "' + BAD + b'"}}'),
    ("PATCH", "/profile/{guild_id}/{user_id}/add", b'{"data": {"nick": "' + BAD + b'"}}'),
    ("PATCH", "/profile/add", b'[{"guild_id": "1", "user_id": "2", "data": {"' + BAD + b'": 1}}]'),
    (
        "POST",
        "/transaction",
        b'{"from": "self", "to": "self", "amount": 1, "reason": "' + BAD + b'"}',
    ),
    ("POST", "/reputation/settings", b'{"accountId": "' + BAD + b'"}'),
    ("POST", "/reputation/{bot_id}/{user_id}", b'{"source_user": "' + BAD + b'"}'),
    (
        "POST",
        "/reputation/{bot_id}/{target_user_id}/increase",
        b'{"increase": 1, "' + BAD + b'": 1}',
    ),
    ("POST", "/reputation/{bot_id}/{target_user_id}/decrease", b'{"' + BAD + b'": 1}'),
    ("POST", "/settings/{type}/{id}", b'{"prefix": "' + BAD + b'"}'),
    ("POST", "/settings/{type}/{id}/{subtype}/{subid}", b'["' + BAD + b'"]'),
    ("PUT", "/callback/{event}", b'{"url": "http://example.com/' + BAD + b'", "secret": "s"}'),
    ("PUT", "/shop/{guild_id}/items/{item_id}", b'{"name": "' + BAD + b'", "price": 1}'),
    ("POST", "/shop/{guild_id}/items/{item_id}/buy", b'{"user_id": "' + BAD + b'"}'),
    *(
        ("POST", f"/profile/{{guild_id}}/{{user_id}}/inventory/{{item_id}}/{action}", body)
        for action, body in [
            ("use", b'{"' + BAD + b'": 1}'),
            ("grant", b'{"' + BAD + b'": 1}'),
            ("revoke", b'{"' + BAD + b'": 1}'),
            ("sell", b'{"' + BAD + b'": 1}'),
            ("give", b'{"to_user_id": "' + BAD + b'"}'),
        ]
    ),
    ("PUT", "/rewards/{guild_id}/{reward_id}", b'{"amount": 1, "period": "' + BAD + b'"}'),
    ("POST", "/rewards/{guild_id}/{reward_id}/claim", b'{"user_id": "' + BAD + b'"}'),
    ("POST", "/auto-image/license", b'{"title": "' + BAD + b'", "avatar": "http://x.test/"}'),
    ("POST", "/auto-image/waifu-insult", b'{"avatar": "' + BAD + b'"}'),
    ("POST", "/images/upload", b'{"url": "http://x.test/' + BAD + b'", "baseType": "cat"}'),
    ("POST", "/images/info/{image_id}/tags", b'{"tags": ["' + BAD + b'"]}'),
    ("DELETE", "/images/info/{image_id}/tags", b'{"tags": ["' + BAD + b'"]}'),
    ("POST", "/profile/{guild_id}/seasons", b'{"name": "' + BAD + b'"}'),
    ("PUT", "/profile/{guild_id}/seasons/schedule", b'{"every": "' + BAD + b'"}'),
    ("POST", "/auto-image/love-ship", b'{"targetOne": "' + BAD + b'", "targetTwo": "x"}'),
]
_VALUES = {
    "bot_id": BOT,
    "event": "transaction",
    "type": "t",
    "id": "i",
    "subtype": "s",
    "item_id": "vip",
    "reward_id": "daily",
    "image_id": "abc",
}
_IDS = dict.fromkeys(("guild_id", "user_id", "target_user_id", "subid"), "12")


def _concrete(template: str) -> str:
    return template.format(**_VALUES, **_IDS)


def _reads_a_body(fn: Callable[..., Any], seen: set[str] | None = None) -> bool:
    """True when the handler, or a helper of its module it calls, reads the body."""
    seen = set() if seen is None else seen
    source = inspect.getsource(fn)
    if "read_body(" in source:
        return True
    module = inspect.getmodule(fn)
    for name in set(re.findall(r"\b(\w+)\(", source)) - seen:
        seen.add(name)
        helper = getattr(module, name, None)
        same_module = inspect.isfunction(helper) and helper.__module__ == fn.__module__
        if same_module and _reads_a_body(helper, seen):
            return True
    return False


def test_the_table_names_every_endpoint_that_reads_a_body(client: TestClient) -> None:
    """A new endpoint that reads a body joins the table below, or this fails."""
    reading = set()
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if _reads_a_body(handler.fn):
                reading |= {(method, route.path_format) for method in handler.http_methods}
    assert reading == {(method, path) for method, path, _ in BODY_ENDPOINTS}


@pytest.mark.parametrize(
    ("method", "path", "body"), BODY_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in BODY_ENDPOINTS]
)
@pytest.mark.parametrize("wrapped", [False, True], ids=["as-sent", "behind-a-type-error"])
def test_a_body_that_is_not_utf8_is_malformed_json(
    client: TestClient, make_key, method: str, path: str, body: bytes, wrapped: bool
) -> None:
    headers = {**make_key(scopes=SCOPES), "Content-Type": "application/json"}
    if wrapped:  # not UTF-8 is malformed even where msgspec would first see a wrong type
        body = b"[" + body + b", 1]" if body.startswith(b"{") else b'{"x": 1, "y": ' + body + b"}"
    response = client.request(method, _concrete(path), content=body, headers=headers)
    assert response.status_code == 400, response.text
    found = response.json()
    assert found["status"] == 400
    assert found["code"] in ("malformed_json", 400)  # reputation and settings: numeric codes
    assert "UTF-8" in found["message"]
    assert "Traceback" not in response.text


BIG = ["9223372036854775807", "9223372036854775808", "18446744073709551616", "1" + "0" * 30]


@pytest.mark.parametrize("param", ["amount", "offset"])
@pytest.mark.parametrize("value", BIG)
def test_reputation_leaderboard_refuses_huge_paging_like_the_tops(
    client: TestClient, auth: dict, param: str, value: str
) -> None:
    # the reputation area answers as its reference: 400, a numeric code
    for path, status in ((f"/reputation/{BOT}/leaderboard", 400), ("/profile/top", 422)):
        response = client.get(path, params={param: value}, headers=auth)
        assert response.status_code == status, (path, response.text)
        body = response.json()
        assert body["errors"][0]["field"] == param
    response = client.get(f"/reputation/{BOT}/leaderboard", params={param: value}, headers=auth)
    assert response.json()["code"] == 400
    assert response.json()["message"].startswith(f"{param}: ")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"/reputation/{BOT}/leaderboard", {"amount": "-" + BIG[1]}),
        ("/profile", {"limit": BIG[2], "page": BIG[2]}),
        ("/profile/12", {"limit": BIG[1], "page": BIG[1]}),
        ("/transaction", {"limit": BIG[2], "page": BIG[2]}),
        ("/profile/top", {"amount": "-" + BIG[2]}),
        ("/profile/12/top", {"offset": BIG[1]}),
        ("/profile/12/12/rank", {"since": BIG[3]}),
        ("/stats/balance_graph", {"from": BIG[2], "to": BIG[3]}),
        ("/transaction", {"after": BIG[3], "user_id": BIG[2]}),
        (f"/reputation/{BOT}/12", {}),
    ],
)
def test_no_query_integer_is_a_500(
    client: TestClient, auth: dict, path: str, params: dict[str, str]
) -> None:
    """The other integer parameters were probed with values past 2^63: each is a
    clear answer (a 422, or "all"/"nothing" for page and limit, as documented)."""
    response = client.get(path, params=params, headers=auth)
    assert response.status_code < 500, response.text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xef\xbb\xbf{}", "JSON is malformed: invalid character (byte 0)"),  # a UTF-8 BOM
        (
            b'{"data": "\\ud800.com"}',
            "JSON is malformed: unexpected end of escaped utf-16 surrogate pair (byte 16)",
        ),
        (b'{"data": ', "JSON is malformed: Input data was truncated"),
    ],
    ids=["bom", "lone-surrogate", "truncated"],
)
def test_a_malformed_body_says_so_once(
    client: TestClient, auth: dict, body: bytes, message: str
) -> None:
    response = client.post(
        "/profile/12/12", content=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.json() == {"status": 400, "code": "malformed_json", "message": message}
