"""The baseline that benchmarks/bench_http.py measures single transfers against (issue
13: ">= 15x the typical FastAPI+SQLAlchemy commit-per-request implementation").

What a typical developer writes: FastAPI, SQLAlchemy 2.x ORM on SQLite with the same
durability as the server (WAL, synchronous=FULL), a sync endpoint with one session
per request from a dependency, balance check, both balances updated through the ORM,
a ledger row added, one COMMIT per request; served by uvicorn with one worker. It
takes the same single-transfer body as `POST /transaction` with vp ids:
`{"from", "to", "amount", "reason"}`, and an `Authorization` key.

One choice goes beyond the naive version: each transaction starts with
`BEGIN IMMEDIATE` (SQLAlchemy's documented pysqlite recipe). Without it pysqlite
reads the balances outside any transaction and the ORM writes back absolute values,
so two concurrent transfers touching one account lose an update: money appears or
vanishes. A baseline that is not correct would not be a fair one.

    TYPICAL_DB=/tmp/t.db TYPICAL_KEY=secret uvicorn --factory \\
        benchmarks.typical_fastapi:app_from_env --workers 1
"""

# No `from __future__ import annotations`: FastAPI reads the endpoint's annotations,
# which name the dependencies defined inside create_app, when the route is declared.
import os
import secrets
import time
from collections.abc import Iterable, Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, ForeignKey, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    balance: Mapped[int] = mapped_column(default=0)


class LedgerEntry(Base):
    __tablename__ = "ledger"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    timestamp: Mapped[float]
    from_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    to_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200), default="")


class TransferIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    from_: str = Field(alias="from", min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64)
    amount: int = Field(ge=1)
    reason: str = Field(default="", max_length=200)


class TransactionOut(BaseModel):
    id: int
    kind: str = "transfer"
    timestamp: float
    from_: str = Field(serialization_alias="from")
    to: str
    amount: int
    reason: str
    balances: dict[str, int]


def make_engine(path: str) -> Engine:
    # A writer waits up to 30 s for the lock rather than failing at once.
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # SQLAlchemy's recipe: pysqlite opens no transactions of its own...
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    @event.listens_for(engine, "begin")
    def _begin(connection):  # type: ignore[no-untyped-def]
        # ...and each one takes the write lock before the balances are read.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def seed(path: str, balances: Iterable[tuple[str, int]]) -> None:
    """Create the tables and the funded accounts (what a migration and a signup would)."""
    engine = make_engine(path)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Account(id=i, balance=b) for i, b in balances)
        session.commit()
    engine.dispose()


def create_app(db_path: str, api_key: str) -> FastAPI:
    engine = make_engine(db_path)
    session_factory = sessionmaker(engine, expire_on_commit=False)
    app = FastAPI(title="typical transfers")
    app.state.engine = engine  # for whoever closes it

    def get_db() -> Iterator[Session]:
        with session_factory() as session:
            yield session

    def check_key(authorization: Annotated[str, Header()] = "") -> None:
        if not secrets.compare_digest(authorization.encode(), api_key.encode()):
            raise HTTPException(401, "invalid key")

    @app.post("/transaction", status_code=201, response_model_by_alias=True)
    def create_transaction(
        body: TransferIn,
        db: Annotated[Session, Depends(get_db)],
        _key: Annotated[None, Depends(check_key)],
    ) -> TransactionOut:
        if body.from_ == body.to:
            raise HTTPException(422, "sender and receiver are the same")
        sender = db.get(Account, body.from_)
        if sender is None:
            raise HTTPException(404, "unknown sender")
        receiver = db.get(Account, body.to)
        if receiver is None:
            raise HTTPException(404, "unknown receiver")
        if sender.balance < body.amount:
            raise HTTPException(409, f"insufficient funds: balance {sender.balance}")
        sender.balance -= body.amount
        receiver.balance += body.amount
        entry = LedgerEntry(
            timestamp=time.time(),
            from_id=sender.id,
            to_id=receiver.id,
            amount=body.amount,
            reason=body.reason,
        )
        db.add(entry)
        db.commit()
        return TransactionOut(
            id=entry.id,
            timestamp=entry.timestamp,
            from_=sender.id,
            to=receiver.id,
            amount=entry.amount,
            reason=entry.reason,
            balances={"from": sender.balance, "to": receiver.balance},
        )

    return app


def app_from_env() -> FastAPI:
    """The uvicorn `--factory` entry: database path and key from the environment."""
    return create_app(os.environ["TYPICAL_DB"], os.environ["TYPICAL_KEY"])
