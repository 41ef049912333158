"""Per-guild export (issue 14): `GET /profile/{guild_id}/export?format=csv|jsonl`
carries the CSV importer's columns for every profile of the guild and nothing of
other guilds, streamed in chunks (two profiles a chunk here, so the guild spans
several, one of them cut exactly at its end)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from tests import backend

G, OTHER = 131853185391, 131853185392
COLUMNS = [
    "user_id",
    "experience",
    "level",
    "voicepoints",
    "message_count",
    "text_level",
    "text_experience",
    "timespent",
    "pray_streak",
]
TEXT_FIELDS = ("message_count", "text_level", "text_experience")
# user -> creation body; user 7 is deleted below
PROFILES = {
    1242154218: {
        "experience": 1234,
        "level": 7,
        "voicepoints": 500,
        "text": {"level": 3, "experience": 45, "message_count": 678},
        "timespent": {"global": 3600, "voice": 12},
        "pray": {"streak": 4, "date": 1732252800},
        "data": {"note": "not exported"},
    },
    9: {"experience": 5},  # no text stats: empty cells, nulls in JSON Lines
    18446744073709551615: {"level": 2, "voicepoints": 1},  # the largest snowflake
    10: {"text": {"level": 0, "experience": 0, "message_count": 0}},  # text, all zero
    7: {"experience": 99},
}


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(
        db=backend.target(db_path), key_cache_seconds=0.0, boards="sync", stream_chunk=2
    )


def _expected(client: TestClient, auth: dict[str, str]) -> list[dict]:
    """The export's rows, from the profiles as the API shows them, in user id order."""
    listed = client.get(f"/profile/{G}", params={"limit": 0}, headers=auth).json()
    rows = []
    for p in sorted(listed, key=lambda p: int(p["user_id"])):
        text = p["text"] or {}
        rows.append(
            {
                "user_id": p["user_id"],
                "experience": p["experience"],
                "level": p["level"],
                "voicepoints": p["voicepoints"],
                "message_count": text.get("message_count"),
                "text_level": text.get("level"),
                "text_experience": text.get("experience"),
                "timespent": p["timespent"]["global"],
                "pray_streak": p["pray"]["streak"],
            }
        )
    return rows


@pytest.fixture
def guild(client: TestClient, auth: dict[str, str]) -> list[dict]:
    for user, body in PROFILES.items():
        assert client.post(f"/profile/{G}/{user}", json=body, headers=auth).status_code == 201
    assert client.delete(f"/profile/{G}/7", headers=auth).status_code == 204
    # Another guild with the same user ids: none of it may appear.
    for user in (9, 1242154218, 5):
        body = {"experience": 777, "voicepoints": 3}
        assert client.post(f"/profile/{OTHER}/{user}", json=body, headers=auth).status_code == 201
    expected = _expected(client, auth)
    assert [r["user_id"] for r in expected] == ["9", "10", "1242154218", "18446744073709551615"]
    return expected


def test_csv_has_the_importers_columns_and_every_profile_of_the_guild(
    client: TestClient, auth: dict[str, str], guild: list[dict]
) -> None:
    r = client.get(f"/profile/{G}/export", params={"format": "csv"}, headers=auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["x-total-count"] == "4"
    assert f'filename="guild-{G}.csv"' in r.headers["content-disposition"]
    lines = r.text.split("\r\n")
    assert lines[0] == ",".join(COLUMNS) and lines[-1] == ""  # header; CRLF after each row
    assert lines[1] == "9,5,1,0,,,,0,0"  # no text stats: empty cells
    assert lines[3] == "1242154218,1234,7,500,678,3,45,3600,4"
    got = list(csv.DictReader(io.StringIO(r.text)))
    want = [{k: "" if v is None else str(v) for k, v in row.items()} for row in guild]
    assert got == want


def test_jsonl_has_one_object_per_profile_with_the_same_fields(
    client: TestClient, auth: dict[str, str], guild: list[dict]
) -> None:
    r = client.get(f"/profile/{G}/export", params={"format": "jsonl"}, headers=auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert r.headers["x-total-count"] == "4"
    assert r.text.endswith("\n")
    got = [json.loads(line) for line in r.text.splitlines()]
    assert got == guild
    assert all(list(obj) == COLUMNS for obj in got)
    assert got[0]["message_count"] is None and got[1]["message_count"] == 0


def test_csv_is_the_default_format(
    client: TestClient, auth: dict[str, str], guild: list[dict]
) -> None:
    default = client.get(f"/profile/{G}/export", headers=auth)
    assert default.text == client.get(f"/profile/{G}/export?format=csv", headers=auth).text


def test_an_empty_guild_exports_a_header_or_nothing(
    client: TestClient, auth: dict[str, str], guild: list[dict]
) -> None:
    csv_body = client.get("/profile/5/export", params={"format": "csv"}, headers=auth)
    assert (csv_body.status_code, csv_body.text) == (200, ",".join(COLUMNS) + "\r\n")
    assert csv_body.headers["x-total-count"] == "0"
    jsonl = client.get("/profile/5/export", params={"format": "jsonl"}, headers=auth)
    assert (jsonl.status_code, jsonl.text) == (200, "")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/profile/{G}/export?format=xml", "format"),
        (f"/profile/{G}/export?format=CSV", "format"),
        ("/profile/12x/export?format=csv", "guild_id"),
        (f"/profile/{2**64}/export", "guild_id"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    client: TestClient, auth: dict[str, str], path: str, field: str
) -> None:
    r = client.get(path, headers=auth)
    assert r.status_code == 422
    body = r.json()
    assert body["status"] == 422 and body["code"] == "validation_error"
    assert [e["field"] for e in body["errors"]] == [field]


def test_export_needs_profiles_read(client: TestClient, make_key, guild: list[dict]) -> None:  # type: ignore[no-untyped-def]
    ledger_only = make_key(scopes=("ledger:read",), name="ledger-only")
    r = client.get(f"/profile/{G}/export", headers=ledger_only)
    assert r.status_code == 403
    assert r.json()["message"] == "missing scope profiles:read"
    assert client.get(f"/profile/{G}/export").status_code == 401


def test_the_openapi_document_names_both_media_types(client: TestClient) -> None:
    """Generated clients see CSV and JSON Lines, not the JSON a stream documents as."""
    doc = client.get("/schema/openapi.json").json()
    ok = doc["paths"]["/profile/{guild_id}/export"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"text/csv", "application/x-ndjson"}
    format_param = next(
        p
        for p in doc["paths"]["/profile/{guild_id}/export"]["get"]["parameters"]
        if p["name"] == "format"
    )
    assert format_param["schema"]["enum"] == ["csv", "jsonl"]


def test_an_exported_guild_imported_elsewhere_has_the_same_profiles_and_balances(
    client: TestClient, auth: dict[str, str], guild: list[dict], db_path: Path
) -> None:
    """Moving a guild: its CSV export, imported as `source=csv` into another guild,
    gives the same rows (text stats absent stay absent), balances by `import`
    entries; importing it again changes nothing; the ledger still verifies."""
    exported = client.get(f"/profile/{G}/export", params={"format": "csv"}, headers=auth).text
    dest = 131853185399
    r = client.post(
        f"/profile/{dest}/import",
        params={"source": "csv"},
        content=exported.encode(),
        headers={**auth, "content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 4
    again = client.get(f"/profile/{dest}/export", params={"format": "jsonl"}, headers=auth)
    assert [json.loads(line) for line in again.text.splitlines()] == guild
    r = client.post(
        f"/profile/{dest}/import",
        params={"source": "csv"},
        content=exported.encode(),
        headers={**auth, "content-type": "text/csv"},
    )
    assert (r.status_code, r.json()["unchanged"], r.json()["entries"]) == (200, 4, 0)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "ledger", "verify", "--db", str(backend.target(db_path))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
