"""The real weeb.sh client, `taihou` 2.0.7 from npm, against the real server (issue
16): every toph, korra, shimakaze and tama call it offers, with only the base URL
and the key changed, and `Wolke` tokens as taihou sends them.

The test installs taihou with npm into `.cache/` (kept between runs) and runs
`tests/taihou/run.js` with Node.js. Without node or npm it FAILS: CI runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend
from tests.conftest import BOT, free_port, start_server
from tests.image_server import ImageServer, Route, picture

pytestmark = pytest.mark.server

PACKAGE = "taihou@2.0.7"
ROOT = Path(__file__).parent.parent
CACHE = ROOT / ".cache" / "taihou-2.0.7"
SCRIPT = Path(__file__).parent / "taihou" / "run.js"
USER_A, USER_B = "400000000000000001", "400000000000000002"
IMAGE_KEYS = {
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
}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not on PATH: this test runs the real taihou client, which needs"
            " Node.js (18 or later) and npm. Install them (e.g. `apt-get install nodejs npm`)."
        )
    return found


def _install() -> Path:
    """taihou's node_modules, installed once into .cache/ (bounded in time)."""
    modules = CACHE / "node_modules"
    manifest = modules / "taihou" / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text())["version"] == "2.0.7":
        return modules
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [_tool("npm"), "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), PACKAGE]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`npm install {PACKAGE}` took more than 300 s")
    if done.returncode != 0 or not manifest.is_file():
        pytest.fail(f"`npm install {PACKAGE}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return modules


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """Runs the script once; every line it printed, by call name."""
    node, modules = _tool("node"), _install()
    tmp = tmp_path_factory.mktemp("taihou")
    db = tmp / "server.db"
    conn = backend.connect(db)
    apply_migrations(conn)
    _, secret = keys.create_key(conn, "taihou", BOT)
    conn.close()
    web = ImageServer(free_port()).start()
    web.routes["/avatar.png"] = Route(picture(size=(96, 96), colour="teal"))
    env = {"VOICEPROFILE_ALLOW_HOSTS": "127.0.0.1", "VOICEPROFILE_MEDIA": str(tmp / "media")}
    server = start_server(db, tmp / "server.log", env=env)
    try:
        run_env = {
            **os.environ,
            "NODE_PATH": str(modules),
            "TAIHOU_BASE_URL": server.url,
            "TAIHOU_KEY": secret,
            "TAIHOU_WOLKE": "1",
            "TAIHOU_IMAGE_URL": web.url("/avatar.png"),
            "TAIHOU_BOT_ID": BOT,
            "TAIHOU_USER_A": USER_A,
            "TAIHOU_USER_B": USER_B,
        }
        try:
            done = subprocess.run(
                [node, str(SCRIPT)], capture_output=True, text=True, timeout=180, env=run_env
            )
        except subprocess.TimeoutExpired:
            pytest.fail("the taihou script took more than 180 s")
        assert done.returncode == 0, done.stderr[-3000:]
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert lines and lines[-1]["call"] == "done", done.stdout[-3000:]
        found = {line["call"]: line for line in lines}
        found["rejections"] = {"lines": [x for x in lines if x["call"] == "unhandledRejection"]}
        yield found
    finally:
        server.stop()
        web.stop()


def ok(calls: dict[str, dict[str, Any]], name: str) -> Any:
    line = calls[name]
    assert line["ok"], line
    return line["result"]


def refused(calls: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    line = calls[name]
    assert not line["ok"], line
    return line["error"]  # type: ignore[no-any-return]


def test_every_status_call_says_up(calls: dict) -> None:
    for service in ("toph", "korra", "shimakaze", "tama"):
        assert ok(calls, f"{service}.getStatus") is True, service


def test_toph(calls: dict) -> None:
    run_type = calls["done"]["result"]["type"]
    uploaded = ok(calls, "toph.uploadImage(url):response")
    assert uploaded["status"] == 200
    image = uploaded["data"]["file"]
    assert IMAGE_KEYS | {"source"} == set(image)
    assert (image["baseType"], image["fileType"]) == (run_type, "png")
    # taihou sends a file as JSON labelled multipart, without a boundary: a clear 400.
    broken = calls["toph.uploadImage(file):response"]
    assert broken["result"]["status"] == 400 and "boundary" in broken["result"]["data"]["message"]
    assert run_type in ok(calls, "toph.getImageTypes")["types"]
    preview = ok(calls, "toph.getImageTypes(preview)")["preview"]
    mine = [p for p in preview if p["type"] == run_type]
    assert mine and set(mine[0]) == {"url", "id", "fileType", "baseType", "type"}
    assert {"ci-a", "ci-b"} <= set(ok(calls, "toph.getImageTags")["tags"])
    for name in ("type", "tags", "type,filetype"):
        assert ok(calls, f"toph.getRandomImage({name})")["id"] == image["id"], name
    assert ok(calls, "toph.getImageInfo") == image
    added = ok(calls, "toph.addTagsToImage")
    assert added["added"] == ["ci-c", "ci-d"]
    names = [t["name"] for t in ok(calls, "toph.getImageInfo(after add)")["tags"]]
    assert names == ["ci-a", "ci-b", "ci-c", "ci-d"]
    assert ok(calls, "toph.removeTagsFromImage")["removed"] == ["ci-c"]
    names = [t["name"] for t in ok(calls, "toph.getImageInfo(after remove)")["tags"]]
    assert names == ["ci-a", "ci-b", "ci-d"]
    assert ok(calls, "toph.deleteImage")["image"]["id"] == image["id"]
    assert refused(calls, "toph.getImageInfo(after delete)")["status"] == 404
    assert refused(calls, "toph.getRandomImage()")["status"] is None  # taihou's own check


def test_korra(calls: dict) -> None:
    sizes = {
        "korra.generateSimple(awooo)": (400, 400),
        "korra.generateSimple(eyes)": (400, 220),
        "korra.generateSimple(won)": (512, 512),
        "korra.generateSimple(awooo,colours)": (400, 400),
        "korra.generateWaifuInsult": (450, 344),
        "korra.generateLoveShip": (610, 200),
        "korra.generateLicense": (812, 540),
    }
    for status in ("online", "idle", "dnd", "streaming", "offline"):
        sizes[f"korra.generateDiscordStatus({status})"] = (128, 128)  # twice-encoded avatar
    for name, size in sizes.items():
        result = ok(calls, name)
        assert result["png"] and (result["width"], result["height"]) == size, name
    bad = refused(calls, "korra.generateSimple(bad)")
    assert bad["status"] == 400 and bad["data"]["allowedTypes"] == ["awooo", "eyes", "won"]


def test_shimakaze(calls: dict) -> None:
    settings = {
        "reputationPerDay": 2,
        "maximumReputation": 0,
        "maximumReputationReceivedDay": 0,
        "reputationCooldown": 300,
    }
    assert ok(calls, "shimakaze.setSettings")["settings"] == {**settings, "accountId": BOT}
    assert ok(calls, "shimakaze.getSettings")["settings"] == {**settings, "accountId": BOT}
    given = ok(calls, "shimakaze.giveReputation")
    assert (given["code"], given["targetUser"]["reputation"]) == (0, 1)
    assert given["sourceUser"]["userId"] == USER_A
    user = ok(calls, "shimakaze.getUserReputation")
    assert (user["user"]["userId"], user["user"]["reputation"]) == (USER_B, 1)
    assert user["timeRemaining"] == 0
    assert ok(calls, "shimakaze.increaseUserReputation")["user"]["reputation"] == 6
    assert ok(calls, "shimakaze.decreaseUserReputation")["user"]["reputation"] == 4
    assert ok(calls, "shimakaze.resetUserReputation(A,cooldown)")["user"]["cooldown"] == []
    assert ok(calls, "shimakaze.resetUserReputation")["user"]["reputation"] == 0


def test_tama(calls: dict) -> None:
    created = ok(calls, "tama.createSetting")["setting"]
    assert (created["data"], created["accountId"]) == ({"prefix": "poi"}, BOT)
    assert ok(calls, "tama.getSetting")["setting"]["data"] == {"prefix": "poi"}
    assert ok(calls, "tama.updateSetting")["setting"]["data"] == {"prefix": "awoo"}
    assert refused(calls, "tama.listSubSettings(empty)")["status"] == 404  # as the original
    assert ok(calls, "tama.createSubSetting")["subsetting"]["data"] == {"name": "general"}
    assert ok(calls, "tama.getSubSetting")["subsetting"]["subId"] == "1"
    assert ok(calls, "tama.updateSubSetting")["subsetting"]["data"] == {"name": "x"}
    listed = ok(calls, "tama.listSubSettings")["subsettings"]
    assert [s["data"] for s in listed] == [{"name": "x"}]
    assert ok(calls, "tama.deleteSubSetting")["message"] == "Subsetting deleted"
    assert ok(calls, "tama.deleteSetting")["message"] == "Setting deleted"
    assert refused(calls, "tama.getSetting(after delete)")["status"] == 404


def test_no_failure_went_unseen(calls: dict) -> None:
    """The only unhandled rejection is taihou's own, for its broken file upload."""
    stray = calls["rejections"]["lines"]
    assert len(stray) <= 1, stray
    if stray:
        assert stray[0]["error"]["status"] == 400
