"""A line of the per-guild JSON Lines export (GET /profile/{guild_id}/export?format=jsonl):
the CSV export's columns (storage/queries/guild_export.py FIELDS) as one object."""

import msgspec

__all__ = ["ExportedProfile"]


class ExportedProfile(msgspec.Struct):
    user_id: str
    experience: int
    level: int
    voicepoints: int
    message_count: int | None  # the three text values are null without text stats
    text_level: int | None
    text_experience: int | None
    timespent: int  # timespent.global, seconds
    pray_streak: int
