"""The ledger's invariants under random sequences of operations (hypothesis).

Drives the in-process app with transfers, arrays, resets (POST profile with
voicepoints), deletes, reverts and idempotent retries by two bots, keeps a model of
every balance, and after every step checks: the sum of all balances is 0, no user
balance is negative, each balance equals the sum of its entries, the projections
equal a replay (`ledger.verify`), and the balances equal the model's.
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
from storage.ids import treasury_id, vp_id
from tests.auth_helpers import bots_with_keys

G = 77
USERS = [1, 2, 3, 4]
BOTS = ["101", "202"]
TREASURY = {b: treasury_id(b) for b in BOTS}
VP = {u: vp_id(G, u) for u in USERS}
TRANSFER, RESET, CLOSE, REVERT = 1, 2, 3, 4

bots = st.sampled_from(BOTS)
users = st.sampled_from(USERS)
# a side: a user, "self", or a treasury named by its vp_id (maybe someone else's)
sides = st.one_of(users, st.just("self"), st.sampled_from(BOTS).map(lambda b: ("t", b)))
amounts = st.integers(min_value=1, max_value=120)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="vp-props-"))
        path = self.dir / "vp.db"
        self.auth = bots_with_keys(path, BOTS)
        self.client = TestClient(create_app(Settings(db=path, key_cache_seconds=60)))
        self.client.__enter__()
        self.db = sqlite3.connect(path, isolation_level=None)
        self.balance: dict[str, int] = dict.fromkeys([*VP.values(), *TREASURY.values()], 0)
        self.open: set[str] = set()
        self.existed: set[str] = set()  # accounts are never removed, only closed
        self.keys = 0
        # Both treasuries exist from the start: each bot opens one profile.
        self.reset(BOTS[0], USERS[0], 50)
        self.reset(BOTS[1], USERS[1], 50)

    def teardown(self) -> None:
        self.db.close()
        self.client.__exit__(None, None, None)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the model -----------------------------------------------------------------------

    def _vp(self, side: Any, bot: str) -> str:
        if side == "self":
            return TREASURY[bot]
        if isinstance(side, tuple):
            return TREASURY[side[1]]
        return VP[side]

    def _body(self, side: Any) -> Any:
        if side == "self":
            return "self"
        if isinstance(side, tuple):
            return TREASURY[side[1]]
        return {"user_id": side, "guild_id": G} if side % 2 else VP[side]

    def _expect(self, bal: dict[str, int], bot: str, src: str, dst: str, amount: int) -> int:
        """The status one transfer gets against balances `bal`; applies it if 201."""
        treasuries = set(TREASURY.values())
        # in the order the ledger checks: names, impostor, then the postings
        if src == dst:
            return 422
        if src not in treasuries and src not in self.existed:
            return 404
        if src in treasuries and src != TREASURY[bot]:
            return 403
        if dst not in treasuries and dst not in self.existed:
            return 404
        if src not in treasuries and src not in self.open:
            return 404
        if src not in treasuries and bal[src] < amount:
            return 409
        if dst not in treasuries and dst not in self.open:
            return 404
        bal[src] -= amount
        bal[dst] += amount
        return 201

    def _post(self, bot: str, body: Any, key: str | None = None) -> Any:
        headers = {**self.auth[bot], **({"Idempotency-Key": key} if key else {})}
        return self.client.post("/transaction", json=body, headers=headers)

    # -- rules -----------------------------------------------------------------------------

    @rule(bot=bots, src=sides, dst=sides, amount=amounts)
    def transfer(self, bot: str, src: Any, dst: Any, amount: int) -> None:
        body = {"from": self._body(src), "to": self._body(dst), "amount": amount}
        bal = dict(self.balance)
        want = self._expect(bal, bot, self._vp(src, bot), self._vp(dst, bot), amount)
        r = self._post(bot, body)
        assert r.status_code == want, (body, r.text)
        self.balance = bal

    @rule(bot=bots, items=st.lists(st.tuples(sides, sides, amounts), min_size=1, max_size=5))
    def array(self, bot: str, items: list[tuple[Any, Any, int]]) -> None:
        body = [{"from": self._body(s), "to": self._body(d), "amount": a} for s, d, a in items]
        bal = dict(self.balance)
        want, failed_at = 201, None
        for index, (s, d, a) in enumerate(items):
            want = self._expect(bal, bot, self._vp(s, bot), self._vp(d, bot), a)
            if want != 201:
                failed_at = index
                break
        r = self._post(bot, body)
        assert r.status_code == want, (body, r.text)
        if want == 201:
            self.balance = bal
            assert len(r.json()) == len(items)
        else:
            assert r.json()["index"] == failed_at

    @rule(bot=bots, user=users, points=st.integers(min_value=0, max_value=200))
    def reset(self, bot: str, user: int, points: int) -> None:
        r = self.client.post(
            f"/profile/{G}/{user}", json={"voicepoints": points}, headers=self.auth[bot]
        )
        vp = VP[user]
        assert r.status_code == (200 if vp in self.open else 201), r.text
        self.open.add(vp)
        self.existed.add(vp)
        self.balance[TREASURY[bot]] -= points - self.balance[vp]
        self.balance[vp] = points

    @rule(bot=bots, user=users)
    def delete(self, bot: str, user: int) -> None:
        vp = VP[user]
        r = self.client.delete(f"/profile/{G}/{user}", headers=self.auth[bot])
        assert r.status_code == (204 if vp in self.open else 404), r.text
        if vp in self.open:
            self.open.discard(vp)
            self.balance[TREASURY[bot]] += self.balance[vp]
            self.balance[vp] = 0

    @rule(bot=bots, pick=st.integers(min_value=1, max_value=10**6))
    def revert(self, bot: str, pick: int) -> None:
        top = self.db.execute("SELECT max(id) FROM ledger").fetchone()[0]
        entry_id = pick % top + 1
        kind, src, dst, amount = self.db.execute(
            "SELECT l.kind, s.vp_id, d.vp_id, l.amount FROM ledger l JOIN accounts s ON"
            " s.id = l.src JOIN accounts d ON d.id = l.dst WHERE l.id = ?",
            (entry_id,),
        ).fetchone()
        reverted = self.db.execute("SELECT 1 FROM ledger WHERE reverts = ?", (entry_id,)).fetchone()
        bal = dict(self.balance)
        if kind not in (TRANSFER, RESET) or reverted:
            want = 409
        else:
            want = self._expect(bal, bot, dst, src, amount)
        r = self.client.post(f"/transaction/{entry_id}/revert", headers=self.auth[bot])
        assert r.status_code == want, (entry_id, kind, r.text)
        if want == 201:
            self.balance = bal
            assert r.json()["reverts"] == entry_id

    @rule(bot=bots, src=sides, dst=sides, amount=amounts, other=amounts)
    def idempotent_retry(self, bot: str, src: Any, dst: Any, amount: int, other: int) -> None:
        self.keys += 1
        key = f"key-{self.keys}"
        body = {"from": self._body(src), "to": self._body(dst), "amount": amount}
        bal = dict(self.balance)
        want = self._expect(bal, bot, self._vp(src, bot), self._vp(dst, bot), amount)
        first = self._post(bot, body, key)
        assert first.status_code == want, (body, first.text)
        if want != 422:  # validation refusals are not stored
            self.balance = bal
            entries = self.db.execute("SELECT count(*) FROM ledger").fetchone()[0]
            again = self._post(bot, body, key)
            assert (again.status_code, again.content) == (first.status_code, first.content)
            if other != amount:
                changed = self._post(bot, {**body, "amount": other}, key)
                assert changed.json()["code"] == "idempotency_key_reused"
            assert self.db.execute("SELECT count(*) FROM ledger").fetchone()[0] == entries

    # -- after every step ---------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        rows = self.db.execute("SELECT vp_id, bot_id, balance FROM accounts").fetchall()
        assert sum(b for _, _, b in rows) == 0
        assert all(b >= 0 for _, bot, b in rows if bot is None)
        for vp, _, b in rows:
            assert self.balance[vp] == b, (vp, self.balance[vp], b)
        mismatched = self.db.execute(
            "SELECT a.vp_id FROM accounts a WHERE a.balance !="
            " (SELECT coalesce(sum(amount), 0) FROM ledger WHERE dst = a.id)"
            " - (SELECT coalesce(sum(amount), 0) FROM ledger WHERE src = a.id)"
        ).fetchall()
        assert mismatched == []
        report = verify(self.db)
        assert report.ok, report.problems


LedgerMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
TestLedgerProperties = LedgerMachine.TestCase
