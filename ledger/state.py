"""What the ledger keeps in the writer between transactions (one typed state).

- `accounts`: account identity by vp_id (row id, owner): never changes once written.
- `head`: the last entry's (id, ts, hash), so posting needs no query for it.
- The stage: balances and open flags read once per account and kept, the entries,
  balance changes and Idempotency-Key outcomes of this transaction not yet
  written. The writer calls `flush()` before COMMIT (one bulk write of entries,
  one of balances, one of outcomes): per transfer that saves the three statements
  a direct posting costs, and on PostgreSQL a round trip per keyed request.

Every command runs inside `attempt()`: a mark the stage returns to if the command
is refused, so a refusal leaves nothing staged either. The writer drops this
state after any rollback or another connection's commit (storage/writer.py).
"""

from __future__ import annotations

from typing import Any

from ledger import store
from ledger.accounts import Account, party, treasury_vp
from ledger.chain import GENESIS
from schemas.transactions import KINDS, Balances, Transaction
from storage.engine.writer import WriteContext
from storage.queries.outbox import Outbox

__all__ = ["LedgerState"]


class LedgerState:
    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx
        self.conn = ctx.conn
        self.accounts: dict[str, Account] = {}
        self.by_id: dict[int, Account] = {}  # written accounts, as entries name them
        self._head: tuple[int, int, bytes] | None = None
        self.balance: dict[int, int] = {}
        self.open: dict[int, bool] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.dirty: set[int] = set()
        self.journal: list[tuple[int, int]] = []  # (account, balance before), for undo
        self.marks = 0  # open marks: the journal is kept only while one may undo
        # Treasuries a command needs that have no row yet: a provisional (negative)
        # id until the flush inserts them, so a refused command never writes one.
        self.pending: list[Account] = []
        # Idempotency-Key outcomes kept in this transaction, not written yet:
        # (bot account, key) -> (body hash, status, response, created_at).
        self.kept: dict[tuple[int, str], tuple[bytes, int, bytes, float]] = {}
        # Stored outcomes read in this transaction, None for a key not stored; empty
        # until the batch's keys are read (ledger/idempotency.py).
        self.stored: dict[tuple[int, str], tuple[bytes, int, bytes] | None] = {}

    # -- accounts and head ----------------------------------------------------------------

    def account(self, vp_id: str) -> Account | None:
        found = self.accounts.get(vp_id)
        if found is None:
            found = store.account_by_vp(self.conn, vp_id)
            if found is not None:
                self.accounts[vp_id] = found
        return found

    def treasury(self, bot_id: str) -> Account:
        """The bot's treasury; a new one is written only if a command that uses it
        is accepted (at the flush)."""
        vp = treasury_vp(bot_id)
        found = self.account(vp)
        if found is None:
            found = Account(-1 - len(self.pending), vp, bot_id, None, None)
            self.pending.append(found)
            self.accounts[vp] = found
            self.balance[found.id] = 0
            self.open[found.id] = True
        return found

    def account_by_id(self, account_id: int) -> Account:
        found = self.by_id.get(account_id)
        if found is None:
            for provisional in self.pending:
                if provisional.id == account_id:
                    return provisional
            found = store.account_by_id(self.conn, account_id)
            found = self.by_id[account_id] = self.accounts.setdefault(found.vp_id, found)
        return found

    def entry(self, entry_id: int) -> tuple[Any, ...] | None:
        """A ledger row by id, staged or written."""
        if self.rows and entry_id >= self.rows[0][0]:
            index = entry_id - self.rows[0][0]
            return self.rows[index] if index < len(self.rows) else None
        return store.entry(self.conn, entry_id)

    def transactions(self, first: int, last: int) -> list[Transaction]:
        """Entries `first`…`last` (staged or written) as the API shows them."""
        staged_from = self.rows[0][0] if self.rows else last + 1
        rows = store.entries_between(self.conn, first, min(last, staged_from - 1))
        rows += [r for r in self.rows if first <= r[0] <= last]
        return [self.transaction(row) for row in rows]

    def transaction(self, row: tuple[Any, ...]) -> Transaction:
        eid, kind, ts, src, dst, amount, src_balance, dst_balance, bot, reason, reverts = row[:11]
        return Transaction(
            eid,
            KINDS[kind],
            ts / 1000,
            party(self.account_by_id(src)),
            party(self.account_by_id(dst)),
            amount,
            reason,
            self.account_by_id(bot).bot_id or "",
            Balances(src_balance, dst_balance),
            reverts,
        )

    def reverted_by(self, entry_id: int) -> int | None:
        for row in reversed(self.rows):
            if row[10] == entry_id:
                return int(row[0])
        return store.reverted_by(self.conn, entry_id)

    def head(self) -> tuple[int, int, bytes]:
        if self._head is None:
            self._head = store.head(self.conn) or (0, 0, GENESIS)
        return self._head

    def set_head(self, head: tuple[int, int, bytes]) -> None:
        self._head = head

    # -- balances ---------------------------------------------------------------------------

    def load(self, account_id: int) -> int:
        balance = self.balance.get(account_id)
        if balance is None:
            balance, is_open = store.balance_and_open(self.conn, account_id)
            self.balance[account_id] = balance
            self.open[account_id] = is_open
        return balance

    def is_open(self, account: Account) -> bool:
        if account.bot_id is not None:  # a treasury
            return True
        found = self.open.get(account.id)
        if found is None:
            self.load(account.id)
            found = self.open[account.id]
        return found

    def set(self, account_id: int, balance: int) -> None:
        if self.marks:
            self.journal.append((account_id, self.balance[account_id]))
        self.balance[account_id] = balance
        self.dirty.add(account_id)

    def know(self, account: Account, balance: int, is_open: bool) -> None:
        """An account a command read itself (an import reads a whole guild in one
        query): remembered as `account` would have, a staged balance kept."""
        self.accounts.setdefault(account.vp_id, account)
        self.balance.setdefault(account.id, balance)
        self.open[account.id] = is_open

    def opened(self, account_id: int, is_open: bool) -> None:
        """A profile was opened or closed by a direct write: remember it."""
        if account_id in self.open:
            self.open[account_id] = is_open

    # -- marks ------------------------------------------------------------------------------

    def attempt(self) -> _Attempt:
        """Return to this point if the body raises (a refused command or array):
        `with state.attempt(): ...`. A class, not a generator context manager: every
        command opens one, and the generator's machinery cost a tenth of a transfer's
        CPU in the writer (py-spy, benchmarks/bench_ledger.py)."""
        return _Attempt(self)

    def mark(self) -> tuple[int, int, tuple[int, int, bytes] | None, int, int, int]:
        self.marks += 1
        return (
            len(self.rows),
            len(self.journal),
            self._head,
            len(self.pending),
            len(self.ctx.state(Outbox).rows),
            len(self.kept),
        )

    def undo(self, mark: tuple[int, int, tuple[int, int, bytes] | None, int, int, int]) -> None:
        rows, journal, head, pending, emitted, kept = mark
        while len(self.kept) > kept:
            self.kept.popitem()  # the last kept first
        del self.ctx.state(Outbox).rows[emitted:]
        while len(self.journal) > journal:
            account_id, before = self.journal.pop()
            self.balance[account_id] = before
        del self.rows[rows:]
        self._head = head
        for account in self.pending[pending:]:
            del self.accounts[account.vp_id]
            del self.balance[account.id], self.open[account.id]
            self.dirty.discard(account.id)
        del self.pending[pending:]

    def release(self) -> None:
        self.marks -= 1
        if not self.marks:
            self.journal.clear()

    def flush(self) -> None:
        # Flushes happen between commands; inside a mark, undo could not reach the rows.
        assert not self.marks, "flush inside an open mark"
        self.write_pending()
        if self.rows:
            store.insert_entries(self.conn, self.rows)
            self.rows.clear()
        if self.dirty:
            balance = self.balance
            store.set_balances(self.conn, [(balance[a], a) for a in self.dirty])
            self.dirty.clear()
        if self.kept:
            store.keep_outcomes(self.conn, [(*k, *v) for k, v in self.kept.items()])
            self.kept.clear()
        # What was read is true only inside this transaction: other writers may
        # store keys before the next one.
        self.stored.clear()

    def write_pending(self) -> None:
        """Write the new treasuries and give their entries and balances the real ids."""
        if not self.pending:
            return
        real: dict[int, int] = {}
        for provisional in self.pending:
            assert provisional.bot_id is not None
            store.insert_treasury(self.conn, provisional.vp_id, provisional.bot_id)
            account = store.account_by_vp(self.conn, provisional.vp_id)
            assert account is not None
            real[provisional.id] = account.id
            self.accounts[account.vp_id] = account
            self.balance[account.id] = self.balance.pop(provisional.id)
            self.open[account.id] = self.open.pop(provisional.id)
            if provisional.id in self.dirty:
                self.dirty.discard(provisional.id)
                self.dirty.add(account.id)
        self.pending.clear()
        get = real.get
        self.rows = [
            (*r[:3], get(r[3], r[3]), get(r[4], r[4]), *r[5:8], get(r[8], r[8]), *r[9:])
            for r in self.rows
        ]


class _Attempt:
    """One open mark of `LedgerState.attempt()`."""

    __slots__ = ("mark", "state")

    def __init__(self, state: LedgerState) -> None:
        self.state = state

    def __enter__(self) -> None:
        self.mark = self.state.mark()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is not None:
                self.state.undo(self.mark)
        finally:
            self.state.release()
