"""The image store (SPEC §14, weeb.sh "toph"): adding and removing tags, deleting an image
and its last file, lists, public URLs, and the images scope of new and migrated keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from litestar.testing import TestClient

from app.config import Settings
from storage.engine.migrations import apply_migrations
from tests import backend, images_helpers
from tests.conftest import BOT, OTHER_BOT
from tests.image_server import picture
from tests.images_helpers import uploaded

settings = images_helpers.settings  # a fixture shared by several modules
keys_of = images_helpers.keys_of  # a fixture shared by several modules
stocked = images_helpers.stocked  # a fixture shared by several modules


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
