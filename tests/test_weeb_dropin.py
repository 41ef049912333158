"""A bot written for weeb.sh works by changing its base URL and key (issue 16): the
`Wolke` token type, the public status objects of the four service roots, and CORS
for browser dashboards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from app.routes.weeb import VERSION
from tests import backend
from tests.conftest import BOT


@pytest.mark.parametrize("scheme", ["Wolke", "wolke", "Bearer", None])
def test_the_wolke_token_type_is_accepted(client: TestClient, auth: dict, scheme: str) -> None:
    secret = auth["Authorization"]
    header = f"{scheme} {secret}" if scheme else secret
    response = client.get(f"/reputation/{BOT}/42", headers={"Authorization": header})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("header", ["Wolke ", "Wolke vps_not-a-key", "Wolke"])
def test_a_bad_wolke_token_is_401(client: TestClient, auth: dict, header: str) -> None:
    response = client.get(f"/reputation/{BOT}/42", headers={"Authorization": header})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/images", "Welcome to toph"),
        ("/auto-image", "Welcome to the korra api"),
        ("/reputation", "Welcome to shimakaze, a simple reputation api"),
        ("/settings", "Welcome to tama"),
    ],
)
def test_service_roots_answer_the_public_status_object(
    client: TestClient, path: str, message: str
) -> None:
    response = client.get(path)  # no key: the originals let anyone ask
    assert response.status_code == 200, response.text
    assert response.json() == {"version": VERSION, "message": message, "status": 200}


def test_below_the_roots_a_key_is_still_needed(client: TestClient) -> None:
    for path in ("/images/types", "/auto-image/generate", "/reputation/settings"):
        assert client.get(path).status_code == 401, path
    assert client.get("/settings/guilds/1").status_code == 401


# -- CORS -----------------------------------------------------------------------------

ORIGIN = "https://dash.example.org"


@pytest.fixture
def cors_client(db_path: Path) -> Iterator[TestClient]:
    settings = Settings(db=backend.target(db_path), key_cache_seconds=0.0, cors_origins=(ORIGIN,))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_no_cors_headers_by_default(client: TestClient, auth: dict) -> None:
    response = client.get("/reputation/settings", headers={**auth, "Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/reputation/settings",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_an_allowed_origin_may_call_the_api(
    cors_client: TestClient, make_key: Callable[..., dict[str, str]]
) -> None:
    auth = make_key()
    preflight = cors_client.options(
        "/reputation/settings",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code in (200, 204), preflight.text
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    response = cors_client.get("/reputation/settings", headers={**auth, "Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-ratelimit-remaining" in response.headers["access-control-expose-headers"].lower()


def test_another_origin_gets_no_cors_headers(
    cors_client: TestClient, make_key: Callable[..., dict[str, str]]
) -> None:
    auth = make_key()
    response = cors_client.get(
        "/reputation/settings", headers={**auth, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_cors_origins_come_from_the_environment() -> None:
    env = {"VOICEPROFILE_CORS_ORIGINS": f" {ORIGIN}, https://b.example ,"}
    assert Settings.from_env(env).cors_origins == (ORIGIN, "https://b.example")
    assert Settings.from_env({}).cors_origins == ()
