"""Snowflakes and profile ids as the database stores them.

Snowflakes go up to 2**64 - 1, past SQLite's signed 64-bit integers, so they are
stored as zero-padded 20-digit text: readable in the sqlite3 shell and ordered
numerically by a plain index.
"""

import hashlib

__all__ = ["pad", "treasury_id", "unpad", "vp_id"]


def pad(snowflake: int | str) -> str:
    return f"{int(snowflake):020d}"


def unpad(stored: str) -> str:
    return stored.lstrip("0") or "0"


def vp_id(guild_id: int | str, user_id: int | str) -> str:
    """The public profile id: SHA-256 of "{guild_id}:{user_id}" (SPEC §4)."""
    return hashlib.sha256(f"{int(guild_id)}:{int(user_id)}".encode()).hexdigest()


def treasury_id(bot_id: int | str) -> str:
    """A bot's treasury account id: SHA-256 of "bot:{bot_id}"."""
    return hashlib.sha256(f"bot:{int(bot_id)}".encode()).hexdigest()
