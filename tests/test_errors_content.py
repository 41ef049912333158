"""Profile requests by content type, SPEC §4 and §5: a body that is not JSON is 415, JSON
content types are accepted, an empty form post creates with defaults; and the public
pages (index, OpenAPI, health)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests import errors_helpers
from tests.errors_helpers import Shared, assert_error_shape
from tests.profile_support import snapshot

seeded = errors_helpers.seeded  # a fixture shared by several modules
shared = errors_helpers.shared  # a fixture shared by several modules


# -- content types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/profile/1/3"),
        ("PATCH", "/profile/1/2"),
        ("PATCH", "/profile/1/2/add"),
        ("PATCH", "/profile"),
    ],
)
def test_a_body_that_is_not_json_is_415(
    shared: Shared, method: str, path: str, content_type: str
) -> None:
    client, auth, db = shared.client, shared.auth, shared.db
    before = snapshot(db)
    r = client.request(method, path, content=b"{}", headers={**auth, "Content-Type": content_type})
    err = assert_error_shape(r, 415, "unsupported_media_type")
    assert "application/json" in err["message"]
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
    ],
)
def test_json_content_types_are_accepted(
    client: TestClient, auth: dict, seeded: None, content_type: str
) -> None:
    r = client.patch(
        "/profile/1/2", content=b'{"level": 4}', headers={**auth, "Content-Type": content_type}
    )
    assert (r.status_code, r.json()["level"]) == (200, 4)


def test_an_empty_form_post_creates_with_defaults(client: TestClient, auth: dict) -> None:
    # `curl -X POST -d ''` sends an empty form: there is no body to misread.
    r = client.post(
        "/profile/1/3",
        content=b"",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 201


# -- public pages ----------------------------------------------------------------------------


def test_index_is_an_html_page_listing_every_endpoint(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    for path in [
        "/profile",
        "/profile/{guild_id}",
        "/profile/guilds",
        "/profile/guilds/{user_id}",
        "/profile/{guild_id}/{user_id}",
        "/profile/{guild_id}/{user_id}/add",
        "/profile/add",
    ]:
        assert f"<code>{path}</code>" in r.text, path
    assert 'href="/schema/swagger"' in r.text


def test_openapi_is_public_and_documents_the_profile_api(client: TestClient) -> None:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"get", "post", "patch", "delete"} <= set(paths["/profile/{guild_id}/{user_id}"])
    assert "POST /transaction" in paths["/profile/{guild_id}/{user_id}"]["patch"]["description"]
    # the handlers decode their bodies themselves; the schemas are still published
    for path, method, title in [
        ("/profile/{guild_id}/{user_id}", "post", "ProfileCreate"),
        ("/profile/{guild_id}/{user_id}", "patch", "ProfileEdit"),
        ("/profile/{guild_id}/{user_id}/add", "patch", "ProfileAdd"),
        ("/profile", "patch", "ProfileEditItem"),
        ("/profile/add", "patch", "ProfileAddItem"),
        ("/keys", "post", "KeyCreate"),
    ]:
        body = paths[path][method]["requestBody"]
        assert title in str(body["content"]["application/json"]["schema"]), (path, method)
    assert paths["/profile/{guild_id}/{user_id}"]["post"]["requestBody"]["required"] is False
    assert client.get("/schema/swagger").status_code == 200


def test_health_is_public(client: TestClient) -> None:
    r = client.get("/health")
    assert (r.status_code, r.json()["status"]) == (200, "ok")
