"""Importing a guild from other bots' data (SPEC §12): POST /profile/{guild_id}/import
and `voiceprofile import-from`, with pages shaped like each service's real answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app import import_sources
from app.cli import main
from storage.engine import open_engine
from tests import backend
from tests.conftest import BOT
from tests.profile_support import ensure, snapshot, treasury_balance

GUILD = "390000000000000001"
MAX = 2**53 - 1


def uid(i: int) -> int:
    return 200000000000000000 + i


def _id(i: int) -> str | int:
    """Ids as the services send them: mostly strings, some numbers."""
    return uid(i) if i % 3 == 0 else str(uid(i))


# -- pages as each service answers them ------------------------------------------------


def mee6_page(page: int, count: int) -> dict[str, Any]:
    players = []
    for n in range(count):
        i = page * count + n
        xp = 100_000 - i * 7
        players.append(
            {
                "avatar": "a_0f3c9b",
                "detailed_xp": [xp % 1000, 1255, xp],
                "discriminator": "0",
                "guild_id": GUILD,
                "id": _id(i),
                "is_monetize_subscriber": False,
                "level": max(0, 40 - i // 100),
                "message_count": max(0, 5000 - i),
                "monetize_xp_boost": 0,
                "username": f"member{i}",
                "xp": xp,
            }
        )
    return {
        "admin": False,
        "banner_url": None,
        "guild": {"id": GUILD, "icon": None, "name": "A guild", "premium": False},
        "page": page,
        "player": None,
        "players": players,
        "role_rewards": [{"rank": 5, "role": {"id": "1", "name": "Regular"}}],
        "user_guild_settings": None,
        "xp_per_message": [15, 25],
        "xp_rate": 1.0,
    }


def amari_page(page: int, count: int, total: int) -> dict[str, Any]:
    data = [
        {
            "id": str(uid(page * count + n)),
            "username": f"member{page * count + n}",
            "exp": 80_000 - (page * count + n) * 11,
            "level": 30 - (page * count + n) // 200,
            "weeklyExp": 120,
        }
        for n in range(count)
    ]
    return {"count": count, "total_count": total, "data": data}


def tatsu_page(page: int, count: int) -> dict[str, Any]:
    rankings = [
        {
            "guild_id": GUILD,
            "rank": page * count + n + 1,
            "score": 50_000 - (page * count + n) * 3,
            "user_id": _id(page * count + n),
        }
        for n in range(count)
    ]
    return {"guild_id": GUILD, "rankings": rankings}


def unb_users(page: int, count: int, scale: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "rank": str(page * count + n + 1),
            "user_id": _id(page * count + n),
            "cash": (page * count + n) * scale,
            "bank": 1000 * scale,
            "total": ((page * count + n) + 1000) * scale,
        }
        for n in range(count)
    ]


def unb_page(page: int, count: int, pages: int, scale: int = 1) -> dict[str, Any]:
    return {"users": unb_users(page, count, scale), "page": page + 1, "total_pages": pages}


def post(
    client: TestClient, auth: dict, source: str, body: Any, guild: str = GUILD, **query: str
) -> Any:
    params = "".join(f"&{k}={v}" for k, v in query.items())
    url = f"/profile/{guild}/import?source={source}{params}"
    if isinstance(body, str):
        return client.post(url, content=body.encode(), headers={**auth, "content-type": "text/csv"})
    return client.post(url, json=body, headers=auth)


def profile(client: TestClient, auth: dict, i: int) -> dict:
    r = client.get(f"/profile/{GUILD}/{uid(i)}", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def counts(answer: dict) -> tuple[int, int, int]:
    return answer["created"], answer["updated"], answer["unchanged"]


# -- each source ------------------------------------------------------------------------


def test_mee6_pages_create_every_member_with_its_levels(client: TestClient, auth: dict) -> None:
    pages = [mee6_page(p, 400) for p in range(3)]
    r = post(client, auth, "mee6", pages)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["members"] == 1200 and counts(answer) == (1200, 0, 0)
    assert answer["entries"] == 0 and answer["voicepoints_moved"] == 0
    listed = client.get(f"/profile/{GUILD}?limit=1", headers=auth)
    assert listed.headers["X-Total-Count"] == "1200"
    one = profile(client, auth, 401)
    assert (one["experience"], one["level"], one["voicepoints"]) == (100_000 - 401 * 7, 36, 0)
    assert one["text"] == {"level": 0, "experience": 0, "message_count": 5000 - 401}
    # the top by levels is MEE6's order
    top = client.get(f"/profile/{GUILD}/top?by=levels&amount=2", headers=auth).json()
    assert [t["profile"]["user_id"] for t in top] == [str(uid(0)), str(uid(1))]


def test_one_page_alone_is_read_too(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "amari", amari_page(0, 300, 300))
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (300, 0, 0)
    one = profile(client, auth, 250)
    assert (one["experience"], one["level"]) == (80_000 - 250 * 11, 29)
    assert one["text"] is None  # Amari's weeklyExp is not ours to keep


def test_tatsu_score_is_experience_and_level_is_left_alone(client: TestClient, auth: dict) -> None:
    ensure(client, auth, GUILD, uid(5), level=12, experience=3)
    r = post(client, auth, "tatsu", [tatsu_page(p, 100) for p in range(5)])
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (499, 1, 0)
    kept = profile(client, auth, 5)
    assert (kept["experience"], kept["level"]) == (50_000 - 15, 12)
    assert profile(client, auth, 6)["level"] == 1  # a new profile's default


def test_unbelievaboat_balances_move_as_import_entries(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    users = unb_users(0, 350)
    r = post(client, auth, "unbelievaboat", users)
    assert r.status_code == 200, r.text
    answer = r.json()
    total = sum(u["total"] for u in users)
    assert counts(answer) == (350, 0, 0)
    assert answer["entries"] == 350 and answer["voicepoints_moved"] == total
    assert answer["voicepoints_net"] == total
    assert profile(client, auth, 7)["voicepoints"] == 1007
    assert treasury_balance(db, BOT) == -total
    kinds = db.execute("SELECT DISTINCT kind FROM ledger").fetchall()
    assert kinds == [(5,)]
    entry = client.get("/transaction?limit=1", headers=auth).json()[0]
    assert entry["kind"] == "import" and entry["reason"] == "import from unbelievaboat"


def test_unbelievaboat_paged_answers_and_arrays_of_them(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "unbelievaboat", [unb_page(p, 200, 3) for p in range(3)])
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (600, 0, 0)
    r = post(client, auth, "unbelievaboat", [unb_users(p, 200) for p in range(3)])
    assert counts(r.json()) == (0, 0, 600)
    r = post(client, auth, "unbelievaboat", unb_page(0, 200, 3, scale=2))
    assert counts(r.json()) == (0, 200, 0)
    assert profile(client, auth, 10)["voicepoints"] == 2020


def test_a_lower_balance_goes_back_to_the_treasury(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    post(client, auth, "unbelievaboat", [{"user_id": uid(1), "cash": 500, "bank": 0}])
    r = post(client, auth, "csv", f"user_id,voicepoints\n{uid(1)},120\n")
    assert r.json()["voicepoints_net"] == -380 and r.json()["entries"] == 1
    assert profile(client, auth, 1)["voicepoints"] == 120
    assert treasury_balance(db, BOT) == -120


def test_fields_the_source_does_not_carry_are_kept(client: TestClient, auth: dict) -> None:
    ensure(
        client,
        auth,
        GUILD,
        uid(0),
        voicepoints=77,
        timespent={"global": 3600, "music": 60},
        data={"title": "founder"},
        pray={"streak": 4},
    )
    post(client, auth, "mee6", mee6_page(0, 3))
    kept = profile(client, auth, 0)
    assert kept["voicepoints"] == 77 and kept["data"] == {"title": "founder"}
    assert kept["timespent"] == {"global": 3600, "music": 60} and kept["pray"]["streak"] == 4
    assert kept["experience"] == 100_000


def test_a_deleted_profile_is_created_again(client: TestClient, auth: dict) -> None:
    ensure(client, auth, GUILD, uid(0), data={"x": 1})
    assert client.delete(f"/profile/{GUILD}/{uid(0)}", headers=auth).status_code == 204
    r = post(client, auth, "tatsu", tatsu_page(0, 2))
    assert counts(r.json()) == (2, 0, 0)
    again = profile(client, auth, 0)
    assert again["experience"] == 50_000 and again["data"] is None


# -- repeatable, atomic, dry ------------------------------------------------------------

SAMPLES: dict[str, Callable[[], Any]] = {
    "mee6": lambda: [mee6_page(p, 300) for p in range(2)],
    "amari": lambda: [amari_page(p, 250, 500) for p in range(2)],
    "tatsu": lambda: [tatsu_page(p, 100) for p in range(4)],
    "unbelievaboat": lambda: unb_users(0, 400),
    "csv": lambda: (
        "user_id,experience,level,voicepoints,message_count,timespent,pray_streak\n"
        + "".join(f"{uid(i)},{i * 10},{i % 50},{i},{i * 2},{i * 60},{i % 7}\n" for i in range(500))
    ),
}


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_importing_the_same_data_again_changes_nothing(
    client: TestClient, auth: dict, db: backend.Connection, source: str
) -> None:
    first = post(client, auth, source, SAMPLES[source]())
    assert first.status_code == 200, first.text
    before = snapshot(db)
    again = post(client, auth, source, SAMPLES[source]())
    assert again.status_code == 200, again.text
    members = first.json()["members"]
    assert counts(again.json()) == (0, 0, members)
    assert again.json()["entries"] == 0 and again.json()["voicepoints_moved"] == 0
    assert snapshot(db) == before


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_a_dry_run_answers_the_same_and_changes_nothing(
    client: TestClient, auth: dict, db: backend.Connection, source: str
) -> None:
    ensure(client, auth, GUILD, uid(1), experience=5)
    before = snapshot(db)
    dry = post(client, auth, source, SAMPLES[source](), dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    assert snapshot(db) == before
    real = post(client, auth, source, SAMPLES[source]()).json()
    assert {**dry.json(), "dry_run": False} == real
    assert real["created"] > 0 and real["updated"] == 1


BAD = [
    ("unbelievaboat", "cash", -5, "negative"),
    ("unbelievaboat", "bank", "Infinity", "not a finite number"),
    ("unbelievaboat", "total", 2**53, "above 2^53-1"),
    ("unbelievaboat", "user_id", "12ab", "not a snowflake"),
    ("mee6", "id", str(2**64), "not a snowflake"),
    ("mee6", "xp", 1.5, "not a whole number"),
    ("mee6", "level", -1, "negative"),
    ("amari", "exp", "lots", "not a number"),
    ("tatsu", "score", 2**60, "above 2^53-1"),
    ("tatsu", "score", "9" * 5000, "above 2^53-1"),
    ("amari", "exp", "-" + "9" * 5000, "negative"),
]


def _pages_with_bad_value(source: str, field: str, value: Any) -> Any:
    if source == "unbelievaboat":
        pages: Any = [unb_page(p, 300, 3) for p in range(3)]
        pages[2]["users"][123][field] = value
        return pages
    pages = {
        "mee6": [mee6_page(p, 300) for p in range(3)],
        "amari": [amari_page(p, 300, 900) for p in range(3)],
        "tatsu": [tatsu_page(p, 300) for p in range(3)],
    }[source]
    key = {"mee6": "players", "amari": "data", "tatsu": "rankings"}[source]
    pages[2][key][123][field] = value
    return pages


@pytest.mark.parametrize(("source", "field", "value", "why"), BAD)
def test_bad_data_is_refused_naming_page_and_item_and_nothing_is_applied(
    client: TestClient,
    auth: dict,
    db: backend.Connection,
    source: str,
    field: str,
    value: Any,
    why: str,
) -> None:
    ensure(client, auth, GUILD, uid(0), experience=1)
    before = snapshot(db)
    r = post(client, auth, source, _pages_with_bad_value(source, field, value))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["message"].startswith(f"page 2, item 123: {field}: ")
    assert why in body["message"]
    assert (body["page"], body["item"]) == (2, 123)
    assert body["errors"][0]["field"].endswith(f"[123].{field}")
    assert snapshot(db) == before


def test_a_bad_csv_line_is_named(client: TestClient, auth: dict, db: backend.Connection) -> None:
    before = snapshot(db)
    text = f"user_id,level\n{uid(1)},3\n{uid(2)},-4\n"
    r = post(client, auth, "csv", text)
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "line 3: level: '-4' is negative"
    assert snapshot(db) == before


def test_csv_extra_columns_blank_cells_and_a_bom(client: TestClient, auth: dict) -> None:
    ensure(client, auth, GUILD, uid(2), level=8)
    text = (
        f"\ufeffUser_ID,nickname,level,experience\r\n{uid(1)},bob,3,30\r\n{uid(2)},ann,,70\r\n\r\n"
    )
    r = post(client, auth, "csv", text)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == (1, 1, 0)
    assert (profile(client, auth, 2)["level"], profile(client, auth, 2)["experience"]) == (8, 70)


@pytest.mark.parametrize("text", [f"user_id,level\n{uid(1)},\x003\n", "user_id\n" + "9" * 200_000])
def test_malformed_csv_is_refused_naming_the_line(
    client: TestClient, auth: dict, text: str
) -> None:
    r = post(client, auth, "csv", text)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith("line 2: ")


def test_csv_without_user_id_is_refused(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "csv", "id,level\n1,2\n")
    assert r.status_code == 422 and "user_id" in r.json()["message"]


def test_a_treasury_that_cannot_pay_refuses_the_whole_import(
    client: TestClient, auth: dict, db: backend.Connection
) -> None:
    users = [{"user_id": uid(i), "cash": MAX, "bank": 0} for i in range(2)]
    before = snapshot(db)
    r = post(client, auth, "unbelievaboat", users)
    assert r.status_code == 409 and r.json()["code"] == "balance_limit", r.text
    assert snapshot(db) == before


# -- who may, what is sent ----------------------------------------------------------------


def test_scopes(client: TestClient, make_key: Callable[..., dict], db: backend.Connection) -> None:
    reader = make_key(scopes=("profiles:read",))
    r = post(client, reader, "mee6", mee6_page(0, 3))
    assert r.status_code == 403 and r.json()["message"] == "missing scope profiles:write"
    no_money = make_key(scopes=("profiles:read", "profiles:write"))
    assert post(client, no_money, "mee6", mee6_page(0, 3)).status_code == 200
    before = snapshot(db)
    r = post(client, no_money, "unbelievaboat", unb_users(0, 3))
    assert r.status_code == 403 and r.json()["message"] == "missing scope ledger:write"
    assert snapshot(db) == before
    # balances that already match move nothing: no ledger scope needed
    assert post(client, make_key(), "unbelievaboat", unb_users(0, 3)).status_code == 200
    assert post(client, no_money, "unbelievaboat", unb_users(0, 3)).status_code == 200


def test_requests_that_are_wrong(client: TestClient, auth: dict) -> None:
    r = post(client, auth, "arcane", mee6_page(0, 1))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "source"
    r = post(client, auth, "mee6", mee6_page(0, 1), guild="not-a-guild")
    assert r.status_code == 422
    url = f"/profile/{GUILD}/import?source=mee6"
    r = client.post(url, content=b"id\n1\n", headers={**auth, "content-type": "text/csv"})
    assert r.status_code == 415
    r = client.post(url, content=b'{"players": [', headers=auth)
    assert r.status_code == 400
    r = client.post(url, json={"players": {"id": 1}}, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "players"


def test_the_route_takes_a_large_body_and_others_keep_their_limit(
    client: TestClient, auth: dict
) -> None:
    pages = [mee6_page(p, 1000) for p in range(12)]  # ~3.6 MB, as MEE6 answers
    body = json.dumps(pages).encode()
    assert len(body) > 2 * 1024 * 1024
    r = client.post(f"/profile/{GUILD}/import?source=mee6", content=body, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 12_000
    r = client.patch("/profile/add", content=body, headers=auth)
    assert r.status_code == 413


def test_a_body_of_countless_tiny_objects_is_refused_before_decoding(
    client: TestClient, auth: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_sources, "MAX_STRUCTURES", 1000)
    body = b"[" + b",".join([b"{}"] * 1001) + b"]"
    r = client.post(f"/profile/{GUILD}/import?source=tatsu", content=body, headers=auth)
    assert r.status_code == 413 and "members in one import" in r.json()["message"]


def test_imported_balances_pass_ledger_verify(
    client: TestClient, auth: dict, db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    post(client, auth, "unbelievaboat", unb_users(0, 300))
    post(client, auth, "unbelievaboat", unb_users(0, 300, scale=3))
    post(client, auth, "csv", f"user_id,voicepoints\n{uid(4)},0\n")
    assert main(["ledger", "verify", "--db", str(backend.target(db_path))]) == 0


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


@pytest.mark.parametrize("source", ["mee6", "unbelievaboat"])
def test_an_array_of_countless_numbers_is_refused_without_being_built(source: str) -> None:
    import tracemalloc

    body = b"[" + b"1," * 2_000_000 + b"1]"  # 4 MB: no object or array to count
    tracemalloc.start()
    try:
        with pytest.raises(import_sources.InvalidValue) as refused:
            import_sources.parse(source, body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.extra["errors"][0]["field"] == "[0]"
    assert peak < 20 * 1024 * 1024  # two million decoded items would take far more
