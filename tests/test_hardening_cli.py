"""The operator's commands on bad files and bad places: `import` names the bad line
(never a traceback), `backup` and `export` fail in one line and leave no partial
file."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.cli import main
from tests import backend
from tests.test_export import economy  # noqa: F401  (a fixture)

ROOT = Path(__file__).parent.parent
BIG = 2**63


def _cli(*argv: str, file_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process; `file_limit` caps the size of any file it writes,
    as a full disk would (Python ignores SIGXFSZ, so a write past it fails with
    EFBIG instead of killing the process; the limit holds for root too)."""

    def limit() -> None:
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# -- import ------------------------------------------------------------------------


def _export(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[bytes]:
    dump = tmp_path / "a.jsonl"
    assert main(["export", str(dump), "--db", str(backend.target(db_path))]) == 0
    capsys.readouterr()
    return dump.read_bytes().splitlines(keepends=True)


def _set(line: bytes, path: tuple[str, ...], value: object) -> bytes:
    obj = json.loads(line)
    node = obj
    for name in path[:-1]:
        node = node.setdefault(name, {})
    node[path[-1]] = value
    return json.dumps(obj).encode() + b"\n"


def _not_utf8(line: bytes) -> bytes:
    """A byte that cannot start a UTF-8 sequence, at the end of the line's last string."""
    at = line.rindex(b'"')
    return line[:at] + b"\xff" + line[at:]


def _line_of(lines: list[bytes], kind: str) -> int:
    if kind == "gift":
        return next(i for i, line in enumerate(lines) if b'"reason":"gift"' in line)
    return next(i for i, line in enumerate(lines) if json.loads(line)["type"] == kind)


@pytest.mark.parametrize(
    ("kind", "change", "needle"),
    [
        ("header", _not_utf8, "UTF-8"),
        ("account", _not_utf8, "UTF-8"),
        ("gift", lambda line: line.replace(b'"gift"', b'"gi\xe9ft"'), "UTF-8"),
        ("row", _not_utf8, "UTF-8"),
        ("account", lambda line: _set(line, ("row",), BIG), "row"),
        ("gift", lambda line: _set(line, ("reverts",), BIG), "reverts"),
        ("gift", lambda line: _set(line, ("id",), 2**64), "id"),
        ("row", lambda line: _set(line, ("values", "id"), BIG), "2^63"),
        ("row", lambda line: _set(line, ("values", "id"), -(2**63) - 1), "2^63"),
    ],
)
def test_import_names_the_line_of_bad_bytes_and_huge_integers(
    economy: None,  # noqa: F811
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    change,  # type: ignore[no-untyped-def]
    needle: str,
) -> None:
    lines = _export(db_path, tmp_path, capsys)
    at = _line_of(lines, kind)
    lines[at] = change(lines[at])
    bad, target = tmp_path / "bad.jsonl", tmp_path / "t.db"
    bad.write_bytes(b"".join(lines))
    code = main(["import", str(bad), "--db", str(backend.target(target))])
    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out.splitlines()[-1])["line"] == at + 1, err
    assert err.startswith(f"{bad}: line {at + 1}: ") and needle in err, err
    conn = backend.connect(target)
    try:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0
    finally:
        conn.close()


# -- backup and export ---------------------------------------------------------------


def _filled(db_path: Path, client: TestClient, mib: int) -> None:
    """A database of about `mib` MiB (random bytes: an export does not shrink them)."""
    conn = backend.connect(db_path)
    conn.execute(f"CREATE TABLE filler (x {'BYTEA' if backend.POSTGRES else 'BLOB'})")
    conn.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(65536),)] * (16 * mib))
    conn.close()


# `backup` copies a SQLite file (SQLite's backup API); on PostgreSQL it only says so.
BACKUP = pytest.param("backup", marks=pytest.mark.sqlite_only)


@pytest.mark.parametrize("command", [BACKUP, "export"])
def test_onto_a_directory_is_one_line_and_leaves_nothing(
    client: TestClient, db_path: Path, tmp_path: Path, command: str
) -> None:
    target = tmp_path / "out"
    (target / "inside").mkdir(parents=True)
    done = _cli(command, str(target), "--db", str(backend.target(db_path)))
    line = _one_line_error(done)
    assert line.startswith(f"{command} failed: ") and "directory" in line, line
    assert not list(tmp_path.glob(".*partial"))
    assert [p.name for p in target.iterdir()] == ["inside"]


@pytest.mark.parametrize("command", [BACKUP, "export"])
def test_a_full_disk_is_one_line_and_leaves_nothing(
    client: TestClient, db_path: Path, tmp_path: Path, command: str
) -> None:
    _filled(db_path, client, mib=2)
    out = tmp_path / "copies"
    out.mkdir()
    done = _cli(
        command, str(out / "copy"), "--db", str(backend.target(db_path)), file_limit=512 * 1024
    )
    assert _one_line_error(done).startswith(f"{command} failed: ")
    assert list(out.iterdir()) == []
    assert done.stdout == ""


@pytest.mark.sqlite_only  # the SQLite backup API's target
def test_backup_into_a_missing_directory_under_a_file(
    client: TestClient, db_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("x")
    done = _cli("backup", str(tmp_path / "file" / "copy.db"), "--db", str(db_path))
    _one_line_error(done)


# -- a --db that cannot be a database -------------------------------------------------

DB_COMMANDS = [
    ["serve", "--port", "1"],
    ["keys", "create", "--name", "n", "--bot-id", "1"],
    ["keys", "list"],
    ["ledger", "verify"],
    ["backup", "{tmp}/copy.db"],
    ["export", "{tmp}/out.jsonl"],
    ["import", "{tmp}/in.jsonl"],
]


@pytest.mark.parametrize("where", ["a-directory", "under-a-file"])
@pytest.mark.parametrize("argv", DB_COMMANDS, ids=[" ".join(a[:2]) for a in DB_COMMANDS])
def test_a_db_path_that_cannot_be_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], where: str
) -> None:
    """sqlite's "unable to open database file" came out of serve, keys and import as
    a traceback; every command now says why in one line, before it starts."""
    (tmp_path / "in.jsonl").write_text('{"type": "header"}\n')
    (tmp_path / "file").write_text("x")
    db = tmp_path / "dir" if where == "a-directory" else tmp_path / "file" / "x.db"
    (tmp_path / "dir").mkdir()
    args = [a.format(tmp=tmp_path) for a in argv]
    assert main([*args, "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(db) in err[0], err
    assert "directory" in err[0] if where == "a-directory" else "is a file" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file", "in.jsonl"]
    assert list((tmp_path / "dir").iterdir()) == []
