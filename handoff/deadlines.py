"""Deadlines of the deadline classes, computed in the city's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from handoff.directory import SLA

# simple: 3 real hours. review and policy: the same wall-clock time 3 or 5 calendar days later in the
# city, so that a deadline does not drift by an hour across a daylight-saving change.
_HOURS = {SLA.SIMPLE: 3, SLA.EMERGENCY: 0}
_DAYS = {SLA.REVIEW: 3, SLA.POLICY: 5}


def expected_datetime(requested: datetime, sla: SLA, timezone: str) -> datetime:
    """When an answer is due, as an aware UTC datetime."""
    if requested.tzinfo is None:
        raise ValueError("requested must be timezone-aware")
    if sla in _HOURS:
        # in UTC: Python adds a timedelta to the wall clock of a datetime in a zone with daylight saving
        return requested.astimezone(UTC) + timedelta(hours=_HOURS[sla])
    local = requested.astimezone(ZoneInfo(timezone))
    due_wall_clock = local.replace(tzinfo=None) + timedelta(days=_DAYS[sla])
    return due_wall_clock.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def is_overdue(expected: datetime, now: datetime) -> bool:
    return now > expected


def describe_deadline(expected: datetime, now: datetime, timezone: str) -> str:
    """The deadline as a citizen reads it, in the city's time: 'by 4:30 PM today', 'by Wed 25 Nov, 9:00 AM'."""
    zone = ZoneInfo(timezone)
    local, today = expected.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%I:%M %p").lstrip("0")
    if local.date() == today:
        return f"by {clock} today"
    if local.date() == today + timedelta(days=1):
        return f"by {clock} tomorrow"
    return f"by {local.strftime('%a')} {local.day} {local.strftime('%b')}, {clock}"
