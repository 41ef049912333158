"""POST /transaction answered outside Litestar (app/transfer_path.py) answers as the
route does: the same requests, sent to two servers on two fresh databases at the same
fixed time, one with the lean path and one with it turned off, get the same status,
headers and body bytes, refusals and retries included. And the lean path takes the
ordinary requests only: the rest go on to the route."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app import transfer_path
from app.config import Settings
from app.main import create_app
from app.transfer_path import TransferPath
from storage.clock import ManualClock
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend
from tests.conftest import BOT, OTHER_BOT
from tests.transactions_helpers import ALICE, BOB, CAROL, T2, G, profile

LIMIT = 4096  # the body limit of both servers
A = {"guild_id": G, "user_id": ALICE}
B = {"guild_id": G, "user_id": BOB}
C = {"guild_id": G, "user_id": CAROL}


def _json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def _one(amount: int = 5, reason: str = "gift", src: Any = A, dst: Any = B) -> bytes:
    return _json({"from": src, "to": dst, "amount": amount, "reason": reason})


# (what, taken by the lean path, headers beyond the key (a list: sent that many times;
# the test client joins them into one "a, b", which the lean path refuses as well as
# a repeated header), body). In order: the answers
# depend on the balances the earlier ones left.
CASES: list[tuple[str, bool, dict[str, Any], bytes]] = [
    ("a key's first use: not cached yet", False, {"Authorization": "FRESH"}, _one()),
    ("that key again", True, {"Authorization": "FRESH"}, _one()),
    ("a transfer", True, {}, _one(7)),
    (
        "charset in the content type",
        True,
        {"Content-Type": "application/json; charset=utf-8"},
        _one(1),
    ),
    ("no content type", True, {"Content-Type": ""}, _one(1)),
    ("an array", True, {}, b"[" + _one(2) + b"," + _one(3, src=B, dst=C) + b"]"),
    ("from the treasury", True, {}, _one(4, src="self", dst=C)),
    ("more than the balance", True, {}, _one(10_000)),
    ("an unknown profile", True, {}, _one(1, dst={"guild_id": G, "user_id": "999"})),
    ("to itself", True, {}, _one(1, dst=A)),
    ("from another bot's treasury", True, {}, _one(1, src=T2)),
    ("keyed", True, {"Idempotency-Key": "k1"}, _one(3)),
    ("keyed, retried", True, {"Idempotency-Key": "k1"}, _one(3)),
    (
        "keyed, retried spaced differently",
        True,
        {"Idempotency-Key": "k1"},
        _one(3).replace(b": ", b":"),
    ),
    ("keyed, another body", True, {"Idempotency-Key": "k1"}, _one(4)),
    ("keyed refusal", True, {"Idempotency-Key": "k2"}, _one(10_000)),
    ("keyed refusal, retried", True, {"Idempotency-Key": "k2"}, _one(10_000)),
    ("a key of 64", True, {"Idempotency-Key": "x" * 64}, _one(1)),
    ("a key of 65", False, {"Idempotency-Key": "x" * 65}, _one(1)),
    ("an empty key", False, {"Idempotency-Key": ""}, _one(1)),
    ("two content types", False, {"Content-Type": ["application/json", "text/plain"]}, _one(1)),
    ("an Origin", False, {"Origin": "https://example.com"}, _one(1)),
    ("not JSON", False, {"Content-Type": "text/plain"}, _one(1)),
    ("a form", False, {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
    ("malformed", False, {}, b'{"from": '),
    ("empty", False, {}, b""),
    ("blank", False, {}, b"  \n"),
    ("an empty array", False, {}, b"[]"),
    ("amount as a string", False, {}, _one(1).replace(b'"amount": 1', b'"amount": "1"')),
    ("an unknown field", False, {}, _one(1)[:-1] + b', "extra": 1}'),
    ("a negative amount", False, {}, _one(-1)),
    ("a reason of 201 characters", False, {}, _one(1, reason="r" * 201)),
    ("UTF-8 reason", False, {}, _one(1, reason="café ☕")),
    ("not UTF-8", False, {}, _one(1, reason="cafe").replace(b"cafe", b"caf\xe9")),
    ("too deep", False, {}, b"[" * 2000 + b"]" * 2000),
    ("over the body limit", False, {}, b"[" + b",".join([_one(1)] * 60) + b"]"),
    ("no key", False, {"Authorization": ""}, _one(1)),
    ("an unknown key", False, {"Authorization": "nope"}, _one(1)),
    ("a key without ledger:write", False, {"Authorization": "READER"}, _one(1)),
    ("after all that, a transfer", True, {}, _one(1)),
]


def _key(path: Path, scopes: tuple[str, ...], bot: str = BOT) -> str:
    conn = backend.connect(path)
    apply_migrations(conn)
    _, secret = keys.create_key(conn, "test", bot, scopes)
    conn.close()
    return secret


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sends CASES to a new server; returns each answer with whether the lean path
    built its ledger command, and what /metrics counted of them."""

    def go(name: str) -> tuple[list[tuple[Any, bool]], dict[str, int]]:
        path = tmp_path / f"{name}.db"
        secret = _key(path, keys.DEFAULT_SCOPES)
        admin = {"Authorization": _key(path, keys.SCOPES)}
        named = {"READER": _key(path, ("ledger:read",)), "FRESH": _key(path, keys.DEFAULT_SCOPES)}
        built: list[object] = []
        build = transfer_path.transfer_command

        def counted(*args: Any) -> Any:
            built.append(args)
            return build(*args)

        monkeypatch.setattr(transfer_path, "transfer_command", counted)
        settings = Settings(
            db=backend.target(path), key_cache_seconds=60.0, max_body_bytes=LIMIT, boards="sync"
        )
        answers = []
        with TestClient(create_app(settings, clock=ManualClock())) as client:
            auth = {"Authorization": secret}
            for user, points in ((ALICE, 100), (BOB, 0), (CAROL, 0)):
                profile(client, auth, user, points)
            # another bot funds a profile: its treasury exists, and is not ours to spend
            profile(client, {"Authorization": _key(path, keys.DEFAULT_SCOPES, OTHER_BOT)}, "4", 1)
            counted_before = _counted(client, admin)
            for _, _, headers, body in CASES:
                sent = {"Content-Type": "application/json", **auth, **headers}
                sent["Authorization"] = named.get(sent["Authorization"], sent["Authorization"])
                sent = {k: v for k, v in sent.items() if v or k != "Content-Type"}
                before = len(built)
                listed = [
                    (k, v) for k, vs in sent.items() for v in ([vs] if isinstance(vs, str) else vs)
                ]
                r = client.post("/transaction", content=body, headers=listed)
                answers.append((r, len(built) > before))
            after = _counted(client, admin)
        return answers, {k: n - counted_before.get(k, 0) for k, n in after.items()}

    yield go


def _counted(client: TestClient, admin: dict) -> dict[str, int]:
    """voiceprofile_requests_total of POST /transaction, by status."""
    r = client.get("/metrics", headers=admin)
    assert r.status_code == 200, r.text
    found = re.findall(
        r'^voiceprofile_requests_total\{method="POST",route="/transaction",status="(\d+)"\} (\S+)$',
        r.text,
        re.M,
    )
    return {status: int(float(n)) for status, n in found}


def _seen(r: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() != "date")
    return r.status_code, headers, r.content


def test_lean_path_answers_as_the_route(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lean, lean_counted = run("lean")
    with monkeypatch.context() as m:
        m.setattr(TransferPath, "__call__", lambda self, *asgi: self.app(*asgi))
        routed, routed_counted = run("routed")
    # the request metrics count them alike, by the route's name
    assert lean_counted == routed_counted and sum(lean_counted.values()) == len(CASES)
    assert not any(taken for _, taken in routed)
    for (what, _, _, _), (fast, _), (slow, _) in zip(CASES, lean, routed, strict=True):
        assert _seen(fast) == _seen(slow), what
    statuses = {what: r.status_code for (what, *_), (r, _) in zip(CASES, lean, strict=True)}
    # the cases reach what they name
    assert statuses["a transfer"] == statuses["an array"] == statuses["keyed, retried"] == 201
    assert (statuses["more than the balance"], statuses["keyed refusal, retried"]) == (409, 409)
    replayed = [
        what
        for (what, *_), (r, _) in zip(CASES, lean, strict=True)
        if "idempotent-replayed" in r.headers
    ]
    assert replayed == [
        "keyed, retried",
        "keyed, retried spaced differently",
        "keyed refusal, retried",
    ]
    assert statuses["keyed, another body"] == 422
    assert statuses["over the body limit"] == 413
    assert statuses["not JSON"] == 415
    assert statuses["malformed"] == 400
    assert (statuses["no key"], statuses["a key without ledger:write"]) == (401, 403)
    assert statuses["from another bot's treasury"] == 403  # no impostors (SPEC §6)
    assert statuses["a reason of 201 characters"] == 422


def test_lean_path_takes_only_ordinary_requests(run: Any) -> None:
    answers, _ = run("lean")
    taken = {what: took for (what, *_), (_, took) in zip(CASES, answers, strict=True)}
    assert taken == {what: expected for what, expected, _, _ in CASES}
