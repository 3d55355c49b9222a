"""Broadcasters (a supervisor, a broadcaster, a staff member) on the test's database, the service on it, and a
release of many subscribers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broadcasts.models import Subscription
from broadcasts.service import Broadcasts
from handoff.directory import load_directory
from handoff.staff import StaffAccounts

PASSWORD = "a long enough password"


def add_staff(sessions, settings) -> None:
    accounts = StaffAccounts(sessions, load_directory(settings.directory_file))
    accounts.add(username="ana", display_name="Ana Supervisor", password=PASSWORD, role="supervisor")
    accounts.add(username="ben", display_name="Ben Broadcaster", password=PASSWORD, role="broadcaster")
    accounts.add(username="carl", display_name="Carl Staff", password=PASSWORD, role="staff",
                 department="public-works")


def add_subscribers(sessions, channel: str, addresses: list[str], *, test: bool = False, topic: str = "",
                    area: str = "") -> None:
    """Many at once (the commands' path is tested on its own)."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add_all([Subscription(channel=channel, address=a, topic=topic, area=area.lower(), test=test,
                                      created_at=now) for a in addresses])


@pytest.fixture
def service(sessions, settings) -> Broadcasts:
    add_staff(sessions, settings)
    return Broadcasts(sessions, settings)
