"""Deadlines in the city's time zone: real hours for simple requests, calendar days for the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.deadlines import describe_deadline, expected_datetime, is_overdue
from handoff.directory import SLA

CITY = "America/New_York"
NY = ZoneInfo(CITY)
# 2026 in New York: clocks spring forward on Sun 8 March (2:00 EST -> 3:00 EDT) and fall back on
# Sun 1 November (2:00 EDT -> 1:00 EST).


def test_simple_is_exactly_three_hours():
    requested = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    due = expected_datetime(requested, SLA.SIMPLE, CITY)
    assert due == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_simple_counts_real_hours_across_the_spring_change():
    requested = datetime(2026, 3, 8, 1, 30, tzinfo=NY)  # 1:30 AM EST
    due = expected_datetime(requested, SLA.SIMPLE, CITY)
    assert due - requested == timedelta(hours=3)
    assert due.astimezone(NY).replace(tzinfo=None) == datetime(2026, 3, 8, 5, 30)  # 5:30 AM EDT


def test_emergency_is_due_at_once():
    requested = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    assert expected_datetime(requested, SLA.EMERGENCY, CITY) == requested


@pytest.mark.parametrize(("sla", "requested_local", "due_local", "hours"), [
    # spring forward: the same 10:00 AM three days later is only 71 real hours away
    (SLA.REVIEW, datetime(2026, 3, 6, 10, 0), datetime(2026, 3, 9, 10, 0), 71),
    (SLA.POLICY, datetime(2026, 3, 4, 16, 45), datetime(2026, 3, 9, 16, 45), 119),
    # fall back: the same wall-clock time is one real hour further away
    (SLA.REVIEW, datetime(2026, 10, 30, 10, 0), datetime(2026, 11, 2, 10, 0), 73),
    (SLA.POLICY, datetime(2026, 10, 29, 9, 15), datetime(2026, 11, 3, 9, 15), 121),
    # no change in between: plain days
    (SLA.REVIEW, datetime(2026, 11, 23, 9, 0), datetime(2026, 11, 26, 9, 0), 72),
    (SLA.POLICY, datetime(2026, 11, 23, 9, 0), datetime(2026, 11, 28, 9, 0), 120),
])
def test_review_and_policy_keep_the_wall_clock_time_across_daylight_saving(sla, requested_local, due_local, hours):
    requested = requested_local.replace(tzinfo=NY).astimezone(UTC)
    due = expected_datetime(requested, sla, CITY)
    assert due.tzinfo is UTC
    assert due.astimezone(NY).replace(tzinfo=None) == due_local
    assert due - requested == timedelta(hours=hours)


def test_a_deadline_on_a_skipped_wall_clock_time_falls_after_the_gap():
    requested = datetime(2026, 3, 5, 2, 30, tzinfo=NY)  # 2:30 AM on 8 March does not exist
    due = expected_datetime(requested, SLA.REVIEW, CITY)
    assert due == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 3:30 AM EDT
    assert due.astimezone(NY).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)


def test_the_requested_time_zone_does_not_matter_only_the_instant():
    instant = datetime(2026, 10, 30, 14, 0, tzinfo=UTC)
    in_tokyo = instant.astimezone(ZoneInfo("Asia/Tokyo"))
    assert expected_datetime(in_tokyo, SLA.REVIEW, CITY) == expected_datetime(instant, SLA.REVIEW, CITY)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="requested must be timezone-aware"):
        expected_datetime(datetime(2026, 11, 23, 14, 0), SLA.SIMPLE, CITY)
    with pytest.raises(ValueError, match="requested must be timezone-aware"):
        expected_datetime(datetime(2026, 11, 23, 14, 0), SLA.REVIEW, CITY)


def test_overdue_only_after_the_deadline():
    due = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    assert not is_overdue(due, due - timedelta(microseconds=1))
    assert not is_overdue(due, due)
    assert is_overdue(due, due + timedelta(microseconds=1))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize(("expected", "text"), [
    (local(2026, 11, 24, 23, 59, 59), "by 11:59 PM today"),
    (local(2026, 11, 25, 0, 0), "by 12:00 AM tomorrow"),
    (local(2026, 11, 25, 9, 5), "by 9:05 AM tomorrow"),
    (local(2026, 11, 25, 23, 59, 59), "by 11:59 PM tomorrow"),
    (local(2026, 11, 26, 0, 0), "by Thu 26 Nov, 12:00 AM"),
    (local(2026, 11, 29, 16, 30), "by Sun 29 Nov, 4:30 PM"),
])
def test_describe_deadline_at_the_day_boundaries(expected, text):
    now = local(2026, 11, 24, 23, 59, 59)  # the last second of Tuesday
    assert describe_deadline(expected.astimezone(UTC), now.astimezone(UTC), CITY) == text


def test_describe_deadline_today_at_the_first_second_of_the_day():
    now = local(2026, 11, 24, 0, 0)
    assert describe_deadline(local(2026, 11, 24, 3, 0), now, CITY) == "by 3:00 AM today"


def test_describe_deadline_uses_the_city_day_not_the_utc_day():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 10:00 PM on Tuesday 24 November in the city
    assert describe_deadline(datetime(2026, 11, 25, 4, 30, tzinfo=UTC), now, CITY) == "by 11:30 PM today"
    assert describe_deadline(datetime(2026, 11, 25, 5, 0, tzinfo=UTC), now, CITY) == "by 12:00 AM tomorrow"
