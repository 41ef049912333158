"""Shared fixtures: an in-process app on a fresh database, keys, an independent
connection for checking what was committed, and the real server process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
from litestar.testing import TestClient

from app.config import Settings
from app.main import create_app
from storage.clock import Clock, SystemClock
from storage.engine.migrations import apply_migrations
from storage.queries import keys
from tests import backend

BOT = "111111111111111111"
OTHER_BOT = "222222222222222222"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, tests about SQLite itself are deselected (and counted)."""
    if not backend.POSTGRES:
        return
    keep = [item for item in items if item.get_closest_marker("sqlite_only") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    return f"database backend: {backend.BACKEND}"


@pytest.fixture(autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    backend.cleanup()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The test's database, named as a file; `backend.target` gives what the server
    takes on this run's backend."""
    return tmp_path / "vp.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db=backend.target(db_path), key_cache_seconds=0.0, boards="sync")


@pytest.fixture
def clock() -> Clock:
    """The app's one clock; a test module overrides this fixture to set the time."""
    return SystemClock()


@pytest.fixture
def client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def make_key(db_path: Path) -> Callable[..., dict[str, str]]:
    """Create a key straight in the database; returns the Authorization header."""

    def make(
        bot_id: str = BOT, scopes: tuple[str, ...] = keys.DEFAULT_SCOPES, name: str = "test"
    ) -> dict[str, str]:
        conn = backend.connect(db_path)
        apply_migrations(conn)
        _, secret = keys.create_key(conn, name, bot_id, scopes)
        conn.close()
        return {"Authorization": secret}

    return make


@pytest.fixture
def auth(make_key: Callable[..., dict[str, str]], client: TestClient) -> dict[str, str]:
    """A key of BOT with every scope but admin."""
    return make_key()


@pytest.fixture
def db(db_path: Path, client: TestClient) -> Iterator[backend.Connection]:
    """An independent connection: sees only what the server committed."""
    conn = backend.connect(db_path)
    yield conn
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    admin_key: str
    db: Path
    process: subprocess.Popen[str]
    log: Path
    log_file: IO[str]

    def client(self, key: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": key or self.admin_key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log_file.close()
        return self.process.returncode


def start_server(
    db: Path, log: Path, timeout: float = 30, env: dict[str, str] | None = None
) -> Server:
    """`voiceprofile serve` on 127.0.0.1 and a free port; waits for /health. `env`
    adds or overrides variables (VOICEPROFILE_ALLOW_HOSTS, ...)."""
    port = free_port()
    env = {**os.environ, "VOICEPROFILE_DB": str(backend.target(db)), **(env or {})}
    out = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=Path(__file__).parent.parent,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out.close()
            raise RuntimeError(f"server exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        process.wait(5)
        out.close()
        raise RuntimeError(f"server did not answer /health: {log.read_text()}")
    found = re.search(r"(vps_[A-Za-z0-9_-]+)", log.read_text())
    return Server(url, found[1] if found else "", db, process, log, out)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = start_server(tmp_path / "server.db", tmp_path / "server.log")
    try:
        yield srv
    finally:
        srv.stop()
