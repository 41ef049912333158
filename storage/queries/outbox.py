"""The outbox: events written in the same transaction as the change they report.

`emit` runs inside a writer task. It costs one set lookup when no bot listens to
the event (the registered (bot, event) pairs are kept in the writer's `Outbox`
state, which a rollback drops and the callback writes below refresh); the events
are written together before COMMIT. The delivery worker (app/delivery.py) reads
pending rows through the readers and only writes small status updates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from storage.engine.base import Conn
from storage.engine.writer import WriteContext

__all__ = [
    "EVENTS",
    "Outbox",
    "delete_callback",
    "due",
    "emit",
    "emit_transaction",
    "list_callbacks",
    "mark",
    "next_due",
    "put_callback",
    "wakers",
]

EVENTS = (
    "transaction",
    "profile.create",
    "profile.reset",
    "profile.delete",
    "reputation",
    "purchase",
    "reward",
    "season.end",
)
_encode = msgspec.json.encode
_COLUMNS = ("bot_id", "event", "body", "created_at", "next_at")

# Called (from the writer thread) after a commit that wrote outbox rows, so the
# delivery worker starts at once instead of at its next poll.
wakers: list[Callable[[], None]] = []


def _wake() -> None:
    for wake in wakers:
        wake()


class Outbox:
    """The writer's outbox state: which (bot, event) pairs have a callback, and the
    events of this transaction, written together before COMMIT. A refused command
    takes its events back (`truncate`), so an event exists exactly when its change
    was committed."""

    def __init__(self, ctx: WriteContext) -> None:
        self.ctx = ctx
        self.listeners = {
            (bot, event) for bot, event in ctx.conn.execute("SELECT bot_id, event FROM callbacks")
        }
        self.rows: list[tuple[str, str, bytes, float, float]] = []

    def emit(self, bot_ids: str | Iterable[str], event: str, data: Any) -> None:
        """Record `event` with `data` for each of `bot_ids` that has a callback for it."""
        if not self.listeners:
            return
        bots = (bot_ids,) if isinstance(bot_ids, str) else dict.fromkeys(bot_ids)
        now = None
        for bot in bots:
            if (bot, event) not in self.listeners:
                continue
            if now is None:
                now = self.ctx.clock.now()
                body = _encode({"event": event, "timestamp": round(now, 3), "data": data})
            self.rows.append((bot, event, body, now, now))

    def flush(self) -> None:
        if self.rows:
            self.ctx.conn.insert_many("outbox", _COLUMNS, self.rows)
            self.rows.clear()
            if _wake not in self.ctx.after_commit:
                self.ctx.after_commit.append(_wake)


def emit(ctx: WriteContext, bot_ids: str | Iterable[str], event: str, data: Any) -> None:
    ctx.state(Outbox).emit(bot_ids, event, data)


def emit_transaction(ctx: WriteContext, tx: Any) -> None:
    """A ledger entry goes to the performing bot and to any bot whose treasury is a side."""
    outbox = ctx.state(Outbox)
    if outbox.listeners:
        bots = (tx.bot_id, tx.from_.bot_id, tx.to.bot_id)
        outbox.emit([b for b in bots if b], "transaction", tx)


# -- callbacks (write tasks and reads) --------------------------------------------------


def put_callback(ctx: WriteContext, row: tuple[str, str, str, str]) -> float:
    bot_id, event, url, secret = row
    now = ctx.clock.now()
    ctx.conn.execute(
        "INSERT INTO callbacks (bot_id, event, url, secret, created_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (bot_id, event) DO UPDATE SET url = excluded.url,"
        " secret = excluded.secret, created_at = excluded.created_at",
        (bot_id, event, url, secret, now),
    )
    ctx.reset_state(Outbox)
    return now


def delete_callback(ctx: WriteContext, key: tuple[str, str]) -> bool:
    gone = ctx.conn.execute("DELETE FROM callbacks WHERE bot_id = ? AND event = ?", key).rowcount
    # Events no longer wanted are not delivered: close them as given up.
    ctx.conn.execute(
        "UPDATE outbox SET done_at = ?, error = 'callback deleted'"
        " WHERE bot_id = ? AND event = ? AND done_at IS NULL",
        (ctx.clock.now(), *key),
    )
    ctx.reset_state(Outbox)
    return bool(gone)


def list_callbacks(
    conn: Conn, bot_id: str, event: str | None = None
) -> list[tuple[str, str, float]]:
    """(event, url, created_at) of the bot's callbacks, by event."""
    sql = "SELECT event, url, created_at FROM callbacks WHERE bot_id = ?"
    params: tuple[str, ...] = (bot_id,)
    if event is not None:
        sql += " AND event = ?"
        params = (bot_id, event)
    return [tuple(r) for r in conn.execute(sql + " ORDER BY event", params)]  # type: ignore[misc]


# -- delivery ---------------------------------------------------------------------------


def due(conn: Conn, now: float, per_callback: int) -> list[tuple]:
    """The oldest `per_callback` due events of each callback, oldest first overall:
    (id, attempts, body, bot_id, event, url, secret). Taking a few per callback
    (not the oldest N overall) lets a backlog behind one stuck receiver leave the
    others' events visible."""
    return conn.execute(
        "SELECT o.id, o.attempts, o.body, c.bot_id, c.event, c.url, c.secret"
        " FROM callbacks c JOIN outbox o ON o.id IN ("
        "  SELECT id FROM outbox WHERE bot_id = c.bot_id AND event = c.event"
        "  AND done_at IS NULL AND next_at <= ? ORDER BY next_at, id LIMIT ?)"
        " ORDER BY o.next_at, o.id",
        (now, per_callback),
    ).fetchall()


def pending_count(conn: Conn) -> int:
    """Events not yet delivered nor given up."""
    return int(conn.execute("SELECT count(*) FROM outbox WHERE done_at IS NULL").fetchone()[0])


def next_due(conn: Conn, after: float) -> float | None:
    """When the next event not yet due (next_at > `after`) becomes due."""
    row = conn.execute(
        "SELECT min(next_at) FROM outbox WHERE done_at IS NULL AND next_at > ?", (after,)
    ).fetchone()
    return None if row is None else row[0]


def mark(ctx: WriteContext, results: list[tuple[int, bool, int, float | None, str | None]]) -> None:
    """Record attempts: (id, delivered, attempts, next_at or None to give up, error)."""
    now = ctx.clock.now()
    for outbox_id, delivered, attempts, next_at, error in results:
        if delivered:
            ctx.conn.execute(
                "UPDATE outbox SET done_at = ?, delivered = 1, attempts = ?, error = NULL"
                " WHERE id = ?",
                (now, attempts, outbox_id),
            )
        elif next_at is None:
            ctx.conn.execute(
                "UPDATE outbox SET done_at = ?, attempts = ?, error = ?"
                " WHERE id = ? AND done_at IS NULL",
                (now, attempts, error, outbox_id),
            )
        else:
            ctx.conn.execute(
                # Not if the callback was deleted meanwhile (that closed the row).
                "UPDATE outbox SET attempts = ?, next_at = ?, error = ?"
                " WHERE id = ? AND done_at IS NULL",
                (attempts, next_at, error, outbox_id),
            )


def prune(ctx: WriteContext, older: tuple[float, int]) -> int:
    """Forget at most `limit` finished rows done before `older_than` (epoch seconds),
    `older` = (older_than, limit): a bounded DELETE, so a day of events at a high
    rate never makes one long write transaction; the caller repeats while it is full."""
    older_than, limit = older
    return int(
        ctx.conn.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE done_at IS NOT NULL"
            " AND done_at < ? ORDER BY done_at LIMIT ?)",
            (older_than, limit),
        ).rowcount
    )
