"""Importing a guild from other bots' data (SPEC §12): POST /profile/{guild_id}/import from
each source, repeatable and dry runs, with pages shaped like each service's real answers.
Refusals are in test_import_refusals.py, `voiceprofile import-from` in test_import_cli.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests import backend
from tests.conftest import BOT
from tests.import_helpers import (
    GUILD,
    amari_page,
    counts,
    mee6_page,
    post,
    profile,
    tatsu_page,
    uid,
    unb_page,
    unb_users,
)
from tests.profile_support import ensure, snapshot, treasury_balance

# -- each source ------------------------------------------------------------------------


def test_mee6_pages_create_every_member_with_its_levels(client: TestClient, auth: dict) -> None:
    pages = [mee6_page(p, 400) for p in range(3)]
    r = post(client, auth, "mee6", pages)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["members"] == 1200 and counts(answer) == (1200, 0, 0)
    assert answer["entries"] == 0 and answer["voicepoints_moved"] == 0
    listed = client.get(f"/profile/{GUILD}?limit=1", headers=auth)
    assert listed.headers["X-Total-Count"] == "1200"
    one = profile(client, auth, 401)
    assert (one["experience"], one["level"], one["voicepoints"]) == (100_000 - 401 * 7, 36, 0)
    assert one["text"] == {"level": 0, "experience": 0, "message_count": 5000 - 401}
    # the top by levels is MEE6's order
    top = client.get(f"/profile/{GUILD}/top?by=levels&amount=2", headers=auth).json()
    assert [t["profile"]["user_id"] for t in top] == [str(uid(0)), str(uid(1))]


def test_one_page_alone_is_read_too(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "amari", amari_page(0, 300, 300))
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (300, 0, 0)
    one = profile(client, auth, 250)
    assert (one["experience"], one["level"]) == (80_000 - 250 * 11, 29)
    assert one["text"] is None  # Amari's weeklyExp is not ours to keep


def test_tatsu_score_is_experience_and_level_is_left_alone(client: TestClient, auth: dict) -> None:
    ensure(client, auth, GUILD, uid(5), level=12, experience=3)
    r = post(client, auth, "tatsu", [tatsu_page(p, 100) for p in range(5)])
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (499, 1, 0)
    kept = profile(client, auth, 5)
    assert (kept["experience"], kept["level"]) == (50_000 - 15, 12)
    assert profile(client, auth, 6)["level"] == 1  # a new profile's default


def test_unbelievaboat_balances_move_as_import_entries(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    users = unb_users(0, 350)
    r = post(client, auth, "unbelievaboat", users)
    assert r.status_code == 200, r.text
    answer = r.json()
    total = sum(u["total"] for u in users)
    assert counts(answer) == (350, 0, 0)
    assert answer["entries"] == 350 and answer["voicepoints_moved"] == total
    assert answer["voicepoints_net"] == total
    assert profile(client, auth, 7)["voicepoints"] == 1007
    assert treasury_balance(db, BOT) == -total
    kinds = db.execute("SELECT DISTINCT kind FROM ledger").fetchall()
    assert kinds == [(5,)]
    entry = client.get("/transaction?limit=1", headers=auth).json()[0]
    assert entry["kind"] == "import" and entry["reason"] == "import from unbelievaboat"


def test_unbelievaboat_paged_answers_and_arrays_of_them(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "unbelievaboat", [unb_page(p, 200, 3) for p in range(3)])
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (600, 0, 0)
    r = post(client, auth, "unbelievaboat", [unb_users(p, 200) for p in range(3)])
    assert counts(r.json()) == (0, 0, 600)
    r = post(client, auth, "unbelievaboat", unb_page(0, 200, 3, scale=2))
    assert counts(r.json()) == (0, 200, 0)
    assert profile(client, auth, 10)["voicepoints"] == 2020


def test_a_lower_balance_goes_back_to_the_treasury(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    post(client, auth, "unbelievaboat", [{"user_id": uid(1), "cash": 500, "bank": 0}])
    r = post(client, auth, "csv", f"user_id,voicepoints\n{uid(1)},120\n")
    assert r.json()["voicepoints_net"] == -380 and r.json()["entries"] == 1
    assert profile(client, auth, 1)["voicepoints"] == 120
    assert treasury_balance(db, BOT) == -120


def test_fields_the_source_does_not_carry_are_kept(client: TestClient, auth: dict) -> None:
    ensure(
        client,
        auth,
        GUILD,
        uid(0),
        voicepoints=77,
        timespent={"global": 3600, "music": 60},
        data={"title": "founder"},
        pray={"streak": 4},
    )
    post(client, auth, "mee6", mee6_page(0, 3))
    kept = profile(client, auth, 0)
    assert kept["voicepoints"] == 77 and kept["data"] == {"title": "founder"}
    assert kept["timespent"] == {"global": 3600, "music": 60} and kept["pray"]["streak"] == 4
    assert kept["experience"] == 100_000


def test_a_deleted_profile_is_created_again(client: TestClient, auth: dict) -> None:
    ensure(client, auth, GUILD, uid(0), data={"x": 1})
    assert client.delete(f"/profile/{GUILD}/{uid(0)}", headers=auth).status_code == 204
    r = post(client, auth, "tatsu", tatsu_page(0, 2))
    assert counts(r.json()) == (2, 0, 0)
    again = profile(client, auth, 0)
    assert again["experience"] == 50_000 and again["data"] is None


# -- repeatable, atomic, dry ------------------------------------------------------------

SAMPLES: dict[str, Callable[[], Any]] = {
    "mee6": lambda: [mee6_page(p, 300) for p in range(2)],
    "amari": lambda: [amari_page(p, 250, 500) for p in range(2)],
    "tatsu": lambda: [tatsu_page(p, 100) for p in range(4)],
    "unbelievaboat": lambda: unb_users(0, 400),
    "csv": lambda: (
        "user_id,experience,level,voicepoints,message_count,timespent,pray_streak\n"
        + "".join(f"{uid(i)},{i * 10},{i % 50},{i},{i * 2},{i * 60},{i % 7}\n" for i in range(500))
    ),
}


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_importing_the_same_data_again_changes_nothing(
    client: TestClient, auth: dict, db: backend.Connection, source: str
) -> None:
    first = post(client, auth, source, SAMPLES[source]())
    assert first.status_code == 200, first.text
    before = snapshot(db)
    again = post(client, auth, source, SAMPLES[source]())
    assert again.status_code == 200, again.text
    members = first.json()["members"]
    assert counts(again.json()) == (0, 0, members)
    assert again.json()["entries"] == 0 and again.json()["voicepoints_moved"] == 0
    assert snapshot(db) == before


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_a_dry_run_answers_the_same_and_changes_nothing(
    client: TestClient, auth: dict, db: backend.Connection, source: str
) -> None:
    ensure(client, auth, GUILD, uid(1), experience=5)
    before = snapshot(db)
    dry = post(client, auth, source, SAMPLES[source](), dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert snapshot(db) == before
    real = post(client, auth, source, SAMPLES[source]()).json()
    assert {**dry.json(), "dry_run": False} == real
    assert real["created"] > 0 and real["updated"] == 1
