"""The world and the model of the economy property test (test_economy_properties.py):
two bots with their items and rewards, a fresh app and database per run, the model's
state, the ledger's rules as a client sees them, and the invariants checked after every
step (balances, inventories and stock against the model, `ledger verify`)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from ledger.verify import verify
from storage.clock import ManualClock
from storage.ids import pad, treasury_id, vp_id
from tests.auth_helpers import bots_with_keys

G = 5
USERS = [1, 2, 3, 4]
BOTS = ["101", "202"]
TREASURY = {b: treasury_id(b) for b in BOTS}
VP = {u: vp_id(G, u) for u in USERS}
ITEMS = {
    "a": {"name": "A", "price": 7, "sell_price": 3, "stock": 6, "per_user_limit": 4},
    "b": {"name": "B", "price": 0},
}
REWARDS = {
    "101": {"amount": 5, "cooldown": 60, "streak_bonus": 2, "streak_max": 3},
    "202": {"amount": 9, "period": "day", "streak_bonus": 1},
}
TRANSFER, RESET, PURCHASE = 1, 2, 6
DAY_MS = 86_400_000

bots, users, items = st.sampled_from(BOTS), st.sampled_from(USERS), st.sampled_from(list(ITEMS))
quantities = st.integers(min_value=1, max_value=3)


class EconomyModel(RuleBasedStateMachine):
    """Everything of the machine but its rules: those are in EconomyMachine."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="vp-economy-"))
        path = self.dir / "vp.db"
        self.auth = bots_with_keys(path, BOTS)
        self.clock = ManualClock(1_704_067_200.0)
        app = create_app(Settings(db=path, key_cache_seconds=60, boards="off"), clock=self.clock)
        self.client = TestClient(app)
        self.client.__enter__()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.balance: dict[str, int] = dict.fromkeys([*VP.values(), *TREASURY.values()], 0)
        self.open: set[int] = set()
        self.existed: set[int] = set()
        self.held: dict[tuple[int, str, str], list[int]] = {}  # -> [held, bought]
        self.stock = {(bot, "a"): ITEMS["a"]["stock"] for bot in BOTS}
        self.claims: dict[tuple[str, int], tuple[int, int]] = {}  # -> (ms, streak)
        for bot in BOTS:
            for item_id, item in ITEMS.items():
                self._ok(
                    self.client.put(f"/shop/{G}/items/{item_id}", json=item, headers=self.auth[bot])
                )
            self._ok(self.client.put(f"/rewards/{G}/r", json=REWARDS[bot], headers=self.auth[bot]))
        for user, bot in ((1, "101"), (2, "101"), (3, "202")):
            self._ok(self.post(bot, f"/profile/{G}/{user}", {"voicepoints": 50}))
            self.open.add(user)
            self.existed.add(user)
            self.balance[VP[user]] = 50
            self.balance[TREASURY[bot]] -= 50

    def teardown(self) -> None:
        self.db.close()
        self.client.__exit__(None, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _ok(r: Any) -> None:
        assert r.status_code in (200, 201), r.text

    def post(self, bot: str, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers=self.auth[bot])

    def _line(self, user: int, bot: str, item: str) -> list[int]:
        return self.held.setdefault((user, bot, item), [0, 0])

    def _check(self, r: Any, want: int) -> None:
        assert r.status_code == want, (want, r.text)

    def _revert(self, bot: str, entry_id: int) -> None:
        kind, src, dst, amount = self.db.execute(
            "SELECT l.kind, s.vp_id, d.vp_id, l.amount FROM ledger l JOIN accounts s ON"
            " s.id = l.src JOIN accounts d ON d.id = l.dst WHERE l.id = ?",
            (entry_id,),
        ).fetchone()
        reverted = self.db.execute("SELECT 1 FROM ledger WHERE reverts = ?", (entry_id,)).fetchone()
        bought = None
        if kind not in (TRANSFER, RESET, PURCHASE) or reverted:
            want = 409
        elif dst in TREASURY.values() and dst != TREASURY[bot]:
            want = 403
        elif kind == PURCHASE:
            user = next(u for u, vp in VP.items() if vp == src)
            item = self.db.execute(
                "SELECT item_id, quantity FROM item_log WHERE entry = ?", (entry_id,)
            ).fetchone()
            bought = (self._line(user, bot, item[0]), item[0], item[1])
            want = 409 if bought[0][0] < item[1] else 201
        else:
            want = self._expect(dst, src, amount)
        r = self.post(bot, f"/transaction/{entry_id}/revert")
        self._check(r, want)
        if want == 201:
            self.balance[dst] -= amount
            self.balance[src] += amount
            if bought is not None:
                line, item, quantity = bought
                line[0] -= quantity
                line[1] -= quantity
                if (bot, item) in self.stock:
                    self.stock[(bot, item)] += quantity

    # -- the ledger's rules, as a client sees them -------------------------------------------

    def _vp(self, side: Any, bot: str) -> str:
        return TREASURY[bot] if side == "self" else VP[side]

    def _expect(self, src: str, dst: str, amount: int) -> int:
        """A posting's status, in the order the ledger checks (ledger/postings.py)."""
        treasuries = set(TREASURY.values())
        users_open = {VP[u] for u in self.open}
        existed = {VP[u] for u in self.existed}  # accounts are closed, never removed
        if src == dst:
            return 422
        if any(side not in treasuries and side not in existed for side in (src, dst)):
            return 404  # no account at all: refused before any balance is read
        if src not in treasuries and src not in users_open:
            return 404
        if src not in treasuries and self.balance[src] < amount:
            return 409
        if dst not in treasuries and dst not in users_open:
            return 404
        return 201

    # -- after every step -------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        rows = self.db.execute("SELECT vp_id, bot_id, balance FROM accounts").fetchall()
        assert sum(b for _, _, b in rows) == 0
        assert all(b >= 0 for _, bot, b in rows if bot is None)
        for vp, _, b in rows:
            assert self.balance[vp] == b, (vp, self.balance[vp], b)

    @invariant()
    def inventories_and_stock_match(self) -> None:
        stored = {
            (int(user), bot.lstrip("0"), item): [held, bought]
            for user, bot, item, held, bought in self.db.execute(
                "SELECT a.user_id, i.bot_id, i.item_id, i.quantity, i.bought FROM inventory i"
                " JOIN accounts a ON a.id = i.account"
            )
        }
        assert stored == {k: v for k, v in self.held.items() if v != [0, 0] or k in stored}
        for (bot, item), stock in self.stock.items():
            got = self.db.execute(
                "SELECT stock FROM shop_items WHERE bot_id = ? AND item_id = ?", (pad(bot), item)
            ).fetchone()[0]
            assert got == stock >= 0

    @invariant()
    def replay_agrees(self) -> None:
        report = verify(self.db)
        assert report.ok, report.problems
