"""`voiceprofile import-from SOURCE FILE... --guild G --bot-id B` (SPEC §12): the
import of POST /profile/{guild_id}/import, from files, beside a running server or not.

Every file is one page or an array of pages as the service answered (or a CSV);
together they are one import, the same ledger command the route runs, through a
writer of its own: atomic, repeatable, balances by `import` entries. A progress bar
over the files' bytes when stderr is a terminal; one JSON summary line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import msgspec

from app import import_fetch, import_sources
from app.config import Settings
from app.progress import Progress
from ledger import apply
from ledger.commands import ImportProfiles, ImportRow
from schemas.base import is_snowflake
from schemas.imports import ImportResult
from storage.engine import open_engine
from storage.engine.migrations import apply_migrations
from storage.engine.writer import Writer
from storage.errors import DomainError

__all__ = ["configure", "import_from"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=import_sources.SOURCES)
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="pages as the service answered (or --token)"
    )
    parser.add_argument("--guild", required=True, help="the guild the members belong to")
    parser.add_argument("--bot-id", required=True, help="the bot whose treasury pays balances")
    parser.add_argument(
        "--token", help="fetch every page from the live service with this API token instead"
    )
    parser.add_argument(
        "--base-url", help="the service's address for --token (default: its public API)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change; change nothing"
    )


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _fetch(source: str, guild: str, token: str, base_url: str | None) -> tuple[ImportRow, ...]:
    bar = Progress("import-from", 0, "members")
    members: dict[int, ImportRow] = {}
    try:
        for _page, rows in import_fetch.fetch_members(source, guild, token, base_url):
            members.update((row.user_id, row) for row in rows)
            bar.advance(len(rows))
    finally:
        bar.close()
    return tuple(members.values())


def _read(source: str, files: list[Path]) -> tuple[ImportRow, ...]:
    bar = Progress("import-from", sum(f.stat().st_size for f in files), "bytes")
    members: dict[int, ImportRow] = {}
    try:
        for path in files:
            try:
                import_sources.collect(source, path.read_bytes(), members, bounded=False)
            except DomainError as exc:
                exc.message = f"{path}: {exc.message}"
                raise
            bar.advance(path.stat().st_size)
    finally:
        bar.close()
    return tuple(members.values())


async def _run(settings: Settings, command: ImportProfiles) -> ImportResult:
    writer = Writer(settings.db, cache_kib=settings.cache_mib * 1024, config=settings)
    writer.start()
    try:
        return await writer.run(apply, command)
    finally:
        await writer.close()


def import_from(args: argparse.Namespace) -> int:
    started = time.monotonic()
    for name, value in (("--guild", args.guild), ("--bot-id", args.bot_id)):
        if not is_snowflake(value):
            _err(f"{name} {value!r} is not a snowflake (1-20 digits, below 2^64)")
            return 2
    if args.token is not None and (args.files or args.source == "csv"):
        _err("--token fetches the pages itself: give no FILE (and no csv)")
        return 2
    if args.token is None and not args.files:
        _err("give the FILEs to import, or --token to fetch the pages")
        return 2
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        _err(f"no file at {', '.join(missing)}")
        return 2
    settings = Settings.from_env(db=args.db)
    try:
        if args.token is not None:
            rows = _fetch(args.source, args.guild, args.token, args.base_url)
        else:
            rows = _read(args.source, files)
        conn = open_engine(settings.db).connect()
        try:
            apply_migrations(conn)
        finally:
            conn.close()
        command = ImportProfiles(
            args.bot_id, int(args.guild), args.source, rows, dry_run=args.dry_run
        )
        result = asyncio.run(_run(settings, command))
    except DomainError as exc:
        _err(f"{exc.message}; nothing was imported")
        print(json.dumps({"command": "import-from", "ok": False, **exc.body()}), flush=True)
        return 1
    except OSError as exc:
        _err(f"import failed: {exc}; nothing was imported")
        return 1
    summary = {"command": "import-from", "ok": True, **msgspec.to_builtins(result)}
    summary["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(summary, sort_keys=True), flush=True)
    return 0
