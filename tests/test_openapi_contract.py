"""The OpenAPI document states the real contract (issue 10, finding 8): what the
schemathesis run (tests/test_fuzz_schemathesis.py) found, each pinned here quickly."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from litestar.testing import TestClient

from app.routes.common import snowflake
from schemas.base import SNOWFLAKE_PATTERN
from storage.errors import InvalidValue
from storage.queries.outbox import EVENTS

METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    return client.get("/schema/openapi.json").json()  # type: ignore[no-any-return]


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def _is_snowflake(text: str) -> bool:
    try:
        snowflake("x", text)
    except InvalidValue:
        return False
    return True


def test_the_snowflake_pattern_accepts_exactly_what_the_server_accepts() -> None:
    pattern = re.compile(SNOWFLAKE_PATTERN)
    rnd = random.Random(8)
    edges = ["0", "00000000000000000000", str(2**64 - 1), str(2**64), "9" * 20, "1" * 21]
    samples = [*edges, "", "1\n", " 1", "+1", "١", "a"]
    for _ in range(20000):
        near = rnd.choice([2**64 + rnd.randrange(-(10**6), 10**6), rnd.randrange(10**20)])
        samples.append(str(near).zfill(rnd.choice([0, 20])))
    for text in samples:
        assert bool(pattern.search(text)) == _is_snowflake(text), repr(text)


def test_every_snowflake_parameter_carries_the_pattern(doc: dict[str, Any]) -> None:
    found = 0
    for method, path, op in _operations(doc):
        for param in op.get("parameters", []):
            if param["name"] in ("guild_id", "user_id", "bot_id", "target_user_id"):
                assert param["schema"]["pattern"] == SNOWFLAKE_PATTERN, (method, path)
                found += 1
    assert found > 20


@pytest.mark.parametrize(
    ("path", "name", "expected"),
    [
        ("/profile", "page", {"minimum": 0}),
        ("/profile/top", "offset", {"minimum": 0, "maximum": 2**53 - 1}),
        ("/profile/top", "amount", {"minimum": -(2**53 - 1), "maximum": 2**53 - 1}),
        ("/reputation/{bot_id}/leaderboard", "offset", {"minimum": 0, "maximum": 2**53 - 1}),
        (
            "/profile/top",
            "timeframe",
            {
                "enum": [
                    "all",
                    "day",
                    "week",
                    "month",
                    "this-week",
                    "last-week",
                    "this-month",
                    "last-month",
                ]
            },
        ),
        ("/callback/{event}", "event", {"enum": list(EVENTS)}),
    ],
)
def test_bounds_and_choices_are_documented(
    doc: dict[str, Any], path: str, name: str, expected: dict[str, Any]
) -> None:
    (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name]
    schema = param["schema"]
    assert {key: schema.get(key) for key in expected} == expected


def test_calendar_timeframes_are_described_on_tops_and_ranks(doc: dict[str, Any]) -> None:
    paths = ("/profile/top", "/profile/{guild_id}/top", "/profile/{guild_id}/{user_id}/rank")
    for path in paths:
        (param,) = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "timeframe"]
        assert "last-week" in param["description"] and "Monday 00:00" in param["description"]


def test_idempotency_key_length_is_documented(doc: dict[str, Any]) -> None:
    (header,) = doc["paths"]["/transaction"]["post"]["parameters"]
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 64}


def test_profile_post_documents_both_created_and_reset(doc: dict[str, Any]) -> None:
    responses = doc["paths"]["/profile/{guild_id}/{user_id}"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)


def test_the_svg_graph_is_documented(doc: dict[str, Any], client: TestClient, auth: dict) -> None:
    content = doc["paths"]["/stats/balance_graph"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "image/svg+xml"}
    r = client.get("/stats/balance_graph?format=svg", headers=auth)
    assert r.headers["content-type"].startswith("image/svg+xml")


def test_refused_fields_are_not_documented(doc: dict[str, Any]) -> None:
    edit = doc["paths"]["/profile/{guild_id}/{user_id}"]["patch"]["requestBody"]
    assert "voicepoints" not in edit["content"]["application/json"]["schema"]["properties"]


def test_transfer_answers_are_documented_as_transactions(doc: dict[str, Any]) -> None:
    created = doc["paths"]["/transaction"]["post"]["responses"]["201"]["content"]
    assert created["application/json"]["schema"]["oneOf"][0] == {
        "$ref": "#/components/schemas/Transaction"
    }


def test_body_routes_document_415_and_others_do_not(doc: dict[str, Any]) -> None:
    for method, path, op in _operations(doc):
        assert ("415" in op["responses"]) == ("requestBody" in op), (method, path)


def test_no_two_paths_differ_only_by_parameter_names(doc: dict[str, Any]) -> None:
    shapes: dict[str, str] = {}
    for path in doc["paths"]:
        shape = re.sub(r"\{[^}]+\}", "{}", path)
        assert shape not in shapes, (path, shapes.get(shape))
        shapes[shape] = path


def test_options_allows_exactly_the_documented_methods(
    doc: dict[str, Any], client: TestClient
) -> None:
    for path, item in doc["paths"].items():
        r = client.options(re.sub(r"\{[^}]+\}", "1", path))
        documented = {m.upper() for m in item if m in METHODS} | {"OPTIONS"}
        documented |= {"HEAD"} if "GET" in documented else set()  # every GET answers HEAD
        assert r.status_code == 204, path
        assert set(r.headers["allow"].split(", ")) == documented, path


def test_a_negative_page_is_422_in_the_tree_view_too(client: TestClient, auth: dict) -> None:
    for path in ("/profile?view=tree&page=-1", "/profile/1?view=tree&page=-1"):
        r = client.get(path, headers=auth)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "page"


def test_a_callback_url_ending_in_a_newline_is_refused(client: TestClient, auth: dict) -> None:
    """Python's `$` matched before it; the documented (JavaScript) pattern does not."""
    body = {"url": "https://bot.example.org/hook\n", "secret": "s"}
    r = client.put("/callback/transaction", json=body, headers=auth)
    assert r.status_code == 422, r.text
