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

The rules are here; the world, the model's state and the invariants are in
economy_machine.py.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule

from tests.economy_machine import (
    DAY_MS,
    ITEMS,
    PURCHASE,
    REWARDS,
    TREASURY,
    VP,
    EconomyModel,
    G,
    bots,
    items,
    quantities,
    users,
)


class EconomyMachine(EconomyModel):
    """The operations, each predicting its status from the model and updating it."""

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


EconomyMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
TestEconomyProperties = EconomyMachine.TestCase
