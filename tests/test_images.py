"""The image store (SPEC §14, weeb.sh "toph"): uploads (multipart, by URL, refused ones),
files stored once by hash and served with ETag and long caching, and what each account may
see and change. Types, tags, random and info are in test_images_catalog.py; tagging,
deleting, lists and the images scope in test_images_changes.py."""

from __future__ import annotations

import hashlib

import pytest
from litestar.testing import TestClient

from app.config import Settings
from tests import backend, images_helpers
from tests.conftest import BOT
from tests.image_server import ImageServer, Route, bomb, picture
from tests.images_helpers import IMAGE_KEYS, MAX_BYTES, noisy, upload, uploaded

settings = images_helpers.settings  # a fixture shared by several modules
web = images_helpers.web  # a fixture shared by several modules
keys_of = images_helpers.keys_of  # a fixture shared by several modules


# -- upload -------------------------------------------------------------------------


def test_a_multipart_upload_answers_the_image_object(client: TestClient, auth: dict) -> None:
    data = picture()
    response = upload(client, auth, data, baseType="awoo", tags="a, b,,a", source="https://s.test/")
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["status", "file"] and body["status"] == 200
    image = body["file"]
    assert list(image) == [*IMAGE_KEYS, "source"]
    assert image["type"] == image["baseType"] == "awoo"
    assert (image["nsfw"], image["hidden"], image["account"]) == (False, False, BOT)
    assert (image["fileType"], image["mimeType"]) == ("png", "image/png")
    assert image["tags"] == [
        {"name": "a", "hidden": False, "user": BOT},
        {"name": "b", "hidden": False, "user": BOT},
    ]
    sha = hashlib.sha256(data).hexdigest()
    assert image["url"] == f"http://testserver.local/media/{sha}.png"
    assert image["source"] == "https://s.test/" and len(image["id"]) == 9


def test_the_file_is_served_with_etag_and_long_caching(client: TestClient, auth: dict) -> None:
    data = picture("GIF")
    image = uploaded(client, auth, data)
    path = image["url"].removeprefix("http://testserver.local")
    response = client.get(path)  # public: hotlinked without a key
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/gif"
    sha = hashlib.sha256(data).hexdigest()
    assert response.headers["etag"] == f'"{sha}"'
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
    again = client.get(path, headers={"If-None-Match": f'"{sha}"'})
    assert again.status_code == 304 and again.content == b""
    for missing in (f"/media/{'0' * 64}.gif", "/media/../../etc/passwd", f"/media/{sha}.exe"):
        assert client.get(missing).status_code == 404


def test_the_same_bytes_are_stored_once(client: TestClient, auth: dict, settings: Settings) -> None:
    data = picture("JPEG")
    first, second = uploaded(client, auth, data), uploaded(client, auth, data, baseType="dog")
    assert first["id"] != second["id"] and first["url"] == second["url"]
    files = [p for p in settings.media_dir.rglob("*") if p.is_file()]
    sha = hashlib.sha256(data).hexdigest()
    assert files == [settings.media_dir / sha[:2] / f"{sha}.jpeg"]
    assert files[0].read_bytes() == data


@pytest.mark.parametrize(
    ("fmt", "file_type", "mime"),
    [
        ("PNG", "png", "image/png"),
        ("JPEG", "jpeg", "image/jpeg"),
        ("GIF", "gif", "image/gif"),
        ("WEBP", "webp", "image/webp"),
    ],
)
def test_the_type_is_read_from_the_bytes_not_the_name(
    client: TestClient, auth: dict, fmt: str, file_type: str, mime: str
) -> None:
    image = uploaded(client, auth, picture(fmt), name="lies.png")
    assert (image["fileType"], image["mimeType"]) == (file_type, mime)
    assert image["url"].endswith(f".{file_type}")


def test_an_upload_by_url_fetches_the_image(
    client: TestClient, auth: dict, web: ImageServer
) -> None:
    data = picture("GIF")
    web.routes["/a.gif"] = Route(data, content_type="application/octet-stream")
    body = {
        "url": web.url("/a.gif"),
        "baseType": "hug",
        "hidden": False,
        "nsfw": True,
        "tags": "x,y",
        "extra": "ignored, as clients pass their options through",
    }
    response = client.post("/images/upload", headers=auth, json=body)
    assert response.status_code == 200, response.text
    image = response.json()["file"]
    assert (image["fileType"], image["nsfw"], image["type"]) == ("gif", True, "hug")
    assert [t["name"] for t in image["tags"]] == ["x", "y"]
    assert "source" not in image
    served = client.get(image["url"].removeprefix("http://testserver.local"))
    assert served.content == data


def test_an_upload_by_url_as_form_fields(client: TestClient, auth: dict, web: ImageServer) -> None:
    web.routes["/b.png"] = Route(picture())
    form = {"url": web.url("/b.png"), "baseType": "pat", "hidden": "true", "tags": "q"}
    response = client.post("/images/upload", headers=auth, data=form)
    assert response.status_code == 200, response.text
    image = response.json()["file"]
    assert image["hidden"] is True and image["tags"] == [{"name": "q", "hidden": True, "user": BOT}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>not an image</html>", "not a PNG, JPEG, GIF or WebP image"),
        (noisy()[:-200], "damaged or truncated"),
        (picture(size=(1001, 1000)), "at most 1000000 pixels"),
        (bomb(), "at most 1000000 pixels"),  # Pillow's own bomb guard: 400, not 500
        (bomb(12000, 12000), "at most 1000000 pixels"),  # Pillow warns, we refuse
        (b"BM" + b"\0" * 100, "not a PNG, JPEG, GIF or WebP image"),  # BMP: not kept
    ],
)
def test_a_file_that_is_not_an_accepted_image_is_400(
    client: TestClient, auth: dict, settings: Settings, data: bytes, message: str
) -> None:
    response = upload(client, auth, data, name="cat.png")
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["status"], body["code"]) == (400, 400)
    assert message in body["message"] and body["errors"][0]["field"] == "file"
    assert not settings.media_dir.exists() or not any(settings.media_dir.rglob("*.*"))


def test_a_file_over_the_limit_is_413(client: TestClient, auth: dict) -> None:
    response = upload(client, auth, b"\x89PNG" + b"\0" * (MAX_BYTES + 1))
    assert response.status_code == 413
    body = b"\x89PNG" + b"\0" * (MAX_BYTES + 70 * 1024)  # past the form's whole limit
    response = upload(client, auth, body)
    assert response.status_code == 413


def test_taihous_file_upload_gets_a_clear_400(client: TestClient, auth: dict) -> None:
    """taihou 2.0.7 sends `{file: <Buffer as JSON>}` labelled multipart, no boundary."""
    body = b'{"file":{"type":"Buffer","data":[137,80,78,71]},"baseType":"pat"}'
    headers = {**auth, "Content-Type": "multipart/form-data"}
    response = client.post("/images/upload", headers=headers, content=body)
    assert response.status_code == 400
    found = response.json()
    assert (found["status"], found["code"]) == (400, 400)
    assert "boundary" in found["message"] and "url" in found["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://x.test/a.png"}, "baseType"),
        ({"baseType": "cat"}, "url"),
        ({"baseType": "  ", "url": "http://x.test/a.png"}, "baseType"),
        ({"baseType": "cat", "url": "http://x.test/a.png", "hidden": "maybe"}, "hidden"),
        ({"baseType": "cat", "url": "http://x.test/a.png", "tags": "t" * 65}, "tags"),
        ({"baseType": "x" * 65, "url": "http://x.test/a.png"}, "baseType"),
    ],
)
def test_bad_uploads_are_400_naming_the_field(
    client: TestClient, auth: dict, body: dict, field: str
) -> None:
    response = client.post("/images/upload", headers=auth, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == field


# -- who may do what ----------------------------------------------------------------


def test_changing_needs_the_images_scope_and_reading_any_key(
    client: TestClient, auth: dict, keys_of: dict
) -> None:
    image = uploaded(client, auth)
    reader = keys_of["reader"]
    for method, path in [
        ("POST", "/images/upload"),
        ("DELETE", f"/images/info/{image['id']}"),
        ("POST", f"/images/info/{image['id']}/tags"),
        ("DELETE", f"/images/info/{image['id']}/tags"),
        ("GET", f"/images/list/{BOT}"),
        ("GET", "/images/list"),
    ]:
        response = client.request(method, path, headers=reader, json={"tags": ["t"]})
        assert response.status_code == 403, (method, path)
        assert response.json()["code"] == 403
    for path in [
        "/images/types",
        "/images/tags",
        f"/images/info/{image['id']}",
        "/images/random?type=cat",
    ]:
        assert client.get(path, headers=reader).status_code == 200, path


def test_a_hidden_image_is_seen_by_its_uploader_only(
    client: TestClient, auth: dict, keys_of: dict
) -> None:
    secret = uploaded(client, auth, hidden=True, baseType="secret", tags="private")
    other = keys_of["other"]
    assert client.get(f"/images/info/{secret['id']}", headers=auth).status_code == 200
    response = client.get(f"/images/info/{secret['id']}", headers=other)
    assert response.status_code == 404 and response.json()["code"] == 404
    assert client.get("/images/random?type=secret", headers=other).status_code == 404
    assert client.get("/images/types", headers=other).json()["types"] == []
    assert client.get("/images/tags", headers=other).json()["tags"] == []
    assert client.delete(f"/images/info/{secret['id']}", headers=other).status_code == 404


def test_only_the_uploader_or_an_admin_changes_an_image(
    client: TestClient, auth: dict, keys_of: dict, db: backend.Connection
) -> None:
    image = uploaded(client, auth)
    other, admin = keys_of["other"], keys_of["admin"]
    path = f"/images/info/{image['id']}"
    assert client.post(f"{path}/tags", headers=other, json={"tags": ["x"]}).status_code == 403
    assert client.delete(path, headers=other).status_code == 403
    assert db.execute("SELECT count(*) FROM image_tags").fetchone()[0] == 0
    added = client.post(f"{path}/tags", headers=admin, json={"tags": ["x"]})
    assert added.status_code == 200 and added.json()["added"] == ["x"]
    assert client.delete(path, headers=admin).status_code == 200
