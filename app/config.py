"""The server's settings: one frozen object, read from the environment once."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from storage.board_registry import MODES

__all__ = ["Settings"]


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):
        raise ValueError(raw)
    return value


def _addresses(raw: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks, each checked now rather than per request."""
    found = tuple(part.strip() for part in raw.split(",") if part.strip())
    for part in found:
        ipaddress.ip_network(part, strict=False)
    return found


def _positive(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(raw)
    return value


def _base_url(raw: str) -> str:
    """`http(s)://host[:port][/prefix]`, kept without a trailing slash."""
    if not raw.startswith(("http://", "https://")) or "?" in raw or "#" in raw:
        raise ValueError(raw)
    return raw.rstrip("/")


# Named for the message of a bad value: "... is not a valid <name>".
_seconds.__name__ = "number of seconds (above 0)"
_positive.__name__ = "whole number above 0"
_base_url.__name__ = "http(s) base URL"
_addresses.__name__ = "comma-separated list of addresses or networks"


def _comma_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    db: Path = Path("data/voiceprofile.db")
    """The SQLite file: the server's whole state."""
    host: str = "127.0.0.1"
    """Address `voiceprofile serve` binds to."""
    port: int = 8000
    """Port `voiceprofile serve` binds to."""
    readers: int = 4
    """Read-only connections in the pool."""
    batch_max: int = 1024
    """Most write tasks the writer commits in one transaction."""
    key_cache_seconds: float = 5.0
    """How long a verified key is trusted without asking the database again. Keys
    revoked through the API stop at once; through the CLI within this time."""
    max_body_bytes: int = 1024 * 1024
    """Largest request body accepted (413 above)."""
    boards: str = "background"
    """In-memory leaderboards for `points` and rolling windows (storage/boards.py):
    `background` builds one on first use while SQL answers, `sync` builds before
    answering, `off` always answers with SQL."""
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
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (`10.0.0.0/8`) of reverse proxies whose X-Forwarded-For
    names the client, for rate limits on requests without a valid key."""
    allow_hosts: tuple[str, ...] = ()
    """Hosts the server may connect to although their addresses are not public
    (callbacks, app/netguard.py): host names, IP addresses and CIDR networks, from
    the comma-separated VOICEPROFILE_ALLOW_HOSTS. Empty: only public addresses."""
    media: Path | None = None
    """Folder of the image store's files (stored once by content hash). None: a
    `media` folder next to the database (`media_dir`)."""
    public_url: str = ""
    """The server's public base URL (`https://vp.example.org`), used in the image
    URLs it hands out. Empty: the base URL of each request (its Host header)."""
    image_max_bytes: int = 8 * 1024 * 1024
    """Largest image accepted by upload or fetched from a URL, in bytes."""
    image_max_pixels: int = 40_000_000
    """Largest image accepted, in pixels (width x height), sides at most 16384."""
    fetch_timeout: float = 10.0
    """Seconds one fetch of a client's URL may take in all (redirects included)."""
    cors_origins: tuple[str, ...] = ()
    """Origins a browser may call the API from (`https://dash.example.org`, or `*`),
    from the comma-separated VOICEPROFILE_CORS_ORIGINS. Empty: no CORS headers."""
    extra: dict[str, str] = field(default_factory=dict)
    """Other VOICEPROFILE_* variables, for areas that read their own options."""

    @property
    def media_dir(self) -> Path:
        """Where image files live: `media`, or `media/` beside the database."""
        return self.media if self.media is not None else self.db.parent / "media"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        casts: dict[str, Callable[[str], object]] = {
            "db": Path,
            "host": str,
            "port": int,
            "readers": int,
            "batch_max": int,
            "key_cache_seconds": float,
            "max_body_bytes": int,
            "boards": str,
            "idempotency_keep_seconds": _seconds,
            "feed_keep_seconds": _seconds,
            "prune_every": _seconds,
            "idle_timeout": _seconds,
            "body_timeout": _seconds,
            "send_timeout": _seconds,
            "drain_timeout": _seconds,
            "trusted_proxies": _addresses,
            "media": Path,
            "public_url": _base_url,
            "image_max_bytes": _positive,
            "image_max_pixels": _positive,
            "fetch_timeout": _seconds,
        }
        for name, cast in casts.items():
            raw = env.get(f"VOICEPROFILE_{name.upper()}")
            if raw is not None and raw != "":
                try:
                    values[name] = cast(raw)
                except ValueError:
                    raise SystemExit(
                        f"VOICEPROFILE_{name.upper()}={raw!r} is not a valid"
                        f" {getattr(cast, '__name__', 'value')}"
                    ) from None
        values["allow_hosts"] = _comma_list(env.get("VOICEPROFILE_ALLOW_HOSTS", ""))
        values["cors_origins"] = _comma_list(env.get("VOICEPROFILE_CORS_ORIGINS", ""))
        if values.get("boards", "background") not in MODES:
            raise SystemExit(f"VOICEPROFILE_BOARDS must be one of {', '.join(MODES)}")
        values["extra"] = {
            k[len("VOICEPROFILE_") :].lower(): v
            for k, v in env.items()
            if k.startswith("VOICEPROFILE_")
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]
