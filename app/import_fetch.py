"""`voiceprofile import-from SOURCE --token T`: every page of a guild's leaderboard,
fetched from the live service (SPEC §12), one page at a time.

Each service pages its own way; paging stops at a page shorter than the page size,
or one that lists no member not seen before (a service that ignores the page asked
for would otherwise be read for ever). 429 answers are waited out (Retry-After).
`base_url` replaces the service's address (tests run against a local stand-in).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

import httpx

from app import import_sources
from ledger.commands import ImportRow
from storage.errors import DomainError

__all__ = ["SERVICES", "FetchFailed", "fetch_members"]


class Service(NamedTuple):
    base_url: str
    path: str  # with {guild}
    size: int  # members per page
    params: Callable[[int], dict[str, int]]  # page number (from 0) -> query


SERVICES = {
    "mee6": Service(
        "https://mee6.xyz",
        "/api/plugins/levels/leaderboard/{guild}",
        1000,
        lambda n: {"limit": 1000, "page": n},
    ),
    "amari": Service(
        "https://amaribot.com",
        "/api/v1/guild/leaderboard/{guild}",
        1000,
        lambda n: {"page": n + 1, "limit": 1000},
    ),
    "tatsu": Service(
        "https://api.tatsu.gg",
        "/v1/guilds/{guild}/rankings/all",
        100,
        lambda n: {"offset": n * 100},
    ),
    "unbelievaboat": Service(
        "https://unbelievaboat.com",
        "/api/v1/guilds/{guild}/users",
        1000,
        lambda n: {"page": n + 1, "limit": 1000},
    ),
}
_MAX_WAITS = 5
_MAX_WAIT_SECONDS = 60.0


class FetchFailed(DomainError):
    status = 502
    code = "fetch_failed"


def _get(client: httpx.Client, url: str, params: dict[str, int]) -> bytes:
    for _ in range(_MAX_WAITS):
        try:
            answer = client.get(url, params=params)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"{url}: {exc}") from None
        if answer.status_code == 429:
            wait = answer.headers.get("retry-after", "1")
            try:
                seconds = min(max(float(wait), 0.0), _MAX_WAIT_SECONDS)
            except ValueError:
                seconds = 1.0
            time.sleep(seconds)
            continue
        if answer.status_code != 200:
            raise FetchFailed(f"{answer.url}: answered {answer.status_code}")
        return answer.content
    raise FetchFailed(f"{url}: still rate limited after {_MAX_WAITS} waits")


def fetch_members(
    source: str, guild: str, token: str, base_url: str | None = None, timeout: float = 30.0
) -> Iterator[tuple[int, tuple[ImportRow, ...]]]:
    """(page number, its members) for every page of the guild's leaderboard."""
    service = SERVICES[source]
    url = (base_url or service.base_url).rstrip("/") + service.path.format(guild=guild)
    seen: set[int] = set()
    with httpx.Client(headers={"Authorization": token}, timeout=timeout) as client:
        page = 0
        while True:
            body = _get(client, url, service.params(page))
            try:
                rows = import_sources.parse(source, body, bounded=False)
            except DomainError as exc:
                exc.message = f"{url} page {page}: {exc.message}"
                raise
            new = {row.user_id for row in rows} - seen
            yield page, rows
            if len(rows) < service.size or not new:
                return
            seen |= new
            page += 1
