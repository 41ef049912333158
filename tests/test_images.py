"""The image store (SPEC §14, weeb.sh "toph"): every endpoint and error of the
reference, files stored once by hash and served with ETag and long caching, what
each account may see and change."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from PIL import Image

from app.config import Settings
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend
from tests.conftest import BOT, OTHER_BOT, free_port
from tests.image_server import ImageServer, Route, bomb, picture

IMAGE_KEYS = [
    "id",
    "type",
    "baseType",
    "nsfw",
    "fileType",
    "mimeType",
    "tags",
    "url",
    "hidden",
    "account",
]
MAX_BYTES = 64 * 1024


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        boards="sync",
        allow_hosts=("127.0.0.1",),
        media=tmp_path / "media",
        image_max_bytes=MAX_BYTES,
        image_max_pixels=1_000_000,
        fetch_timeout=5.0,
    )


@pytest.fixture
def web() -> Iterator[ImageServer]:
    server = ImageServer(free_port()).start()
    yield server
    server.stop()


def noisy() -> bytes:
    """A PNG whose pixels do not compress away (a cut one is still recognised)."""
    out = io.BytesIO()
    Image.effect_noise((64, 64), 60).save(out, format="PNG")
    return out.getvalue()


def upload(client: TestClient, auth: dict, data: bytes, name: str = "a.png", **fields: Any) -> Any:
    form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
    form.setdefault("baseType", "cat")
    return client.post(
        "/images/upload", headers=auth, files={"file": (name, data, "image/png")}, data=form
    )


def uploaded(client: TestClient, auth: dict, data: bytes | None = None, **fields: Any) -> dict:
    response = upload(client, auth, data or picture(), **fields)
    assert response.status_code == 200, response.text
    return response.json()["file"]  # type: ignore[no-any-return]


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


@pytest.fixture
def keys_of(make_key: Callable[..., dict[str, str]], client: TestClient) -> dict[str, dict]:
    return {
        "reader": make_key(scopes=("profiles:read",)),
        "other": make_key(OTHER_BOT),
        "admin": make_key("333333333333333333", scopes=keys.SCOPES),
    }


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


# -- types, tags, random, info ------------------------------------------------------


@pytest.fixture
def stocked(client: TestClient, auth: dict, keys_of: dict) -> dict[str, dict]:
    """cat (png, public), dog (jpeg, nsfw), secret (hidden); another bot's fox."""
    return {
        "cat": uploaded(client, auth, picture(), baseType="cat", tags="cute,small"),
        "cat2": uploaded(client, auth, picture("JPEG"), baseType="cat", tags="cute"),
        "dog": uploaded(
            client, auth, picture("JPEG", colour="blue"), baseType="dog", nsfw=True, tags="cute,big"
        ),
        "secret": uploaded(
            client, auth, picture("GIF"), baseType="secret", hidden=True, tags="mine"
        ),
        "fox": uploaded(client, keys_of["other"], picture("WEBP"), baseType="fox", tags="sly"),
    }


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


# -- tags, delete, list -------------------------------------------------------------


def test_adding_and_removing_tags(client: TestClient, auth: dict, stocked: dict) -> None:
    path = f"/images/info/{stocked['cat']['id']}/tags"
    added = client.post(path, headers=auth, json={"tags": ["new", {"name": "obj"}, "cute"]})
    assert added.status_code == 200, added.text
    body = added.json()
    assert (body["status"], body["added"], body["skipped"]) == (200, ["new", "obj"], ["cute"])
    assert [t["name"] for t in body["image"]["tags"]] == ["cute", "new", "obj", "small"]
    form = client.post(path, headers=auth, data={"tags": "f1, f2"})
    assert form.json()["added"] == ["f1", "f2"]
    removed = client.request("DELETE", path, headers=auth, json={"tags": ["new", "absent"]})
    assert (removed.json()["removed"], removed.json()["skipped"]) == (["new"], ["absent"])
    by_query = client.delete(f"{path}?tags=obj,f1", headers=auth)
    assert by_query.json()["removed"] == ["f1", "obj"] or by_query.json()["removed"] == [
        "obj",
        "f1",
    ]
    tags = client.get(f"/images/info/{stocked['cat']['id']}", headers=auth).json()["tags"]
    assert [t["name"] for t in tags] == ["cute", "f2", "small"]
    assert client.post(path, headers=auth, json={"tags": []}).status_code == 400
    assert client.post(path, headers=auth, json={}).status_code == 400
    assert (
        client.post("/images/info/nope/tags", headers=auth, json={"tags": ["a"]}).status_code == 404
    )


def test_a_tag_added_to_a_hidden_image_is_hidden(
    client: TestClient, auth: dict, stocked: dict
) -> None:
    path = f"/images/info/{stocked['secret']['id']}/tags"
    client.post(path, headers=auth, json={"tags": ["later"]})
    assert client.get("/images/tags?hidden=true", headers=auth).json()["tags"] == ["later", "mine"]


def test_delete_removes_the_row_and_its_last_file(
    client: TestClient, auth: dict, settings: Settings, db: backend.Connection
) -> None:
    data = picture()
    first, second = uploaded(client, auth, data), uploaded(client, auth, data)
    sha = hashlib.sha256(data).hexdigest()
    file = settings.media_dir / sha[:2] / f"{sha}.png"
    response = client.delete(f"/images/info/{first['id']}", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"status": 200, "message": "Image deleted", "image": first}
    assert file.is_file()  # the other row still uses it
    assert client.get(f"/images/info/{first['id']}", headers=auth).status_code == 404
    assert client.delete(f"/images/info/{first['id']}", headers=auth).status_code == 404
    client.delete(f"/images/info/{second['id']}", headers=auth)
    assert not file.exists()
    assert db.execute("SELECT count(*) FROM images").fetchone()[0] == 0
    assert client.get(first["url"].removeprefix("http://testserver.local")).status_code == 404


def test_lists(client: TestClient, auth: dict, stocked: dict, keys_of: dict) -> None:
    own = client.get(f"/images/list/{BOT}", headers=auth)
    assert own.status_code == 200
    body = own.json()
    assert (body["status"], body["total"], body["page"], body["limit"]) == (200, 4, 0, 100)
    assert [i["id"] for i in body["images"]] == [
        stocked[n]["id"] for n in ("secret", "dog", "cat2", "cat")
    ]  # newest first, hidden ones included for their uploader
    page = client.get(f"/images/list/{BOT}?limit=2&page=1", headers=auth).json()
    assert [i["id"] for i in page["images"]] == [stocked["cat2"]["id"], stocked["cat"]["id"]]
    assert client.get(f"/images/list/{OTHER_BOT}", headers=auth).status_code == 403
    assert client.get("/images/list", headers=auth).status_code == 403  # admin only
    everything = client.get("/images/list", headers=keys_of["admin"]).json()
    assert everything["total"] == 5
    theirs = client.get(f"/images/list/{OTHER_BOT}", headers=keys_of["admin"]).json()
    assert [i["id"] for i in theirs["images"]] == [stocked["fox"]["id"]]
    bad = client.get(f"/images/list/{BOT}?limit=0", headers=auth)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "limit"
    assert client.get("/images/list/notanid", headers=auth).status_code == 400


def test_urls_use_the_public_url_when_set(
    db_path: Path, tmp_path: Path, make_key: Callable
) -> None:
    settings = Settings(
        db=backend.target(db_path), media=tmp_path / "m", public_url="https://img.example.org"
    )
    with TestClient(__import__("app.main").main.create_app(settings)) as client:
        image = uploaded(client, make_key())
    assert image["url"].startswith("https://img.example.org/media/")


def test_new_keys_get_the_images_scope(client: TestClient, keys_of: dict) -> None:
    created = client.post("/keys", json={"name": "b", "bot_id": BOT}, headers=keys_of["admin"])
    assert "images" in created.json()["scopes"] and "admin" not in created.json()["scopes"]


def test_the_migration_gives_images_to_keys_holding_the_old_default(tmp_path: Path) -> None:
    """Keys made before the scope: those with each of the six original non-admin
    scopes get it; narrowed ones do not start to upload."""
    conn = backend.connect(tmp_path / "old.db")
    apply_migrations(conn)
    old = "profiles:read profiles:write ledger:read ledger:write reputation settings"
    before = {
        "default": old + " callbacks",
        "no callbacks": old,
        "admin": old + " callbacks admin",
        "narrow": "profiles:read settings",
        "admin only": "admin",
    }
    for name, scopes in before.items():
        conn.execute(
            "INSERT INTO api_keys (name, bot_id, hash, scopes, created_at) VALUES (?, ?, ?, ?, 0)",
            (name, "1", name.encode(), scopes),
        )
    conn.execute("DROP TABLE image_tags")
    conn.execute("DROP TABLE images")
    conn.execute("DELETE FROM migrations WHERE id = 11")
    assert apply_migrations(conn) == ["0011_images"]
    after = dict(conn.execute("SELECT name, scopes FROM api_keys").fetchall())
    conn.close()
    assert after == {
        "default": old + " callbacks images",
        "no callbacks": old + " images",
        "admin": old + " callbacks images admin",
        "narrow": "profiles:read settings",
        "admin only": "admin",
    }
