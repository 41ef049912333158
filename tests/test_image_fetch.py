"""URLs the server fetches for a client (uploads by `url`, avatars, badges), SPEC
§14: http(s) only, public addresses only unless the operator allows more, a size
and a time limit, redirects followed here and each hop checked, and what comes
back decoded before it is believed. A stand-in web server on 127.0.0.1 plays the
other side."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from tests import backend
from tests.conftest import free_port
from tests.image_server import ImageServer, Route, picture

MAX_BYTES = 32 * 1024


@pytest.fixture
def web() -> Iterator[ImageServer]:
    server = ImageServer(free_port()).start()
    yield server
    server.stop()


def _app(db_path: Path, tmp_path: Path, allow: tuple[str, ...], timeout: float = 5.0) -> TestClient:
    settings = Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        allow_hosts=allow,
        media=tmp_path / "media",
        image_max_bytes=MAX_BYTES,
        fetch_timeout=timeout,
    )
    return TestClient(create_app(settings))


@pytest.fixture
def allowed(db_path: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The operator allows 127.0.0.1 (only the address, not `localhost`)."""
    with _app(db_path, tmp_path, ("127.0.0.1",)) as client:
        yield client


def _upload(client: TestClient, auth: dict, url: str) -> tuple[int, dict]:
    response = client.post("/images/upload", headers=auth, json={"url": url, "baseType": "t"})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/a.png",
        "http://localhost:{port}/a.png",
        "http://[::1]:{port}/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a.png",
        "http://2130706433:{port}/a.png",
        "file:///etc/passwd",
        "ftp://example.com/a.png",
        "http://user:pw@example.com/a.png",
    ],
)
def test_private_addresses_and_other_schemes_are_refused(
    db_path: Path, tmp_path: Path, make_key, web: ImageServer, url: str
) -> None:
    web.routes["/a.png"] = Route(picture())
    with _app(db_path, tmp_path, ()) as client:  # no exception allowed
        status, body = _upload(client, make_key(), url.format(port=web.port))
    assert status == 400, body
    assert body["errors"][0]["field"] == "url"
    assert web.hits["/a.png"] == 0


def test_an_allowed_host_is_fetched(allowed: TestClient, make_key, web: ImageServer) -> None:
    web.routes["/a.png"] = Route(picture())
    status, body = _upload(allowed, make_key(), web.url("/a.png"))
    assert status == 200, body
    assert web.hits["/a.png"] == 1


def test_redirects_are_followed_and_each_hop_checked(
    allowed: TestClient, make_key, web: ImageServer
) -> None:
    auth = make_key()
    web.routes["/img"] = Route(picture("GIF"))
    web.routes["/r1"] = Route(status=302, location="/r2")
    web.routes["/r2"] = Route(status=301, location=web.url("/img"))
    status, body = _upload(allowed, auth, web.url("/r1"))
    assert status == 200 and body["file"]["fileType"] == "gif"
    # A hop to an address the operator did not allow is refused before connecting.
    web.routes["/away"] = Route(status=302, location=f"http://localhost:{web.port}/img")
    web.routes["/away2"] = Route(status=307, location="http://10.1.2.3/img")
    for start in ("/away", "/away2"):
        status, body = _upload(allowed, auth, web.url(start))
        assert status == 400 and "does not allow it" in body["message"], body
    assert web.hits["/img"] == 1
    # At most 3 redirects.
    for i in range(5):
        web.routes[f"/loop{i}"] = Route(status=302, location=f"/loop{i + 1}")
    web.routes["/loop4"] = Route(picture())
    status, body = _upload(allowed, auth, web.url("/loop0"))
    assert status == 400 and "redirected more than 3 times" in body["message"]
    status, body = _upload(allowed, auth, web.url("/loop1"))
    assert status == 200, body


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(picture(), status=404), "answered HTTP 404"),
        (Route(b"\0" * (MAX_BYTES + 1)), f"larger than {MAX_BYTES} bytes"),
        (Route(b"\0" * (MAX_BYTES + 1), length=False), f"larger than {MAX_BYTES} bytes"),
        (Route(endless=True), f"larger than {MAX_BYTES} bytes"),
        (Route(b"<html>an image, promised</html>", content_type="image/png"), "not a PNG"),
    ],
)
def test_oversized_failed_and_fake_images_are_refused(
    allowed: TestClient, make_key, web: ImageServer, route: Route, message: str
) -> None:
    web.routes["/x"] = route
    status, body = _upload(allowed, make_key(), web.url("/x"))
    assert status == 400, body
    assert message in body["message"]


def test_a_slow_server_runs_into_the_time_limit(
    db_path: Path, tmp_path: Path, make_key, web: ImageServer
) -> None:
    web.routes["/slow"] = Route(picture(), drip=0.2)  # ~70 bytes: 14 s
    with _app(db_path, tmp_path, ("127.0.0.1",), timeout=1.0) as client:
        status, body = _upload(client, make_key(), web.url("/slow"))
    assert status == 400 and "took more than 1 s" in body["message"], body


def test_a_repeated_avatar_is_fetched_once(allowed: TestClient, make_key, web: ImageServer) -> None:
    auth = make_key()
    web.routes["/avatar.png"] = Route(picture(size=(64, 64)))
    for status in ("online", "idle", "dnd"):
        response = allowed.get(
            "/auto-image/discord-status",
            params={"status": status, "avatar": web.url("/avatar.png")},
            headers=auth,
        )
        assert response.status_code == 200, response.text
    assert web.hits["/avatar.png"] == 1


def test_avatars_and_badges_go_through_the_same_guard(
    db_path: Path, tmp_path: Path, make_key, web: ImageServer
) -> None:
    web.routes["/a.png"] = Route(picture())
    url = web.url("/a.png")
    with _app(db_path, tmp_path, ()) as client:
        auth = make_key()
        status = client.get("/auto-image/discord-status", params={"avatar": url}, headers=auth)
        license_ = client.post(
            "/auto-image/license",
            headers=auth,
            json={"title": "t", "avatar": url, "badges": [url]},
        )
        ship = client.post(
            "/auto-image/love-ship", headers=auth, json={"targetOne": url, "targetTwo": url}
        )
    assert status.status_code == 400 and status.json()["message"] == "This url is not allowed."
    assert "not a public address" in status.json()["reason"]
    assert license_.status_code == 400 and license_.json()["message"] == "invalid url"
    assert ship.status_code == 400 and ship.json()["message"] == "invalid avatar url"
    assert web.hits["/a.png"] == 0
