"""`voiceprofile export` / `import` (SPEC §10): JSON Lines round trip, atomic import
that names the first bad line, and `ledger verify` passing on the result, on this
run's backend (tests/test_move_backends.py moves a database between the two)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.cli import main
from tests import backend
from tests.conftest import OTHER_BOT


@pytest.fixture
def economy(client: TestClient, auth: dict, make_key) -> None:
    """Some of everything: profiles with data, transfers, a revert, a reset, a delete,
    a second bot, a callback."""
    other = make_key(OTHER_BOT)
    body = {"voicepoints": 50, "data": {"nick": 'ä"b', "n": [1, 2]}, "timespent": {"c1": 5}}
    assert client.post("/profile/1/10", json=body, headers=auth).status_code == 201
    assert client.post("/profile/1/11", headers=auth).status_code == 201
    assert client.post("/profile/2/10", json={"voicepoints": 3}, headers=other).status_code == 201
    pay = {"from": {"guild_id": 1, "user_id": 10}, "to": {"guild_id": 1, "user_id": 11}}
    tx = client.post("/transaction", json={**pay, "amount": 7, "reason": "gift"}, headers=auth)
    assert tx.status_code == 201
    assert client.post(f"/transaction/{tx.json()['id']}/revert", headers=auth).status_code == 201
    assert client.post("/profile/1/11", json={"voicepoints": 2}, headers=auth).status_code == 200
    assert client.delete("/profile/2/10", headers=other).status_code == 204
    cb = {"url": "http://hooks.example.invalid/hook", "secret": "x"}  # never resolves
    assert client.put("/callback/transaction", json=cb, headers=auth).status_code == 200


def _db(path: Path) -> str:
    """`--db` for the test database named `path` on this run's backend."""
    return str(backend.target(path))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    return code, json.loads(lines[-1]) if lines else {}, err


def test_round_trip_is_identical_and_verifies(
    economy: None, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, copy = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "copy.db"
    code, summary, err = _run(capsys, "export", str(first), "--db", _db(db_path))
    assert code == 0, err
    assert err == ""  # piped: quiet, only the summary on stdout
    assert summary["accounts"] == 5  # 3 members + 2 treasuries
    assert summary["entries"] >= 6
    assert summary["rows"] >= 3  # keys and the callback
    code, summary, err = _run(capsys, "import", str(first), "--db", _db(copy))
    assert (code, summary["ok"]) == (0, True), err
    assert _run(capsys, "export", str(second), "--db", _db(copy))[0] == 0
    assert first.read_bytes() == second.read_bytes()
    code = main(["ledger", "verify", "--db", _db(copy)])
    assert code == 0, capsys.readouterr()
    # The imported database serves the same keys: a line of the export per key.
    kinds = [json.loads(line)["type"] for line in first.read_text().splitlines()]
    assert kinds[0] == "header" and kinds.count("row") == summary["rows"]


def test_import_refuses_a_database_with_data(
    economy: None, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "a.jsonl"
    assert _run(capsys, "export", str(dump), "--db", _db(db_path))[0] == 0
    code, _, err = _run(capsys, "import", str(dump), "--db", _db(db_path))
    assert code == 1 and "empty database" in err


def _edit(line: dict, change: str) -> dict:
    field, _, value = change.partition("=")
    line = dict(line)
    if value == "DEL":
        line.pop(field)
    else:
        line[field] = json.loads(value)
    return line


@pytest.mark.parametrize(
    ("kind", "nth", "change", "needle"),
    [
        ("header", 0, "version=2", "version"),
        ("account", 1, 'id="' + "0" * 64 + '"', "SHA-256"),
        ("account", 1, "balance=999", "balance"),
        ("account", 0, "surprise=1", "unknown field"),
        ("account", 2, 'guild_id="x"', "guild_id"),
        ("entry", 0, "amount=0", "amount"),
        ("entry", 1, "amount=1", "balances after"),
        ("entry", 1, 'reason="edited"', "hash"),
        ("entry", 2, "id=99", "should be"),
        ("entry", 0, 'src="' + "a" * 64 + '"', "unknown account"),
        ("row", 0, 'table="nope"', "no table"),
        ("row", 0, 'values={"nope": 1}', "no column"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    economy: None,
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    nth: int,
    change: str,
    needle: str,
) -> None:
    dump, bad, target = tmp_path / "a.jsonl", tmp_path / "bad.jsonl", tmp_path / "t.db"
    assert _run(capsys, "export", str(dump), "--db", _db(db_path))[0] == 0
    lines = [json.loads(x) for x in dump.read_text().splitlines()]
    positions = [i for i, line in enumerate(lines) if line["type"] == kind]
    at = positions[nth]
    lines[at] = _edit(lines[at], change)
    bad.write_text("".join(json.dumps(line) + "\n" for line in lines))
    code, summary, err = _run(capsys, "import", str(bad), "--db", _db(target))
    assert code == 1
    assert summary["line"] == at + 1, (summary, err)
    assert f"line {at + 1}" in err and needle in err, err
    conn = backend.connect(target)
    try:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == 0
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"", 1),
        (b"not json\n", 1),
        (b'{"type":"account"}\n', 1),
        (b'{"type":"header","format":"voiceprofile-export","version":1,"tables":[]}\n{\n', 2),
    ],
)
def test_garbage_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, line: int
) -> None:
    dump, target = tmp_path / "g.jsonl", tmp_path / "t.db"
    dump.write_bytes(content)
    code, summary, err = _run(capsys, "import", str(dump), "--db", _db(target))
    assert (code, summary["line"]) == (1, line), err


def test_import_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", str(tmp_path / "none.jsonl"), "--db", _db(tmp_path / "t.db")])
    assert code == 2
    assert "no file" in capsys.readouterr().err


def test_columns_other_areas_add_travel_too(
    economy: None, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A later migration may add columns to accounts or ledger: they are exported in
    `extra` and imported into a database that has them."""
    from storage.engine.migrations import apply_migrations

    def add_columns(path: Path) -> None:
        conn = backend.connect(path)
        apply_migrations(conn)
        conn.execute("ALTER TABLE accounts ADD COLUMN nickname TEXT")
        blob = "BYTEA" if conn.dialect.name == "postgres" else "BLOB"
        conn.execute(f"ALTER TABLE ledger ADD COLUMN tag {blob}")
        conn.close()

    add_columns(db_path)
    conn = backend.connect(db_path)
    conn.execute("UPDATE accounts SET nickname = 'zed' WHERE user_id IS NOT NULL")
    conn.close()
    first, second, copy = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.db"
    assert _run(capsys, "export", str(first), "--db", _db(db_path))[0] == 0
    accounts = [json.loads(x) for x in first.read_text().splitlines() if '"account"' in x]
    assert {a.get("extra", {}).get("nickname") for a in accounts} == {"zed", None}
    # Into a database without those columns: the first line that has one is named.
    code, summary, err = _run(capsys, "import", str(first), "--db", _db(tmp_path / "x.db"))
    assert code == 1 and "no column 'nickname'" in err
    assert summary["line"] == 2  # the first account
    add_columns(copy)
    code, _, err = _run(capsys, "import", str(first), "--db", _db(copy))
    assert code == 0, err
    assert _run(capsys, "export", str(second), "--db", _db(copy))[0] == 0
    assert first.read_bytes() == second.read_bytes()
