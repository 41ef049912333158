"""PostgreSQL for the benchmarks that compare it with SQLite in the same run.

`--pg` starts a throwaway PostgreSQL (tests/pg_cluster.py, `durable=True`: fsync on,
PostgreSQL's defaults otherwise) and stops it by PID at the end; `--db-url
postgresql://…` names a server already running. Either way each benchmark database
is a fresh one created for the run (the URL's role needs CREATEDB) and dropped
after it, so nothing already on that server is touched.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests import pg_cluster

__all__ = ["PgServer", "add_arguments", "from_args"]


class PgServer:
    """Fresh databases on one PostgreSQL server, dropped by `close`."""

    def __init__(self, admin_url: str, described: str) -> None:
        self.admin_url = admin_url
        self.described = described
        self._made: list[str] = []

    def database(self, label: str) -> str:
        """A new empty database; its URL."""
        name = f"vp_bench_{os.getpid()}_{label}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[call-overload]
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[call-overload]
        self._made.append(name)
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{name}"))

    def settings(self) -> str:
        """What decides its durability, as the figures should be read with it."""
        with psycopg.connect(self.admin_url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            found = conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN"
                " ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes')"
                " ORDER BY name"
            ).fetchall()
        shown = ", ".join(f"{name}={value}" for name, value in found)
        return f"PostgreSQL {version[0] if version else '?'} ({self.described}): {shown}"

    def close(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self._made:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[call-overload]
        self._made.clear()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--pg",
        action="store_true",
        help="also measure on a throwaway durable PostgreSQL this run starts and stops",
    )
    group.add_argument(
        "--db-url",
        help="also measure on this PostgreSQL server (postgresql://…; the role creates and"
        " drops its own databases there)",
    )


@contextmanager
def from_args(args: argparse.Namespace) -> Iterator[PgServer | None]:
    """The server `--pg` or `--db-url` asked for, or None; cleaned up on exit."""
    if args.db_url:
        server = PgServer(args.db_url, "given by --db-url")
        try:
            yield server
        finally:
            server.close()
        return
    if not args.pg:
        yield None
        return
    cluster = pg_cluster.start(Path(tempfile.mkdtemp(prefix="vp-bench-pg-")), durable=True)
    try:
        server = PgServer(cluster.url(), "started by --pg, defaults")
        try:
            yield server
        finally:
            server.close()
    finally:
        cluster.stop()  # by its PID; removes its folder
