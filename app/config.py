"""The server's settings: one frozen object, read from the environment once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from storage.board_registry import MODES

__all__ = ["Settings"]


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
    allow_hosts: tuple[str, ...] = ()
    """Hosts the server may connect to although their addresses are not public
    (callbacks, app/netguard.py): host names, IP addresses and CIDR networks, from
    the comma-separated VOICEPROFILE_ALLOW_HOSTS. Empty: only public addresses."""
    extra: dict[str, str] = field(default_factory=dict)
    """Other VOICEPROFILE_* variables, for areas that read their own options."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        casts = {
            "db": Path,
            "host": str,
            "port": int,
            "readers": int,
            "batch_max": int,
            "key_cache_seconds": float,
            "max_body_bytes": int,
            "boards": str,
        }
        for name, cast in casts.items():
            raw = env.get(f"VOICEPROFILE_{name.upper()}")
            if raw is not None and raw != "":
                try:
                    values[name] = cast(raw)
                except ValueError:
                    raise SystemExit(
                        f"VOICEPROFILE_{name.upper()}={raw!r} is not a valid {cast.__name__}"
                    ) from None
        values["allow_hosts"] = _comma_list(env.get("VOICEPROFILE_ALLOW_HOSTS", ""))
        if values.get("boards", "background") not in MODES:
            raise SystemExit(f"VOICEPROFILE_BOARDS must be one of {', '.join(MODES)}")
        values["extra"] = {
            k[len("VOICEPROFILE_") :].lower(): v
            for k, v in env.items()
            if k.startswith("VOICEPROFILE_")
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]
