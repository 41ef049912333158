"""`voiceprofile import-from` (SPEC §12): importing files repeatably, naming a bad file or
guild, and fetching every page from a live service (a local stand-in on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from storage.engine import open_engine
from tests import backend
from tests.conftest import BOT
from tests.import_helpers import GUILD, mee6_page, tatsu_page, unb_page

# -- the CLI ----------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1]) if out.strip() else {}, err


def test_cli_imports_files_repeatably(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.db"
    files = []
    for p in range(3):
        files.append(tmp_path / f"unb{p}.json")
        files[-1].write_text(json.dumps(unb_page(p, 300, 3)))
    target = str(backend.target(db))
    args = ("unbelievaboat", *map(str, files), "--guild", GUILD, "--bot-id", BOT, "--db", target)
    code, summary, _ = _cli(capsys, "import-from", *args, "--dry-run")
    assert code == 0 and summary["dry_run"] is True and summary["created"] == 900
    conn = backend.connect(db)
    assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
    code, summary, _ = _cli(capsys, "import-from", *args)
    assert code == 0, summary
    assert (summary["created"], summary["entries"]) == (900, 900)
    code, summary, _ = _cli(capsys, "import-from", *args)
    assert (summary["unchanged"], summary["entries"]) == (900, 0)
    assert conn.execute("SELECT count(*) FROM ledger WHERE kind = 5").fetchone() == (900,)
    conn.close()
    assert main(["ledger", "verify", "--db", target]) == 0


def _accounts(db: Path) -> int:
    """How many accounts the test database holds (0 if it has no schema yet)."""
    if not backend.POSTGRES and not db.exists():
        return 0
    engine = open_engine(backend.target(db))
    conn = engine.connect(readonly=True)
    try:
        if "accounts" not in engine.tables(conn):
            return 0
        return int(conn.execute("SELECT count(*) FROM accounts").fetchone()[0])
    finally:
        conn.close()


def test_cli_names_the_bad_file_and_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "cli.db"
    good, bad = tmp_path / "p0.json", tmp_path / "p1.json"
    good.write_text(json.dumps(mee6_page(0, 200)))
    page = mee6_page(1, 200)
    page["players"][17]["xp"] = -3
    bad.write_text(json.dumps(page))
    code, summary, err = _cli(
        capsys, "import-from", "mee6", str(good), str(bad), "--guild", GUILD, "--bot-id", BOT,
        "--db", str(backend.target(db)),
    )  # fmt: skip
    assert code == 1 and summary["ok"] is False
    assert f"{bad}: page 0, item 17: xp: -3 is negative" in err
    assert _accounts(db) == 0


def test_cli_refuses_a_bad_guild(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.csv"
    f.write_text("user_id\n1\n")
    code = main(["import-from", "csv", str(f), "--guild", "g", "--bot-id", BOT, "--db", str(f)])
    assert code == 2 and "--guild" in capsys.readouterr().err


# -- the CLI fetching from a live service (a local stand-in) ---------------------------


class _StandIn:
    """A local stand-in for a service's API on 127.0.0.1: pages by the query it gets."""

    def __init__(self, pages: Callable[[dict[str, str]], Any], limited: int = 0) -> None:
        import http.server
        import threading
        from urllib.parse import parse_qsl, urlparse

        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.limited = limited  # answer this many requests with 429 first
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = dict(parse_qsl(url.query))
                owner.requests.append((url.path, query, self.headers.get("Authorization")))
                if owner.limited:
                    owner.limited -= 1
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.end_headers()
                    return
                body = json.dumps(pages(query)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def test_cli_fetches_every_mee6_page_with_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = 2300

    def pages(query: dict[str, str]) -> Any:
        page, limit = int(query["page"]), int(query["limit"])
        page_body = mee6_page(0, members)
        page_body["players"] = page_body["players"][page * limit : (page + 1) * limit]
        return page_body

    db = tmp_path / "live.db"
    with _StandIn(pages, limited=1) as service:
        code, summary, err = _cli(
            capsys, "import-from", "mee6", "--token", "secret-token", "--base-url", service.url,
            "--guild", GUILD, "--bot-id", BOT, "--db", str(db),
        )  # fmt: skip
    assert code == 0, err
    assert summary["created"] == members
    paths = {path for path, _, _ in service.requests}
    assert paths == {f"/api/plugins/levels/leaderboard/{GUILD}"}
    assert [q["page"] for _, q, _ in service.requests] == ["0", "0", "1", "2"]  # one 429
    assert {token for _, _, token in service.requests} == {"secret-token"}


def test_cli_fetch_stops_when_a_service_ignores_paging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _StandIn(lambda query: tatsu_page(0, 100)) as service:
        code, summary, _ = _cli(
            capsys, "import-from", "tatsu", "--token", "t", "--base-url", service.url,
            "--guild", GUILD, "--bot-id", BOT, "--db", str(tmp_path / "t.db"),
        )  # fmt: skip
    assert code == 0 and summary["created"] == 100
    assert [q["offset"] for _, q, _ in service.requests] == ["0", "100"]


def test_cli_fetch_names_a_failing_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _StandIn(lambda query: {"players": "nope"}) as service:
        code, _, err = _cli(
            capsys, "import-from", "mee6", "--token", "t", "--base-url", service.url,
            "--guild", GUILD, "--bot-id", BOT, "--db", str(tmp_path / "t.db"),
        )  # fmt: skip
    assert code == 1 and "page 0" in err and "nothing was imported" in err
