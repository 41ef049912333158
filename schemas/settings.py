"""Settings store bodies, SPEC §9: the reference ("tama") shapes, camelCase."""

from typing import Any

import msgspec

__all__ = [
    "Setting",
    "SettingDeleted",
    "SettingOut",
    "SubSetting",
    "SubSettingDeleted",
    "SubSettingList",
    "SubSettingOut",
]


class Setting(msgspec.Struct, rename="camel"):
    id: str
    type: str
    account_id: str
    data: Any
    """Whatever JSON the bot stored, as it stored it."""


class SubSetting(msgspec.Struct, rename="camel"):
    id: str
    """Id of the parent setting."""
    type: str
    """Type of the parent setting."""
    account_id: str
    data: Any
    sub_id: str
    sub_type: str


class SettingOut(msgspec.Struct, kw_only=True):
    status: int = 200
    setting: Setting


class SettingDeleted(msgspec.Struct, kw_only=True):
    status: int = 200
    message: str = "Setting deleted"
    setting: Setting


class SubSettingOut(msgspec.Struct, kw_only=True):
    status: int = 200
    subsetting: SubSetting


class SubSettingDeleted(msgspec.Struct, kw_only=True):
    status: int = 200
    message: str = "Subsetting deleted"
    subsetting: SubSetting


class SubSettingList(msgspec.Struct, kw_only=True):
    status: int = 200
    subsettings: list[SubSetting]
