"""The image store (SPEC §14, weeb.sh "toph"): types and tags by hidden and nsfw, random
with its filters and refusals, every refusal placed as the original, and info."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests import images_helpers
from tests.conftest import BOT
from tests.images_helpers import IMAGE_KEYS

settings = images_helpers.settings  # a fixture shared by several modules
keys_of = images_helpers.keys_of  # a fixture shared by several modules
stocked = images_helpers.stocked  # a fixture shared by several modules


# -- types, tags, random, info ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["cat", "fox", "secret"]),
        ("?nsfw=false", ["cat", "fox", "secret"]),
        ("?nsfw=true", ["cat", "dog", "fox", "secret"]),
        ("?nsfw=only", ["dog"]),
        ("?hidden=true", ["secret"]),
        ("?hidden=false", ["cat", "fox"]),
        ("?hidden=true&nsfw=only", []),
    ],
)
def test_types_by_hidden_and_nsfw(
    client: TestClient, auth: dict, stocked: dict, query: str, expected: list
) -> None:
    response = client.get(f"/images/types{query}", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"status": 200, "types": expected}


def test_types_with_a_stable_preview(client: TestClient, auth: dict, stocked: dict) -> None:
    body = client.get("/images/types?preview=true", headers=auth).json()
    assert body["types"] == ["cat", "fox", "secret"]
    assert [p["type"] for p in body["preview"]] == body["types"]
    first = body["preview"][0]
    assert list(first) == ["url", "id", "fileType", "baseType", "type"]
    assert first["id"] == stocked["cat"]["id"]  # the oldest, until it is deleted
    client.delete(f"/images/info/{stocked['cat']['id']}", headers=auth)
    again = client.get("/images/types?preview=true", headers=auth).json()
    assert again["preview"][0]["id"] == stocked["cat2"]["id"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["cute", "mine", "sly", "small"]),
        ("?nsfw=only", ["big", "cute"]),
        ("?hidden=true", ["mine"]),
        ("?hidden=false&nsfw=true", ["big", "cute", "sly", "small"]),
    ],
)
def test_tags_by_hidden_and_nsfw(
    client: TestClient, auth: dict, stocked: dict, query: str, expected: list
) -> None:
    response = client.get(f"/images/tags{query}", headers=auth)
    assert response.json() == {"status": 200, "tags": expected}


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        ("type=cat", {"cat", "cat2"}),
        ("tags=cute", {"cat", "cat2"}),
        ("tags=cute,small", {"cat"}),
        ("type=cat&tags=small", {"cat"}),
        ("type=cat&filetype=jpg", {"cat2"}),
        ("type=cat&filetype=jpeg", {"cat2"}),
        ("type=cat&filetype=png", {"cat"}),
        ("tags=cute&nsfw=true", {"cat", "cat2", "dog"}),
        ("tags=cute&nsfw=only", {"dog"}),
        ("type=secret", {"secret"}),
        ("type=secret&hidden=true", {"secret"}),
        ("type=fox", {"fox"}),
        ("type=fox&hidden=true", set()),
        ("type=secret&hidden=false", set()),
        ("type=nothing", set()),
    ],
)
def test_random_filters(
    client: TestClient, auth: dict, stocked: dict, query: str, allowed: set
) -> None:
    ids = {stocked[name]["id"]: name for name in stocked}
    seen = set()
    for _ in range(12):
        response = client.get(f"/images/random?{query}", headers=auth)
        if not allowed:
            assert response.status_code == 404 and response.json()["code"] == 404
            return
        assert response.status_code == 200, response.text
        assert list(response.json())[:10] == IMAGE_KEYS  # the bare image object
        seen.add(ids[response.json()["id"]])
    assert seen <= allowed and seen


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "type"),
        ("tags=,", "type"),
        ("type=cat&nsfw=maybe", "nsfw"),
        ("type=cat&filetype=bmp", "filetype"),
        ("type=cat&hidden=2", "hidden"),
    ],
)
def test_random_refuses_bad_queries(
    client: TestClient, auth: dict, stocked: dict, query: str, field: str
) -> None:
    response = client.get(f"/images/random?{query}", headers=auth)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["errors"][0]["field"] == field
    # The original's `in` and `dataPath`, as the README promises for every refusal.
    assert answer["in"] == "query" and answer["errors"][0]["dataPath"] == f".query.{field}"


@pytest.mark.parametrize(
    ("method", "path", "body", "where", "field"),
    [
        ("GET", "/images/types?nsfw=maybe", None, "query", "nsfw"),
        ("GET", "/images/tags?hidden=x", None, "query", "hidden"),
        ("GET", f"/images/list/{BOT}?limit=0", None, "query", "limit"),
        ("GET", f"/images/list/{BOT}?page=-1", None, "query", "page"),
        ("GET", "/images/list/abc", None, "path", "account_id"),
        ("POST", "/images/info/x/tags?tags=,", None, "query", "tags"),
        ("POST", "/images/info/x/tags", {"tags": []}, "body", "tags"),
        ("POST", "/images/upload", {"baseType": "cat"}, "body", "url"),
        ("POST", "/images/upload", {"baseType": " ", "url": "http://x/"}, "body", "baseType"),
    ],
)
def test_every_refusal_says_where_as_the_original(
    client: TestClient, auth: dict, method: str, path: str, body: Any, where: str, field: str
) -> None:
    response = client.request(method, path, headers=auth, json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert (answer["code"], answer["in"]) == (400, where)
    assert answer["errors"] == [
        {"field": field, "message": answer["errors"][0]["message"], "dataPath": f".{where}.{field}"}
    ]


def test_info_gives_the_image_object(client: TestClient, auth: dict, stocked: dict) -> None:
    response = client.get(f"/images/info/{stocked['dog']['id']}", headers=auth)
    assert response.status_code == 200 and response.json() == stocked["dog"]
    missing = client.get("/images/info/nosuchid1", headers=auth)
    assert missing.status_code == 404
    assert missing.json() == {"status": 404, "code": 404, "message": "Image nosuchid1 not found"}
