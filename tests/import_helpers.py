"""What the import tests share: a guild and its member ids, pages shaped like each
service's real answers (MEE6, Amari, Tatsu, UnbelievaBoat), and calls that post an
import and read what it made."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

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
