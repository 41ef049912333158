"""Reputation API (SPEC §8): bot isolation (another bot's id, own settings and users, the
scope) and the log: every change an append-only entry, verify, resets that write nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from ledger import reputation
from tests import backend, reputation_helpers
from tests.conftest import BOT, OTHER_BOT
from tests.reputation_helpers import Rep

clock = reputation_helpers.clock  # a fixture shared by several modules
rep = reputation_helpers.rep  # a fixture shared by several modules


# -- isolation between bots ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/reputation/{bot}/1", None),
        ("GET", "/reputation/{bot}/leaderboard", None),
        ("POST", "/reputation/{bot}/1", {"source_user": "2"}),
        ("POST", "/reputation/{bot}/1/reset?cooldown=true", None),
        ("POST", "/reputation/{bot}/1/increase", {"increase": 1}),
        ("POST", "/reputation/{bot}/1/decrease", {"decrease": 1}),
    ],
)
def test_another_bots_id_is_403(
    rep: Rep, make_key: Callable[..., dict[str, str]], method: str, path: str, body: Any
) -> None:
    rep.post("1/increase", {"increase": 3})
    other = make_key(OTHER_BOT)
    response = rep.client.request(method, path.format(bot=BOT), headers=other, json=body)
    assert response.status_code == 403
    assert response.json()["status"] == 403 and response.json()["code"] == 403
    assert rep.user("1")["reputation"] == 3


def test_bots_have_their_own_settings_and_users(
    rep: Rep, make_key: Callable[..., dict[str, str]]
) -> None:
    other = Rep(rep.client, make_key(OTHER_BOT), OTHER_BOT)
    rep.settings(reputationPerDay=1)
    rep.give("9", "1")
    assert other.settings().json()["settings"]["reputationPerDay"] == 2
    assert other.settings().json()["settings"]["accountId"] == OTHER_BOT
    assert other.user("1")["reputation"] == 0 and other.user("9")["cooldown"] == []
    assert other.give("9", "1").status_code == 200
    assert rep.give("9", "2").json()["code"] == 1
    assert rep.user("1")["reputation"] == 1


def test_reputation_scope_is_required(client: TestClient, make_key: Callable) -> None:
    headers = make_key(scopes=("settings",))
    response = client.get("/reputation/settings", headers=headers)
    assert response.status_code == 403
    assert response.json()["message"] == "missing scope reputation"


# -- the log ------------------------------------------------------------------------


def test_every_change_is_an_append_only_entry(rep: Rep, db: backend.Connection) -> None:
    rep.give("9", "1")
    rep.post("1/increase", {"increase": 4})
    rep.post("1/decrease", {"decrease": 2})
    rep.post("9/reset?cooldown=true")
    rep.give("9", "9")  # refused: leaves no entry
    rows = db.execute("SELECT kind, amount, reputation FROM reputation_entries ORDER BY id")
    assert rows.fetchall() == [(1, 1, 1), (2, 4, 5), (3, -2, 3), (4, 0, 0)]
    assert reputation.verify(db) == []
    with pytest.raises(backend.INTEGRITY_ERRORS, match="append-only"):
        db.execute("UPDATE reputation_entries SET amount = 100")
    with pytest.raises(backend.INTEGRITY_ERRORS, match="append-only"):
        db.execute("DELETE FROM reputation_entries")


def test_verify_finds_a_tampered_projection(rep: Rep, db: backend.Connection) -> None:
    rep.post("1/increase", {"increase": 4})
    db.execute("UPDATE reputation_users SET reputation = 40")
    assert reputation.verify(db) == [f"reputation of user 1 (bot {BOT}): cached 40, replay gives 4"]


@pytest.mark.parametrize("query", ["", "?cooldown=true"])
def test_a_reset_of_a_user_never_seen_writes_nothing(
    rep: Rep, db: backend.Connection, query: str
) -> None:
    """As the original: the zero user comes back and nothing is stored, so the user
    does not join the leaderboard with 0."""
    response = rep.post(f"77/reset{query}")
    assert response.status_code == 200
    assert response.json()["user"]["reputation"] == 0
    assert db.execute("SELECT count(*) FROM reputation_entries").fetchone()[0] == 0
    board = rep.client.get(f"/reputation/{BOT}/leaderboard", headers=rep.headers).json()
    assert (board["total"], board["leaderboard"]) == (0, [])


def test_a_reset_of_a_user_who_only_gave_still_frees_the_cooldown(rep: Rep) -> None:
    rep.give("9", "1")
    rep.give("9", "2")
    assert rep.post("9/reset?cooldown=true").json()["user"]["availableReputations"] == 2
    assert rep.give("9", "3").status_code == 200
