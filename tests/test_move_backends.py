"""Moving an install between SQLite and PostgreSQL (SPEC §11) with the real CLI:
`voiceprofile export` from one, `import` into a just-created database of the other,
`ledger verify` on each, and the same file byte for byte on the way back.

Both engines take part on either test run: the PostgreSQL databases come from the
run's own cluster (tests/backend.py `postgres_url`), so nothing here skips.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.engine import open_engine
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend, pg_cluster
from tests.conftest import BOT, OTHER_BOT, start_server

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


def _readme_blocks() -> list[str]:
    """The two ```sh blocks of the README's "Moving to PostgreSQL", lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### Moving to PostgreSQL") :].split("\n### ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)


@pytest.mark.server
def test_the_readme_move_runs_as_written(tmp_path: Path) -> None:
    """The README's steps, run as an operator would (the host is the test's cluster,
    `voiceprofile` the server's role): createdb, import, verify, cmp, and back. The
    `serve` lines are the one thing not run as written (port 8000 may be taken): the
    server is started on the moved database instead and answers with an old key."""
    pg = backend.cluster()
    data = tmp_path / "data"
    data.mkdir()
    key = _populate(data / "voiceprofile.db", 1)
    where = f"127.0.0.1:{pg.port}"
    with pg.admin() as admin:
        admin.execute("DROP DATABASE IF EXISTS voiceprofile WITH (FORCE)")
        admin.execute("DROP ROLE IF EXISTS voiceprofile")
        admin.execute("CREATE ROLE voiceprofile LOGIN")  # not a superuser
    script, serves = ["set -eu"], []
    for command in "\n".join(_readme_blocks()).splitlines():
        command = command.replace(".venv/bin/voiceprofile", f"{sys.executable} -m app.cli")
        command = command.replace("createdb ", f"{pg_cluster.bin_dir() / 'createdb'} ")
        command = command.replace("-h db.example.org", f"-h 127.0.0.1 -p {pg.port}")
        command = command.replace("db.example.org", where)
        if "-m app.cli serve" in command:
            serves.append(command)
            continue
        script.append(command)
    try:
        done = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        heads = [x for x in done.stdout.splitlines() if x.startswith("head: ")]
        assert len(heads) == 3 and len(set(heads)) == 1, done.stdout  # file, PG, back
        assert len(serves) == 2 and 'VOICEPROFILE_DB="$PG"' in serves[0]
        url = f"postgresql://voiceprofile@{where}/voiceprofile"
        server = start_server(url, tmp_path / "serve.log")  # type: ignore[arg-type]
        try:
            with server.client(key["Authorization"]) as c:
                r = c.get("/profile/101/10")
            assert r.status_code == 200, r.text
        finally:
            server.stop()
    finally:
        with pg.admin() as admin:
            admin.execute("DROP DATABASE IF EXISTS voiceprofile WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS voiceprofile")
