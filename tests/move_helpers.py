"""What the backend-move tests share: the state a populated install holds, and the real
CLI's export, import, verify and move, run on either engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine import open_engine
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests.conftest import BOT, OTHER_BOT

ROOT = Path(__file__).parent.parent
# The tables that travel as rows; `_populate` writes to each (images need files).
STATE = {
    "api_keys",
    "callbacks",
    "inventory",
    "item_log",
    "reputation_entries",
    "reputation_settings",
    "reputation_users",
    "reward_claims",
    "rewards",
    "season_schedules",
    "season_standings",
    "seasons",
    "settings_store",
    "shop_items",
    "activity",
}


def _cli(*argv: str, db: str | Path) -> subprocess.CompletedProcess[str]:
    """`voiceprofile ARGV --db DB` as an operator runs it: its own process, piped."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("VOICEPROFILE_")},
    )


def _key(db: str | Path, bot: str, scopes: tuple[str, ...] = keys.DEFAULT_SCOPES) -> dict:
    conn = open_engine(db).connect()
    try:
        apply_migrations(conn)
        _, secret = keys.create_key(conn, f"key of {bot}", bot, scopes)
    finally:
        conn.close()
    return {"Authorization": secret}


def _populate(db: str | Path, n: int) -> dict:
    """Some of everything a server keeps, in guilds of round `n` (a second round on
    the moved database writes new rows after the imported ones, in every table that
    numbers its rows); returns a key of BOT."""
    g, other_g = str(100 + n), str(200 + n)
    settings = Settings(db=db, key_cache_seconds=0.0, boards="sync")
    auth, other = _key(db, BOT), _key(db, OTHER_BOT)
    admin = _key(db, BOT, keys.SCOPES)
    J = {"Content-Type": "application/json"}
    with TestClient(create_app(settings)) as c:

        def ok(method: str, path: str, status: int, body: object = None, h: dict = auth) -> dict:
            r = c.request(method, path, json=body, headers={**h, **J})
            assert r.status_code == status, (method, path, r.status_code, r.text)
            return r.json() if r.content else {}

        member = {"voicepoints": 900, "data": {"nick": 'ä"b\u2603', "n": [1, 2.5]}}
        ok("POST", f"/profile/{g}/10", 201, {**member, "timespent": {"c1": 5}})
        ok("POST", f"/profile/{g}/11", 201, {"text": {"level": 2}})
        ok("POST", f"/profile/{g}/12", 201)
        ok("POST", f"/profile/{other_g}/10", 201, {"voicepoints": 3}, other)
        ok("PATCH", f"/profile/{g}/11/add", 200, {"experience": 25, "timespent": {"global": 60}})
        pay = {"from": {"guild_id": g, "user_id": "10"}, "to": {"guild_id": g, "user_id": "11"}}
        tx = ok("POST", "/transaction", 201, {**pay, "amount": 7, "reason": "gift ✓"})
        ok("POST", f"/transaction/{tx['id']}/revert", 201)
        ok("POST", "/transaction", 201, {**pay, "amount": 40})
        ok("POST", f"/profile/{g}/11", 200, {"voicepoints": 2})
        ok("DELETE", f"/profile/{other_g}/10", 204, h=other)
        # reputation, its settings, the settings store (keys that sort apart by collation)
        ok("POST", "/reputation/settings", 200, {"reputationPerDay": 3})
        ok("POST", f"/reputation/{BOT}/186221791792857088", 200, {"source_user": f"12839291{n}"})
        ok("POST", f"/reputation/{BOT}/186221791792857088/increase", 200, {"increase": 5})
        for kind in ("guilds", "Guilds", "a_b", "ab", "é"):
            ok("POST", f"/settings/{kind}/{g}", 200, {"prefix": kind, "on": True, "x": None})
        ok("POST", f"/settings/guilds/{g}/channels/{g}", 200, {"name": "general"})
        # the shop: an item, a purchase, grants and uses (item log, inventory)
        item = {"name": "VIP", "price": 500, "sell_price": 250, "stock": 10, "data": {"r": 1}}
        ok("PUT", f"/shop/{g}/items/vip", 201, item)
        ok("POST", f"/shop/{g}/items/vip/buy", 201, {"user_id": "10", "quantity": 1})
        ok("POST", f"/profile/{g}/10/inventory/vip/grant", 200, {"quantity": 3})
        ok("POST", f"/profile/{g}/10/inventory/vip/use", 200, {"quantity": 1})
        ok("POST", f"/profile/{g}/10/inventory/vip/sell", 200, {"quantity": 1})
        # a reward and a claim; a season that takes balances back, and a schedule
        reward = {"amount": 100, "period": "day", "streak_bonus": 10, "streak_max": 7}
        ok("PUT", f"/rewards/{g}/daily", 201, reward)
        ok("POST", f"/rewards/{g}/daily/claim", 201, {"user_id": "12"})
        season = {"name": f"Spring {n}", "reset": ["experience", "voicepoints"]}
        ok("POST", f"/profile/{g}/seasons", 201, season)
        ok("POST", f"/profile/{g}/12", 200, {"voicepoints": 5})
        ok("PUT", f"/profile/{g}/seasons/schedule", 200, {"every": "month", "reset": ["level"]})
        cb = {"url": f"http://hooks.example.invalid/{n}", "secret": "s"}  # never resolves
        ok("PUT", "/callback/transaction", 200, cb)
        ok("POST", "/keys", 201, {"name": f"made {n}", "bot_id": BOT}, admin)
    return auth


def _verify(db: str | Path) -> str:
    done = _cli("ledger", "verify", db=db)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout.startswith("OK: "), done.stdout
    return done.stdout


def _move(dump: Path, db: str | Path) -> dict:
    """`import` the file into `db`, which is empty; returns the summary."""
    done = _cli("import", str(dump), db=db)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ok"] is True
    return summary


def _export(db: str | Path, out: Path) -> dict:
    done = _cli("export", str(out), db=db)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
