"""The `voiceprofile` command: serve, keys, ledger verify.

Every subcommand takes `--db PATH`; options win over VOICEPROFILE_* variables.
Commands that print a result for scripts print only that on stdout; details and
progress go to stderr.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

from app import cli_import, cli_ops, cli_verify
from app.config import Settings
from schemas.base import is_snowflake
from storage.engine import is_url, open_engine
from storage.engine.host import HostCounter
from storage.engine.migrations import apply_migrations
from storage.queries import keys

__all__ = ["main"]

T = TypeVar("T")


def _err(*parts: object) -> None:
    print(*parts, file=sys.stderr)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        db=getattr(args, "db", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
    )


class _Database:
    """The database a subcommand works on, migrated, for short write transactions
    beside a running server (the engine lets each wait its turn)."""

    def __init__(self, settings: Settings) -> None:
        self.engine = open_engine(settings.db)
        self.conn = self.engine.connect()
        apply_migrations(self.conn)

    def write(self, fn: Callable[..., T], *args: Any) -> T:
        with self.engine.writing(self.conn):
            return fn(self.conn, *args)

    def close(self) -> None:
        self.conn.close()


def _open(args: argparse.Namespace) -> _Database:
    return _Database(_settings(args))


def _first_start_key(db: _Database) -> None:
    if keys.count_keys(db.conn):
        return
    _info, secret = db.write(keys.create_key, "admin", 0, keys.SCOPES)
    bar = "=" * 72
    print(
        f"{bar}\n  First start: created an admin key. It is shown only this once:\n\n"
        f"    {secret}\n\n  It has every scope, `admin` included. Create keys for your bots with\n"
        f"  `voiceprofile keys create --name NAME --bot-id BOT_ID` or POST /keys.\n{bar}",
        flush=True,
    )


# Seconds the worker gets after its drain deadline to commit the queue and close.
_KILL_MARGIN = 5


def serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with closing(_Database(settings)) as database:
        _first_start_key(database)
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops, TaskImpl
    from granian.http import HTTP1Settings

    # The worker process builds the app from the environment (app.asgi:from_env).
    db = settings.db
    os.environ["VOICEPROFILE_DB"] = db if isinstance(db, str) else str(Path(db).resolve())
    os.environ["VOICEPROFILE_WORKERS"] = str(settings.workers)  # they count rate limits together
    procs = f", {settings.workers} workers" if settings.workers > 1 else ""
    where = open_engine(db).location
    _err(f"serving on http://{settings.host}:{settings.port} (database {where}{procs})")
    Granian(
        "app.asgi:from_env",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        loop=Loops.uvloop if sys.platform != "win32" else Loops.asyncio,
        # Requests as asyncio tasks: the drain deadline (app/deadlines.py) cancels them.
        task_impl=TaskImpl.asyncio,
        # HTTP/1 only: in `auto` mode a connection that never sends a byte waits for
        # its protocol to be guessed with no time limit; HTTP/1's header read timeout
        # also covers a connection idle before or between requests.
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.idle_timeout * 1000))
        ),
        # The last resort, should the worker not stop after its drain deadline: what
        # was acknowledged is on disk already.
        workers_kill_timeout=math.ceil(settings.drain_timeout) + _KILL_MARGIN,
        log_access=False,
        working_dir=Path.cwd(),
    ).serve()
    return 0


def keys_create(args: argparse.Namespace) -> int:
    scopes = tuple(args.scope or keys.DEFAULT_SCOPES)
    if args.admin:
        scopes = keys.SCOPES if not args.scope else (*scopes, "admin")
    unknown = [s for s in scopes if s not in keys.SCOPES]
    if unknown:
        _err(f"unknown scope {unknown[0]!r}; scopes are: {', '.join(keys.SCOPES)}")
        return 2
    bot = args.bot_id
    if not is_snowflake(bot):
        _err(f"--bot-id {bot!r} is not a snowflake (1-20 digits, below 2^64)")
        return 2
    if not 1 <= len(args.name) <= 100:
        _err("--name must be 1 to 100 characters")
        return 2
    with closing(_open(args)) as db:
        info, secret = db.write(keys.create_key, args.name, bot, scopes)
    _err(
        f"created key {info.id} {info.name!r} for bot {info.bot_id} with scopes: "
        f"{' '.join(info.scopes) or '(none)'}"
    )
    print(secret)
    return 0


def keys_list(args: argparse.Namespace) -> int:
    with closing(_open(args)) as db:
        listed = keys.list_keys(db.conn)
    print("id\tname\tbot_id\tscopes\tstate")
    for k in listed:
        state = "revoked" if k.revoked_at else "active"
        name = " ".join(k.name.split())  # one line per key, tabs only between columns
        print(f"{k.id}\t{name}\t{k.bot_id}\t{','.join(k.scopes)}\t{state}")
    return 0


def keys_revoke(args: argparse.Namespace) -> int:
    with closing(_open(args)) as db:
        try:
            info = db.write(keys.revoke_key, args.id)
        except keys.KeyNotFound as exc:
            _err(exc.message)
            return 1
    # Servers on this host forget their cached keys at once (others: KEY_CACHE_SECONDS).
    try:
        HostCounter.of(_settings(args).db, "keys").bump()
    except OSError as exc:
        _err(f"servers on this host see it within their key cache's time ({exc})")
    _err(f"revoked key {info.id} {info.name!r}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voiceprofile", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--db",
            help="SQLite file or postgresql:// URL"
            " (default: $VOICEPROFILE_DB or ./data/voiceprofile.db)",
        )
        return p

    p = with_db(sub.add_parser("serve", help="run the server"))
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument(
        "--workers", type=int, help="server processes sharing the port and database (default 1)"
    )
    p.set_defaults(run=serve)

    k = sub.add_parser("keys", help="create, list and revoke API keys").add_subparsers(
        dest="keys_command", required=True
    )
    p = with_db(k.add_parser("create", help="create a key; prints only the key on stdout"))
    p.add_argument("--name", required=True)
    p.add_argument("--bot-id", required=True, help="the bot's Discord id")
    p.add_argument(
        "--scope",
        action="append",
        help=f"repeatable; one of {', '.join(keys.SCOPES)} (default: all but admin)",
    )
    p.add_argument("--admin", action="store_true", help="add the admin scope")
    p.set_defaults(run=keys_create)
    p = with_db(k.add_parser("list", help="list keys (never their secrets)"))
    p.set_defaults(run=keys_list)
    p = with_db(k.add_parser("revoke", help="revoke a key by id"))
    p.add_argument("id", type=int)
    p.set_defaults(run=keys_revoke)

    led = sub.add_parser("ledger", help="ledger tools").add_subparsers(
        dest="ledger_command", required=True
    )
    p = with_db(
        led.add_parser("verify", help="replay the ledger and check it; changes nothing in the file")
    )
    cli_verify.configure(p)
    p.set_defaults(run=cli_verify.ledger_verify)

    p = with_db(
        sub.add_parser(
            "import-from", help="import a guild from MEE6/Amari/Tatsu/UnbelievaBoat pages or CSV"
        )
    )
    cli_import.configure(p)
    p.set_defaults(run=cli_import.import_from)

    for name, (help_text, fn, configure) in cli_ops.COMMANDS.items():  # backup, export, import
        p = with_db(sub.add_parser(name, help=help_text))
        configure(p)
        p.set_defaults(run=fn)
    return parser


def _not_a_file(args: argparse.Namespace) -> str | None:
    """Why `--db` can never be a database file, in one line (sqlite would only say
    "unable to open database file", from a traceback); None when it may be one."""
    db = Settings.from_env(db=getattr(args, "db", None)).db
    if is_url(db):
        return None
    path = Path(db)
    if path.is_dir():
        return f"the database path {path} is a directory, not a file"
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        return f"the database path {path} cannot be made: {above} is a file"
    return None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (why := _not_a_file(args)) is not None:
        _err(why)
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
