"""Deadlines of the deadline classes, computed in the city's time zone (and, for `simple` cases of a department that
works office hours, in its business hours: handoff/clock.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from handoff.clock import OfficeHours, WorkingCalendar, add_working_time, working_time_between
from handoff.directory import SLA

# simple: 3 real hours, or 3 business hours where the department works office hours. review and policy: the same
# wall-clock time 3 or 5 calendar days later in the city, so that a deadline does not drift by an hour across a
# daylight-saving change.
_HOURS = {SLA.SIMPLE: 3, SLA.EMERGENCY: 0}
_DAYS = {SLA.REVIEW: 3, SLA.POLICY: 5}


def business_hours(sla: SLA, office_hours: OfficeHours | None) -> OfficeHours | None:
    """The office hours a deadline class counts in: a department's, for `simple` cases only; else none (real time)."""
    return office_hours if sla == SLA.SIMPLE else None


def expected_datetime(requested: datetime, sla: SLA, timezone: str, *, office_hours: OfficeHours | None = None,
                      calendar: WorkingCalendar | None = None) -> datetime:
    """When an answer is due, as an aware UTC datetime.

    `office_hours`: the department's; a `simple` case then gets 3 business hours, counted on working days that are
    not public holidays of `calendar` (whose time zone is `timezone`'s).
    """
    if requested.tzinfo is None:
        raise ValueError("requested must be timezone-aware")
    hours = business_hours(sla, office_hours)
    if hours is not None:
        return add_working_time(requested, timedelta(hours=_HOURS[sla]), hours=hours,
                                calendar=calendar or WorkingCalendar(timezone))
    if sla in _HOURS:
        # in UTC: Python adds a timedelta to the wall clock of a datetime in a zone with daylight saving
        return requested.astimezone(UTC) + timedelta(hours=_HOURS[sla])
    local = requested.astimezone(ZoneInfo(timezone))
    due_wall_clock = local.replace(tzinfo=None) + timedelta(days=_DAYS[sla])
    return due_wall_clock.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def resumed_deadline(expected: datetime, *, paused_at: datetime, resumed_at: datetime, sla: SLA,
                     office_hours: OfficeHours | None, calendar: WorkingCalendar) -> datetime:
    """The deadline after a pause: the working time that was left when the clock stopped, counted from `resumed_at`.

    A case paused after its deadline keeps it: waiting for the citizen does not undo a delay.
    """
    if paused_at > expected:
        return expected
    hours = business_hours(sla, office_hours)
    left = working_time_between(paused_at, expected, hours=hours, calendar=calendar)
    if hours is not None and left == timedelta(0):
        return max(expected, resumed_at)
    return add_working_time(resumed_at, left, hours=hours, calendar=calendar)


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
