"""The economy's entries everywhere the ledger is read (balance graphs, windowed tops,
/stats), from the in-memory boards and from SQL alike; `ledger verify` over the
item log and claims; export and import keeping inventories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.cli import main
from app.config import Settings
from ledger.verify import verify
from storage.clock import ManualClock
from storage.engine import open_engine
from storage.ids import vp_id
from tests import backend

G = 11
START = 1_704_067_200.0  # 2024-01-01T00:00:00Z


@pytest.fixture(params=["sync", "off"])
def settings(db_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Boards built before answering, and no boards at all (every read by SQL)."""
    return Settings(db=backend.target(db_path), key_cache_seconds=0.0, boards=request.param)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def world(client: TestClient, auth: dict, clock: ManualClock) -> dict[str, float]:
    """Member 1 gets 100 two days before the others move: then buys for 30, sells for
    10, claims 25; member 2 claims 25. Returns the times of each step."""
    times = {}
    client.post(f"/profile/{G}/1", json={"voicepoints": 100}, headers=auth)
    times["reset"] = clock.now()
    client.put(
        f"/shop/{G}/items/gem", json={"name": "Gem", "price": 30, "sell_price": 10}, headers=auth
    )
    client.put(f"/rewards/{G}/daily", json={"amount": 25, "period": "day"}, headers=auth)
    clock.advance(2 * 86400)
    for step, call in [
        ("buy", lambda: client.post(f"/shop/{G}/items/gem/buy", json={"user_id": 1}, headers=auth)),
        ("sell", lambda: client.post(f"/profile/{G}/1/inventory/gem/sell", headers=auth)),
        (
            "claim",
            lambda: client.post(f"/rewards/{G}/daily/claim", json={"user_id": 1}, headers=auth),
        ),
        (
            "claim2",
            lambda: client.post(f"/rewards/{G}/daily/claim", json={"user_id": 2}, headers=auth),
        ),
    ]:
        clock.advance(60)
        r = call()
        assert r.status_code in (200, 201), r.text
        times[step] = clock.now()
    return times


def test_balance_graphs_follow_purchases_refunds_and_rewards(
    client: TestClient, auth: dict, world: dict[str, float]
) -> None:
    user = client.get(f"/stats/balance_graph?guild_id={G}&user_id=1", headers=auth).json()
    assert [(p["timestamp"], p["balance"]) for p in user["points"]] == [
        (world["reset"], 100),
        (world["buy"], 70),
        (world["sell"], 80),
        (world["claim"], 105),
    ]
    circulation = client.get("/stats/balance_graph?bucket=minute", headers=auth).json()
    assert [p["balance"] for p in circulation["points"]] == [100, 70, 80, 105, 130]
    guild = client.get(f"/stats/balance_graph?guild_id={G}", headers=auth).json()
    assert [p["balance"] for p in guild["points"]] == [100, 70, 80, 105, 130]


def test_windowed_tops_count_economy_entries_as_money_in_and_out(
    client: TestClient, auth: dict, world: dict[str, float], clock: ManualClock
) -> None:
    # Rolling windows end at the app's clock, this test's.
    top = client.get(f"/profile/{G}/top?by=points&timeframe=day", headers=auth).json()
    rank = client.get(f"/profile/{G}/1/rank?by=points&timeframe=day", headers=auth).json()
    assert [(t["profile"]["user_id"], t["score"]) for t in top] == [("2", 25), ("1", 5)]
    assert (rank["rank"], rank["score"]) == (2, 5)
    since = f"since={world['buy']}&until={world['claim2']}"  # the claim of 2 left out
    top = client.get(f"/profile/{G}/top?by=points&{since}", headers=auth).json()
    assert [(t["profile"]["user_id"], t["score"]) for t in top] == [("1", 5), ("2", 0)]
    alltime = client.get(f"/profile/{G}/top?by=points", headers=auth).json()
    assert [(t["profile"]["user_id"], t["score"]) for t in alltime] == [("1", 105), ("2", 25)]


def test_stats_count_economy_entries(
    client: TestClient, auth: dict, world: dict[str, float]
) -> None:
    stats = client.get(f"/stats?guild_id={G}", headers=auth).json()
    assert (stats["transactions"], stats["voicepoints"], stats["profiles"]) == (5, 130, 2)
    assert client.get("/stats", headers=auth).json()["voicepoints"] == 130


# -- verify ------------------------------------------------------------------------------


def test_verify_checks_inventories_and_claims_against_their_logs(
    client: TestClient, auth: dict, world: dict[str, float], db: backend.Connection
) -> None:
    client.post(f"/profile/{G}/1/inventory/gem/grant", json={"quantity": 2}, headers=auth)
    assert verify(db).problems == []
    member = db.execute("SELECT id FROM accounts WHERE vp_id = ?", (vp_id(G, 1),)).fetchone()[0]
    db.execute("UPDATE inventory SET quantity = 5 WHERE account = ?", (member,))
    (problem,) = verify(db).problems
    assert "item 'gem'" in problem and "held/bought 5/1, the item log gives 2/1" in problem
    db.execute("UPDATE inventory SET quantity = 2 WHERE account = ?", (member,))
    # A purchase row that no purchase entry paid for (entry 1 is the reset):
    db.execute(
        "INSERT INTO item_log (ts, kind, account, bot_id, item_id, quantity, held, entry)"
        " VALUES (0, 1, ?, 'x', 'ghost', 1, 1, 1)",
        (member,),
    )
    problems = verify(db).problems
    assert any("entry 1 is not the entry that paid for it" in p for p in problems), problems
    assert any("item 'ghost'" in p and "the item log gives 1/1" in p for p in problems), problems


def test_the_item_log_and_claims_are_append_only(
    client: TestClient, auth: dict, world: dict[str, float], db: backend.Connection, db_path: Path
) -> None:
    refused = open_engine(backend.target(db_path)).errors  # the engine's own error class
    for sql in (
        "UPDATE item_log SET quantity = 9",
        "DELETE FROM item_log",
        "UPDATE reward_claims SET amount = 9",
        "DELETE FROM reward_claims",
    ):
        with pytest.raises(refused, match="append-only"):
            db.execute(sql)


# -- export and import ---------------------------------------------------------------------


def test_export_and_import_keep_inventories_and_verify(
    client: TestClient,
    auth: dict,
    world: dict[str, float],
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client.post(f"/profile/{G}/1/inventory/gem/grant", json={"quantity": 4}, headers=auth)
    client.post(f"/profile/{G}/1/inventory/gem/give", json={"to_user_id": 2}, headers=auth)
    before = client.get(f"/profile/{G}/1/inventory", headers=auth).json()
    first, second, copy = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "copy.db"
    source, target = str(backend.target(db_path)), str(backend.target(copy))
    assert main(["export", str(first), "--db", source]) == 0
    assert main(["import", str(first), "--db", target]) == 0
    assert main(["export", str(second), "--db", target]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert main(["ledger", "verify", "--db", target]) == 0
    capsys.readouterr()
    tables = {json.loads(line).get("table") for line in first.read_text().splitlines()}
    assert {"shop_items", "item_log", "inventory", "rewards", "reward_claims"} <= tables
    conn = backend.connect(copy)
    try:
        held = conn.execute(
            "SELECT a.user_id, i.item_id, i.quantity FROM inventory i"
            " JOIN accounts a ON a.id = i.account ORDER BY a.user_id"
        ).fetchall()
    finally:
        conn.close()
    assert [(int(u), i, q) for u, i, q in held] == [(1, "gem", 3), (2, "gem", 1)]
    assert before[0]["quantity"] == 3


@pytest.mark.parametrize(
    ("table", "change", "needle"),
    [
        ("inventory", {"quantity": 500}, "held/bought 500/1, the item log gives 1/1"),
        ("item_log", {"held": 7}, "records 7 held, the replay gives"),
        ("reward_claims", {"amount": 99}, "records 99, its entry"),
    ],
)
def test_import_refuses_an_economy_that_does_not_replay(
    client: TestClient,
    auth: dict,
    world: dict[str, float],
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    table: str,
    change: dict,
    needle: str,
) -> None:
    """What `ledger verify` would reject, an import refuses, naming the line."""
    client.post(f"/profile/{G}/1/inventory/gem/grant", headers=auth)
    dump, bad, target = tmp_path / "a.jsonl", tmp_path / "bad.jsonl", tmp_path / "t.db"
    assert main(["export", str(dump), "--db", str(backend.target(db_path))]) == 0
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    at = next(i for i, line in enumerate(lines) if line.get("table") == table)
    lines[at]["values"].update(change)
    bad.write_text("".join(json.dumps(line) + "\n" for line in lines))
    capsys.readouterr()
    assert main(["import", str(bad), "--db", str(backend.target(target))]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[-1])["line"] == at + 1, err
    assert f"line {at + 1}: " in err and needle in err, err
    conn = backend.connect(target)
    try:
        assert conn.execute("SELECT count(*) FROM item_log").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == 0
    finally:
        conn.close()
