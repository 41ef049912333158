"""Seasons (SPEC §12): POST /profile/{guild_id}/seasons archives the standings and
resets the named counters in one step; GET lists them."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar.testing import TestClient

from tests import backend
from tests.conftest import BOT
from tests.profile_support import ensure, snapshot, treasury_balance, vp

GUILD = "500000000000000001"
OTHER = "500000000000000002"


def _members(client: TestClient, auth: dict[str, str]) -> None:
    ensure(
        client,
        auth,
        GUILD,
        1,
        experience=500,
        level=5,
        voicepoints=70,
        pray={"date": 9, "streak": 3},
        text={"level": 2, "experience": 40, "message_count": 90},
        timespent={"global": 3600, "music": 60},
        data={"keep": True},
    )
    ensure(client, auth, GUILD, 2, experience=900, level=4, voicepoints=30)
    ensure(client, auth, GUILD, 3, experience=10, level=5)
    ensure(client, auth, OTHER, 1, experience=77, voicepoints=5)


def _end(client: TestClient, auth: dict[str, str], body: object, guild: str = GUILD):
    return client.post(f"/profile/{guild}/seasons", json=body, headers=auth)


def test_end_archives_every_member_and_resets_only_named_counters(
    client: TestClient, auth: dict[str, str], db: backend.Connection
) -> None:
    _members(client, auth)
    r = _end(client, auth, {"name": "Spring", "reset": ["experience", "level", "text"]})
    assert r.status_code == 201, r.text
    season = r.json()
    assert season["number"] == 1 and season["name"] == "Spring"
    assert season["reset"] == ["experience", "level", "text"]
    assert season["members"] == 3 and season["voicepoints"] == 0
    archived = db.execute(
        "SELECT vp_id, balance, experience, level, text_messages, time_global, pray_streak"
        " FROM season_standings ORDER BY vp_id"
    ).fetchall()
    assert sorted(archived) == sorted(
        [
            (vp(GUILD, 1), 70, 500, 5, 90, 3600, 3),
            (vp(GUILD, 2), 30, 900, 4, None, 0, 0),
            (vp(GUILD, 3), 0, 10, 5, None, 0, 0),
        ]
    )
    one = client.get(f"/profile/{GUILD}/1", headers=auth).json()
    assert (one["experience"], one["level"], one["text"]) == (0, 1, None)
    # not named: kept
    assert one["voicepoints"] == 70 and one["pray"] == {"date": 9, "streak": 3}
    assert one["timespent"] == {"global": 3600, "music": 60} and one["data"] == {"keep": True}
    # another guild is untouched
    assert client.get(f"/profile/{OTHER}/1", headers=auth).json()["experience"] == 77


def test_seasons_number_per_guild_and_list(client: TestClient, auth: dict[str, str]) -> None:
    _members(client, auth)
    assert _end(client, auth, {"name": "a", "reset": ["pray", "timespent"]}).json()["number"] == 1
    assert _end(client, auth, {"name": "b"}).json()["number"] == 2
    assert _end(client, auth, {"name": "a"}, guild=OTHER).json()["number"] == 1
    listed = client.get(f"/profile/{GUILD}/seasons", headers=auth)
    assert listed.status_code == 200
    assert [(s["number"], s["name"]) for s in listed.json()] == [(1, "a"), (2, "b")]
    assert listed.headers["X-Total-Count"] == "2"
    paged = client.get(f"/profile/{GUILD}/seasons?limit=1&page=1", headers=auth)
    assert [s["name"] for s in paged.json()] == ["b"] and paged.headers["X-Total-Count"] == "2"
    assert client.get(f"/profile/{GUILD}/seasons?page=-1", headers=auth).status_code == 422
    one = client.get(f"/profile/{GUILD}/1", headers=auth).json()
    assert one["pray"] == {"date": 0, "streak": 0} and one["timespent"] == {"global": 0}
    assert client.get(f"/profile/{OTHER}/seasons", headers=auth).json()[0]["members"] == 1


def verify_cli(db_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "verify", "--db", str(backend.target(db_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_voicepoints_go_back_to_the_treasury_as_season_entries(
    client: TestClient, auth: dict[str, str], db: backend.Connection, db_path: Path
) -> None:
    _members(client, auth)
    before = treasury_balance(db, BOT)
    r = _end(client, auth, {"name": "money", "reset": ["voicepoints"]})
    assert r.status_code == 201 and r.json()["voicepoints"] == 100
    assert treasury_balance(db, BOT) == before + 100
    for user in (1, 2, 3):
        assert client.get(f"/profile/{GUILD}/{user}", headers=auth).json()["voicepoints"] == 0
    assert client.get(f"/profile/{OTHER}/1", headers=auth).json()["voicepoints"] == 5
    entries = client.get("/transaction?reason=season 1", headers=auth).json()
    assert sorted((e["kind"], e["amount"]) for e in entries) == [("season", 30), ("season", 70)]
    # the counters were not named: kept; the archive has the balances as they were
    assert client.get(f"/profile/{GUILD}/2", headers=auth).json()["experience"] == 900
    assert sorted(r[0] for r in db.execute("SELECT balance FROM season_standings")) == [0, 30, 70]
    done = verify_cli(db_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_same_name_makes_one_season(
    client: TestClient, auth: dict[str, str], db: backend.Connection
) -> None:
    _members(client, auth)
    body = {"name": "s", "reset": ["experience", "voicepoints"]}
    first = _end(client, auth, body)
    ensure_before = snapshot(db)
    again = _end(client, auth, {"name": "s", "reset": ["voicepoints", "experience"]})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert snapshot(db) == ensure_before  # nothing reset or moved twice
    clash = _end(client, auth, {"name": "s", "reset": ["level"]})
    assert clash.status_code == 409 and clash.json()["code"] == "season_exists"


def test_concurrent_ends_make_one_season(
    client: TestClient, auth: dict[str, str], db: backend.Connection
) -> None:
    _members(client, auth)
    body = {"name": "race", "reset": ["experience", "voicepoints"]}
    statuses: list[int] = []

    def post() -> None:
        statuses.append(_end(client, auth, body).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [200] * 5 + [201]
    assert db.execute("SELECT count(*) FROM seasons").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM season_standings").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM ledger WHERE kind = 9").fetchone()[0] == 2


def test_archive_is_immutable(
    client: TestClient, auth: dict[str, str], db: backend.Connection
) -> None:
    _members(client, auth)
    _end(client, auth, {"name": "x"})
    with pytest.raises(backend.INTEGRITY_ERRORS):
        db.execute("UPDATE season_standings SET experience = 1")
    with pytest.raises(backend.INTEGRITY_ERRORS):
        db.execute("DELETE FROM seasons")


def test_scopes(
    client: TestClient, make_key: Callable[..., dict[str, str]], db: backend.Connection
) -> None:
    full = make_key()
    _members(client, full)
    reader = make_key(scopes=("profiles:read",))
    no_money = make_key(scopes=("profiles:read", "profiles:write"))
    r = _end(client, reader, {"name": "x"})
    assert r.status_code == 403 and r.json()["message"] == "missing scope profiles:write"
    state = snapshot(db)
    r = _end(client, no_money, {"name": "x", "reset": ["experience", "voicepoints"]})
    assert r.status_code == 403 and r.json()["message"] == "missing scope ledger:write"
    assert snapshot(db) == state
    assert db.execute("SELECT count(*) FROM seasons").fetchone()[0] == 0
    assert _end(client, no_money, {"name": "x", "reset": ["experience"]}).status_code == 201
    assert client.get(f"/profile/{GUILD}/seasons", headers=reader).status_code == 200
    assert client.get(f"/profile/{GUILD}/seasons", headers=make_key(scopes=())).status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"reset": []}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "x" * 101}, 422, "name"),
        ({"name": "x", "reset": ["balance"]}, 422, "reset"),
        ({"name": "x", "reset": "experience"}, 422, "reset"),
        ({"name": "x", "extra": 1}, 422, "extra"),
    ],
)
def test_bad_input_changes_nothing(
    client: TestClient,
    auth: dict[str, str],
    db: backend.Connection,
    body: object,
    status: int,
    field: str,
) -> None:
    _members(client, auth)
    state = snapshot(db)
    r = _end(client, auth, body)
    assert r.status_code == status, r.text
    assert field in r.text
    assert snapshot(db) == state
    assert db.execute("SELECT count(*) FROM seasons").fetchone()[0] == 0


def test_bad_guild_and_malformed_json(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post("/profile/abc/seasons", json={"name": "x"}, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert client.get("/profile/abc/seasons", headers=auth).status_code == 422
    r = client.post(f"/profile/{GUILD}/seasons", content=b"{", headers=auth)
    assert r.status_code == 400


def test_seasons_travel_through_export_and_import(
    client: TestClient, auth: dict[str, str], db_path: Path, tmp_path: Path
) -> None:
    from app.cli import main

    _members(client, auth)
    _end(client, auth, {"name": "one", "reset": ["experience", "voicepoints"]})
    body = {"every": "week", "reset": ["level"]}
    client.put(f"/profile/{GUILD}/seasons/schedule", json=body, headers=auth)
    first, second, copy = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "copy.db"
    source, target = str(backend.target(db_path)), str(backend.target(copy))
    assert main(["export", str(first), "--db", source]) == 0
    assert main(["import", str(first), "--db", target]) == 0
    assert main(["export", str(second), "--db", target]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["ledger", "verify", "--db", target]) == 0
    conn = backend.connect(copy)
    assert conn.execute("SELECT count(*) FROM season_standings").fetchone()[0] == 3
    assert conn.execute("SELECT every FROM season_schedules").fetchone()[0] == "week"
    conn.close()
