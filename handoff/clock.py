"""A fair clock for a case's deadline: office hours and public holidays, pauses while the city waits for the
citizen, and a deadline that is met when the citizen receives an answer in time, whatever the case's later state.

- `OfficeHours` reads a department's `office_hours` ("Mon-Fri 08:00-17:00"); `WorkingCalendar` adds the city's
  public holidays (the `holidays` package, country and region from settings) and its time zone.
- `add_working_time` and `working_time_between` count time the way a deadline class does: business time for a
  `simple` case of a department with office hours, wall-clock time otherwise.
- `deadline_state` says where a case stands against its deadline: paused, due, overdue, met or missed.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_OFFICE_HOURS = re.compile(r"^\s*(?P<first>[A-Za-z]{3})(?:\s*-\s*(?P<last>[A-Za-z]{3}))?\s+"
                           r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$")
_MAX_DAYS_SCANNED = 366 * 2  # a calendar with no working day at all is an error, not an endless loop


def _clock_time(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    return time(hours, minutes)


@dataclass(frozen=True)
class OfficeHours:
    """The days of the week (0 = Monday) and the hours of the day a department works, in the city's time."""

    days: frozenset[int]
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> OfficeHours:
        """"Mon-Fri 08:00-17:00", "Mon-Sat 09:00-13:00", "Sun 10:00-14:00"."""
        match = _OFFICE_HOURS.match(text)
        if match is None:
            raise ValueError(f"office hours {text!r}: write them as 'Mon-Fri 08:00-17:00'")
        try:
            first = DAY_NAMES.index(match["first"].lower())
            last = DAY_NAMES.index((match["last"] or match["first"]).lower())
            start, end = _clock_time(match["start"]), _clock_time(match["end"])
        except ValueError:
            raise ValueError(f"office hours {text!r}: days are Mon..Sun, times HH:MM") from None
        if start >= end:
            raise ValueError(f"office hours {text!r}: the day ends before it starts")
        days = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        return cls(days=frozenset(days), start=start, end=end)


def load_holidays(country: str | None, subdiv: str | None = None) -> Container[date]:
    """The public holidays of a country (ISO 3166 code) and region, any year; none when `country` is empty."""
    if not country:
        return frozenset()
    try:
        return holiday_calendars.country_holidays(country.upper(), subdiv=subdiv or None)
    except NotImplementedError:
        raise ValueError(f"the holidays package knows no country {country!r}"
                         + (f" with region {subdiv!r}" if subdiv else "")) from None


@dataclass(frozen=True)
class WorkingCalendar:
    """The city's time zone and public holidays: what the office hours of its departments are counted in."""

    timezone: str
    holidays: Container[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date, hours: OfficeHours) -> bool:
        return day.weekday() in hours.days and day not in self.holidays

    def _window(self, day: date, hours: OfficeHours) -> tuple[datetime, datetime]:
        """The day's office hours as aware UTC datetimes."""
        end = datetime.combine(day, hours.end) if hours.end != time.max else datetime.combine(day + timedelta(1),
                                                                                             time.min)
        return (datetime.combine(day, hours.start, tzinfo=self.zone).astimezone(UTC),
                end.replace(tzinfo=self.zone).astimezone(UTC))


def add_working_time(start: datetime, amount: timedelta, *, hours: OfficeHours | None,
                     calendar: WorkingCalendar) -> datetime:
    """`start` plus `amount` of working time: office time when `hours` are given, else wall-clock time (UTC)."""
    start = start.astimezone(UTC)
    if hours is None or amount <= timedelta(0):
        return start + amount
    left = amount
    day = start.astimezone(calendar.zone).date()
    for _ in range(_MAX_DAYS_SCANNED):
        if calendar.is_working_day(day, hours):
            opens, closes = calendar._window(day, hours)
            begin = max(opens, start)
            if begin < closes:
                if begin + left <= closes:
                    return begin + left
                left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("the office hours leave no working day within two years")


def working_time_between(start: datetime, end: datetime, *, hours: OfficeHours | None,
                         calendar: WorkingCalendar) -> timedelta:
    """The working time from `start` to `end` (negative when `end` comes first)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end < start:
        return -working_time_between(end, start, hours=hours, calendar=calendar)
    if hours is None:
        return end - start
    total = timedelta(0)
    day, last = start.astimezone(calendar.zone).date(), end.astimezone(calendar.zone).date()
    while day <= last:
        if calendar.is_working_day(day, hours):
            opens, closes = calendar._window(day, hours)
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def city_calendar(timezone: str, country: str | None, subdiv: str | None = None) -> WorkingCalendar:
    """The city's working calendar from its settings (city_timezone, holidays_country, holidays_subdiv)."""
    return WorkingCalendar(timezone, load_holidays(country, subdiv))


class DeadlineState(StrEnum):
    """Where a case stands against its deadline."""

    DUE = "due"  # no answer yet, time left
    PAUSED = "paused"  # waiting for the citizen, time left: the clock stands still
    OVERDUE = "overdue"  # no answer, past the deadline
    MET = "met"  # the citizen received an answer in time (or the case was closed in time)
    MISSED = "missed"  # the answer (or the closing) came after the deadline


@dataclass(frozen=True)
class ClockReading:
    state: DeadlineState
    expected: datetime
    responded_at: datetime | None
    paused_since: datetime | None
    paused_for: timedelta

    @property
    def late(self) -> bool:
        return self.state in (DeadlineState.OVERDUE, DeadlineState.MISSED)


def deadline_state(*, expected: datetime, now: datetime, answered_at: datetime | None, closed_at: datetime | None,
                   paused_at: datetime | None, paused_seconds: float = 0.0) -> ClockReading:
    """A case's deadline now.

    The department's obligation ends with the first answer the citizen receives, or with closing the case
    without one (a duplicate, a matter settled by phone): in time is met, after the deadline missed. While the
    case waits for the citizen the clock stands still: a case paused with time left is not overdue, however long
    the citizen takes; one paused after its deadline stays overdue.
    """
    expected, now = expected.astimezone(UTC), now.astimezone(UTC)
    responded = min((t.astimezone(UTC) for t in (answered_at, closed_at) if t is not None), default=None)
    paused_for = timedelta(seconds=paused_seconds)
    if paused_at is not None:
        paused_for += now - paused_at.astimezone(UTC)
    if responded is not None:
        state = DeadlineState.MET if responded <= expected else DeadlineState.MISSED
    elif paused_at is not None and paused_at.astimezone(UTC) <= expected:
        state = DeadlineState.PAUSED
    else:
        state = DeadlineState.OVERDUE if now > expected else DeadlineState.DUE
    return ClockReading(state=state, expected=expected, responded_at=responded,
                        paused_since=paused_at if responded is None else None, paused_for=paused_for)
