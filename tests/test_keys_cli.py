"""`voiceprofile keys create|list|revoke` (SPEC §3) as a script would run them."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.queries import keys

ROOT = Path(__file__).parent.parent
KEY = re.compile(r"vps_[A-Za-z0-9_-]{43}")


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VOICEPROFILE_")}
    # `-m` from the repository root: this checkout's code, wherever the test runs.
    base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=60,
    )


def create(db: Path, *extra: str, name: str = "n", bot: str = "1") -> str:
    done = cli("keys", "create", "--name", name, "--bot-id", bot, *extra, "--db", str(db))
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def app_client(db_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(db=db_path, key_cache_seconds=0.0))) as c:
        yield c


def test_create_prints_only_the_key_on_stdout(db_path: Path) -> None:
    done = cli(
        "keys", "create", "--name", "mybot", "--bot-id", "123456789012345678", "--db", str(db_path)
    )
    assert done.returncode == 0, done.stderr
    assert KEY.fullmatch(done.stdout.rstrip("\n")), done.stdout  # KEY=$(...) gets just the key
    assert done.stdout.count("\n") == 1
    assert "created key 1 'mybot' for bot 123456789012345678" in done.stderr
    assert done.stdout.strip() not in done.stderr


def test_the_created_key_works_on_the_server(db_path: Path, app_client: TestClient) -> None:
    secret = create(db_path, "--scope", "profiles:read", bot="42").strip()
    me = app_client.get("/auth/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert (me["bot_id"], me["scopes"]) == ("42", ["profiles:read"])
    r = app_client.post("/profile/1/2", headers={"Authorization": secret})
    assert r.json()["message"] == "missing scope profiles:write"


@pytest.mark.parametrize(
    ("extra", "scopes"),
    [
        ((), keys.DEFAULT_SCOPES),
        (("--admin",), keys.SCOPES),
        (("--scope", "ledger:read", "--scope", "profiles:read"), ("profiles:read", "ledger:read")),
        (("--scope", "settings", "--admin"), ("settings", "admin")),
    ],
)
def test_create_scopes(db_path: Path, extra: tuple[str, ...], scopes: tuple[str, ...]) -> None:
    secret = create(db_path, *extra).strip()
    conn = sqlite3.connect(db_path)
    info = keys.lookup(conn, secret)
    conn.close()
    assert info is not None and info.scopes == scopes


@pytest.mark.parametrize(
    "args",
    [
        ("--name", "n", "--bot-id", "abc"),
        ("--name", "n", "--bot-id", "1" * 21),
        ("--name", "n", "--bot-id", str(2**64)),
        ("--name", "n", "--bot-id", "-1"),
        ("--name", "n", "--bot-id", "１２"),
        ("--name", "n", "--bot-id", ""),
        ("--name", "n", "--bot-id", "1", "--scope", "root"),
        ("--name", "n", "--bot-id", "1", "--scope", "admin", "--scope", "everything"),
        ("--name", "", "--bot-id", "1"),
        ("--bot-id", "1"),
        ("--name", "n"),
    ],
)
def test_invalid_create_exits_2_and_creates_nothing(db_path: Path, args: tuple[str, ...]) -> None:
    done = cli("keys", "create", *args, "--db", str(db_path))
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr.strip()
    if db_path.exists():
        conn = sqlite3.connect(db_path)
        assert conn.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 0
        conn.close()


def test_list_never_prints_secrets_and_revoke_stops_a_key(
    db_path: Path, app_client: TestClient
) -> None:
    first = create(db_path, name="first").strip()
    second = create(db_path, name="second", bot="77").strip()
    listed = cli("keys", "list", "--db", str(db_path))
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t") == ["id", "name", "bot_id", "scopes", "state"]
    assert [line.split("\t")[1:3] for line in lines[1:]] == [["first", "1"], ["second", "77"]]
    for secret in (first, second):
        assert secret not in listed.stdout + listed.stderr
        assert secret[4:12] not in listed.stdout

    done = cli("keys", "revoke", "2", "--db", str(db_path))
    assert (done.returncode, done.stdout) == (0, "")
    assert "revoked key 2 'second'" in done.stderr
    assert cli("keys", "list", "--db", str(db_path)).stdout.splitlines()[2].endswith("\trevoked")
    assert app_client.get("/auth/me", headers={"Authorization": second}).status_code == 401
    assert app_client.get("/auth/me", headers={"Authorization": first}).status_code == 200


@pytest.mark.parametrize(("key_id", "code"), [("99", 1), (str(2**70), 1), ("abc", 2)])
def test_revoke_of_an_unknown_id(db_path: Path, key_id: str, code: int) -> None:
    create(db_path)
    done = cli("keys", "revoke", key_id, "--db", str(db_path))
    assert done.returncode == code
    assert "Traceback" not in done.stderr


def test_the_environment_variable_names_the_database_and_db_wins(tmp_path: Path) -> None:
    from_env, from_option = tmp_path / "env.db", tmp_path / "option.db"
    env = {"VOICEPROFILE_DB": str(from_env)}
    done = cli("keys", "create", "--name", "via-env", "--bot-id", "1", env=env)
    assert done.returncode == 0, done.stderr
    done = cli(
        "keys", "create", "--name", "via-option", "--bot-id", "1", "--db", str(from_option), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "via-env" in cli("keys", "list", env=env).stdout
    listed = cli("keys", "list", "--db", str(from_option), env=env).stdout
    assert "via-option" in listed and "via-env" not in listed
    assert "via-option" not in cli("keys", "list", env=env).stdout


def test_key_equals_dollar_paren_in_a_real_shell(db_path: Path, app_client: TestClient) -> None:
    script = (
        f'KEY=$("{sys.executable}" -m app.cli keys create --name n --bot-id 1 --db "{db_path}")'
        ' && printf "%s" "$KEY"'
    )
    done = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert KEY.fullmatch(done.stdout)
    assert app_client.get("/auth/me", headers={"Authorization": done.stdout}).status_code == 200


def test_list_keeps_one_line_per_key_whatever_the_name(db_path: Path) -> None:
    create(db_path, name="tab\there\nnewline")
    lines = cli("keys", "list", "--db", str(db_path)).stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].split("\t")[1] == "tab here newline"
