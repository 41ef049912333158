"""The economy's invariants under random sequences of operations (hypothesis).

Two bots, each with a limited item (`a`: price 7, sells back for 3, stock, a
per-user limit), a free one (`b`, not sellable) and a reward (bot 101: a 60 s
cooldown; bot 202: a UTC day). The machine buys, uses, gives, sells, grants,
revokes, claims, transfers, reverts, restocks, deletes profiles and moves the
clock, predicts every status from a model of its own (rules written here again,
not imported), and after every step checks: balances and inventories equal the
model; stock is never below 0; no user balance is below 0 and all sum to 0;
`ledger verify` (balances and inventories against a replay of the ledger and the
item log, claims against their entries) finds nothing.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from ledger.verify import verify
from storage.clock import ManualClock
from storage.engine.migrations import apply_migrations
from storage.engine.sqlite import connect
from storage.ids import pad, treasury_id, vp_id
from storage.queries import keys

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


class EconomyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="vp-economy-"))
        path = self.dir / "vp.db"
        conn = connect(path)
        apply_migrations(conn)
        self.auth = {}
        for bot in BOTS:
            _, secret = keys.create_key(conn, "prop", bot, keys.DEFAULT_SCOPES)
            self.auth[bot] = {"Authorization": secret}
        conn.close()
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

    # -- rules -----------------------------------------------------------------------------

    @rule(bot=bots, user=users, item=items, quantity=quantities)
    def buy(self, bot: str, user: int, item: str, quantity: int) -> None:
        line, price, limit = (
            self._line(user, bot, item),
            ITEMS[item]["price"],
            ITEMS[item].get("per_user_limit"),
        )
        stock = self.stock.get((bot, item))
        if user not in self.open:
            want = 404
        elif (
            (stock is not None and stock < quantity)
            or (limit is not None and line[1] + quantity > limit)
            or self.balance[VP[user]] < price * quantity
        ):
            want = 409
        else:
            want = 201
        r = self.post(bot, f"/shop/{G}/items/{item}/buy", {"user_id": user, "quantity": quantity})
        self._check(r, want)
        if want == 201:
            line[0] += quantity
            line[1] += quantity
            if stock is not None:
                self.stock[(bot, item)] = stock - quantity
            self.balance[VP[user]] -= price * quantity
            self.balance[TREASURY[bot]] += price * quantity

    @rule(
        bot=bots,
        user=users,
        item=items,
        quantity=quantities,
        action=st.sampled_from(["use", "revoke", "grant"]),
    )
    def change(self, bot: str, user: int, item: str, quantity: int, action: str) -> None:
        line = self._line(user, bot, item)
        if user not in self.open:
            want = 404
        elif action != "grant" and line[0] < quantity:
            want = 409
        else:
            want = 200
        r = self.post(bot, f"/profile/{G}/{user}/inventory/{item}/{action}", {"quantity": quantity})
        self._check(r, want)
        if want == 200:
            line[0] += quantity if action == "grant" else -quantity
            assert r.json()["quantity"] == line[0]

    @rule(bot=bots, user=users, to=users, item=items, quantity=quantities)
    def give(self, bot: str, user: int, to: int, item: str, quantity: int) -> None:
        line = self._line(user, bot, item)
        if user == to:
            want = 422
        elif user not in self.open or to not in self.open:
            want = 404
        elif line[0] < quantity:
            want = 409
        else:
            want = 200
        path = f"/profile/{G}/{user}/inventory/{item}/give"
        self._check(self.post(bot, path, {"to_user_id": to, "quantity": quantity}), want)
        if want == 200:
            line[0] -= quantity
            self._line(to, bot, item)[0] += quantity

    @rule(bot=bots, user=users, item=items, quantity=quantities)
    def sell(self, bot: str, user: int, item: str, quantity: int) -> None:
        line, price = self._line(user, bot, item), ITEMS[item].get("sell_price")
        if user not in self.open:
            want = 404
        elif price is None or line[0] < quantity:
            want = 409
        else:
            want = 200
        r = self.post(bot, f"/profile/{G}/{user}/inventory/{item}/sell", {"quantity": quantity})
        self._check(r, want)
        if want == 200:
            assert price is not None
            line[0] -= quantity
            self.balance[VP[user]] += price * quantity
            self.balance[TREASURY[bot]] -= price * quantity

    @rule(bot=bots, user=users)
    def claim(self, bot: str, user: int) -> None:
        now, reward = round(self.clock.now() * 1000), REWARDS[bot]
        last = self.claims.get((bot, user))
        if last is None:
            allowed, streak = True, 1
        elif "cooldown" in reward:
            gap = now - last[0]
            allowed = gap >= 60_000
            streak = last[1] + 1 if gap < 120_000 else 1
        else:
            days = now // DAY_MS - last[0] // DAY_MS
            allowed, streak = days >= 1, last[1] + 1 if days == 1 else 1
        r = self.post(bot, f"/rewards/{G}/r/claim", {"user_id": user})
        self._check(r, 201 if allowed else 409)
        if allowed:
            most = reward.get("streak_max")
            steps = (streak if most is None else min(streak, most)) - 1
            amount = reward["amount"] + reward["streak_bonus"] * steps
            assert (r.json()["amount"], r.json()["streak"]) == (amount, streak)
            self.claims[(bot, user)] = (now, streak)
            self.open.add(user)
            self.existed.add(user)
            self.balance[VP[user]] += amount
            self.balance[TREASURY[bot]] -= amount
        else:
            assert "Retry-After" in r.headers

    @rule(
        bot=bots,
        src=st.one_of(users, st.just("self")),
        dst=st.one_of(users, st.just("self")),
        amount=st.integers(1, 40),
    )
    def transfer(self, bot: str, src: Any, dst: Any, amount: int) -> None:
        def side(s: Any) -> Any:
            return "self" if s == "self" else {"guild_id": G, "user_id": s}

        want = self._expect(self._vp(src, bot), self._vp(dst, bot), amount)
        r = self.post(bot, "/transaction", {"from": side(src), "to": side(dst), "amount": amount})
        self._check(r, want)
        if want == 201:
            self.balance[self._vp(src, bot)] -= amount
            self.balance[self._vp(dst, bot)] += amount

    @rule(bot=bots, pick=st.integers(min_value=1, max_value=10**6))
    def revert(self, bot: str, pick: int) -> None:
        top = self.db.execute("SELECT max(id) FROM ledger").fetchone()[0]
        self._revert(bot, pick % top + 1)

    @rule(bot=bots)
    def revert_a_recent_purchase(self, bot: str) -> None:
        """Random picks seldom land on a purchase whose items are still held."""
        found = self.db.execute(
            "SELECT max(id) FROM ledger WHERE kind = ? AND reverts IS NULL", (PURCHASE,)
        ).fetchone()[0]
        if found is not None:
            self._revert(bot, found)

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

    @rule(bot=bots, stock=st.integers(0, 5))
    def restock(self, bot: str, stock: int) -> None:
        body = {**ITEMS["a"], "stock": stock}
        self._ok(self.client.put(f"/shop/{G}/items/a", json=body, headers=self.auth[bot]))
        self.stock[(bot, "a")] = stock

    @rule(bot=bots, user=users)
    def delete(self, bot: str, user: int) -> None:
        r = self.client.delete(f"/profile/{G}/{user}", headers=self.auth[bot])
        self._check(r, 204 if user in self.open else 404)
        if user in self.open:
            self.open.discard(user)
            self.balance[TREASURY[bot]] += self.balance[VP[user]]
            self.balance[VP[user]] = 0
            for (holder, _, _), line in self.held.items():
                if holder == user:
                    line[0] = 0

    @rule(seconds=st.sampled_from([0, 30, 59.999, 60, 119.999, 3600, 86400]))
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

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


EconomyMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
TestEconomyProperties = EconomyMachine.TestCase
