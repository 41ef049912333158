"""Image generation (SPEC §14, weeb.sh "korra"): every endpoint answers a valid PNG
of its kind's size, and every error of the original with its words and fields."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from litestar.testing import TestClient
from PIL import Image

from app.config import Settings
from tests import backend
from tests.conftest import free_port
from tests.image_server import ImageServer, Route, bomb, picture


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    return Settings(
        db=backend.target(db_path),
        key_cache_seconds=0.0,
        allow_hosts=("127.0.0.1",),
        media=tmp_path / "media",
        fetch_timeout=5.0,
    )


@pytest.fixture
def web() -> Iterator[ImageServer]:
    server = ImageServer(free_port()).start()
    server.routes["/avatar.png"] = Route(picture(size=(300, 200), colour="purple"))
    server.routes["/badge.gif"] = Route(picture("GIF", colour="yellow"), content_type="image/gif")
    server.routes["/page"] = Route(b"<html></html>", content_type="text/html")
    yield server
    server.stop()


def png_of(response: object) -> Image.Image:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "image/png"  # type: ignore[attr-defined]
    image = Image.open(io.BytesIO(response.content))  # type: ignore[attr-defined]
    assert image.format == "PNG"
    image.load()
    return image


# -- generate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "size"), [("awooo", (400, 400)), ("eyes", (400, 220)), ("won", (512, 512))]
)
def test_simple_kinds_are_pngs(client: TestClient, auth: dict, kind: str, size: tuple) -> None:
    response = client.get(f"/auto-image/generate?type={kind}", headers=auth)
    assert png_of(response).size == size


def test_awooo_takes_face_and_hair_colours(client: TestClient, auth: dict) -> None:
    def awooo(query: str) -> Image.Image:
        return png_of(client.get(f"/auto-image/generate?type=awooo{query}", headers=auth))

    default = awooo("")
    hair_at, face_at = (200, 140), (135, 245)  # the top of the head, a cheek
    assert default.getpixel(hair_at)[:3] == (0xCC, 0x81, 0x7C)
    assert default.getpixel(face_at)[:3] == (0xFF, 0xF0, 0xD3)
    for query in (
        "&face=00ff00&hair=0000ff",
        "&face=%2300ff00&hair=%230000ff",
        "&face=lime&hair=blue",
        "&face=0f0&hair=00f",
    ):
        coloured = awooo(query)
        assert coloured.getpixel(face_at)[:3] == (0, 255, 0), query
        assert coloured.getpixel(hair_at)[:3] == (0, 0, 255), query
    # A colour that cannot be read is ignored, as the original did; so are other keys.
    assert awooo("&face=notacolour&hair=%23zzz&foo=bar").tobytes() == default.tobytes()


def test_original_keeps_eyes_and_won_in_place(client: TestClient, auth: dict) -> None:
    for kind in ("eyes", "won"):
        url = f"/auto-image/generate?type={kind}&original=true"
        first, second = (png_of(client.get(url, headers=auth)) for _ in range(2))
        assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Missing type parameter, use one of the allowed types"),
        ("?type=nope", "Invalid type, use one of the allowed types"),
    ],
)
def test_a_missing_or_unknown_type_lists_the_allowed(
    client: TestClient, auth: dict, query: str, message: str
) -> None:
    response = client.get(f"/auto-image/generate{query}", headers=auth)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["code"], body["message"]) == (400, 400, message)
    assert body["allowedTypes"] == ["awooo", "eyes", "won"]


# -- discord-status -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["online", "idle", "dnd", "streaming", "offline", None])
def test_discord_status_with_the_default_avatar(
    client: TestClient, auth: dict, status: str | None
) -> None:
    params = {"status": status} if status else {}
    image = png_of(client.get("/auto-image/discord-status", params=params, headers=auth))
    assert image.size == (128, 128) and image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # outside the disc: transparent


def test_discord_status_badge_colours(client: TestClient, auth: dict) -> None:
    def badge(status: str) -> tuple:
        url = f"/auto-image/discord-status?status={status}"
        return png_of(client.get(url, headers=auth)).getpixel((104, 104))[:3]  # type: ignore[no-any-return]

    assert badge("online") == (67, 181, 129)
    assert badge("dnd") == (240, 71, 71)
    assert badge("streaming") != badge("idle")


def test_discord_status_fetches_the_avatar(
    client: TestClient, auth: dict, web: ImageServer
) -> None:
    url = web.url("/avatar.png?size=64")
    image = png_of(client.get("/auto-image/discord-status", params={"avatar": url}, headers=auth))
    assert image.getpixel((64, 64))[:3] == (128, 0, 128)  # purple, from the avatar
    assert web.hits["/avatar.png"] == 1


def test_discord_status_takes_a_twice_encoded_avatar(
    client: TestClient, auth: dict, web: ImageServer
) -> None:
    """taihou encodes the avatar itself, then its HTTP client encodes it again."""
    url = web.url("/avatar.png?size=64&x=1")
    query = f"status=idle&avatar={quote(quote(url, safe=''), safe='')}"
    image = png_of(client.get(f"/auto-image/discord-status?{query}", headers=auth))
    assert image.getpixel((64, 64))[:3] == (128, 0, 128)


def test_discord_status_refusals(client: TestClient, auth: dict, web: ImageServer) -> None:
    bad = client.get("/auto-image/discord-status?status=away", headers=auth)
    assert bad.status_code == 400
    body = bad.json()
    assert body["message"] == "Invalid status, use one of the allowed statuses"
    assert set(body["allowedStatuses"]) == {"online", "idle", "dnd", "streaming", "offline"}
    for avatar in (web.url("/page"), web.url("/missing.png"), "not a url"):
        response = client.get("/auto-image/discord-status", params={"avatar": avatar}, headers=auth)
        assert response.status_code == 400, avatar
        assert response.json()["message"] == "This url is not allowed."
        assert response.json()["reason"]


# -- license, waifu-insult, love-ship -----------------------------------------------


def test_license(client: TestClient, auth: dict, web: ImageServer) -> None:
    body = {
        "title": "Spook License",
        "avatar": web.url("/avatar.png"),
        "badges": [web.url("/badge.gif")] * 3,
        "widgets": ["1", "", "3"],
    }
    image = png_of(client.post("/auto-image/license", headers=auth, json=body))
    assert image.size == (812, 540)
    minimal = {"title": "T", "avatar": web.url("/avatar.png")}
    assert png_of(client.post("/auto-image/license", headers=auth, json=minimal)).size == (812, 540)


def test_license_text_with_line_breaks_is_drawn_on_one_line(
    client: TestClient, auth: dict, web: ImageServer
) -> None:
    """A newline, tab or NUL in the title or a widget was a 500 (Pillow will not
    measure multiline text); they are drawn as spaces. Emoji and RTL text draw too."""

    def license(title: str, widgets: list[str]) -> Image.Image:
        body = {"title": title, "avatar": web.url("/avatar.png"), "widgets": widgets}
        return png_of(client.post("/auto-image/license", headers=auth, json=body))

    broken = license("two\nlines", ["a\nb\nc", "tab\there", "nul\u0000"])
    spaced = license("two lines", ["a b c", "tab here", "nul "])
    assert broken.tobytes() == spaced.tobytes()
    assert license("😀🎉 שלום", ["漢字", "\u200b", "\r\n"]).size == (812, 540)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"avatar": "http://x.test/a.png"}, "title"),
        ({"title": "t"}, "avatar"),
        ({"title": "", "avatar": "http://x.test/a.png"}, "title"),
        ({"title": "t", "avatar": "http://x.test/a.png", "badges": ["u"] * 4}, "badges"),
        ({"title": "t", "avatar": "http://x.test/a.png", "widgets": ["w"] * 4}, "widgets"),
        ({"title": "t", "avatar": "http://x.test/a.png", "colour": "red"}, "colour"),
    ],
)
def test_license_bodies_are_checked_as_the_original(
    client: TestClient, auth: dict, body: dict, field: str
) -> None:
    response = client.post("/auto-image/license", headers=auth, json=body)
    assert response.status_code == 400, response.text
    found = response.json()
    assert found["in"] == "body" and found["errors"][0]["field"] == field


def test_a_body_that_is_not_an_object_is_the_whole_body(client: TestClient, auth: dict) -> None:
    response = client.post("/auto-image/license", headers=auth, json=[1])
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["dataPath"] == ".body"  # not `.body.body`


def test_an_empty_license_body_is_400(client: TestClient, auth: dict) -> None:
    headers = {**auth, "Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/auto-image/license", headers=headers, content=b"")
    assert response.status_code == 400 and response.json()["code"] == 400


def test_license_with_an_unusable_badge(client: TestClient, auth: dict, web: ImageServer) -> None:
    body = {"title": "t", "avatar": web.url("/avatar.png"), "badges": [web.url("/page")]}
    response = client.post("/auto-image/license", headers=auth, json=body)
    assert response.status_code == 400 and response.json()["message"] == "invalid url"


def test_waifu_insult(client: TestClient, auth: dict, web: ImageServer) -> None:
    body = {"avatar": web.url("/avatar.png")}
    image = png_of(client.post("/auto-image/waifu-insult", headers=auth, json=body))
    assert image.size == (450, 344)
    missing = client.post("/auto-image/waifu-insult", headers=auth, json={})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "avatar"
    bad = client.post("/auto-image/waifu-insult", headers=auth, json={"avatar": web.url("/page")})
    assert bad.status_code == 400 and bad.json()["message"] == "invalid avatar url"
    web.routes["/bomb.png"] = Route(bomb())  # past Pillow's own limit: refused, not a 500
    bad = client.post(
        "/auto-image/waifu-insult", headers=auth, json={"avatar": web.url("/bomb.png")}
    )
    assert bad.status_code == 400 and "too large" in bad.json()["reason"]


def test_love_ship(client: TestClient, auth: dict, web: ImageServer) -> None:
    body = {"targetOne": web.url("/avatar.png"), "targetTwo": web.url("/badge.gif")}
    image = png_of(client.post("/auto-image/love-ship", headers=auth, json=body))
    assert image.size == (610, 200)
    assert image.getpixel((100, 100))[:3] == (128, 0, 128)  # left: the first avatar
    assert image.getpixel((510, 100))[:3] == (255, 255, 0)  # right: the second
    missing = client.post("/auto-image/love-ship", headers=auth, json={"targetOne": "x"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "targetTwo"


def test_generation_needs_the_images_scope(client: TestClient, make_key) -> None:
    reader = make_key(scopes=("profiles:read",))
    for method, path in [
        ("GET", "/auto-image/generate?type=won"),
        ("GET", "/auto-image/discord-status"),
        ("POST", "/auto-image/license"),
        ("POST", "/auto-image/waifu-insult"),
        ("POST", "/auto-image/love-ship"),
    ]:
        response = client.request(method, path, headers=reader, json={})
        assert response.status_code == 403, path
        assert response.json() == {"status": 403, "code": 403, "message": "missing scope images"}


def test_the_documented_statuses_are_the_drawn_ones(client: TestClient, auth: dict) -> None:
    from app.imaging.status import COLOURS
    from schemas.images import STATUSES

    assert tuple(COLOURS) == STATUSES
    empty = client.get("/auto-image/discord-status?status=", headers=auth)
    assert empty.status_code == 400 and "allowedStatuses" in empty.json()
