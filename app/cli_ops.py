"""`voiceprofile backup`, `export` and `import` (SPEC §3, §10).

- backup PATH: a consistent copy of the live database (SQLite's online backup API
  inside one read snapshot: the server keeps writing while it runs), written to a
  temporary file beside PATH and renamed into place only once complete. On
  PostgreSQL it says in one line what to use instead (pg_dump, or export) and exits 2.
- export PATH: the economy as JSON Lines (the format: schemas/export.py).
- import PATH: into an empty database, in one transaction: every line is decoded
  strictly and checked (ids, the hash chain, the balances on each entry); the first
  bad line is named with its number and nothing is kept.
export and import work on either engine, so the pair moves an install between SQLite
and PostgreSQL (README: "Moving to PostgreSQL").

All three print one JSON summary line on stdout (for scripts) and, when stderr is a
terminal, a progress bar with the rate and the time left.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Settings
from app.progress import Progress
from ledger import restore
from storage import export as export_lines
from storage.engine import Connection, Engine, open_engine
from storage.engine.base import NotOnThisEngine, error_text
from storage.engine.migrations import apply_migrations
from storage.export import BadLine

__all__ = ["COMMANDS"]


def _engine(args: argparse.Namespace) -> Engine:
    return open_engine(Settings.from_env(db=args.db).db)


def _summary(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True), flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- backup ---------------------------------------------------------------------------------


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def _discard(partial: Path) -> None:
    """Remove a partial copy and any journal SQLite left beside it (a failed write
    may leave one); never raises, so the first error is the one reported."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(OSError):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if exc.filename is None else f"{exc.strerror}: {exc.filename}"
    return error_text(exc)


def _writable_target(target: Path) -> None:
    """Refuse a directory (a rename onto it would fail only after the whole copy)."""
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a directory, not a file", str(target))
    target.parent.mkdir(parents=True, exist_ok=True)


def backup(args: argparse.Namespace) -> int:
    engine = _engine(args)
    if not engine.exists():
        _err(f"no database at {engine.location}")
        return 1
    target = Path(args.path)
    if target.resolve() == Path(engine.location).resolve():
        _err("the backup must go to another file than the database")
        return 2
    partial = _partial(target)
    started = time.monotonic()
    try:
        _writable_target(target)
        _discard(partial)
        bar = Progress("backup", 0, "pages")

        def step(done: int, total: int) -> None:
            bar.total = total
            bar.advance(done - bar.done)

        try:
            total = engine.backup(partial, step)
        finally:
            bar.close()
        os.replace(partial, target)
    except NotOnThisEngine as exc:  # PostgreSQL: no file to copy; it names the tools
        _err(str(exc))
        return 2
    except (OSError, *engine.errors) as exc:  # a directory, a full disk, an I/O error
        _discard(partial)
        _err(f"backup failed: {_reason(exc)}; nothing was written to {target}")
        return 1
    size = target.stat().st_size
    _summary(
        command="backup",
        path=str(target),
        bytes=size,
        pages=total,
        seconds=round(time.monotonic() - started, 3),
    )
    return 0


# -- export ---------------------------------------------------------------------------------


def _export_into(engine: Engine, conn: Connection, partial: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with engine.reading(conn):  # one snapshot: the export is consistent while serving
        total = export_lines.count_lines(engine, conn)
        bar = Progress("export", total, "lines")
        with partial.open("wb") as out:
            for line in export_lines.lines(engine, conn):
                kind = line[9 : line.index(b'"', 9)].decode()  # {"type":"<kind>"
                counts[kind] = counts.get(kind, 0) + 1
                out.write(line + b"\n")
                bar.advance()
            out.flush()
            os.fsync(out.fileno())
        bar.close()
    return counts


def export(args: argparse.Namespace) -> int:
    started = time.monotonic()
    target = Path(args.path)
    partial = _partial(target)
    try:
        _writable_target(target)
        engine = _engine(args)
        conn = engine.connect()
        try:
            apply_migrations(conn)
            counts = _export_into(engine, conn, partial)
        finally:
            conn.close()
        os.replace(partial, target)
    except (OSError, *_engine(args).errors) as exc:  # a directory, a full disk, an I/O error
        _discard(partial)
        _err(f"export failed: {_reason(exc)}; nothing was written to {target}")
        return 1
    _summary(
        command="export",
        path=str(target),
        lines=sum(counts.values()),
        accounts=counts.get("account", 0),
        entries=counts.get("entry", 0),
        rows=counts.get("row", 0),
        seconds=round(time.monotonic() - started, 3),
    )
    return 0


def import_(args: argparse.Namespace) -> int:
    started = time.monotonic()
    source = Path(args.path)
    if not source.is_file():
        _err(f"no file at {source}")
        return 2
    engine = _engine(args)
    try:
        conn = engine.connect()
        apply_migrations(conn)
    except engine.errors as exc:  # no such PostgreSQL database, a refused connection
        _err(f"{engine.location}: {_reason(exc)}; nothing was imported")
        return 1
    try:
        if not export_lines.is_empty(engine, conn):
            _err("the database already holds data: import only goes into an empty database")
            return 1
        importer = restore.Importer(engine, conn)
        bar = Progress("import", source.stat().st_size, "bytes")
        try:
            with engine.writing(conn):
                engine.defer_foreign_keys(conn)  # other tables may refer forward
                restore.read(source, importer, bar.advance)
                importer.finish()
                engine.after_load(conn)  # PostgreSQL: new ids continue after the imported
        except BadLine as exc:
            bar.close()
            _err(f"{source}: {exc}; nothing was imported")
            _summary(command="import", ok=False, line=exc.number, error=str(exc))
            return 1
        except (OSError, *engine.errors) as exc:  # a constraint checked at COMMIT, a read
            bar.close()
            _err(f"{source}: {_reason(exc)}; nothing was imported")
            _summary(command="import", ok=False, line=None, error=_reason(exc))
            return 1
        bar.close()
    finally:
        conn.close()
    _summary(
        command="import",
        ok=True,
        path=str(source),
        lines=importer.counts_total,
        accounts=importer.counts["account"],
        entries=importer.counts["entry"],
        rows=importer.counts["row"],
        seconds=round(time.monotonic() - started, 3),
    )
    return 0


def _configure_path(help_text: str) -> Callable[[argparse.ArgumentParser], None]:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("path", help=help_text)

    return configure


COMMANDS = {
    "backup": (
        "consistent online copy of the database (safe while serving)",
        backup,
        _configure_path("the copy to write (replaced atomically)"),
    ),
    "export": (
        "write the economy (accounts, profiles, ledger, other tables) as JSON Lines",
        export,
        _configure_path("the .jsonl file to write"),
    ),
    "import": (
        "load a JSON Lines export into an empty database, atomically",
        import_,
        _configure_path("the .jsonl file to read"),
    ),
}
