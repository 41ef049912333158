"""Moving an install between SQLite and PostgreSQL (SPEC §11) with the real CLI:
`voiceprofile export` from one, `import` into a just-created database of the other,
`ledger verify` on each, and the same file byte for byte on the way back; one schema,
values keeping their type, and the refusals. The README's move, run as written, is in
test_move_backends_readme.py.

Both engines take part on either test run: the PostgreSQL databases come from the
run's own cluster (tests/backend.py `postgres_url`), so nothing here skips."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from storage.engine import open_engine
from storage.engine.migrations import apply_migrations
from tests import backend
from tests.move_helpers import STATE, _cli, _export, _move, _populate, _verify


@pytest.mark.parametrize("start", ["sqlite", "postgres"])
def test_move_to_the_other_engine_and_back(tmp_path: Path, start: str) -> None:
    """SQLite -> PostgreSQL -> SQLite, and PostgreSQL -> SQLite -> PostgreSQL: each
    database verifies, each export is the first one byte for byte, and the moved
    database keeps serving (new rows get new ids)."""
    made = {"sqlite": lambda path: path, "postgres": backend.postgres_url}
    there = "postgres" if start == "sqlite" else "sqlite"
    source = made[start](tmp_path / "source.db")
    middle = made[there](tmp_path / "middle.db")
    back = made[start](tmp_path / "back.db")
    _populate(source, 1)
    first, second, third = (tmp_path / f"{x}.jsonl" for x in ("first", "second", "third"))
    head = _verify(source).splitlines()[-1]
    summary = _export(source, first)
    assert summary["accounts"] == 6  # 4 members + 2 treasuries
    rows = [json.loads(x) for x in first.read_text().splitlines() if x.startswith('{"type":"row"')]
    assert {r["table"] for r in rows} == STATE  # every table a move carries had rows

    assert _move(first, middle)["lines"] == summary["lines"]
    assert _verify(middle).splitlines()[-1] == head  # the same chain, to the same head
    _export(middle, second)
    assert second.read_bytes() == first.read_bytes()

    _move(second, back)
    assert _verify(back).splitlines()[-1] == head
    _export(back, third)
    assert third.read_bytes() == first.read_bytes()

    # The moved database is a working one: a second round of everything writes rows
    # after the imported ones (PostgreSQL's identity sequences were moved past them).
    _populate(middle, 2)
    assert not _verify(middle).endswith(head + "\n")
    _populate(back, 2)
    _verify(back)


def test_both_engines_have_one_schema(tmp_path: Path) -> None:
    """What lets a file come back byte for byte: every table has the same columns in
    the same order (a row's values are written in column order) and the same
    primary key (its rows' order) on both engines. A migration whose twins in
    storage/engine/sql/ drift apart fails here."""
    shapes = []
    for db in (tmp_path / "s.db", backend.postgres_url(tmp_path / "p.db")):
        engine = open_engine(db)
        conn = engine.connect()
        try:
            apply_migrations(conn)
            shapes.append(
                {
                    t: (engine.columns(conn, t), engine.primary_key(conn, t))
                    for t in engine.tables(conn)
                }
            )
        finally:
            conn.close()
    assert shapes[0] == shapes[1]


def test_values_keep_their_type(tmp_path: Path) -> None:
    """Whole numbers in REAL columns stay floats, integers stay integers, NULLs stay
    null and BLOBs stay hex, through PostgreSQL's types (double precision, bigint,
    bytea) and back; columns another migration added travel in `extra`."""
    source, dump, again = tmp_path / "source.db", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _populate(source, 1)
    url = backend.postgres_url(tmp_path / "pg.db")
    sqlite_types = {"score": "REAL", "tag": "BLOB", "count": "INTEGER"}
    pg_types = {"score": "DOUBLE PRECISION", "tag": "BYTEA", "count": "BIGINT"}
    for db, types in ((source, sqlite_types), (url, pg_types)):
        conn = open_engine(db).connect()
        apply_migrations(conn)
        for column, kind in types.items():
            conn.execute(f'ALTER TABLE accounts ADD COLUMN "{column}" {kind}')
        conn.close()
    raw = sqlite3.connect(source)
    raw.execute("UPDATE accounts SET score = 2, tag = x'00ff10', count = 7 WHERE id = 1")
    raw.execute("UPDATE accounts SET score = 0.1, count = 0 WHERE id = 2")
    raw.commit()
    raw.close()
    _export(source, dump)
    accounts = [json.loads(x) for x in dump.read_text().splitlines() if '"account"' in x]
    assert accounts[0]["extra"] == {"score": 2.0, "tag": {"hex": "00ff10"}, "count": 7}
    assert accounts[1]["extra"] == {"score": 0.1, "tag": None, "count": 0}
    assert b'"score":2.0,' in dump.read_bytes()
    _move(dump, url)
    _export(url, again)
    assert again.read_bytes() == dump.read_bytes()


def test_replication_tables_are_not_exported(tmp_path: Path) -> None:
    """A SQLite file replicated by Litestream carries its bookkeeping tables: they
    are not state, so the export leaves them out and a PostgreSQL database (which
    has none) takes the file."""
    source, dump = tmp_path / "source.db", tmp_path / "dump.jsonl"
    _populate(source, 1)
    raw = sqlite3.connect(source)
    raw.execute("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
    raw.execute("CREATE TABLE _litestream_lock (id INTEGER)")
    raw.execute("INSERT INTO _litestream_seq VALUES (1, 42)")
    raw.execute("INSERT INTO _litestream_lock VALUES (1)")
    raw.commit()
    raw.close()
    summary = _export(source, dump)
    assert "_litestream" not in dump.read_text()
    url = backend.postgres_url(tmp_path / "pg.db")
    assert _move(dump, url)["rows"] == summary["rows"]
    _verify(url)


def test_import_into_a_database_with_data_is_refused(tmp_path: Path) -> None:
    source, dump = tmp_path / "source.db", tmp_path / "dump.jsonl"
    _populate(source, 1)
    _export(source, dump)
    url = backend.postgres_url(tmp_path / "pg.db")
    _move(dump, url)
    done = _cli("import", str(dump), db=url)
    assert done.returncode == 1 and "empty database" in done.stderr


def test_a_bad_value_names_its_line_on_postgresql(tmp_path: Path) -> None:
    """A value PostgreSQL's column refuses names its line in one line, and nothing
    is kept."""
    source, dump, bad = tmp_path / "source.db", tmp_path / "a.jsonl", tmp_path / "bad.jsonl"
    _populate(source, 1)
    _export(source, dump)
    lines = dump.read_text().splitlines()
    at = next(i for i, x in enumerate(lines) if '"table":"shop_items"' in x)
    row = json.loads(lines[at])
    row["values"]["price"] = "lots"
    lines[at] = json.dumps(row)
    bad.write_text("\n".join(lines) + "\n")
    url = backend.postgres_url(tmp_path / "pg.db")
    done = _cli("import", str(bad), db=url)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and f"line {at + 1}: " in done.stderr, done.stderr
    assert json.loads(done.stdout)["line"] == at + 1
    conn = open_engine(url).connect()
    try:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
    finally:
        conn.close()


def test_backup_of_postgresql_says_what_to_use(tmp_path: Path) -> None:
    url = backend.postgres_url(tmp_path / "pg.db")
    done = _cli("backup", str(tmp_path / "copy.db"), db=url)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "pg_dump" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written, not even a partial file
