"""Times and durations as staff read them on the inbox pages, in the city's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def as_utc(moment: datetime) -> datetime:
    """SQLite gives back the stored UTC times without their zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def local_time(moment: datetime, timezone: str) -> str:
    """'Mon 23 Nov 2026, 4:30 PM EST'."""
    local = as_utc(moment).astimezone(ZoneInfo(timezone))
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y')}, " \
           f"{local.strftime('%I:%M %p').lstrip('0')} {local.tzname()}"


def duration(delta: timedelta) -> str:
    """'2 d 3 h', '3 h 5 min', '12 min', 'under a minute'."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "under a minute"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def spelled_duration(delta: timedelta) -> str:
    """A duration as a person writes it: '45 minutes', '1 hour 30 minutes', '24 hours', '1 day 2 hours', '3 days'.

    Up to a day it is told in hours ("within 24 hours"); past a day in days and hours. Seconds are not told.
    """
    minutes = round(abs(delta).total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours > 24:
        days, hours = divmod(hours, 24)
        return " ".join([_count(days, "day")] + ([_count(hours, "hour")] if hours else []))
    if hours:
        return " ".join([_count(hours, "hour")] + ([_count(minutes, "minute")] if minutes else []))
    return _count(minutes, "minute") if minutes else "under a minute"


def deadline_status(expected: datetime, now: datetime) -> str:
    """'overdue by 2 h 5 min' or 'due in 40 min'."""
    expected, now = as_utc(expected), as_utc(now)
    return f"overdue by {duration(now - expected)}" if now > expected else f"due in {duration(expected - now)}"
