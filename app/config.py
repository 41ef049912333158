"""The server's settings: one frozen object, every option a typed, documented field.

`Settings.from_env()` reads each field from its VOICEPROFILE_<NAME> variable once
(options given to the CLI win); `__post_init__` checks every value, so a bad one
stops the start with a message naming the variable, whoever built the object.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.engine.base import is_url

__all__ = ["BOARD_MODES", "Settings", "parse_rate"]

BOARD_MODES = ("background", "sync", "off")
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_PERIODS |= {"h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_MAY_BE_ZERO = (
    "port",
    "clock_offset",
    "key_cache_seconds",
    "prune_every",
    "board_retry_seconds",
    "health_failing_seconds",
)
_RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*([a-z]+))?\s*$")


def parse_rate(text: str) -> tuple[int, int] | None:
    """(limit, period seconds) of a rate such as `6000/min`; None for no limit."""
    if text.strip().lower() in ("0", "off", "none", ""):
        return None
    match = _RATE.match(text.lower())
    if not match or (match[2] or "min") not in _PERIODS or int(match[1]) <= 0:
        raise ValueError("expected COUNT/PERIOD such as 6000/min, 100/s, 50000/hour, or 0 for none")
    return int(match[1]), _PERIODS[match[2] or "min"]


@dataclass(frozen=True)
class Settings:
    db: Path | str = Path("data/voiceprofile.db")
    """The database: a SQLite file (the embedded default), or a `postgresql://` URL
    (README, "PostgreSQL")."""
    host: str = "127.0.0.1"
    """Address `voiceprofile serve` binds to."""
    port: int = 8000
    """Port `voiceprofile serve` binds to."""
    workers: int = 1
    """Server processes `serve` starts (granian workers). Each accepts requests and
    has its own writer; their write transactions take turns on the database's write
    lock, and each re-reads what it caches when another committed (README, "Several
    workers")."""
    readers: int = 4
    """Read-only connections in the pool."""
    batch_max: int = 1024
    """Most write tasks the writer commits in one transaction."""
    cache_mib: int = 64
    """The writer connection's page cache: appends land on each account's pages of the
    ledger's side indexes, which outgrow SQLite's 2 MB default at 10M entries."""
    key_cache_seconds: float = 5.0
    """How long a verified key is trusted without asking the database again. Keys
    revoked through the API stop at once; through the CLI within this time."""
    stream_chunk: int = 500
    """Rows read per snapshot of a streamed list (`limit <= 0`, a large page): memory
    stays flat whatever the list's length."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body accepted (413 above)."""
    import_max_bytes: int = 32 * 1024 * 1024
    """Largest body of `POST /profile/{guild_id}/import` (a guild's leaderboard pages)."""
    rate_limit: str = "6000/min"
    """Requests per key (or per client address without a valid key): COUNT/PERIOD
    (`100/s`, `50000/hour`), or `0` for no limit."""
    rate_limit_tracked: int = 100_000
    """Budgets (and keys seen valid) the limiter keeps in memory; the least recently
    used go first, which costs an idle client nothing but a fresh budget."""
    rate_share_seconds: float = 1.0
    """Seconds between two exchanges of rate-limit counts with the other server
    processes on the database (several workers or hosts): the limits hold across
    them within what the others accepted in this time (README "Several workers")."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (`10.0.0.0/8`) of reverse proxies whose X-Forwarded-For
    names the client, for rate limits on requests without a valid key."""
    boards: str = "background"
    """In-memory leaderboards (storage/boards.py): `background` builds one on first use
    while SQL answers, `sync` builds before answering, `off` always answers with SQL."""
    board_idle_seconds: float = 1800.0
    """A board unused this long is dropped (its memory goes to the tops in use)."""
    board_retry_seconds: float = 60.0
    """A board that failed is not built again for this long (SQL answers meanwhile)."""
    health_failing_seconds: float = 60.0
    """How long /health answers 503 `degraded` after a failed write batch when no
    write committed since: long enough for a load balancer to see it, short enough
    that a server taken out of rotation (so getting no writes) is tried again."""
    idempotency_keep_seconds: float = 48 * 3600
    """How long an Idempotency-Key's first outcome is kept (the spec asks ≥ 24 h)."""
    feed_keep_seconds: float = 3 * 3600
    """How long the boards' change feeds keep a row (a board further behind rebuilds)."""
    prune_every: float = 600.0
    """Seconds between the writer's pruning of expired keys and feed rows."""
    idle_timeout: float = 30.0
    """Seconds a connection may stay idle, or take to send a request's headers, before
    the server closes it (granian's HTTP/1 header read timeout; `serve` only)."""
    body_timeout: float = 30.0
    """Seconds a request's whole body may take to arrive after its headers (408)."""
    send_timeout: float = 60.0
    """Seconds a streamed response may wait for the client to read, then it is cut."""
    drain_timeout: float = 5.0
    """On SIGTERM, seconds running requests get to finish before they are cut; then
    what is queued is committed and the process exits (`serve` only)."""
    allow_hosts: tuple[str, ...] = ()
    """Hosts the server may connect to although their addresses are not public
    (callbacks, app/netguard.py): host names, IP addresses and CIDR networks.
    Empty: only public addresses."""
    callback_retry_base: float = 1.0
    """Seconds before a callback event's first retry; doubles per attempt."""
    callback_retry_max: float = 3600.0
    """Longest wait between two attempts of one event."""
    callback_max_attempts: int = 20
    """Attempts before an event is given up (20: about 8 h)."""
    callback_timeout: float = 10.0
    """Seconds one delivery attempt may take in all (connect, send, answer)."""
    callback_poll: float = 2.0
    """Seconds between looks for due retries when nothing woke the deliverer."""
    season_check_seconds: float = 60.0
    """Seconds between looks for a scheduled season due to end (also at each start):
    a season ends at most this long after its UTC boundary."""
    clock_offset: float = 0.0
    """Seconds added to the system clock: to rehearse (and test) calendar behaviour,
    such as scheduled seasons across a restart, in a real server. 0 in production."""
    media: str = ""
    """Folder of the image store's files (each stored once, named by its SHA-256).
    Empty: `media/` beside the database (`media_dir`)."""
    public_url: str = ""
    """The server's public base URL (`https://vp.example.org`), used in the image
    URLs it hands out. Empty: the base URL of each request (its Host header)."""
    image_max_bytes: int = 8 * 1024 * 1024
    """Largest image accepted by an upload or fetched from a URL, in bytes."""
    image_max_pixels: int = 40_000_000
    """Largest image accepted, in pixels (width x height); 16384 on a side at most."""
    fetch_timeout: float = 10.0
    """Seconds one fetch of a client's URL (an upload by `url`, an avatar) may take in
    all, redirects included."""
    cors_origins: tuple[str, ...] = ()
    """Origins a browser page may call the API from (`https://dash.example.org`, or
    `*`). Empty: no CORS headers, browsers refuse cross-origin calls."""
    bench: bool = False
    """Serve POST /bench/noop (auth and body read, no ledger): the HTTP baseline of
    benchmarks/bench_http.py. Never on in production."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                low = 0 if f.name in _MAY_BE_ZERO else 1e-9
                if not (math.isfinite(value) and value >= low):
                    raise ValueError(f"{_var(f.name)}={value!r}: must be a positive number")
        if self.boards not in BOARD_MODES:
            raise ValueError(f"{_var('boards')} must be one of {', '.join(BOARD_MODES)}")
        try:
            parse_rate(self.rate_limit)
        except ValueError as exc:
            raise ValueError(f"{_var('rate_limit')}={self.rate_limit!r}: {exc}") from None
        if self.public_url and (
            not self.public_url.startswith(("http://", "https://"))
            or any(c in self.public_url for c in "?# ")
            or self.public_url.endswith("/")
        ):
            raise ValueError(
                f"{_var('public_url')}={self.public_url!r}: an http(s) base URL without"
                " a query or a trailing slash, e.g. https://vp.example.org"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{_var('trusted_proxies')}: {proxy!r} is no address") from None

    @property
    def media_dir(self) -> Path:
        """Where the image files live: `media`, or `media/` beside the database."""
        if self.media:
            return Path(self.media)
        # A PostgreSQL server keeps no folder of ours: ./data/media, as for the default.
        return Path("data/media") if is_url(self.db) else Path(self.db).parent / "media"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Each field from VOICEPROFILE_<NAME> if set; `overrides` (CLI options) win."""
        env = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(_var(f.name))
            if raw is not None and raw != "":
                try:
                    values[f.name] = _cast(hints[f.name], raw)
                except ValueError:
                    raise SystemExit(f"{_var(f.name)}={raw!r} is not a valid value") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("db"), str):
            values["db"] = _cast(Path | str, values["db"])
        try:
            return cls(**values)
        except ValueError as exc:
            raise SystemExit(str(exc)) from None


def _var(name: str) -> str:
    return f"VOICEPROFILE_{name.upper()}"


def _cast(kind: Any, raw: str) -> Any:
    if kind == Path | str:  # the database: a file or a postgresql:// URL
        return raw if is_url(raw) else Path(raw)
    if kind is bool:
        if raw.strip().lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise ValueError(raw)
        return raw.strip().lower() in ("1", "true", "yes")
    if typing.get_origin(kind) is tuple or isinstance(kind, types.GenericAlias):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return kind(raw)
