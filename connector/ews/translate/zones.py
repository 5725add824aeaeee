"""Time zones: Windows zone ids to IANA names, and the zone a meeting is in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.translate_rules import windows_to_iana

# --- time zones ----------------------------------------------------------------------------------


def zone_name(tz: Any) -> str | None:
    """The IANA name of an exchangelib or zoneinfo time zone, or None."""
    if tz is None:
        return None
    key = getattr(tz, "key", None)  # EWSTimeZone and zoneinfo.ZoneInfo both carry the IANA key
    if isinstance(key, str) and key:
        return windows_to_iana(key)
    ms_id = getattr(tz, "ms_id", None)
    if isinstance(ms_id, str):
        return windows_to_iana(ms_id)
    return None


def meeting_zone(item: Any) -> str:
    """The IANA zone a meeting is in: its start zone, its meeting zone, its start's zone, else UTC."""
    for candidate in (getattr(item, "_start_timezone", None), getattr(item, "_meeting_timezone", None)):
        name = zone_name(candidate)
        if name:
            return name
    start = getattr(item, "start", None)
    if isinstance(start, datetime):
        name = zone_name(start.tzinfo)
        if name:
            return name
    return "UTC"
